#!/usr/bin/python3
"""NSD (Debian) as a stock secondary of dnsd on loopback: it transfers the
zone with the service names exported with all their addresses (a secondary
without steering fails open), answers static names as dnsd does, receives
NOTIFY after reloads and serves the new serial: when the zone file changed,
and when only services changed and the serial was raised. A change of the
services without a new serial is served under the file's serial (dnsd never
makes serials up: instances given the same files agree), with a warning that
secondaries keep the old data until the serial moves. A zone changed while
dnsd was down is announced at start."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.query
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

ZONE = """$TTL 300
@ SOA ns1 hostmaster {serial} 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
mail A 192.0.2.25
@ MX 10 mail
txt TXT "{text}"
"""

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
state_file = "state.json"
transfer_allow = ["127.0.0.1/32"]
notify = ["127.0.0.1:{nsd_port}"]
[[zone]]
origin = "example.test."
file = "example.test.zone"
[sites.a]
addresses = ["192.0.2.1"]
[sites.b]
addresses = [{b_addresses}]
[[service]]
name = "www.example.test."
sites = ["a", "b"]
policy = "failover"
ttl = 20
"""

NSD_ZONE = """    name: "example.test"
    zonefile: "secondary.zone"
    request-xfr: AXFR 127.0.0.1@{primary} NOKEY
    allow-notify: 127.0.0.1 NOKEY
"""

check, failures = dnsclient.check, dnsclient.failures


def ask(port, name, rdtype):
    r = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=2)
    return r


def rrs(reply):
    return sorted(rr.to_text() for rrset in reply.answer for rr in rrset)


serial, wait_serial = dnsclient.serial, dnsclient.wait_serial


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    nsd_bin = shutil.which("nsd") or "/usr/sbin/nsd"
    if not os.path.exists(nsd_bin):
        print("SKIP: nsd is not installed")
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-secondary-")
    dnsd = nsd = None
    try:
        port, nsd_port = dnsclient.free_port(), dnsclient.free_port()

        def write(serial_no, text="one", b_addresses='"192.0.2.2"'):
            with open(os.path.join(work, "example.test.zone"), "w") as f:
                f.write(ZONE.format(serial=serial_no, text=text))
            with open(os.path.join(work, "dnsd.toml"), "w") as f:
                f.write(CONFIG.format(port=port, nsd_port=nsd_port, b_addresses=b_addresses))

        def start_dnsd():
            p = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", "dnsd.toml"], cwd=work,
                                 stdout=open(os.path.join(work, "dnsd.log"), "a"), stderr=subprocess.STDOUT)
            dnsclient.wait_for_dns(port, proc=p)
            return p

        write(100)
        dnsd = start_dnsd()
        with open(os.path.join(work, "nsd.conf"), "w") as f:
            f.write(dnsclient.nsd_conf(nsd_port, work, NSD_ZONE.format(primary=port)))
        nsd = subprocess.Popen([nsd_bin, "-d", "-c", os.path.join(work, "nsd.conf")], cwd=work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        check(wait_serial(nsd_port, 100, 20) is not None, "NSD transferred the zone from dnsd (serial 100)")
        check(rrs(ask(nsd_port, "www.example.test.", "A")) == ["192.0.2.1", "192.0.2.2"],
              "the service name is exported with every address (a secondary fails open)")
        check(rrs(ask(port, "www.example.test.", "A")) == ["192.0.2.1"], "dnsd itself steers (failover: a)")
        for name, rdtype in (("example.test.", "SOA"), ("example.test.", "NS"), ("example.test.", "MX"),
                             ("mail.example.test.", "A"), ("txt.example.test.", "TXT"),
                             ("nosuch.example.test.", "A"), ("mail.example.test.", "AAAA")):
            a, b = ask(port, name, rdtype), ask(nsd_port, name, rdtype)
            check(a.rcode() == b.rcode() and rrs(a) == rrs(b), f"{name} {rdtype}: NSD answers as dnsd does")

        # 1. The zone file changes with its serial: NOTIFY, and NSD follows.
        write(101, text="two")
        dnsd.send_signal(signal.SIGHUP)
        t = wait_serial(nsd_port, 101, 10)
        print(f"     NSD served serial 101 after {t if t is None else round(t, 2)}s")
        check(t is not None, "after a reload NSD receives NOTIFY and serves the new serial")
        check(rrs(ask(nsd_port, "txt.example.test.", "TXT")) == ['"two"'], "... with the new data")

        # 2. Only services change. Without a new serial: served under the
        # file's serial, with a warning; NSD, at that serial already, keeps
        # the old addresses. With the serial raised, NSD follows.
        write(101, text="two", b_addresses='"192.0.2.2", "192.0.2.3"')
        dnsd.send_signal(signal.SIGHUP)
        warning = "the data changed since serial 101 was first served"
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5 and warning not in open(os.path.join(work, "dnsd.log")).read():
            time.sleep(0.1)
        check(warning in open(os.path.join(work, "dnsd.log")).read(),
              "services changed, file serial not: the reload warns that the serial needs a bump")
        check(serial(port) == 101,
              "... and dnsd serves the file's serial 101")
        write(102, text="two", b_addresses='"192.0.2.2", "192.0.2.3"')
        dnsd.send_signal(signal.SIGHUP)
        check(wait_serial(port, 102, 5) is not None, "the serial raised: dnsd serves serial 102")
        check(wait_serial(nsd_port, 102, 10) is not None
              and rrs(ask(nsd_port, "www.example.test.", "A")) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
              "NSD follows with the new service address")

        # 3. A reload that changes nothing keeps the serial; so does a restart.
        dnsd.send_signal(signal.SIGHUP)
        time.sleep(1)
        check(serial(port) == 102, "a reload without changes keeps serial 102")
        dnsclient.stop(dnsd)
        dnsd = start_dnsd()
        check(serial(port) == 102, "a restart keeps serial 102")

        # 4. A zone changed while dnsd was down: NOTIFY at start.
        dnsclient.stop(dnsd)
        write(110, text="three", b_addresses='"192.0.2.2", "192.0.2.3"')
        dnsd = start_dnsd()
        t = wait_serial(nsd_port, 110, 10)
        check(t is not None and rrs(ask(nsd_port, "txt.example.test.", "TXT")) == ['"three"'],
              f"a zone changed while dnsd was down reaches NSD at start (NOTIFY; after {t}s)")
        with open(os.path.join(work, "dnsd.log")) as f:
            log = f.read()
        check("notify example.test. serial 101 to 127.0.0.1:%d: acknowledged" % nsd_port in log,
              "dnsd logs the acknowledged NOTIFY")
    finally:
        dnsclient.stop(dnsd)
        dnsclient.stop(nsd)
        if failures:
            for log in ("dnsd.log", "nsd.log"):
                path = os.path.join(work, log)
                if os.path.exists(path):
                    with open(path) as f:
                        print(f"--- {log} (tail)\n" + f.read()[-2500:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
