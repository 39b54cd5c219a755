#!/usr/bin/python3
"""Three dnsd instances on 127.0.0.1-3 in one [cluster] with quorum 2, each
probing from its own address (the probe `source` option), against health
listeners that fail the probes of chosen source addresses: a site seen down
by one instance stays up in every instance's answers; seen down by two, it
fails over in all three; a killed instance changes nothing for the other
two, which still need both their verdicts to fail a site over. A service
with `failback` holds the recovered site down alike on every instance and
fails back on all three together (SPEC 9)."""
import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTANCES = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
SITES = {"a": "127.0.0.10", "b": "127.0.0.11"}
TOKEN = "cluster-test-peer-token-42"

CONFIG = """[server]
listen = ["{me}:{port}"]
threads = 1
identity = "{me}"
[control]
listen = "{me}:{cport}"
token_file = "peer-token"
[cluster]
peers = [{peers}]
quorum = 2
token_file = "peer-token"
interval = "250ms"
[[zone]]
origin = "example.test."
file = "example.test.zone"
[probes.web]
type = "http"
port = {hport}
path = "/health"
interval = "250ms"
timeout = "200ms"
rise = 2
fall = 2
source = "{me}"
[sites.a]
addresses = ["127.0.0.10"]
probe = "web"
[sites.b]
addresses = ["127.0.0.11"]
probe = "web"
[[service]]
name = "www.example.test."
sites = ["a", "b"]
policy = "failover"
ttl = 5
[[service]]
name = "held.example.test."
sites = ["a", "b"]
failback = "{failback}s"
"""
FAILBACK = 4

check, failures = dnsclient.check, dnsclient.failures


class Health:
    """A site's health endpoint that fails the probes of blocked sources."""

    def __init__(self, host, port):
        self.blocked = set()
        health = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                status = 503 if self.client_address[0] in health.blocked else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def answer(me, port, name="www.example.test."):
    r = dns.query.udp(dns.message.make_query(name, "A"), me, port=port, timeout=2)
    return sorted(rr.address for rrset in r.answer for rr in rrset)


def status(me, cport):
    with urllib.request.urlopen(f"http://{me}:{cport}/status", timeout=5) as r:
        return json.loads(r.read())


