#!/usr/bin/python3
"""Serials across instances: two dnsd instances given the same zone file and
configuration serve the same SOA serial and the same transfer, whatever
their reload histories. Instance A served a service with one address, and
was reloaded after the operator changed the address without raising the
zone's serial; instance B started with the changed files. Both serve the
file's serial (A used to serve its own last serial plus one); A, which
served other data under that serial, warns that a bump is needed, at its
reload, after a restart (its state file) and in `dnsd check`; B does not.
Once the serial is raised, both serve it and nobody warns."""
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
import dns.zone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

ZONE = """$TTL 300
@ SOA ns1 hostmaster {serial} 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
"""

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
state_file = "state.json"
transfer_allow = ["127.0.0.1/32"]
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
"""

WARNING = "the data changed since serial 100 was first served"

check = dnsclient.check


class Instance:
    def __init__(self, dnsd, work, name):
        self.dnsd, self.dir, self.name = dnsd, os.path.join(work, name), name
        os.makedirs(self.dir)
        self.port = dnsclient.free_port()
        self.proc = None
        self.log = os.path.join(self.dir, "dnsd.log")

    def write(self, serial, b_addresses):
        """The files every instance gets (only the listening port differs)."""
        with open(os.path.join(self.dir, "example.test.zone"), "w") as f:
            f.write(ZONE.format(serial=serial))
        with open(os.path.join(self.dir, "dnsd.toml"), "w") as f:
            f.write(CONFIG.format(port=self.port, b_addresses=b_addresses))

    def start(self):
        self.proc = subprocess.Popen([os.path.abspath(self.dnsd), "run", "-c", "dnsd.toml"], cwd=self.dir,
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(self.port, proc=self.proc)

    def stop(self):
        dnsclient.stop(self.proc)
        self.proc = None

    def logged(self, text):
        with open(self.log) as f:
            return f.read().count(text)

    def reload(self):
        before = self.logged("reloaded ")
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.logged("reloaded ") == before:
            time.sleep(0.05)
        check(self.logged("reloaded ") > before, f"{self.name}: reloaded")

    def serial(self):
        r = dns.query.udp(dns.message.make_query("example.test.", "SOA"), "127.0.0.1", port=self.port, timeout=2)
        return r.answer[0][0].serial if r.answer else None

    def transfer(self):
        """The zone by AXFR, as text: what a secondary would hold."""
        zone = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "example.test.", port=self.port, timeout=5))
        return sorted(zone.to_text().splitlines())

    def check_config(self):
        """`dnsd check` on this instance's files and state file: (exit code, stderr)."""
        r = subprocess.run([os.path.abspath(self.dnsd), "check", "-c", "dnsd.toml"], cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return r.returncode, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dnsd-serial-")
    a = Instance(args.dnsd, work, "a")
    b = Instance(args.dnsd, work, "b")
    try:
        # A's history: one address under serial 100, then another, the
        # serial left as it was.
        a.write(100, '"192.0.2.2"')
        a.start()
        check(a.serial() == 100, "a: serves the file's serial 100")
        before = a.transfer()
        a.write(100, '"192.0.2.3"')
        a.reload()
        # B: the changed files from the start.
        b.write(100, '"192.0.2.3"')
        b.start()

        sa, sb = a.serial(), b.serial()
        check(sa == sb == 100, f"the same files, the same serial: a serves {sa}, b serves {sb} (the file's 100)")
        ta, tb = a.transfer(), b.transfer()
        check(ta == tb, "... and the same transfer")
        check(ta != before and any("192.0.2.3" in line for line in ta), "... with the changed address")
        check(a.logged(WARNING) == 1, "a: its reload warns that the serial needs a bump")
        check(b.logged(WARNING) == 0, "b: no warning (it never served other data under 100)")
        code, err = a.check_config()
        check(code == 0 and WARNING in err and "example.test.zone:2:" in err,
              f"a: dnsd check (its state file) warns at the SOA line: {err.strip()!r}")
        code, err = b.check_config()
        check(code == 0 and err == "", f"b: dnsd check is clean: {err.strip()!r}")

        # A restart keeps both: the serial, and the warning (state file).
        a.stop()
        a.start()
        check(a.serial() == 100, "a: after a restart still serial 100")
        check(a.logged(WARNING) == 2, "a: ... and it still warns")
        b.reload()
        check(b.serial() == 100 and b.logged(WARNING) == 0, "b: a reload of the same files keeps 100, no warning")

        # The operator raises the serial: both follow, nobody warns.
        for i in (a, b):
            i.write(101, '"192.0.2.3"')
            i.reload()
        sa, sb = a.serial(), b.serial()
        check(sa == sb == 101, f"after the bump: a serves {sa}, b serves {sb}")
        check(a.transfer() == b.transfer(), "... the same transfer")
        check(a.logged(WARNING) == 2 and b.logged(WARNING) == 0, "... and no new warning")
        code, err = a.check_config()
        check(code == 0 and err == "", f"a: dnsd check is clean again: {err.strip()!r}")
    except RuntimeError as e:
        check(False, str(e))
    finally:
        a.stop()
        b.stop()
        if dnsclient.failures:
            for i in (a, b):
                if os.path.exists(i.log):
                    with open(i.log) as f:
                        print(f"--- {i.name}/dnsd.log (tail)\n" + f.read()[-2500:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
