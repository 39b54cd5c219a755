#!/usr/bin/python3
"""TSIG (RFC 8945) for zone transfers and NOTIFY, on loopback.

dnsd serves a zone large enough for a transfer of several messages, with
`transfer_key` set. dnspython transfers it with the key and verifies every
message's TSIG (each chained to the MAC of the one before); without a key
the transfer is refused; with a wrong secret, an unknown key or a skewed
clock it gets NOTAUTH with BADSIG, BADKEY or BADTIME, the first two
unsigned and BADTIME signed with dnsd's time; such requests are logged once
a minute per client. A normal query signed with the key gets a signed
answer. A reload with a new secret applies it. A world-readable secret file
is refused by `dnsd check`. Then stock NSD and Knot DNS, both with the key,
transfer the zone from dnsd and follow a signed NOTIFY after a reload."""
import argparse
import base64
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from unittest import mock

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

check, failures, seconds = dnsclient.check, dnsclient.failures, dnsclient.seconds

ZONE_HEAD = """$TTL 300
@ SOA ns1 hostmaster {serial} 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
mail A 192.0.2.25
txt TXT "{text}"
"""

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
transfer_allow = ["127.0.0.1/32"]
transfer_key = "xfr"
notify = [{notify}]

[tsig.xfr]
algorithm = "hmac-sha256"
secret_file = "xfr.tsig"

[tsig.other]
algorithm = "hmac-sha512"
secret_file = "other.tsig"

[[zone]]
origin = "example.test."
file = "example.test.zone"

[sites.a]
addresses = ["192.0.2.1"]

[[service]]
name = "www.example.test."
sites = ["a"]
"""

BADKEY, BADSIG, BADTIME = 17, 16, 18


def bind_key(name, algorithm, secret):
    """As tsig-keygen prints it."""
    return f'key "{name}" {{\n\talgorithm {algorithm};\n\tsecret "{secret}";\n}};\n'


def zone_text(serial, text):
    # Enough records for several 64 KiB messages.
    lines = [ZONE_HEAD.format(serial=serial, text=text)]
    for i in range(2500):
        lines.append(f'r{i} TXT "record {i} {"x" * 60}"\n')
    return "".join(lines)


def keyring(secret, name="xfr.", algorithm="hmac-sha256"):
    return {dns.name.from_text(name): dns.tsig.Key(name, secret, algorithm)}


def axfr_query(ring=None, keyname="xfr.", algorithm="hmac-sha256"):
    q = dns.message.make_query("example.test.", "AXFR")
    if ring:
        q.use_tsig(ring, keyname=keyname, algorithm=algorithm)
    return q


def tcp_exchange(wire, port):
    """Sends one query over TCP and reads one reply: raw bytes, so that
    replies dnspython refuses to parse can be looked at."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        head = b""
        while len(head) < 2:
            chunk = s.recv(2 - len(head))
            if not chunk:
                return b""
            head += chunk
        (n,) = struct.unpack("!H", head)
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                break
            body += chunk
        return body


def tsig_of(wire):
    """(rcode, the TSIG record's fields) of a raw reply; None for the record
    when it has none. Walks the sections itself: dnspython will not parse a
    signed message it cannot verify."""
    qd, an, ns, ar = struct.unpack("!HHHH", wire[4:12])
    pos = 12
    for _ in range(qd):
        _, used = dns.name.from_wire(wire, pos)
        pos += used + 4
    found = None
    for _ in range(an + ns + ar):
        owner, used = dns.name.from_wire(wire, pos)
        pos += used
        rtype, _, _, rdlen = struct.unpack("!HHIH", wire[pos:pos + 10])
        pos += 10
        if rtype == dns.rdatatype.TSIG:
            algorithm, used = dns.name.from_wire(wire, pos)
            p = pos + used
            hi, lo, fudge, mac_size = struct.unpack("!HIHH", wire[p:p + 10])
            p += 10
            mac = wire[p:p + mac_size]
            p += mac_size
            original_id, error, other_size = struct.unpack("!HHH", wire[p:p + 6])
            other = wire[p + 6:p + 6 + other_size]
            found = {"key": owner.to_text(), "algorithm": algorithm.to_text(), "time": hi << 32 | lo,
                     "fudge": fudge, "mac": mac, "error": error, "other": other}
        pos += rdlen
    return wire[3] & 0xF, found


