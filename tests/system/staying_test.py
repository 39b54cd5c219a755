#!/usr/bin/python3
"""Staying put (SPEC 9) with the real dnsd and real HTTP health listeners on
loopback (127.0.0.2 for site a, 127.0.0.3 for site b):

1. A site that flaps with every probe for several seconds: a service with
   `failback` fails over once and fails back once, after the flapping has
   stopped and the hold-down has passed; a service with `damping` stops
   following the flaps once the address is suppressed, and comes back when
   it is reused; a service with neither follows every flap (so the test can
   tell). While held down or damped, the explanation says so with the time
   left, /status and /metrics show it, answers carry `ttl_degraded`, and no
   TTL reaches past the end of the hold-down.
2. A hold-down survives a reload (SIGHUP) and still ends on time.
3. A manual hold-down survives a restart (state file) and ends with
   `dnsdctl resume`.
4. Every hold, release, damping and reuse is an alert (an exec command
   writes the events it hears of)."""
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

import dns.message
import dns.query
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

check, failures = dnsclient.check, dnsclient.failures
DNSDCTL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "tools", "dnsdctl")
TOKEN = "staying-token-0123456789"
A, B = "127.0.0.2", "127.0.0.3"
FAILBACK = 6.0

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
state_file = "state.json"

[control]
listen = "127.0.0.1:{cport}"
token_file = "token"

[[zone]]
origin = "example.test."
file = "example.test.zone"

[probes.web]
type = "http"
port = {http_port}
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

[[service]]
name = "hold.example.test."
sites = ["a", "b"]
ttl = 20
failback = "{failback}s"
ttl_degraded = 5

[[service]]
name = "manual.example.test."
sites = ["a", "b"]
failback = "manual"

[[service]]
name = "damp.example.test."
sites = ["a", "b"]
ttl = 20
damping = {{ half_life = "2s", suppress = 2200, reuse = 1200 }}

[[service]]
name = "plain.example.test."
sites = ["a", "b"]

[[alert]]
type = "exec"
command = "echo \\"$DNSD_EVENT $DNSD_SERVICE $DNSD_SITE $DNSD_STATE\\" >> events.txt"
"""

ZONE = """$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 192.0.2.53
"""


def answer(port, name):
    """(addresses, ttl) of the A answer at `name`."""
    r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=2)
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.A:
            return sorted(rr.address for rr in rrset), rrset.ttl
    return [], 0


def site_of(port, name):
    got, _ = answer(port, name)
    return "a" if got == [A] else "b" if got == [B] else ",".join(got) or "-"


def explain(port, name):
    q = dns.message.make_query(name, "TXT", rdclass="CH")
    r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=2)
    return [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset]


def get(cport, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{cport}{path}", timeout=5) as r:
        return r.read().decode()


def wait_until(cond, limit, step=0.05):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if cond():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def dnsdctl(work, cport, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DNSD_")}
    return subprocess.run([sys.executable, DNSDCTL, "--url", f"http://127.0.0.1:{cport}", "--token-file",
                           os.path.join(work, "token"), *args], capture_output=True, text=True, timeout=30, env=env)


class Watcher:
    """Asks `names` every 40 ms and keeps each one's sequence of sites."""

    def __init__(self, port, names):
        self.port, self.names = port, names
        self.seen = {n: [] for n in names}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop_event.is_set():
            for n in self.names:
                try:
                    s = site_of(self.port, n)
                except Exception:  # a lost datagram: ask again next round
                    continue
                if not self.seen[n] or self.seen[n][-1] != s:
                    self.seen[n].append(s)
            time.sleep(0.04)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(timeout=5)


def start(dnsd, work, port):
    log = open(os.path.join(work, "dnsd.log"), "a")
    proc = subprocess.Popen([dnsd, "run", "-c", "dnsd.toml"], cwd=work, stdout=log, stderr=subprocess.STDOUT)
    dnsclient.wait_for_dns(port, proc=proc)
    return proc


def events(work):
    try:
        with open(os.path.join(work, "events.txt")) as f:
            return [line.split() for line in f]
    except FileNotFoundError:
        return []


