#!/usr/bin/python3
"""IXFR (RFC 1995) from dnsd's journal, on loopback, with TSIG.

dnsd serves a zone of a few thousand records with `transfer_key` set and
NOTIFYs two stock secondaries: Knot DNS, which follows by IXFR, and NSD,
told to use AXFR. Three changes, each with a serial bump and a reload:
(a) a zone file edit, (b) a service's address, (c) a thousand records
rewritten (an IXFR of several messages, each signed). After each, both
secondaries reach the new serial, Knot's log says it came by IXFR, and
both hold exactly dnsd's zone (compared record by record by AXFR); dnsd's
query log shows Knot asking IXFR and NSD AXFR (each from an address of its
own when 127.0.0.2 and .3 can be bound).

Then the IXFR replies themselves, from dnspython (which verifies every
message's TSIG and the RFC 1995 sequence) and kdig: up to date (the SOA
alone), incremental from each serial the journal holds (each version's
removed and added records as expected), from a serial older than the
journal (a full transfer) or ahead of dnsd's (the SOA alone), over UDP
(the SOA alone), without its SOA (FORMERR), without the key (REFUSED);
after a reload with `ixfr_versions = 1`, only the last difference is
served; a service changed without a serial bump empties the journal;
with `ixfr_versions = 0`, Knot's IXFR gets the whole zone."""
import argparse
import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

check, failures, seconds = dnsclient.check, dnsclient.failures, dnsclient.seconds

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
transfer_allow = ["127.0.0.0/29"]
transfer_key = "xfr"
notify = [{notify}]
query_log = 1
{extra}
[tsig.xfr]
algorithm = "hmac-sha256"
secret_file = "xfr.tsig"

[[zone]]
origin = "example.test."
file = "example.test.zone"

[sites.a]
addresses = ["{address}"]

[[service]]
name = "www.example.test."
sites = ["a"]
"""

ZONE = "example.test."


def zone_text(serial, version):
    """The zone at one of its versions: 3000 TXT records (the third of
    them rewritten from version 3 on), a name that comes and one that goes
    in version 2, and a TXT that changes with it."""
    lines = [f"""$TTL 300
@ SOA ns1 hostmaster {serial} 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
mail A 192.0.2.25
txt TXT "{'one' if version < 2 else 'two'}"
"""]
    lines.append("gone A 192.0.2.26\n" if version < 2 else "new AAAA 2001:db8::26\n")
    for i in range(3000):
        text = "rewritten" if version >= 3 and i % 3 == 0 else "record"
        lines.append(f'r{i} TXT "{text} {i} {"x" * 40}"\n')
    return "".join(lines)


def records(port, keyring=None, rdtype="AXFR", serial=0):
    """A transfer from 127.0.0.1:port as (messages, records in order as
    text lines). dnspython verifies each message's TSIG when `keyring` is
    given, and the IXFR sequence."""
    lines, messages = [], 0
    kw = dict(keyring=keyring, keyname="xfr.", keyalgorithm="hmac-sha256") if keyring else {}
    for m in dns.query.xfr("127.0.0.1", ZONE, rdtype=rdtype, serial=serial, port=port, timeout=10, lifetime=30,
                           relativize=False, **kw):
        messages += 1
        for rrset in m.answer:
            for rr in rrset:
                lines.append(f"{rrset.name} {rrset.ttl} {dns.rdatatype.to_text(rrset.rdtype)} {rr.to_text()}")
    return messages, lines


def zone_set(lines):
    """A transfer's records as a set, the closing SOA folded into the first."""
    return sorted(set(lines))


def soa_serial(line):
    parts = line.split()
    return int(parts[5]) if len(parts) > 5 and parts[2] == "SOA" else None


def versions(lines):
    """An incremental transfer cut into its versions, [(from, removed, to,
    added)]; [] when it is not one (a full transfer, say)."""
    soas = [i for i, line in enumerate(lines) if soa_serial(line) is not None]
    # The current SOA, two per version, the current SOA again.
    if len(soas) < 4 or len(soas) % 2 or soas[0] != 0 or soas[-1] != len(lines) - 1:
        return []
    out = []
    for k in range(1, len(soas) - 1, 2):
        a, b, c = soas[k], soas[k + 1], soas[k + 2]
        out.append((soa_serial(lines[a]), sorted(lines[a + 1:b]), soa_serial(lines[b]), sorted(lines[b + 1:c])))
    return out