def transfer(port, ring):
    """dnspython's AXFR with the key: every message verified (dns.query.xfr
    raises on a bad or missing TSIG). The messages and records seen."""
    messages, records = 0, 0
    signed = True
    for m in dns.query.xfr("127.0.0.1", "example.test.", port=port, keyring=ring, keyname="xfr.",
                           keyalgorithm="hmac-sha256", timeout=10, lifetime=30, relativize=False):
        messages += 1
        signed = signed and m.had_tsig
        records += sum(len(rrset) for rrset in m.answer)
    return messages, records, signed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd_bin = os.path.abspath(args.dnsd)
    work = tempfile.mkdtemp(prefix="dnsd-tsig-")
    dnsd = nsd = knot = None
    try:
        port, nsd_port, knot_port = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
        secret = base64.b64encode(os.urandom(32)).decode()
        other_secret = base64.b64encode(os.urandom(64)).decode()
        dnsclient.write_secret(os.path.join(work, "xfr.tsig"), bind_key("xfr", "hmac-sha256", secret))
        dnsclient.write_secret(os.path.join(work, "other.tsig"), other_secret + "\n")
        nsd_bin = shutil.which("nsd") or "/usr/sbin/nsd"
        knot_bin = shutil.which("knotd") or "/usr/sbin/knotd"
        have_nsd, have_knot = os.path.exists(nsd_bin), os.path.exists(knot_bin)
        notify = ", ".join(f'"127.0.0.1:{p}"' for p, have in ((nsd_port, have_nsd), (knot_port, have_knot))
                           if have)

        def write(serial, text):
            with open(os.path.join(work, "example.test.zone"), "w") as f:
                f.write(zone_text(serial, text))

        write(100, "one")
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(CONFIG.format(port=port, notify=notify))
        log_path = os.path.join(work, "dnsd.log")
        dnsd = subprocess.Popen([dnsd_bin, "run", "-c", "dnsd.toml"], cwd=work, stdout=open(log_path, "a"),
                                stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=dnsd)
        ring = keyring(secret)

        # 1. The right key: every message signed and verified.
        try:
            messages, records, signed = transfer(port, ring)
            check(messages > 1 and signed,
                  f"AXFR with the key: {messages} messages, every one's TSIG verified by dnspython")
            check(records > 2500, f"... with the whole zone ({records} records)")
        except Exception as e:  # noqa: BLE001
            check(False, f"AXFR with the key: {type(e).__name__}: {e}")

        # 2. No key: refused (the ACL admits the address, the key is missing).
        rcode, t = tsig_of(tcp_exchange(axfr_query().to_wire(), port))
        check(rcode == dns.rcode.REFUSED and t is None, f"AXFR without a TSIG: REFUSED, unsigned (rcode {rcode})")

        # 3. A wrong secret: NOTAUTH, BADSIG, unsigned (RFC 8945 5.2.2, 5.3.2).
        wrong = keyring(base64.b64encode(os.urandom(32)).decode())
        rcode, t = tsig_of(tcp_exchange(axfr_query(wrong).to_wire(), port))
        check(rcode == dns.rcode.NOTAUTH and t and t["error"] == BADSIG and t["mac"] == b"",
              f"a wrong secret: NOTAUTH with BADSIG, unsigned ({rcode}, {t and t['error']})")
        try:
            dns.query.tcp(axfr_query(wrong), "127.0.0.1", port=port, timeout=5)
            check(False, "dnspython sees BADSIG")
        except dns.tsig.PeerBadSignature:
            check(True, "dnspython sees BADSIG")

        # 4. A key dnsd does not know: NOTAUTH, BADKEY, unsigned (5.2.1).
        unknown = keyring(secret, name="nosuch.")
        rcode, t = tsig_of(tcp_exchange(axfr_query(unknown, keyname="nosuch.").to_wire(), port))
        check(rcode == dns.rcode.NOTAUTH and t and t["error"] == BADKEY and t["mac"] == b"",
              f"an unknown key: NOTAUTH with BADKEY, unsigned ({rcode}, {t and t['error']})")
        # The right name with another algorithm is another key, too.
        rcode, t = tsig_of(tcp_exchange(axfr_query(keyring(secret, algorithm="hmac-sha512"),
                                                   algorithm="hmac-sha512").to_wire(), port))
        check(rcode == dns.rcode.NOTAUTH and t and t["error"] == BADKEY,
              "the key's name with another algorithm: BADKEY")

        # 5. A clock an hour off: NOTAUTH, BADTIME, signed, dnsd's time in
        # Other Data (5.2.3).
        skewed_at = time.time() - 3600
        with mock.patch("time.time", return_value=skewed_at):
            skewed = axfr_query(ring)
            wire = skewed.to_wire()
        reply = tcp_exchange(wire, port)
        rcode, t = tsig_of(reply)
        now = time.time()
        server_time = int.from_bytes(t["other"], "big") if t and len(t["other"]) == 6 else 0
        check(rcode == dns.rcode.NOTAUTH and t and t["error"] == BADTIME and len(t["mac"]) == 32
              and abs(server_time - now) < 10,
              f"a skewed clock: NOTAUTH with BADTIME, signed, with dnsd's time ({rcode}, {t and t['error']})")
        try:
            with mock.patch("time.time", return_value=skewed_at):
                dns.message.from_wire(reply, keyring=ring, request_mac=skewed.mac)
            check(False, "dnspython sees BADTIME")
        except dns.tsig.PeerBadTime:
            check(True, "dnspython sees BADTIME")

        # Another key we know: a good TSIG, but not the transfer key.
        other = keyring(other_secret, name="other.", algorithm="hmac-sha512")
        try:
            r = dns.query.tcp(axfr_query(other, keyname="other.", algorithm="hmac-sha512"), "127.0.0.1",
                              port=port, timeout=5)
            check(r.rcode() == dns.rcode.REFUSED and r.had_tsig,
                  "signed with another known key: REFUSED, and the reply signed with it")
        except Exception as e:  # noqa: BLE001
            check(False, f"signed with another known key: {type(e).__name__}: {e}")

        # A normal query with a TSIG: answered and signed (UDP and TCP).
        for proto in ("udp", "tcp"):
            q = dns.message.make_query("mail.example.test.", "A")
            q.use_tsig(ring, keyname="xfr.")
            try:
                r = getattr(dns.query, proto)(q, "127.0.0.1", port=port, timeout=5)
                check(r.rcode() == dns.rcode.NOERROR and r.had_tsig and len(r.answer) == 1,
                      f"a signed query over {proto}: answered, the reply signed and verified")
            except Exception as e:  # noqa: BLE001
                check(False, f"a signed query over {proto}: {type(e).__name__}: {e}")
        q = dns.message.make_query("mail.example.test.", "A")
        q.use_tsig(unknown, keyname="nosuch.")
        rcode, t = tsig_of(send_udp(q.to_wire(), port))
        check(rcode == dns.rcode.NOTAUTH and t and t["error"] == BADKEY,
              "a normal query with an unknown key: NOTAUTH, BADKEY")

        # Logged once per client per minute, not per packet.
        for _ in range(5):
            tcp_exchange(axfr_query().to_wire(), port)
        time.sleep(0.3)
        with open(log_path) as f:
            lines = [line for line in f if "tsig: transfer request from 127.0.0.1 over tcp" in line]
        check(len(lines) == 1, f"bad or missing TSIG on transfers: logged once ({len(lines)} lines)")

        # A reload applies a new secret.
        new_secret = base64.b64encode(os.urandom(32)).decode()
        dnsclient.write_secret(os.path.join(work, "xfr.tsig"), new_secret + "\n")
        dnsd.send_signal(signal.SIGHUP)
        new_ring = keyring(new_secret)
        t0, moved = time.monotonic(), False
        while time.monotonic() - t0 < 10 and not moved:
            rcode, t = tsig_of(tcp_exchange(axfr_query(ring).to_wire(), port))
            moved = rcode == dns.rcode.NOTAUTH and t and t["error"] == BADSIG
            time.sleep(0.2)
        check(moved, "after a reload with a new secret, the old one gets BADSIG")
        try:
            messages, _, signed = transfer(port, new_ring)
            check(signed and messages > 1, "... and the new one transfers")
        except Exception as e:  # noqa: BLE001
            check(False, f"... and the new one transfers: {type(e).__name__}: {e}")
        ring, secret = new_ring, new_secret

        # A world-readable secret file is refused, naming the file.
        loose = os.path.join(work, "loose.tsig")
        with open(loose, "w") as f:
            f.write(secret + "\n")
        os.chmod(loose, 0o644)
        with open(os.path.join(work, "loose.toml"), "w") as f:
            f.write('[server]\ntransfer_key = "xfr"\n[tsig.xfr]\nalgorithm = "hmac-sha256"\n'
                    'secret_file = "loose.tsig"\n')
        c = subprocess.run([dnsd_bin, "check", "-c", "loose.toml"], cwd=work, capture_output=True, text=True,
                           timeout=30)
        out = c.stdout + c.stderr
        first = out.strip().splitlines()[0] if out.strip() else "(nothing)"
        check(c.returncode == 1 and "loose.toml:5: tsig.xfr.secret_file" in out and "readable by everyone" in out,
              "dnsd check refuses a world-readable secret file: " + first)

        # 6. NSD and 7. Knot DNS as secondaries with the key: they transfer
        # the zone, then follow a signed NOTIFY after a reload.
        if have_nsd:
            nsd_zone = (f'    name: "example.test"\n    zonefile: "nsd-secondary.zone"\n'
                        f"    request-xfr: AXFR 127.0.0.1@{port} xfr\n    allow-notify: 127.0.0.1 xfr\n")
            key_clause = f'key:\n    name: "xfr"\n    algorithm: hmac-sha256\n    secret: "{secret}"\n'
            with open(os.path.join(work, "nsd.conf"), "w") as f:
                f.write(dnsclient.nsd_conf(nsd_port, work, nsd_zone, server_extra=key_clause))
            nsd = subprocess.Popen([nsd_bin, "-d", "-c", os.path.join(work, "nsd.conf")], cwd=work,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        else:
            print("SKIP (part): nsd is not installed")
        if have_knot:
            os.makedirs(os.path.join(work, "knot-db"), exist_ok=True)
            with open(os.path.join(work, "knot.conf"), "w") as f:
                f.write(dnsclient.knot_conf(work, knot_port, port, secret))
            knot = subprocess.Popen([knot_bin, "-c", os.path.join(work, "knot.conf")], cwd=work,
                                    stdout=open(os.path.join(work, "knot.out"), "w"), stderr=subprocess.STDOUT)
        else:
            print("SKIP (part): knotd is not installed")
        secondaries = [(name, p) for name, p, have in (("NSD", nsd_port, have_nsd), ("Knot DNS", knot_port,
                                                                                     have_knot)) if have]
        for name, p in secondaries:
            t = dnsclient.wait_serial(p, 100, 30)
            check(t is not None, f"{name} with the key transferred the zone (serial 100, after {seconds(t)})")
        write(101, "two")
        dnsd.send_signal(signal.SIGHUP)
        for name, p in secondaries:
            t = dnsclient.wait_serial(p, 101, 20)
            check(t is not None, f"{name} followed dnsd's signed NOTIFY to serial 101 (after {seconds(t)})")
            try:
                r = dns.query.udp(dns.message.make_query("txt.example.test.", "TXT"), "127.0.0.1", port=p,
                                  timeout=2)
                check([rr.to_text() for rrset in r.answer for rr in rrset] == ['"two"'],
                      f"... {name} serves the new data")
            except dns.exception.DNSException as e:
                check(False, f"... {name} serves the new data: {e}")
        with open(log_path) as f:
            log = f.read()
        if have_knot and os.path.exists(os.path.join(work, "knot.log")):
            with open(os.path.join(work, "knot.log")) as f:
                for line in f:
                    if "XFR" in line and "finished" in line:
                        print("     knot: " + line.strip())
        for name, p in secondaries:
            check(f"notify example.test. serial 101 to 127.0.0.1:{p}: acknowledged" in log,
                  f"{name} acknowledged the signed NOTIFY")
    finally:
        dnsclient.stop(dnsd)
        dnsclient.stop(nsd)
        dnsclient.stop(knot)
        if failures:
            for log in ("dnsd.log", "nsd.log", "knot.log", "knot.out"):
                path = os.path.join(work, log)
                if os.path.exists(path):
                    with open(path) as f:
                        print(f"--- {log} (tail)\n" + f.read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


def send_udp(wire, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(wire, ("127.0.0.1", port))
        return s.recv(65535)


if __name__ == "__main__":
    sys.exit(main())