def flap_cases(port, cport, work, listener_a, flap_seconds):
    names = ["hold.example.test.", "damp.example.test.", "plain.example.test."]
    check(wait_until(lambda: all(site_of(port, n) == "a" for n in names), 5) is not None,
          "flap: every service answers site a while it is healthy")
    with Watcher(port, names) as w:
        # Site a flaps with every other probe (300 ms), 6 s in CI (the issue's
        # minute: --flap-seconds 60).
        t_end = time.monotonic() + flap_seconds
        while time.monotonic() < t_end:
            listener_a.mode = "503" if listener_a.mode == "ok" else "ok"
            time.sleep(0.6)
        listener_a.mode = "ok"
        stopped = time.monotonic()
        # Held down: b answers, the explanation says until when, the TTL is
        # the degraded one and never past the end of the hold-down.
        time.sleep(1.0)
        got, ttl = answer(port, "hold.example.test.")
        lines = explain(port, "hold.example.test.")
        held = [line for line in lines if line.startswith("A site a:")]
        check(got == [B] and held and "held down, failback in" in held[0],
              f"flap: site a is held down after the flapping, and the explanation says so ({held})")
        # ttl_degraded (5), or less with under 6 s of the hold-down left.
        check(any("(degraded)" in line for line in lines) and 0 < ttl <= 5,
              f"flap: answers carry ttl_degraded while held down (ttl {ttl})")
        status = json.loads(get(cport, "/status"))
        svc = [s for s in status["services"] if s["name"] == "hold.example.test."][0]
        check(svc.get("degraded") and any(h["site"] == "a" and h["reason"] == "held" for h in svc.get("held", [])),
              f"flap: /status shows site a held ({svc.get('held')})")
        metrics = get(cport, "/metrics")
        check('dnsd_service_site_held{service="hold.example.test.",site="a",family="ipv4",reason="failback"} 1'
              in metrics, "flap: /metrics shows site a held")
        page = get(cport, "/")
        check('class="held"' in page and "failback in" in page, "flap: the status page shows the hold in its colour")
        # The damped service stays on b until the penalty decays.
        damp_lines = explain(port, "damp.example.test.")
        damped = [line for line in damp_lines if line.startswith("A site a:")]
        check(site_of(port, "damp.example.test.") == "b" and damped and "damped, penalty" in damped[0]
              and "reuse in" in damped[0], f"flap: site a is damped, with penalty and reuse time ({damped})")
        # TTLs while held: never past the end of the hold-down.
        worst = 0.0
        while True:
            got, ttl = answer(port, "hold.example.test.")
            if got != [B]:
                break
            lines = explain(port, "hold.example.test.")
            left = [int(line.split("failback in ")[1].split(" s")[0]) for line in lines if "failback in" in line]
            if left:
                worst = max(worst, ttl - left[0])
            if time.monotonic() - stopped > FAILBACK + 5:
                break
            time.sleep(0.2)
        back = time.monotonic() - stopped
        check(worst <= 0, f"flap: no TTL reaches past the end of the hold-down (worst {worst:+.0f} s)")
        check(FAILBACK - 1.0 <= back <= FAILBACK + 2.5,
              f"flap: site a is answered again {back:.1f}s after it stopped flapping (failback {FAILBACK:.0f}s)")
        got, ttl = answer(port, "hold.example.test.")
        check(got == [A] and ttl == 20, f"flap: back on site a with the full TTL ({got}, {ttl})")
        check(wait_until(lambda: site_of(port, "damp.example.test.") == "a", 10) is not None,
              "flap: the damped address is reused once its penalty has decayed")
        time.sleep(0.3)
    seen = w.seen
    print(f"     answers seen: hold {seen['hold.example.test.']}, damp {seen['damp.example.test.']}, "
          f"plain {len(seen['plain.example.test.']) - 1} changes")
    check(len(seen["plain.example.test."]) >= 7, "flap: a service that does not stay put follows the flaps")
    check(seen["hold.example.test."] == ["a", "b", "a"],
          "flap: with failback, one failover and one failback")
    check(len(seen["damp.example.test."]) <= 5 and seen["damp.example.test."][-1] == "a",
          "flap: with damping, the flaps stop moving clients once the address is suppressed")
    ev = events(work)
    check(["hold", "hold.example.test", "a", "held"] in ev and ["hold", "hold.example.test", "a", "released"] in ev,
          "flap: the hold and its release are alerts")
    check(["damping", "damp.example.test", "a", "damped"] in ev and ["damping", "damp.example.test", "a", "reused"] in ev,
          "flap: damping and reuse are alerts")