def knot_transfers(work):
    """Knot's log lines about incoming transfers that finished."""
    path = os.path.join(work, "knot.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.strip() for line in f if "incoming" in line and "finished" in line]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd_bin = os.path.abspath(args.dnsd)
    nsd_bin = shutil.which("nsd") or "/usr/sbin/nsd"
    knot_bin = shutil.which("knotd") or "/usr/sbin/knotd"
    kdig = shutil.which("kdig")
    if not os.path.exists(knot_bin):
        print("SKIP: knotd is not installed (Knot DNS following by IXFR is the point of this test)")
        return 77
    have_nsd = os.path.exists(nsd_bin)
    # The secondaries' own source addresses, to tell their requests apart
    # in dnsd's query log.
    aliases = dnsclient.loopback_aliases("127.0.0.2", "127.0.0.3")
    nsd_source, knot_source = ("127.0.0.2", "127.0.0.3") if aliases else ("127.0.0.1", "127.0.0.1")
    work = tempfile.mkdtemp(prefix="dnsd-ixfr-")
    dnsd = nsd = knot = None
    try:
        port, nsd_port, knot_port = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
        secret = base64.b64encode(os.urandom(32)).decode()
        dnsclient.write_secret(os.path.join(work, "xfr.tsig"), secret + "\n")
        ring = {dns.name.from_text("xfr."): dns.tsig.Key("xfr.", secret, "hmac-sha256")}
        notify = ", ".join(f'"127.0.0.1:{p}"' for p, have in ((knot_port, True), (nsd_port, have_nsd)) if have)

        def configure(address, extra=""):
            with open(os.path.join(work, "dnsd.toml"), "w") as f:
                f.write(CONFIG.format(port=port, notify=notify, address=address, extra=extra))

        def write_zone(serial, version):
            with open(os.path.join(work, "example.test.zone"), "w") as f:
                f.write(zone_text(serial, version))

        configure("192.0.2.1")
        write_zone(100, 1)
        log_path = os.path.join(work, "dnsd.log")
        dnsd = subprocess.Popen([dnsd_bin, "run", "-c", "dnsd.toml"], cwd=work, stdout=open(log_path, "a"),
                                stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=dnsd)

        os.makedirs(os.path.join(work, "knot-db"), exist_ok=True)
        with open(os.path.join(work, "knot.conf"), "w") as f:
            f.write(dnsclient.knot_conf(work, knot_port, port, secret, source=knot_source, transfer_acl=True))
        knot = subprocess.Popen([knot_bin, "-c", os.path.join(work, "knot.conf")], cwd=work,
                                stdout=open(os.path.join(work, "knot.out"), "w"), stderr=subprocess.STDOUT)
        secondaries = [("Knot DNS", knot_port)]
        if have_nsd:
            nsd_zone = (f'    name: "example.test"\n    zonefile: "nsd-secondary.zone"\n'
                        f"    request-xfr: AXFR 127.0.0.1@{port} xfr\n    allow-notify: 127.0.0.1 xfr\n"
                        f"    provide-xfr: 127.0.0.1 NOKEY\n    outgoing-interface: {nsd_source}\n")
            key_clause = f'key:\n    name: "xfr"\n    algorithm: hmac-sha256\n    secret: "{secret}"\n'
            with open(os.path.join(work, "nsd.conf"), "w") as f:
                f.write(dnsclient.nsd_conf(nsd_port, work, nsd_zone, server_extra=key_clause))
            nsd = subprocess.Popen([nsd_bin, "-d", "-c", os.path.join(work, "nsd.conf")], cwd=work,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            secondaries.append(("NSD", nsd_port))
        else:
            print("SKIP (part): nsd is not installed")

        for name, p in secondaries:
            t = dnsclient.wait_serial(p, 100, 30)
            check(t is not None, f"{name} transferred the zone with the key (serial 100, after {seconds(t)})")

        def same_zone(what):
            """Each secondary holds exactly dnsd's zone."""
            _, ours = records(port, ring)
            for name, p in secondaries:
                try:
                    _, theirs = records(p)
                    check(zone_set(theirs) == zone_set(ours),
                          f"{what}: {name} holds dnsd's zone ({len(set(ours))} records)")
                except Exception as e:  # noqa: BLE001
                    check(False, f"{what}: {name} holds dnsd's zone: {type(e).__name__}: {e}")

        def follow(serial, what, incremental=True):
            """After a reload: both secondaries at `serial`, Knot by IXFR
            (`incremental`) or by the full transfer that answers its IXFR."""
            before = len(knot_transfers(work))
            dnsd.send_signal(signal.SIGHUP)
            for name, p in secondaries:
                t = dnsclient.wait_serial(p, serial, 30)
                check(t is not None, f"{what}: {name} followed to serial {serial} (after {seconds(t)})")
            lines = knot_transfers(work)[before:]
            for line in lines:
                print("     knot: " + line)
            if incremental:
                check(len(lines) == 1 and "IXFR, incoming" in lines[0] and "AXFR" not in lines[0],
                      f"{what}: Knot's log says it came by IXFR")
            else:
                check(len(lines) == 1 and "AXFR" in lines[0], f"{what}: Knot's log says it came in full")
            same_zone(what)

        same_zone("serial 100")
        check(any("AXFR, incoming" in line for line in knot_transfers(work)),
              "Knot's first transfer, with no zone yet, was an AXFR")

        # (a) A zone file edit.
        write_zone(101, 2)
        follow(101, "(a) zone file edit")
        with open(log_path) as f:
            log = f.read()
        check("zone example.test.: IXFR from serial 100 to 101: 2 records removed, 2 added" in log,
              "dnsd's log says what the journal gained")

        # (b) A service's address, with a serial bump.
        configure("192.0.2.2")
        write_zone(102, 2)
        follow(102, "(b) service address change")
        for name, p in secondaries:
            r = dns.query.udp(dns.message.make_query("www.example.test.", "A"), "127.0.0.1", port=p, timeout=2)
            got = sorted(rr.address for rrset in r.answer for rr in rrset)
            check(got == ["192.0.2.2"], f"(b) {name} answers the service's new address ({got})")

        # (c) A thousand records rewritten: an IXFR of several messages.
        write_zone(103, 3)
        follow(103, "(c) a thousand records rewritten")

        # The replies themselves.
        messages, full = records(port, ring)
        current = f"{ZONE} 300 SOA ns1.{ZONE} hostmaster.{ZONE} 103 3600 600 86400 60"
        check(full[0] == current and full[-1] == current, "AXFR: the current SOA first and last")

        messages, lines = records(port, ring, "IXFR", 103)
        check(lines == [current], f"IXFR from serial 103 (up to date): the SOA alone ({len(lines)} records)")

        messages, lines = records(port, ring, "IXFR", 100)
        got = versions(lines)
        check(lines[0] == current and lines[-1] == current, "IXFR from 100: the current SOA first and last")
        check([(v[0], v[2]) for v in got] == [(100, 101), (101, 102), (102, 103)],
              f"IXFR from 100: versions {[(v[0], v[2]) for v in got]}")
        if len(got) == 3:
            a, b, c = got
            check(a[1] == sorted([f"gone.{ZONE} 300 A 192.0.2.26", f'txt.{ZONE} 300 TXT "one"']) and
                  a[3] == sorted([f"new.{ZONE} 300 AAAA 2001:db8::26", f'txt.{ZONE} 300 TXT "two"']),
                  "IXFR from 100: (a)'s records removed and added")
            check(b[1] == [f"www.{ZONE} 30 A 192.0.2.1"] and b[3] == [f"www.{ZONE} 30 A 192.0.2.2"],
                  "IXFR from 100: (b) the service's old address removed, the new one added")
            check(len(c[1]) == 1000 and len(c[3]) == 1000 and all("rewritten" in line for line in c[3]),
                  f"IXFR from 100: (c) 1000 records removed and 1000 added ({len(c[1])}, {len(c[3])})")
        check(messages > 1, f"IXFR from 100: {messages} messages, each TSIG verified by dnspython")

        messages, lines = records(port, ring, "IXFR", 102)
        check([(v[0], v[2]) for v in versions(lines)] == [(102, 103)], "IXFR from 102: the last version alone")

        messages, lines = records(port, ring, "IXFR", 99)
        check(zone_set(lines) == zone_set(full) and soa_serial(lines[1]) is None,
              f"IXFR from 99 (older than the journal): a full transfer ({len(lines)} records)")
        messages, lines = records(port, ring, "IXFR", 200)
        check(lines == [current], f"IXFR from 200 (ahead of dnsd's): the SOA alone ({len(lines)} records)")

        def ixfr(serial, proto, owner=ZONE, soa=True, signed=True):
            """One IXFR query's reply (the first message), by dnspython."""
            q = dns.message.make_query(ZONE, "IXFR")
            if soa:
                q.authority.append(dns.rrset.from_text(owner, 0, "IN", "SOA", f". . {serial} 0 0 0 0"))
            if signed:
                q.use_tsig(ring, keyname="xfr.")
            return getattr(dns.query, proto)(q, "127.0.0.1", port=port, timeout=3)

        # Over UDP: the SOA alone, whatever the serial.
        for serial in (100, 103):
            r = ixfr(serial, "udp")
            got = [rr.serial for rrset in r.answer for rr in rrset]
            check(r.rcode() == dns.rcode.NOERROR and got == [103] and r.had_tsig,
                  f"IXFR from {serial} over UDP: the current SOA alone, signed ({got})")

        # Malformed, or without the key.
        for what, r, want in (("without its SOA", ixfr(100, "tcp", soa=False), dns.rcode.FORMERR),
                              ("with another name's SOA", ixfr(100, "tcp", owner="www." + ZONE), dns.rcode.FORMERR),
                              ("without the key", ixfr(100, "tcp", signed=False), dns.rcode.REFUSED)):
            check(r.rcode() == want, f"IXFR {what}: {dns.rcode.to_text(want)} ({dns.rcode.to_text(r.rcode())})")

        # kdig, another client: the serials of an incremental transfer in order.
        if kdig:
            out = subprocess.run([kdig, "-y", f"hmac-sha256:xfr.:{secret}", "@127.0.0.1", "-p", str(port), ZONE,
                                  "IXFR=101", "+noall", "+answer"], capture_output=True, text=True, timeout=30)
            serials = [int(m.group(1)) for m in re.finditer(r"\tSOA\t\S+ \S+ (\d+) ", out.stdout)]
            check(out.returncode == 0 and serials == [103, 101, 102, 102, 103, 103],
                  f"kdig IXFR=101: SOA serials {serials}")
            out = subprocess.run([kdig, "-y", f"hmac-sha256:xfr.:{secret}", "@127.0.0.1", "-p", str(port), ZONE,
                                  "IXFR=103", "+noall", "+answer"], capture_output=True, text=True, timeout=30)
            serials = [int(m.group(1)) for m in re.finditer(r"\tSOA\t\S+ \S+ (\d+) ", out.stdout)]
            check(out.returncode == 0 and serials == [103], f"kdig IXFR=103: the SOA alone {serials}")
        else:
            print("SKIP (part): kdig is not installed")

        # A journal of one version: only the last difference is served.
        configure("192.0.2.2", "ixfr_versions = 1")
        write_zone(104, 2)  # version 2 again: the thousand records back
        follow(104, "a journal of one version")
        messages, lines = records(port, ring, "IXFR", 103)
        check([(v[0], v[2]) for v in versions(lines)] == [(103, 104)], "ixfr_versions = 1: IXFR from 103")
        messages, lines = records(port, ring, "IXFR", 102)
        check(soa_serial(lines[1]) is None and len(lines) > 3000,
              f"ixfr_versions = 1: IXFR from 102, no longer held: a full transfer ({len(lines)} records)")

        # A service's address changed without a serial bump: dnsd warns,
        # and the journal, which no longer leads to what is served, goes.
        with open(log_path) as f:
            reloads = f.read().count("info reloaded ")
        configure("192.0.2.3", "ixfr_versions = 1")
        dnsd.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(log_path) as f:
                log = f.read()
            if log.count("info reloaded ") > reloads:
                break
            time.sleep(0.05)
        check("the SOA serial did not" in log, "a service changed under serial 104: dnsd warns")
        messages, lines = records(port, ring, "IXFR", 103)
        check(soa_serial(lines[1]) is None and f"www.{ZONE} 30 A 192.0.2.3" in lines,
              f"... and an IXFR from 103 gets the whole zone as served now ({len(lines)} records)")
        messages, lines = records(port, ring, "IXFR", 104)
        check(lines == [f"{ZONE} 300 SOA ns1.{ZONE} hostmaster.{ZONE} 104 3600 600 86400 60"],
              "... one from 104 the SOA alone")

        # No journal: Knot's IXFR gets the whole zone, which it takes.
        configure("192.0.2.2", "ixfr_versions = 0")
        write_zone(105, 1)
        follow(105, "ixfr_versions = 0", incremental=False)

        # Who asked what, from dnsd's side: the transfers in its query log.
        if aliases:
            with open(log_path) as f:
                asked = re.findall(r"query (127\.0\.0\.[23]) tcp example\.test\. type (25[12]) rcode 0", f.read())
            knot_ixfr = asked.count((knot_source, "251"))
            knot_axfr = asked.count((knot_source, "252"))
            nsd_ixfr = asked.count((nsd_source, "251"))
            nsd_axfr = asked.count((nsd_source, "252"))
            check(knot_axfr == 1 and knot_ixfr >= 5,
                  f"dnsd's query log: Knot DNS asked AXFR once, then IXFR ({knot_ixfr} times)")
            if have_nsd:
                check(nsd_axfr >= 6 and nsd_ixfr == 0, f"dnsd's query log: NSD asked AXFR only ({nsd_axfr} times)")
    finally:
        dnsclient.stop(dnsd)
        dnsclient.stop(nsd)
        dnsclient.stop(knot)
        if failures:
            dnsclient.show_tails(work, ["dnsd.log", "nsd.log", "knot.log", "knot.out"])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
