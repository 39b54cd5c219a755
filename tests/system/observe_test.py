#!/usr/bin/python3
"""Operate and observe with the real dnsd: alerts (a webhook listener on
loopback and an exec target writing a file) for address, site, override and
failed-reload events; the probe duration histogram; and reloads, good and
bad, by SIGHUP and by the control API while a query loop runs: not one query
lost or answered wrongly."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import dns.exception
import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNSDCTL = os.path.join(REPO, "tools", "dnsdctl")
TOKEN = "observe-test-token-0123456789"
SITES = {"a": "127.0.0.2", "b": "127.0.0.3"}

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 2
identity = "observe-test"
query_log = 500
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
interval = "300ms"
timeout = "250ms"
rise = 1
fall = 1
[sites.a]
addresses = ["127.0.0.2"]
probe = "web"
[sites.b]
addresses = ["127.0.0.3"]
probe = "web"
[[alert]]
type = "webhook"
url = "http://127.0.0.1:{wport}/events"
timeout = "2s"
[[alert]]
type = "exec"
command = ["/bin/sh", "-c", "echo \\"$DNSD_EVENT $DNSD_SITE $DNSD_STATE $DNSD_INSTANCE\\" >> exec-events.txt"]
[[service]]
name = "www.example.test."
sites = ["a", "b"]
policy = "failover"
ttl = {ttl}
"""

check, failures = dnsclient.check, dnsclient.failures


def answer(port, timeout=2):
    r = dns.query.udp(dns.message.make_query("www.example.test.", "A"), "127.0.0.1", port=port, timeout=timeout)
    return sorted(rr.address for rrset in r.answer for rr in rrset)


def metrics(cport):
    with urllib.request.urlopen(f"http://127.0.0.1:{cport}/metrics", timeout=10) as page:
        text = page.read().decode()
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))


def ctl(cport, *args):
    return subprocess.run([sys.executable, DNSDCTL, "--url", f"http://127.0.0.1:{cport}", "--token-file", "token"]
                          + list(args), capture_output=True, text=True, timeout=60)


class QueryLoop:
    """Queries the service without pause; every reply must be one of `allowed`."""

    def __init__(self, port, allowed):
        self.port, self.allowed = port, allowed
        self.sent = self.lost = 0
        self.wrong = []
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            self.sent += 1
            try:
                got = answer(self.port, timeout=1)
                if got not in self.allowed:
                    self.wrong.append(got)
            except dns.exception.Timeout:
                self.lost += 1

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)


def alert_cases(port, cport, hook, listeners):
    # Address and site down.
    listeners["a"].stop()
    check(hook.wait(5, event="address", site="a", address="127.0.0.2", state="down", previous="up"),
          "webhook: address a down, with the previous state")
    check(hook.wait(5, event="site", site="a", state="down"), "webhook: site a down")
    e = hook.find(event="address", site="a", state="down")
    check(bool(e) and e[0].get("instance") == "observe-test" and "time" in e[0], "webhook: instance and time")
    listeners["a"].start()
    check(hook.wait(5, event="site", site="a", state="up"), "webhook: site a up again")
    # An override.
    r = ctl(cport, "drain", "b")
    check(r.returncode == 0 and hook.wait(5, event="override", site="b", state="drain"), "webhook: override drain")
    ctl(cport, "auto", "b")
    # A failed reload.
    with open("dnsd.toml", "a") as f:
        f.write("[sites.broken]\n")
    r = ctl(cport, "reload")
    check(r.returncode == 1 and hook.wait(5, event="reload", state="failed"), "webhook: a failed reload")
    e = hook.find(event="reload")
    check(bool(e) and "sites.broken" in e[0].get("message", ""), "webhook: the reload event has the error")
    # The exec target saw the same events, with the event in its environment.
    deadline = time.monotonic() + 5
    lines = []
    while time.monotonic() < deadline:
        if os.path.exists("exec-events.txt"):
            with open("exec-events.txt") as f:
                lines = f.read().splitlines()
            if "reload  failed observe-test" in lines:
                break
        time.sleep(0.05)
    for want in ("address a down observe-test", "site a down observe-test", "override b drain observe-test",
                 "reload  failed observe-test"):
        check(want in lines, f"exec alert: {want!r}")


