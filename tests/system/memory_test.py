#!/usr/bin/python3
"""Memory follows the zones, with the real dnsd: after loading a large zone
its RSS is near what the zone takes, not the loader's peak; after a reload
to a small zone, within a few seconds, the large zone's memory is given
back, although most worker threads get no query at all (each lets go of
the replaced view on its own).

The reference is a second dnsd started with the small zone alone. Not run
under AddressSanitizer, whose allocator keeps freed memory on purpose."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

RECORDS = 200_000

CONFIG = """[server]
listen = ["127.0.0.1:{port}"{v6}]
threads = 2

[[zone]]
origin = "mem.test."
file = "{zone}"
"""

HEAD = "$TTL 300\n@ SOA ns1 hostmaster {serial} 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\n"

check, failures = dnsclient.check, dnsclient.failures


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def serial(port):
    r = dns.query.udp(dns.message.make_query("mem.test.", "SOA"), "127.0.0.1", port=port, timeout=2)
    return r.answer[0][0].serial if r.answer else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dnsd", required=True)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="dnsd-memory-")
    procs = []
    try:
        big = os.path.join(work, "big.zone")
        with open(big, "w") as f:
            f.write(HEAD.format(serial=1))
            for i in range(RECORDS):
                f.write(f"h{i} A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n")
        small = os.path.join(work, "small.zone")
        with open(small, "w") as f:
            f.write(HEAD.format(serial=2))
        v6 = dnsclient.has_ipv6_loopback()

        def start(name, zone):
            port = dnsclient.free_port()
            conf = os.path.join(work, name + ".toml")
            with open(conf, "w") as f:
                f.write(CONFIG.format(port=port, zone=zone, v6=', "[::1]:%d"' % port if v6 else ""))
            log = open(os.path.join(work, name + ".log"), "w")
            proc = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", conf], cwd=work, stdout=log,
                                    stderr=subprocess.STDOUT)
            procs.append(proc)
            dnsclient.wait_for_dns(port, proc=proc, timeout=60)
            return proc, port

        ref, _ = start("ref", "small.zone")
        zone = os.path.join(work, "zone.zone")
        shutil.copy(big, zone)
        proc, port = start("dnsd", "zone.zone")
        time.sleep(0.5)
        small_kib, big_kib = rss_kib(ref.pid), rss_kib(proc.pid)
        file_kib = os.path.getsize(big) // 1024
        print(f"RSS: small zone {small_kib} KiB, {RECORDS} records {big_kib} KiB (zone file {file_kib} KiB)")
        check(big_kib - small_kib > 4 * 1024, "the large zone takes memory (the test can see it go)")
        # Loading allocates far more than the zone keeps (ldns's records,
        # the builder's maps): that must not stay in RSS.
        check(big_kib - small_kib < 10 * file_kib,
              f"after loading, RSS is under 10 times the zone file ({big_kib - small_kib} KiB over the reference)")

        shutil.copy(small, zone)
        proc.send_signal(1)  # SIGHUP
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and serial(port) != 2:
            time.sleep(0.1)
        check(serial(port) == 2, "the reload to the small zone is served")
        # Only one of the worker threads gets these queries; the others
        # must let go of the old view by themselves.
        limit = small_kib + (big_kib - small_kib) // 4
        deadline = time.monotonic() + 10
        now = rss_kib(proc.pid)
        while time.monotonic() < deadline and now > limit:
            time.sleep(0.2)
            now = rss_kib(proc.pid)
        check(now <= limit, f"after the reload, RSS falls back near the reference ({now} KiB, limit {limit} KiB)")
        check(serial(port) == 2 and proc.poll() is None, "still serving")
    finally:
        for proc in procs:
            dnsclient.stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
