#!/usr/bin/python3
"""The health plane at scale (issue 22), at a size CI can afford: dnsd probes
2000 addresses by TCP every second (20 sites of 100 on 127.10.0.0/16, a
closed port: every probe refused) beside the two HTTP-probed sites of a
failover service. A stopped listener among them still fails over within
interval x fall + timeout; /metrics reports the probes' start lag
(dnsd_probe_lag_seconds), nearly all of it under a tenth of the interval;
every bulk address is probed about once a second (a steady stream, not
bursts); and the 2000 addresses are down by their probes."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

check = dnsclient.check
BULK = 2000
INTERVAL, TIMEOUT, FALL = 1.0, 0.5, 2
WORST = INTERVAL * FALL + TIMEOUT
# What the test adds to the bound: its own polling (20 ms) and the reply.
POLL_SLACK = 0.2


def config(port, cport, http_port, closed_port):
    lines = [f'[server]\nlisten = ["127.0.0.1:{port}"]\nthreads = 1\n',
             f'[control]\nlisten = "127.0.0.1:{cport}"\n',
             '[[zone]]\norigin = "example.test."\nfile = "example.test.zone"\n',
             f'[probes.web]\ntype = "http"\nport = {http_port}\npath = "/health"\nexpect_body = "ok"\n'
             f'interval = "{int(INTERVAL * 1000)}ms"\ntimeout = "{int(TIMEOUT * 1000)}ms"\nrise = 2\nfall = {FALL}\n',
             f'[probes.bulk]\ntype = "tcp"\nport = {closed_port}\n'
             f'interval = "{int(INTERVAL * 1000)}ms"\ntimeout = "{int(TIMEOUT * 1000)}ms"\nrise = 2\nfall = {FALL}\n',
             '[sites.a]\naddresses = ["127.0.0.2"]\nprobe = "web"\n',
             '[sites.b]\naddresses = ["127.0.0.3"]\nprobe = "web"\n']
    for s in range(BULK // 100):
        addrs = ", ".join(f'"127.10.{s}.{i + 1}"' for i in range(100))
        lines.append(f'[sites.bulk{s}]\naddresses = [{addrs}]\nprobe = "bulk"\n')
    lines.append('[[service]]\nname = "www.example.test."\nsites = ["a", "b"]\npolicy = "failover"\nttl = 5\n')
    return "\n".join(lines)


def metrics(cport):
    with urllib.request.urlopen(f"http://127.0.0.1:{cport}/metrics", timeout=5) as r:
        return r.read().decode()


def series(text, name):
    """{labels: value} of one metric's samples."""
    return {m.group(1) or "": float(m.group(2))
            for m in re.finditer(r"^" + name + r"(?:\{([^}]*)\})? (\S+)$", text, re.M)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    if not dnsclient.loopback_aliases("127.0.0.2", "127.0.0.3", "127.10.0.1"):
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-probe-scale-")
    listeners, proc = {}, None
    try:
        port, cport = dnsclient.free_port(), dnsclient.free_port()
        http_port = dnsclient.free_port("127.0.0.2")
        closed_port = dnsclient.free_port("127.10.0.1")
        for name, host in (("a", "127.0.0.2"), ("b", "127.0.0.3")):
            listeners[name] = dnsclient.Listener(host, http_port)
            listeners[name].start()
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(config(port, cport, http_port, closed_port))
        log = open(os.path.join(work, "dnsd.log"), "w")
        proc = subprocess.Popen([dnsd, "run", "-c", os.path.join(work, "dnsd.toml")], cwd=work, stdout=log,
                                stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)
        check(dnsclient.wait_for_addresses(port, ["127.0.0.2"], 5) is not None, "site a answers while healthy")

        # Every bulk address down by its probes (fall = 2: within ~2 s).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            up = series(metrics(cport), "dnsd_address_up")
            bulk_up = [v for k, v in up.items() if 'site="bulk' in k]
            if len(bulk_up) == BULK and not any(bulk_up):
                break
            time.sleep(0.2)
        check(len(bulk_up) == BULK and not any(bulk_up), f"all {BULK} bulk addresses down ({sum(bulk_up)} up)")

        # A steady stream: over 3 s, each address probed about 3 times.
        before = metrics(cport)
        time.sleep(3)
        after = metrics(cport)
        counts_before = series(before, "dnsd_probe_duration_seconds_count")
        counts_after = series(after, "dnsd_probe_duration_seconds_count")
        bulk = sum(v - counts_before.get(k, 0) for k, v in counts_after.items() if 'site="bulk' in k)
        rate = bulk / 3 / BULK
        print(f"     {bulk / 3:.0f} bulk probes a second ({rate:.2f} per address)")
        check(0.85 <= rate <= 1.15, f"each address probed about once a second ({rate:.2f})")

        # 1. Failover among them: within interval x fall + timeout.
        listeners["a"].stop()
        t = dnsclient.wait_for_addresses(port, ["127.0.0.3"], WORST + 5)
        print(f"     failover after {t if t is None else round(t, 2)}s (bound {WORST:.2f}s + {POLL_SLACK}s polling)")
        check(t is not None and t <= WORST + POLL_SLACK,
              "a stopped listener among 2000 probed addresses fails over within interval x fall + timeout")

        # 2. Start lag: nearly all probes start within a tenth of the interval.
        text = metrics(cport)
        buckets = series(text, "dnsd_probe_lag_seconds_bucket")
        total = buckets.get('le="+Inf"', 0)
        within, within_10ms = buckets.get('le="0.1"', 0), buckets.get('le="0.01"', 0)
        print(f"     probe start lag: {within:.0f} of {total:.0f} within 100 ms, {within_10ms:.0f} within 10 ms")
        check(total > 5 * BULK, f"dnsd_probe_lag_seconds counts the probes ({total:.0f})")
        check(total and within / total >= 0.99, "99 % of probes start within a tenth of their interval")
        check("dnsd_probe_lag_seconds_sum " in text and "dnsd_probe_lag_seconds_count " in text,
              "dnsd_probe_lag_seconds has _sum and _count")
    finally:
        for listener in listeners.values():
            listener.stop()
        dnsclient.stop(proc)
        if dnsclient.failures:
            with open(os.path.join(work, "dnsd.log")) as f:
                print("--- dnsd.log (tail)\n" + f.read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