def reload_cases(work, port, cport, proc, conf_text):
    # Both sites up: every answer is a's. Good reloads change the TTL; bad
    # ones must leave everything as it is.
    loop = QueryLoop(port, [["127.0.0.2"]])
    try:
        for i in range(6):
            with open("dnsd.toml", "w") as f:
                f.write(conf_text(ttl=10 + i) + ("[sites.broken]\n" if i % 2 else ""))
            if i < 3:
                proc.send_signal(signal.SIGHUP)
                time.sleep(0.4)
            else:
                r = ctl(cport, "reload")
                check((r.returncode == 0) == (i % 2 == 0), f"reload {i} by the API: {'good' if i % 2 == 0 else 'bad'}")
        time.sleep(0.3)
    finally:
        loop.stop()
    m = metrics(cport)
    check(int(m.get('dnsd_reloads_total{outcome="ok"}', 0)) >= 3
          and int(m.get('dnsd_reloads_total{outcome="failed"}', 0)) >= 3, "reloads counted by outcome")
    print(f"     {loop.sent} queries during 6 reloads: {loop.lost} lost, {len(loop.wrong)} wrong")
    check(loop.sent > 50 and loop.lost == 0 and not loop.wrong, "no query lost or answered wrongly across reloads")
    r = dns.query.udp(dns.message.make_query("www.example.test.", "A"), "127.0.0.1", port=port, timeout=2)
    check(r.answer and r.answer[0].ttl == 14, "the last good reload is the one serving (TTL 14)")
    return loop.sent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    args.dnsd = os.path.abspath(args.dnsd)
    if not dnsclient.loopback_aliases("127.0.0.2"):
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-observe-")
    proc = hook = None
    listeners = {}
    try:
        port, cport, wport = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
        hport = dnsclient.free_port("127.0.0.2")
        for name, host in SITES.items():
            listeners[name] = dnsclient.Listener(host, hport)
            listeners[name].start()
        hook = dnsclient.Webhook(wport)
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)

        def conf_text(ttl=5):
            return CONFIG.format(port=port, cport=cport, hport=hport, wport=wport, ttl=ttl)

        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(conf_text())
        os.chdir(work)
        proc = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", "dnsd.toml"],
                                stdout=open("dnsd.log", "w"), stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and answer(port) != ["127.0.0.2"]:
            time.sleep(0.05)
        check(answer(port) == ["127.0.0.2"], "site a answers")
        alert_cases(port, cport, hook, listeners)
        m = metrics(cport)
        check(int(m.get('dnsd_probe_duration_seconds_count{site="a"}', 0)) > 0
              and m.get('dnsd_probe_duration_seconds_bucket{site="a",le="+Inf"}')
              == m.get('dnsd_probe_duration_seconds_count{site="a"}'), "/metrics: probe duration histogram")
        check(int(m.get('dnsd_alerts_total{outcome="delivered"}', 0)) >= 8, "/metrics: alerts delivered")
        sent = reload_cases(work, port, cport, proc, conf_text)
        with open("dnsd.log") as f:
            log = f.read()
        check("site a IPv4 is down" in log, "the log has the site state change")
        check("1 services over 2 sites (2 addresses, 2 probed)" in log and "alerts: 2 targets" in log,
              "the log starts with a summary")
        sampled = [line for line in log.splitlines() if " query 127.0.0.1 udp www.example.test. type 1 rcode 0" in line]
        # One in 500 per worker: the query loop's share, give or take the
        # few other queries of the test.
        check(sent // 500 - 4 <= len(sampled) <= sent // 500 + 4 and all(line.endswith("decision a") for line in sampled),
              f"the sampled query log: {len(sampled)} lines, one in 500 queries")
    finally:
        if proc:
            dnsclient.stop(proc)
        for listener in listeners.values():
            listener.stop()
        if hook:
            hook.stop()
        if failures and os.path.exists(os.path.join(work, "dnsd.log")):
            with open(os.path.join(work, "dnsd.log")) as f:
                print("--- dnsd.log (tail)\n" + f.read()[-3000:])
        os.chdir(REPO)
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
