#!/usr/bin/python3
"""Health probes and failover with the real dnsd and real HTTP listeners on
loopback (127.0.0.2-4, one per site): a stopped listener fails over within
interval x fall + timeout (measured and reported), a restored one comes back
after rise passes, HTTP 503, a body mismatch and a listener that never
answers are failures, all sites down gives the fallback, health.server shows
the board, and overrides and health survive a restart through state_file.
HTTPS against a self-signed certificate fails unless insecure = true."""
import argparse
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.query
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

INTERVAL, TIMEOUT, RISE, FALL = 0.4, 0.25, 2, 2
WORST = INTERVAL * FALL + TIMEOUT
SLACK = 1.5  # scheduling on a shared machine; the measured figure is printed
SITES = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}


CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
state_file = "state.json"

[[zone]]
origin = "example.test."
file = "example.test.zone"

[probes.web]
type = "http"
port = {http_port}
path = "/health"
expect_body = "ok"
interval = "{interval}ms"
timeout = "{timeout}ms"
rise = {rise}
fall = {fall}

[sites.a]
addresses = ["127.0.0.2"]
probe = "web"

[sites.b]
addresses = ["127.0.0.3"]
probe = "web"

[sites.c]
addresses = ["127.0.0.4"]
probe = "web"

[[service]]
name = "www.example.test."
sites = ["a", "b", "c"]
policy = "failover"
ttl = 5
{extra}
"""

check, failures = dnsclient.check, dnsclient.failures


Listener = dnsclient.Listener


def answer(port, rdtype="A"):
    q = dns.message.make_query("www.example.test.", rdtype)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return sorted(rr.address for rrset in r.answer for rr in rrset if rrset.rdtype == dns.rdatatype.A)


def wait_for(port, want, limit):
    """Seconds until the answer is `want`, or None after `limit` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if answer(port) == want:
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def start_dnsd(dnsd, work, port):
    log = open(os.path.join(work, "dnsd.log"), "a")
    proc = subprocess.Popen([dnsd, "run", "-c", os.path.join(work, "dnsd.toml")], cwd=work, stdout=log,
                            stderr=subprocess.STDOUT)
    dnsclient.wait_for_dns(port, proc=proc)
    return proc


def write_config(work, port, http_port, extra=""):
    with open(os.path.join(work, "dnsd.toml"), "w") as f:
        f.write(CONFIG.format(port=port, http_port=http_port, interval=int(INTERVAL * 1000),
                              timeout=int(TIMEOUT * 1000), rise=RISE, fall=FALL, extra=extra))


def failover_cases(dnsd, work, port, listeners):
    proc = start_dnsd(dnsd, work, port)
    try:
        check(wait_for(port, ["127.0.0.2"], 5) is not None, "site a answers while healthy")
        # 1. A stopped listener: failover within interval x fall + timeout.
        listeners["a"].stop()
        t = wait_for(port, ["127.0.0.3"], WORST + SLACK + 2)
        print(f"     failover after {t if t is None else round(t, 2)}s (bound {WORST:.2f}s + {SLACK}s slack)")
        check(t is not None and t <= WORST + SLACK, "a stopped listener fails over within interval x fall + timeout")
        # 2. Restored: back after rise passes, not before.
        listeners["a"].start()
        t = wait_for(port, ["127.0.0.2"], RISE * INTERVAL + TIMEOUT + SLACK + 2)
        print(f"     back after {t if t is None else round(t, 2)}s (rise x interval = {RISE * INTERVAL:.2f}s)")
        check(t is not None and t <= RISE * INTERVAL + TIMEOUT + SLACK, "a restored listener comes back after rise")
        # 3. HTTP 503, a body mismatch and a listener that never answers.
        for mode, what in (("503", "HTTP 503"), ("body", "a body without 'ok'"), ("hang", "no answer (timeout)")):
            listeners["a"].mode = mode
            t = wait_for(port, ["127.0.0.3"], WORST + SLACK + 3)
            check(t is not None, f"{what} is a failure: failover to b")
            listeners["a"].mode = "ok"
            check(wait_for(port, ["127.0.0.2"], RISE * INTERVAL + 3 + SLACK) is not None, f"back to a after {what}")
        # 4. All down: the fallback (all addresses).
        for name in "abc":
            listeners[name].stop()
        t = wait_for(port, sorted(SITES.values()), WORST + SLACK + 2)
        check(t is not None, "all sites down: fallback all answers every address")
        # 5. health.server shows the board.
        q = dns.message.make_query("health.server.", "TXT", rdclass="CH")
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=2)
        lines = [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset]
        check(any(line.startswith("site a: IPv4 down (0/1 up)") for line in lines), "health.server: site a down")
        check(any(line.startswith("127.0.0.2 (a): down since") and "failed" in line for line in lines),
              "health.server: address with since and the last probe")
        # Restore b and c for the restart case; leave a down.
        listeners["b"].start()
        listeners["c"].start()
        check(wait_for(port, ["127.0.0.3"], RISE * INTERVAL + SLACK + 2) is not None, "b back")
        deadline = time.monotonic() + RISE * INTERVAL + SLACK + 2
        while time.monotonic() < deadline:  # c too (it is not in the answer: watch the state file)
            with open(os.path.join(work, "state.json")) as f:
                state = json.load(f)
            if state["addresses"]["c/127.0.0.4"]["up"]:
                break
            time.sleep(0.05)
        check(state["addresses"]["a/127.0.0.2"]["up"] is False and state["addresses"]["b/127.0.0.3"]["up"] is True,
              "state file holds the last health")
    finally:
        dnsclient.stop(proc)