def all_answer(members, port, want, limit):
    """Seconds until every instance in `members` answers `want`, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if all(answer(me, port) == want for me in members):
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def steady(members, port, want, seconds):
    """Every answer of every instance in `members` is `want` for `seconds`."""
    t0, seen = time.monotonic(), set()
    while time.monotonic() - t0 < seconds:
        for me in members:
            seen.add(tuple(answer(me, port)))
        time.sleep(0.05)
    return seen == {tuple(want)}, seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    if not dnsclient.loopback_aliases(*INSTANCES[1:], *SITES.values()):
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-cluster-")
    procs, listeners = {}, []
    try:
        port, cport, hport = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port("127.0.0.10")
        health = {}
        for name, host in SITES.items():
            health[name] = Health(host, hport)
            listeners.append(health[name])
        for me in INSTANCES:
            d = os.path.join(work, me)
            os.makedirs(d)
            with open(os.path.join(d, "peer-token"), "w") as f:
                f.write(TOKEN + "\n")
            with open(os.path.join(d, "example.test.zone"), "w") as f:
                f.write(dnsclient.SMALL_ZONE)
            peers = ", ".join(f'"http://{p}:{cport}"' for p in INSTANCES if p != me)
            with open(os.path.join(d, "dnsd.toml"), "w") as f:
                f.write(CONFIG.format(me=me, port=port, cport=cport, hport=hport, peers=peers, failback=FAILBACK))
        for me in INSTANCES:
            d = os.path.join(work, me)
            procs[me] = subprocess.Popen([dnsd, "run", "-c", "dnsd.toml"], cwd=d,
                                         stdout=open(os.path.join(d, "dnsd.log"), "w"), stderr=subprocess.STDOUT)
        for me in INSTANCES:
            dnsclient.wait_for_dns(port, host=me, proc=procs[me])

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(status(me, cport).get("cluster", {}).get("vantage_points") == 3 for me in INSTANCES):
                break
            time.sleep(0.1)
        doc = status(INSTANCES[0], cport)["cluster"]
        check(doc["vantage_points"] == 3 and doc["quorum"] == 2 and not doc["degraded"]
              and all(p["reachable"] for p in doc["peers"]), "every instance counts three vantage points")
        check(all_answer(INSTANCES, port, ["127.0.0.10"], 5) is not None, "all three answer site a")
        # Without the token a peer's verdicts are not given out.
        try:
            urllib.request.urlopen(f"http://127.0.0.2:{cport}/cluster/verdicts", timeout=5)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        check(code == 401, "GET /cluster/verdicts without the peer token: 401")

        # 1. One vantage point sees a down: no failover anywhere.
        health["a"].blocked = {"127.0.0.1"}
        ok, seen = steady(INSTANCES, port, ["127.0.0.10"], 3)
        check(ok, f"a seen down by one instance only: every answer stays a ({seen})")
        x = status("127.0.0.1", cport)
        check(x["sites"][0]["addresses"][0]["last"]["ok"] is False and x["sites"][0]["addresses"][0]["up"] is True,
              "127.0.0.1's own probe fails, yet it serves a as up (outvoted)")
        q = dns.message.make_query("www.example.test.", "TXT", rdclass="CH")
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
        lines = [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset]
        check("cluster: 3 vantage points count, quorum 2" in lines, "the explanation shows the cluster")

        # 2. Two see it down: all three fail over.
        health["a"].blocked = {"127.0.0.1", "127.0.0.2"}
        t = all_answer(INSTANCES, port, ["127.0.0.11"], 6)
        print(f"     all three on b after {t if t is None else round(t, 2)}s")
        check(t is not None, "a seen down by two of three: all three fail over to b")
        check(answer("127.0.0.3", port) == ["127.0.0.11"], "... including the one whose own probes pass")
        check(all(answer(me, port, "held.example.test.") == ["127.0.0.11"] for me in INSTANCES),
              "the service with failback fails over too")
        health["a"].blocked = set()
        check(all_answer(INSTANCES, port, ["127.0.0.10"], 6) is not None, "a healthy again everywhere")
        back = time.monotonic()
        # SPEC 9: the hold-down follows the merged verdicts, so every
        # instance holds a down and fails back alike.
        switched = {}
        while time.monotonic() - back < FAILBACK + 4 and len(switched) < len(INSTANCES):
            for me in INSTANCES:
                if me not in switched and answer(me, port, "held.example.test.") == ["127.0.0.10"]:
                    switched[me] = time.monotonic() - back
            time.sleep(0.05)
        times = sorted(switched.values())
        print(f"     held.example.test back on a after {[round(t, 2) for t in times]}s (failback {FAILBACK}s)")
        check(len(times) == 3 and times[0] >= FAILBACK - 1.5 and times[-1] - times[0] <= 1.5,
              "a cluster of three holds a down alike and fails back together after the failback")

        # 3. An instance dies: nothing changes for the other two.
        dnsclient.stop(procs.pop("127.0.0.1"))
        ok, seen = steady(INSTANCES[1:], port, ["127.0.0.10"], 2)
        check(ok, "127.0.0.1 killed: the other two still answer a")
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            y = status("127.0.0.2", cport)["cluster"]
            if y["vantage_points"] == 2:
                break
            time.sleep(0.1)
        check(y["vantage_points"] == 2 and not y["degraded"]
              and [p["reachable"] for p in y["peers"]] == [False, True], "127.0.0.2 counts two vantage points now")
        r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "dnsdctl"), "--url",
                            f"http://127.0.0.2:{cport}", "status"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "cluster: 2 vantage points count, quorum 2 (ok)" in r.stdout
              and f"peer http://127.0.0.1:{cport} 127.0.0.1: UNREACHABLE (connect: " in r.stdout
              and f"peer http://127.0.0.3:{cport} 127.0.0.3: counted" in r.stdout,
              "dnsdctl status shows the cluster: " + r.stdout.split("cluster:")[-1].replace("\n", " | "))
        # An override on every instance at once, one of them gone.
        ctl = [sys.executable, os.path.join(REPO, "tools", "dnsdctl"), "--token-file",
               os.path.join(work, "127.0.0.2", "peer-token")]
        for me in INSTANCES:
            ctl += ["--url", f"http://{me}:{cport}"]
        r = subprocess.run(ctl + ["drain", "a"], capture_output=True, text=True, timeout=60)
        check(r.returncode == 3 and r.stdout.count("site a: override drain") == 2
              and f"== http://127.0.0.3:{cport}" in r.stdout and "cannot reach dnsd at http://127.0.0.1" in r.stderr,
              "dnsdctl drain with three URLs: the two alive drain, the dead one is reported (exit 3)")
        check(all_answer(INSTANCES[1:], port, ["127.0.0.11"], 3) is not None, "both answer b while a is drained")
        subprocess.run(ctl + ["auto", "a"], capture_output=True, text=True, timeout=60)
        check(all_answer(INSTANCES[1:], port, ["127.0.0.10"], 3) is not None, "dnsdctl auto a: back on both")
        health["a"].blocked = {"127.0.0.2"}
        ok, seen = steady(INSTANCES[1:], port, ["127.0.0.10"], 2.5)
        check(ok, "one of the two remaining sees a down: no failover")
        health["a"].blocked = {"127.0.0.2", "127.0.0.3"}
        check(all_answer(INSTANCES[1:], port, ["127.0.0.11"], 6) is not None, "both see a down: both fail over")

        # 4. Alone: below the quorum, 127.0.0.3 decides from its own view and says so.
        dnsclient.stop(procs.pop("127.0.0.2"))
        health["a"].blocked = set()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not status("127.0.0.3", cport)["cluster"]["degraded"]:
            time.sleep(0.1)
        z = status("127.0.0.3", cport)["cluster"]
        check(z["degraded"] and z["vantage_points"] == 1, "the last instance is degraded: 1 vantage point, quorum 2")
        with urllib.request.urlopen(f"http://127.0.0.3:{cport}/metrics", timeout=5) as page:
            text = page.read().decode()
        check("dnsd_cluster_degraded 1" in text, "/metrics: dnsd_cluster_degraded 1")
        problems = dnsclient.metrics_contract(text, cluster=True)
        check(not problems, f"/metrics: exactly the metrics and labels the README lists {problems[:5]}")
        r = dns.query.udp(dns.message.make_query("www.example.test.", "TXT", rdclass="CH"), "127.0.0.3", port=port,
                          timeout=2)
        lines = [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset]
        check("cluster: 1 vantage points count, quorum 2 (degraded: deciding from those reachable)" in lines,
              "the explanation says it is degraded")
        check(all_answer(["127.0.0.3"], port, ["127.0.0.10"], 6) is not None, "and answers by its own probes: a")
        with open(os.path.join(work, "127.0.0.3", "dnsd.log")) as f:
            check("cluster degraded: 1 of 3 vantage points reachable" in f.read(), "the log says so")
    finally:
        for proc in procs.values():
            dnsclient.stop(proc)
        for listener in listeners:
            listener.stop()
        if failures:
            for me in INSTANCES:
                path = os.path.join(work, me, "dnsd.log")
                if os.path.exists(path):
                    with open(path) as f:
                        print(f"--- {me} dnsd.log (tail)\n" + f.read()[-1500:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