def bounce(port, listener_a):
    """Site a goes down, then comes back: held down from then on."""
    listener_a.mode = "503"
    check(wait_until(lambda: site_of(port, "plain.example.test.") == "b", 3) is not None, "site a goes down")
    got, ttl = answer(port, "hold.example.test.")
    check(got == [B] and ttl == 5, f"while site a is down, ttl_degraded ({got}, {ttl})")
    listener_a.mode = "ok"
    check(wait_until(lambda: site_of(port, "plain.example.test.") == "a", 3) is not None, "site a comes back")
    return time.monotonic()


def reload_cases(dnsd, work, port, proc, listener_a):
    back = bounce(port, listener_a)
    check(site_of(port, "hold.example.test.") == "b", "reload: site a is held down")
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    check(site_of(port, "hold.example.test.") == "b", "reload: still held down after SIGHUP")
    t = wait_until(lambda: site_of(port, "hold.example.test.") == "a", FAILBACK + 5)
    took = time.monotonic() - back
    check(t is not None and FAILBACK - 1.0 <= took <= FAILBACK + 2.5,
          f"reload: the hold-down ends on time across the reload ({took:.1f}s)")


def restart_cases(dnsd, work, port, cport, proc, listener_a):
    # manual.example.test has been held down since the flapping.
    check(site_of(port, "manual.example.test.") == "b", "manual: site a is held down until resumed")
    dnsclient.stop(proc)
    with open(os.path.join(work, "state.json")) as f:
        holds = json.load(f).get("holds", {})
    check("manual.example.test a v4" in holds, f"manual: the hold is in the state file ({sorted(holds)})")
    proc = start(dnsd, work, port)
    time.sleep(0.5)
    check(site_of(port, "manual.example.test.") == "b", "manual: still held down after a restart")
    r = dnsdctl(work, cport, "status")
    check("held down until resumed" in r.stdout, f"manual: dnsdctl status says so ({r.stdout[-300:]!r})")
    r = dnsdctl(work, cport, "resume", "manual.example.test", "nowhere")
    check(r.returncode == 1 and "no site nowhere" in r.stderr, f"manual: resume of an unknown site fails ({r.stderr.strip()})")
    r = dnsdctl(work, cport, "resume", "manual.example.test", "a")
    check(r.returncode == 0 and "resumed" in r.stdout, f"manual: dnsdctl resume ({r.stdout.strip()})")
    check(site_of(port, "manual.example.test.") == "a", "manual: answered again as soon as resumed")
    return proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    ap.add_argument("--flap-seconds", type=float, default=6.0, help="how long site a flaps (default 6)")
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    if not dnsclient.loopback_aliases(A, B):
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-staying-")
    listeners, proc = {}, None
    try:
        port, cport = dnsclient.free_port(), dnsclient.free_port()
        http_port = dnsclient.free_port(A)
        for name, host in (("a", A), ("b", B)):
            listeners[name] = dnsclient.Listener(host, http_port)
            listeners[name].start()
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(CONFIG.format(port=port, cport=cport, http_port=http_port, failback=int(FAILBACK)))
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(ZONE)
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        r = subprocess.run([dnsd, "check", "-c", "dnsd.toml"], cwd=work, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "damping (the service's): penalty 1000 per change, half-life 2s, suppress above "
              "2200, reuse below 1200" in r.stdout and "failback manual" in r.stdout,
              f"check: prints the failback and damping figures in use ({r.stdout.strip()[-200:]!r})")
        proc = start(dnsd, work, port)
        flap_cases(port, cport, work, listeners["a"], args.flap_seconds)
        reload_cases(dnsd, work, port, proc, listeners["a"])
        proc = restart_cases(dnsd, work, port, cport, proc, listeners["a"])
    finally:
        dnsclient.stop(proc)
        for listener in listeners.values():
            listener.stop()
        if failures:
            dnsclient.show_tails(work, ["dnsd.log", "events.txt"])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
