#!/usr/bin/python3
"""probe_targets with the real dnsd (SPEC 2): site a answers 192.0.2.10
(TEST-NET: nothing may ever connect to it) and probes 127.0.0.1 instead,
where a real HTTP listener serves /health; site b answers 192.0.2.20 and
its exec probe is given 127.0.0.3 as the address. While the listener says
200, a is answered; HTTP 503, or the listener closed, fails over to b, and
back. The health stays keyed by the answered address (answers, /status,
/metrics, the state file) and the probed address is named beside it
(/status, health.server and the explanation by CH TXT and GET /explain,
the status page, webhook and exec alerts). A watcher reads /proc/net/tcp
throughout: no socket ever goes to 192.0.2.10 or 192.0.2.20. A reload that
points a at another target (127.0.0.2, when that loopback address can be
bound) starts its verdicts afresh."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

INTERVAL, TIMEOUT, RISE, FALL = 0.3, 0.25, 2, 2
WORST = INTERVAL * FALL + TIMEOUT
SLACK = 2.0  # scheduling on a shared machine
TOKEN = "probe-targets-test-token-0123456789"
ANSWERED = ("192.0.2.10", "192.0.2.20")  # never to be connected to

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
identity = "ptarget-test"
state_file = "state.json"
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
[[zone]]
origin = "example.test."
file = "example.test.zone"
[probes.web]
type = "http"
port = {hport}
path = "/health"
expect_body = "ok"
interval = "{interval}ms"
timeout = "{timeout}ms"
rise = {rise}
fall = {fall}
[probes.script]
type = "exec"
command = ["/bin/sh", "-c", "echo \\"$DNSD_ADDRESS\\" >> '{work}/probed.txt'; echo checked $DNSD_ADDRESS"]
interval = "{interval}ms"
timeout = "{timeout}ms"
rise = 1
fall = 1
[sites.a]
addresses = ["192.0.2.10"]
probe = "web"
probe_targets = {{ "192.0.2.10" = "{target}" }}
[sites.b]
addresses = ["192.0.2.20"]
probe = "script"
probe_targets = {{ "192.0.2.20" = "127.0.0.3" }}
[[alert]]
type = "webhook"
url = "http://127.0.0.1:{wport}/events"
timeout = "2s"
[[alert]]
type = "exec"
command = ["/bin/sh", "-c",
           "echo \\"$DNSD_EVENT $DNSD_SITE $DNSD_ADDRESS $DNSD_PROBE_TARGET $DNSD_STATE\\" >> '{work}/alerts.txt'"]
[[service]]
name = "www.example.test."
sites = ["a", "b"]
policy = "failover"
ttl = 5
"""

check, failures = dnsclient.check, dnsclient.failures
answer, wait_for = dnsclient.addresses, dnsclient.wait_for_addresses


class ConnectionWatch:
    """Polls /proc/net/tcp for sockets whose remote end is one of `hosts`
    (a connect attempt to TEST-NET sits in SYN-SENT for the probe's
    timeout, far longer than a poll)."""

    def __init__(self, hosts):
        # /proc/net/tcp writes an IPv4 address as the hex of its bytes in
        # host order (little-endian): 192.0.2.10 is 0A0200C0.
        self.hex = {"".join(f"{int(b):02X}" for b in reversed(h.split("."))): h for h in hosts}
        self.seen = []
        self.polls = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped.wait(0.02):
            with open("/proc/net/tcp") as f:
                for line in f.read().splitlines()[1:]:
                    remote = line.split()[2].split(":")[0]
                    if remote in self.hex:
                        self.seen.append((self.hex[remote], line.strip()))
            self.polls += 1

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=5)


def chaos_txt(port, name):
    q = dns.message.make_query(name, "TXT", rdclass="CH")
    r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=2)
    return [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset]


