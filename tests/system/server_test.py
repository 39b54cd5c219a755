#!/usr/bin/python3
"""The real dnsd binary on loopback: UDP and TCP transports (RFC 7766
pipelining, idle timeout, connection cap), IPv6, CH TXT and NSID through
dig, AXFR access control, malformed packets, SIGHUP reload (good and bad),
and a clean stop on SIGTERM."""
import argparse
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

ZONE = """$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.{last}
"""

CONFIG = """[server]
listen = ["127.0.0.1:{port}", "[::1]:{port}"]
threads = {threads}
identity = "ns-test"
transfer_allow = ["127.0.0.1"]

[[zone]]
origin = "example.test."
file = "example.test.zone"
"""

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def ask(port, name, rdtype="A", tcp=False, host="127.0.0.1", **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    f = dns.query.tcp if tcp else dns.query.udp
    return f(q, host, port=port, timeout=3)


def a_of(resp):
    return sorted(rr.address for rrset in resp.answer for rr in rrset if rrset.rdtype == dns.rdatatype.A)


def tcp_frames(sock, count, timeout=3):
    """Reads `count` length-prefixed messages."""
    sock.settimeout(timeout)
    out = []
    buf = b""
    while len(out) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            n = struct.unpack("!H", buf[:2])[0]
            out.append(dns.message.from_wire(buf[2:2 + n]))
            buf = buf[2 + n:]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    have_v6 = dnsclient.has_ipv6_loopback()
    work = tempfile.mkdtemp(prefix="dnsd-server-test-")
    proc = None
    try:
        port = dnsclient.free_port()
        zone = os.path.join(work, "example.test.zone")
        conf = os.path.join(work, "dnsd.toml")
        with open(zone, "w") as f:
            f.write(ZONE.format(last=1))
        cfg = CONFIG.format(port=port, threads=2)
        if not have_v6:
            cfg = cfg.replace(', "[::1]:{}"'.format(port), "")
        with open(conf, "w") as f:
            f.write(cfg)
        log = open(os.path.join(work, "dnsd.log"), "w")
        proc = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)

        # A second server on the same port, by mistake, must not bind.
        conf2 = os.path.join(work, "second.toml")
        with open(conf2, "w") as f:
            f.write(CONFIG.format(port=port, threads=1).replace(', "[::1]:{}"'.format(port), ""))
        second = subprocess.run([os.path.abspath(args.dnsd), "run", "-c", conf2], capture_output=True, text=True,
                                timeout=10)
        check(second.returncode == 1 and "cannot listen" in second.stderr,
              "a second server on the same port fails to start")
        check("cannot listen on 127.0.0.1:%d (UDP): Address already in use" % port in second.stderr,
              "... and says which address is in use")

        # Transports.
        r = ask(port, "www.example.test.")
        check(a_of(r) == ["192.0.2.1"] and r.flags & dns.flags.AA, "UDP answer, AA")
        r = ask(port, "www.example.test.", tcp=True)
        check(a_of(r) == ["192.0.2.1"], "TCP answer")
        if have_v6:
            r = ask(port, "www.example.test.", host="::1")
            check(a_of(r) == ["192.0.2.1"], "UDP over ::1")

        # Workers: threads = 2 means two UDP threads per address and two TCP
        # threads, named for top -H. SO_REUSEPORT spreads clients over the
        # UDP threads by source port: queries from 200 source ports must all
        # be answered (a UDP thread that was not serving would lose about
        # half of them).
        names = []
        for tid in os.listdir("/proc/%d/task" % proc.pid):
            with open("/proc/%d/task/%s/comm" % (proc.pid, tid)) as f:
                names.append(f.read().strip())
        addresses = 2 if have_v6 else 1
        udp_threads = sorted(n for n in names if n.startswith("dnsd-udp-"))
        tcp_threads = sorted(n for n in names if n.startswith("dnsd-tcp-"))
        check(len(udp_threads) == 2 * addresses and len(tcp_threads) == 2 and "dnsd-state" in names,
              f"two UDP threads per address, two TCP threads and the state thread ({sorted(names)})")
        answered = 0
        for i in range(200):
            q = dns.message.make_query("www.example.test.", "A")
            try:
                r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1)
                answered += a_of(r) == ["192.0.2.1"]
            except dns.exception.Timeout:
                pass
        check(answered == 200, f"queries from 200 source ports all answered ({answered})")

        # RFC 7766: several queries in one write, answered in order on one connection.
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        names = ["www.example.test.", "ns1.example.test.", "nope.example.test."]
        wire = b""
        for i, n in enumerate(names):
            m = dns.message.make_query(n, "A")
            m.id = 100 + i
            w = m.to_wire()
            wire += struct.pack("!H", len(w)) + w
        s.sendall(wire)
        got = tcp_frames(s, 3)
        check([m.id for m in got] == [100, 101, 102], "pipelined TCP queries answered in order")
        check(len(got) == 3 and got[2].rcode() == dns.rcode.NXDOMAIN, "pipelined NXDOMAIN")
        s.close()

        # Malformed packets: silence or FORMERR, and the server lives on.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(0.5)
        for junk in [b"", b"\x00", b"\x12\x34\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00\x01a\x00",
                     os.urandom(300), b"\xff" * 12 + b"\xc0\x0c"]:
            u.sendto(junk, ("127.0.0.1", port))
        u.sendto(b"\x12\x34\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00" + b"\x01a\x00\x00\x01\x00\x01" * 2,
                 ("127.0.0.1", port))
        replies = []
        try:
            while True:
                replies.append(dns.message.from_wire(u.recv(4096), question_only=True))
        except socket.timeout:
            pass
        except Exception:
            pass
        u.close()
        check(proc.poll() is None, "alive after malformed packets")
        r = ask(port, "www.example.test.")
        check(a_of(r) == ["192.0.2.1"], "answers after malformed packets")

        # dig: CH TXT and NSID.
        dig = shutil.which("dig")
        if dig:
            out = subprocess.run([dig, "@127.0.0.1", "-p", str(port), "id.server", "CH", "TXT", "+short"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
            check(out == '"ns-test"', "dig id.server CH TXT")
            out = subprocess.run([dig, "@127.0.0.1", "-p", str(port), "www.example.test", "+nsid"],
                                 capture_output=True, text=True, timeout=10).stdout
            check('NSID: 6e 73 2d 74 65 73 74 ("ns-test")' in out, "dig +nsid")
            out = subprocess.run([dig, "@127.0.0.1", "-p", str(port), "example.test", "AXFR"],
                                 capture_output=True, text=True, timeout=10).stdout
            check(out.count("\tSOA\t") == 2 and "192.0.2.1" in out, "AXFR from an allowed address")
            out = subprocess.run([dig, "@127.0.0.1", "-b", "127.0.0.2", "-p", str(port), "example.test", "AXFR"],
                                 capture_output=True, text=True, timeout=10).stdout
            check("Transfer failed" in out and "\tSOA\t" not in out, "AXFR refused to others")

        # Reload: a good edit is served, a bad one keeps the running data.
        with open(zone, "w") as f:
            f.write(ZONE.format(last=2))
        proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and a_of(ask(port, "www.example.test.")) != ["192.0.2.2"]:
            time.sleep(0.1)
        check(a_of(ask(port, "www.example.test.")) == ["192.0.2.2"], "SIGHUP reload serves the new zone")
        with open(zone, "a") as f:
            f.write("broken A 300.1.2.3\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        check(proc.poll() is None and a_of(ask(port, "www.example.test.")) == ["192.0.2.2"],
              "a bad reload keeps the running zone")

        # Connection caps (one client: 16 per worker by default, 256 in all
        # per worker): past them new connections are closed at once, and UDP
        # is unaffected. tcp_limits_test.py checks each cap exactly.
        conns = []
        for _ in range(560):
            conns.append(socket.create_connection(("127.0.0.1", port), timeout=3))
        time.sleep(0.5)
        closed = 0
        for c in conns:
            c.settimeout(0.05)
            try:
                if c.recv(1) == b"":
                    closed += 1
            except (socket.timeout, ConnectionResetError):
                pass
        check(closed >= 560 - 2 * 16, f"connections past the per-client cap are closed ({closed} of 560)")
        check(a_of(ask(port, "www.example.test.")) == ["192.0.2.2"], "UDP answers while TCP is at its cap")
        for c in conns:
            c.close()
        # The workers see those closes a little later (much later under a
        # sanitizer): until then this client is still at its cap. Wait until
        # a TCP query is answered again, at most 10 s.
        deadline, served = time.monotonic() + 10, False
        while not served and time.monotonic() < deadline:
            try:
                served = a_of(ask(port, "www.example.test.", tcp=True)) == ["192.0.2.2"]
            except (OSError, EOFError, dns.exception.DNSException):
                time.sleep(0.1)
        check(served, "TCP answers again once those connections are closed")

        # Idle timeout: an idle connection is closed after 10 s.
        s = socket.create_connection(("127.0.0.1", port), timeout=15)
        t0 = time.time()
        try:
            data = s.recv(1)
        except socket.timeout:
            data = None
        waited = time.time() - t0
        check(data == b"" and 8 < waited < 14, f"idle TCP connection closed after {waited:.1f}s")
        s.close()

        # Clean stop.
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        check(rc == 0, "SIGTERM stops with exit 0")
        proc = None
        with open(os.path.join(work, "dnsd.log")) as f:
            text = f.read()
        check("reload" in text and "failed" in text, "the failed reload is logged")
    finally:
        if proc is not None:
            dnsclient.stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