def restart_case(dnsd, work, port, listeners):
    # An override written while dnsd is stopped (the control API comes
    # later), b's listener gone: at restart, before any probe verdict, a is
    # still down (state file), b is up (state file), and the override sends
    # b away: c answers at once.
    listeners["b"].stop()
    path = os.path.join(work, "state.json")
    with open(path) as f:
        state = json.load(f)
    state["overrides"] = {"b": "drain"}
    with open(path, "w") as f:
        json.dump(state, f)
    proc = start_dnsd(dnsd, work, port)
    try:
        check(answer(port) == ["127.0.0.4"], "after restart: a still down, b drained, c answers at once")
        listeners["a"].start()
        check(wait_for(port, ["127.0.0.2"], RISE * INTERVAL + SLACK + 2) is not None, "a comes back after rise")
        with open(path) as f:
            state = json.load(f)
        check(state.get("overrides") == {"b": "drain"}, "the override is kept in the state file")
        # A reload that puts b first: b's drain and its down state carry
        # over (a fresh board would count b up until its probes failed), so
        # c answers at once.
        conf = os.path.join(work, "dnsd.toml")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace('sites = ["a", "b", "c"]', 'sites = ["b", "c", "a"]'))
        proc.send_signal(signal.SIGHUP)
        t = wait_for(port, ["127.0.0.4"], 3)
        check(t is not None and t < 1.0, "SIGHUP reload: override and health kept across the reload")
        with open(conf, "w") as f:
            f.write(text)
    finally:
        dnsclient.stop(proc)


def https_case(dnsd, work, port):
    if not shutil.which("openssl"):
        print("skip HTTPS case: no openssl command")
        return
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.5", "-addext", "subjectAltName=IP:127.0.0.5"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    https_port = dnsclient.free_port("127.0.0.5")
    listener = Listener("127.0.0.5", https_port, context)
    listener.start()
    try:
        for insecure in (False, True):
            extra = f"""
[probes.tls]
type = "https"
port = {https_port}
path = "/health"
insecure = {"true" if insecure else "false"}
interval = "300ms"
timeout = "250ms"
rise = 1
fall = 1

[sites.secure]
addresses = ["127.0.0.5"]
probe = "tls"

[[service]]
name = "tls.example.test."
sites = ["secure"]
fallback = "none"
"""
            with open(os.path.join(work, "dnsd.toml"), "a") as f:
                f.write(extra)
            if os.path.exists(os.path.join(work, "state.json")):
                os.remove(os.path.join(work, "state.json"))
            proc = start_dnsd(dnsd, work, port)
            try:
                deadline = time.monotonic() + 3
                got = None
                while time.monotonic() < deadline:
                    q = dns.message.make_query("tls.example.test.", "A")
                    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
                    got = [rr.address for rrset in r.answer for rr in rrset]
                    if (got == ["127.0.0.5"]) == insecure and time.monotonic() > deadline - 2:
                        break
                    time.sleep(0.1)
                if insecure:
                    check(got == ["127.0.0.5"], "HTTPS with a self-signed certificate passes with insecure = true")
                else:
                    check(got == [], "HTTPS with a self-signed certificate fails without insecure")
            finally:
                dnsclient.stop(proc)
            # the next round rewrites the same tables: start from the base config
            write_config(work, port, LISTEN_PORT)
    finally:
        listener.stop()


LISTEN_PORT = 0


def main():
    global LISTEN_PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    if not dnsclient.loopback_aliases("127.0.0.2"):
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-failover-")
    listeners = {}
    try:
        port = dnsclient.free_port()
        LISTEN_PORT = dnsclient.free_port("127.0.0.2")
        for name, host in SITES.items():
            listeners[name] = Listener(host, LISTEN_PORT)
            listeners[name].start()
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        write_config(work, port, LISTEN_PORT)
        failover_cases(dnsd, work, port, listeners)
        restart_case(dnsd, work, port, listeners)
        https_case(dnsd, work, port)
    finally:
        for listener in listeners.values():
            listener.stop()
        if failures:
            with open(os.path.join(work, "dnsd.log")) as f:
                print("--- dnsd.log (tail)\n" + f.read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