def get(cport, path, token=None, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{cport}{path}", method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as page:
        return page.read().decode()


def address_status(cport, site):
    doc = json.loads(get(cport, "/status"))
    for s in doc["sites"]:
        if s["name"] == site:
            return s["addresses"][0]
    return {}


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def wait_lines(path, want, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if want in read_lines(path):
            return True
        time.sleep(0.05)
    return False


def write_config(work, port, cport, hport, wport, target):
    with open(os.path.join(work, "dnsd.toml"), "w") as f:
        f.write(CONFIG.format(port=port, cport=cport, hport=hport, wport=wport, work=work, target=target,
                              interval=int(INTERVAL * 1000), timeout=int(TIMEOUT * 1000), rise=RISE, fall=FALL))


def shown_cases(port, cport, listener):
    """While a is up: where the probed address is named, and where not."""
    # Results that change no state reach the snapshot within a second.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not ("last" in address_status(cport, "a")
                                               and "last" in address_status(cport, "b")):
        time.sleep(0.1)
    a = address_status(cport, "a")
    check(a.get("address") == "192.0.2.10" and a.get("probe_target") == "127.0.0.1" and a.get("up") is True,
          "/status: 192.0.2.10 is up, probe_target 127.0.0.1")
    check(a.get("last", {}).get("message") == "HTTP 200", "/status: its last probe is the listener's HTTP 200")
    b = address_status(cport, "b")
    check(b.get("probe_target") == "127.0.0.3" and b.get("last", {}).get("message") == "checked 127.0.0.3",
          "/status: b's exec probe was given its probe target in DNSD_ADDRESS")
    health = chaos_txt(port, "health.server.")
    print("     " + "\n     ".join(health))
    check(any(line.startswith("192.0.2.10 (a, probed at 127.0.0.1): up since") and line.endswith("HTTP 200")
              for line in health), "health.server: 192.0.2.10 up, probed at 127.0.0.1")
    why = chaos_txt(port, "www.example.test.")
    check("A site a: 192.0.2.10 probed at 127.0.0.1" in why, "CH TXT explanation names the probed address")
    doc = json.loads(get(cport, "/explain?name=www.example.test.&type=A"))
    check("A site a: 192.0.2.10 probed at 127.0.0.1" in doc.get("lines", []),
          "GET /explain names the probed address")
    page = get(cport, "/")
    check("192.0.2.10 <small>(probed at 127.0.0.1)</small>" in page, "status page names the probed address")
    metrics = get(cport, "/metrics")
    check('dnsd_address_up{site="a",address="192.0.2.10"} 1' in metrics and "127.0.0.1\"" not in metrics,
          "/metrics: keyed by the answered address only")
    hosts = set(listener.hosts)
    check(bool(hosts) and all(h and h.startswith("127.0.0.1") for h in hosts),
          f"the listener was asked, with Host naming the probe target ({sorted(hosts)})")


def failover_cases(work, port, cport, listener, hook):
    check(wait_for(port, ["192.0.2.10"], 5) is not None, "a (192.0.2.10) is answered while 127.0.0.1 says 200")
    shown_cases(port, cport, listener)
    # HTTP 503 at the probe target: a fails over to b, and comes back.
    listener.mode = "503"
    t = wait_for(port, ["192.0.2.20"], WORST + SLACK)
    print(f"     failover after {t if t is None else round(t, 2)}s (bound {WORST:.2f}s + {SLACK}s slack)")
    check(t is not None, "HTTP 503 from the probe target fails a over to b")
    check(hook.wait(5, event="address", site="a", address="192.0.2.10", state="down", probe_target="127.0.0.1"),
          "webhook: 192.0.2.10 down, probe_target 127.0.0.1")
    check(wait_lines(os.path.join(work, "alerts.txt"), "address a 192.0.2.10 127.0.0.1 down", 5),
          "exec alert: DNSD_ADDRESS 192.0.2.10, DNSD_PROBE_TARGET 127.0.0.1")
    a = address_status(cport, "a")
    check(a.get("up") is False and a.get("last", {}).get("message", "").startswith("HTTP 503"),
          "/status: 192.0.2.10 down by its target's HTTP 503")
    check(any(line.startswith("192.0.2.10 (a, probed at 127.0.0.1): down since")
              for line in chaos_txt(port, "health.server.")), "health.server: 192.0.2.10 down, probed at 127.0.0.1")
    listener.mode = "ok"
    check(wait_for(port, ["192.0.2.10"], RISE * INTERVAL + TIMEOUT + SLACK) is not None, "back to a after 200s")
    check(hook.wait(5, event="address", site="a", address="192.0.2.10", state="up", probe_target="127.0.0.1"),
          "webhook: 192.0.2.10 up again, probe_target 127.0.0.1")
    # The listener closed: the same.
    listener.stop()
    check(wait_for(port, ["192.0.2.20"], WORST + SLACK) is not None, "the probe target closed: a fails over to b")
    listener.start()
    check(wait_for(port, ["192.0.2.10"], RISE * INTERVAL + TIMEOUT + SLACK) is not None,
          "the probe target back: a answered again")
    # The state file is keyed by the answered addresses.
    with open(os.path.join(work, "state.json")) as f:
        keys = sorted(json.load(f).get("addresses", {}))
    check(keys == ["a/192.0.2.10", "b/192.0.2.20"], f"state file keys: the answered addresses ({keys})")
    probed = set(read_lines(os.path.join(work, "probed.txt")))
    check(probed == {"127.0.0.3"}, f"every exec probe got the probe target in DNSD_ADDRESS ({sorted(probed)})")


def reload_case(work, port, cport, hport, wport, listener):
    """A reload that moves a's probe target elsewhere: its verdicts start
    afresh (up until the first), as for a changed probe port."""
    if not dnsclient.loopback_aliases("127.0.0.2"):
        return
    other = dnsclient.Listener("127.0.0.2", hport)
    other.start()
    try:
        listener.mode = "503"
        check(wait_for(port, ["192.0.2.20"], WORST + SLACK) is not None, "reload: a down by 127.0.0.1's 503")
        write_config(work, port, cport, hport, wport, "127.0.0.2")
        get(cport, "/reload", TOKEN, "POST")
        # The first query after the reply: a fresh verdict counts as up
        # (kept, a would stay down for rise passes of the new target).
        check(answer(port) == ["192.0.2.10"], "reload to another probe target: a's verdicts start afresh")
        a = address_status(cport, "a")
        check(a.get("probe_target") == "127.0.0.2", "/status after the reload: probe_target 127.0.0.2")
        time.sleep(RISE * INTERVAL + TIMEOUT + 0.5)
        check(answer(port) == ["192.0.2.10"] and bool(other.hosts), "the new target is probed, and says 200")
    finally:
        other.stop()
        listener.mode = "ok"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    work = tempfile.mkdtemp(prefix="dnsd-ptarget-")
    watch = ConnectionWatch(ANSWERED)
    listener = hook = proc = None
    try:
        port, cport, wport = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
        hport = dnsclient.free_port()
        listener = dnsclient.Listener("127.0.0.1", hport)
        listener.start()
        hook = dnsclient.Webhook(wport)
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        write_config(work, port, cport, hport, wport, "127.0.0.1")
        log = open(os.path.join(work, "dnsd.log"), "w")
        proc = subprocess.Popen([dnsd, "run", "-c", os.path.join(work, "dnsd.toml")], cwd=work,
                                          stdout=log, stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)
        failover_cases(work, port, cport, listener, hook)
        reload_case(work, port, cport, hport, wport, listener)
        dnsclient.stop(proc)
        proc = None
        with open(os.path.join(work, "dnsd.log")) as f:
            text = f.read()
        check("a/192.0.2.10 is down (probed at 127.0.0.1: HTTP 503" in text,
              "log: the down event names the answered address and the probe target")
        watch.stop()
        print(f"     {watch.polls} polls of /proc/net/tcp")
        check(watch.polls > 10 and not watch.seen,
              f"no socket ever went to an answered address ({watch.seen[:3]})")
    except Exception as e:  # the log below says more
        check(False, f"unexpected {type(e).__name__}: {e}")
    finally:
        watch.stop()
        dnsclient.stop(proc)
        if listener:
            listener.stop()
        if hook:
            hook.stop()
        dnsclient.remove_work(work)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
