#!/usr/bin/python3
"""Protocol compliance in the manner of ISC's genreport (the DNS Compliance
Testing tool behind DNS flag day): dnsd and NSD serve the same zone on
loopback high ports and get the same probes: plain DNS, header flags (AA,
AD, CD, RA, RD, TC, Z), opcodes 1-15 with flags and with EDNS, an unknown
type, TCP, EDNS version 0 and 1, unknown options and flags, DO, NSID,
COOKIE, EXPIRE, ECS, a 512-byte buffer.

Each reply is judged by genreport's rules (verdict()); dnsd must pass every
probe. Then the fields that matter (opcode, rcode with its extended bits,
header flags, OPT presence, version and DO, the option codes, the number
of answer records) are compared with NSD's. The differences that remain
are listed in DELIBERATE with the reason dnsd is right (an RFC or SPEC.md),
each checked to be exactly that difference; any other is a failure.

Skips (exit 77) when NSD is not installed."""
import argparse
import os
import shutil
import struct
import sys
import tempfile

import dns.rcode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

ORIGIN = "compliance.test."
IDENTITY = "ns1.compliance.test"
ZONE = """$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
@ MX 10 mail
ns1 A 127.0.0.1
mail A 192.0.2.25
www A 192.0.2.80
"""

# Header flag bits (second word) and what genreport calls them.
AA, TC, RD, RA, Z, AD, CD = 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010
FLAG_NAMES = {AA: "aa", TC: "tc", RD: "rd", RA: "ra", Z: "z", AD: "ad", CD: "cd"}
DO = 0x8000
SOA, DNSKEY, TYPE666 = 6, 48, 666
NOTIMP, BADVERS = 4, 16

NSID = b"\x00\x03\x00\x00"
ECS_ZERO = b"\x00\x08\x00\x04\x00\x01\x00\x00"  # 0.0.0.0/0
EXPIRE = b"\x00\x09\x00\x00"
COOKIE = b"\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08"
OPT100 = b"\x00\x64\x00\x00"  # an option code no one has


class Probe:
    """One request: genreport's fields (EDNS payload 0: no OPT)."""

    def __init__(self, name, qtype=SOA, flags=0, opcode=0, payload=0, version=0, eflags=0, options=b"",
                 tcp=False, header_only=False, ignore_tc=False):
        self.name, self.qtype, self.flags, self.opcode = name, qtype, flags, opcode
        self.payload, self.version, self.eflags, self.options = payload, version, eflags, options
        self.tcp, self.header_only, self.ignore_tc = tcp, header_only, ignore_tc

    def wire(self, qid):
        qd = 0 if self.header_only else 1
        out = struct.pack("!HHHHHH", qid, (self.opcode << 11) | self.flags, qd, 0, 0, 1 if self.payload else 0)
        if not self.header_only:
            for label in ORIGIN.rstrip(".").split("."):
                out += bytes([len(label)]) + label.encode()
            out += b"\x00" + struct.pack("!HH", self.qtype, 1)
        if self.payload:
            ttl = (self.version << 16) | self.eflags
            out += b"\x00" + struct.pack("!HHIH", 41, self.payload, ttl, len(self.options)) + self.options
        return out


def probes():
    """genreport's probes (its FULL set, EDNS ones included), then every
    other opcode with and without flags and EDNS."""
    e = dict(payload=4096)
    out = [
        Probe("dns"), Probe("aa", flags=AA), Probe("ad", flags=AD), Probe("cd", flags=CD),
        Probe("ra", flags=RA), Probe("rd", flags=RD), Probe("tc", flags=TC), Probe("zflag", flags=Z),
        Probe("opcode", opcode=15, qtype=0, header_only=True),
        Probe("opcodeflg", opcode=15, qtype=0, header_only=True, flags=TC | RD | RA | CD | AD | AA | Z),
        Probe("type666", qtype=TYPE666), Probe("tcp", tcp=True),
        Probe("edns", **e), Probe("edns1", version=1, **e),
        Probe("edns@512", qtype=DNSKEY, payload=512, eflags=DO, ignore_tc=True),
        Probe("ednsopt", options=OPT100, **e), Probe("edns1opt", version=1, options=OPT100, **e),
        Probe("do", eflags=DO, **e), Probe("edns1do", version=1, eflags=DO, **e),
        Probe("ednsflags", eflags=0x0080, **e),
        Probe("optlist", options=NSID + ECS_ZERO + EXPIRE + COOKIE, **e),
        Probe("ednsnsid", options=NSID, **e), Probe("ednscookie", options=COOKIE, **e),
        Probe("ednsexpire", options=EXPIRE, **e), Probe("ednssubnet", options=ECS_ZERO, **e),
        Probe("edns1nsid", version=1, options=NSID, **e), Probe("edns1cookie", version=1, options=COOKIE, **e),
        Probe("edns1expire", version=1, options=EXPIRE, **e),
        Probe("edns1subnet", version=1, options=ECS_ZERO, **e),
        Probe("ednstcp", qtype=DNSKEY, payload=512, eflags=DO, tcp=True),
        Probe("bind11", eflags=DO, options=COOKIE, **e), Probe("dig11", flags=RD | AD, options=COOKIE, **e),
    ]
    for opcode in range(1, 16):
        out.append(Probe(f"opcode{opcode}", opcode=opcode))
        out.append(Probe(f"opcode{opcode}flg", opcode=opcode, flags=RD | CD | AD))
        out.append(Probe(f"opcode{opcode}edns", opcode=opcode, flags=RD | CD, eflags=DO, options=NSID, **e))
        out.append(Probe(f"opcode{opcode}edns1", opcode=opcode, version=1, **e))
        out.append(Probe(f"opcode{opcode}tcp", opcode=opcode, flags=RD | CD, tcp=True, **e))
    return out


class Reply:
    """The fields of a reply that the verdict and the comparison read."""

    def __init__(self, data):
        self.size = len(data)
        (self.id, word, self.qdcount, self.ancount, self.nscount, self.arcount) = struct.unpack("!HHHHHH", data[:12])
        self.opcode = (word >> 11) & 0xF
        self.flags = word & (AA | TC | RD | RA | Z | AD | CD)
        self.rcode = word & 0xF
        self.opt = None  # (version, flags, option codes) of the OPT
        self.soa = False  # the zone's SOA in the answer section
        self.others = 0  # records besides OPT in the additional section
        # Read by hand: dnspython refuses opcodes it does not know.
        pos = 12
        for _ in range(self.qdcount):
            pos = read_name(data, pos)[1] + 4
        for section, count in enumerate((self.ancount, self.nscount, self.arcount)):
            for _ in range(count):
                owner, pos = read_name(data, pos)
                rtype, klass, ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
                rdata = data[pos + 10:pos + 10 + rdlen]
                pos += 10 + rdlen
                if section == 0 and rtype == SOA and owner.lower() == ORIGIN:
                    self.soa = True
                elif section == 2 and rtype == 41:
                    codes, o = [], 0
                    while o + 4 <= len(rdata):
                        code, length = struct.unpack("!HH", rdata[o:o + 4])
                        codes.append(code)
                        o += 4 + length
                    self.opt = ((ttl >> 16) & 0xFF, ttl & 0xFFFF, tuple(sorted(codes)))
                    self.rcode |= (ttl >> 24) << 4
                elif section == 2:
                    self.others += 1
        if pos != len(data):
            raise ValueError(f"{len(data) - pos} bytes after the last record")

    def fields(self):
        return {"opcode": self.opcode, "rcode": dns.rcode.to_text(self.rcode),
                "flags": " ".join(n for b, n in sorted(FLAG_NAMES.items()) if self.flags & b) or "-",
                "opt": "none" if self.opt is None else f"version {self.opt[0]}",
                "do": bool(self.opt and self.opt[1] & DO), "options": self.opt[2] if self.opt else (),
                "answers": self.ancount}


def read_name(data, pos):
    """The name at `pos` as text, and the offset after it."""
    labels, end, hops = [], None, 0
    while True:
        n = data[pos]
        if n & 0xC0 == 0xC0:
            end = pos + 2 if end is None else end
            pos = ((n & 0x3F) << 8) | data[pos + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        if n == 0:
            return ".".join(labels) + ".", (pos + 1 if end is None else end)
        labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n


def verdict(p, r):
    """genreport's judgement of reply `r` to probe `p`: the tags of what is
    wrong, empty when all is well."""
    tags = []
    if r.opcode != p.opcode:
        tags.append("opcode")
    if p.opcode != 0:
        for count, what in ((r.ancount, "answer"), (r.nscount, "authority"), (r.others, "additional")):
            if count:
                tags.append(f"non-empty-{what}-section")
    if p.version == 0 and p.opcode == 0 and r.rcode != 0:
        tags.append(dns.rcode.to_text(r.rcode))
    if p.version == 0 and p.opcode != 0 and r.rcode != NOTIMP:
        tags.append(dns.rcode.to_text(r.rcode))
    if p.version != 0 and r.rcode != BADVERS:
        tags.append(dns.rcode.to_text(r.rcode))
    if r.opt is not None:
        if r.opt[0] != 0:
            tags.append("version-not-zero")
        if (r.opt[0] < p.version and r.rcode != BADVERS) or (r.opt[0] >= p.version and r.rcode == BADVERS):
            tags.append("badversion")
        if 100 in r.opt[2]:
            tags.append("echoed")
        if p.eflags & DO and not r.opt[1] & DO:
            tags.append("nodo")
        if r.opt[1] & 0x7FFF:
            tags.append("mbz")
    if r.opt is None and p.payload:
        tags.append("noopt")
    if r.opt is not None and not p.payload:
        tags.append("opt")
    if p.qtype == SOA and p.version == 0 and not p.ignore_tc and not r.soa and r.rcode == 0:
        tags.append("nosoa")
    if p.qtype == SOA and r.soa and (p.version != 0 or r.rcode != 0):
        tags.append("soa")
    # AA, RA, RD, AD and CD are defined for QUERY only; Z is never echoed.
    if not r.flags & AA and p.version == 0 and r.rcode == 0 and p.opcode == 0:
        tags.append("noaa")
    if r.flags & AA and p.opcode:
        tags.append("aa")
    if r.flags & RA and p.opcode:
        tags.append("ra")
    if r.flags & RD and (p.opcode or not p.flags & RD):
        tags.append("rd")
    if not r.flags & RD and p.flags & RD and p.opcode == 0:
        tags.append("nord")
    if r.flags & AD and (p.opcode or (not p.flags & AD and not p.eflags & DO)):
        tags.append("ad")
    if r.flags & CD and (p.opcode or not p.flags & CD):
        tags.append("cd")
    if r.flags & Z:
        tags.append("z")
    if p.ignore_tc and r.size > (p.payload or 512):
        tags.append("toobig")
    return tags


# Where dnsd and NSD 4.6 differ, and why dnsd is right. Each rule gets
# (probe, nsd, dnsd) as Replies' fields(); when it applies it returns the
# fields it explains (checked to be exactly the ones that differ) and
# changes nothing else; None when it does not apply.
def d_cd(p, nsd, dnsd):
    """CD copied into the reply to a QUERY (RFC 4035 3.1.6); NSD 4.6 clears it."""
    if p.opcode == 0 and p.flags & CD and "cd" in dnsd["flags"] and "cd" not in nsd["flags"]:
        return {"flags"}
    return None


def d_ecs(p, nsd, dnsd):
    """ECS echoed, scope 0 for a static name (RFC 7871 7.2.1, SPEC 3 with
    ecs = true); NSD does not implement ECS."""
    if ECS_ZERO in p.options and 8 in dnsd["options"] and 8 not in nsd["options"]:
        if tuple(o for o in dnsd["options"] if o != 8) == nsd["options"]:
            return {"options"}
    return None


def d_opcode_flags(p, nsd, dnsd):
    """Another opcode: no flag of the request copied (AA, RA, RD, AD and CD
    are defined for QUERY only, Z never echoed: RFC 1035 4.1.1, RFC 6895 2);
    NSD copies all but AD, and genreport's opcodeflg fails it for that."""
    copied = " ".join(n for b, n in sorted(FLAG_NAMES.items()) if p.flags & b & ~AD) or "-"
    if p.opcode and dnsd["flags"] == "-" and nsd["flags"] == copied:
        return {"flags"}
    return None


def d_badvers_do(p, nsd, dnsd):
    """DO copied into the OPT of a BADVERS reply (RFC 3225 3; genreport's
    edns1do fails NSD with nodo); BIND does the same."""
    if p.version and p.eflags & DO and dnsd["rcode"] == nsd["rcode"] == "BADVERS" and dnsd["do"] and \
            not nsd["do"]:
        return {"do"}
    return None


def d_opcode_opt(p, nsd, dnsd):
    """Another opcode with EDNS: NOTIMP with our OPT (RFC 6891 7, SPEC 5),
    NSID included when asked; NSD sends none."""
    if p.opcode and p.payload and p.version == 0 and nsd["opt"] == "none" and dnsd["opt"] == "version 0":
        return {"opt", "do", "options"}
    return None


def d_opcode_badvers(p, nsd, dnsd):
    """Another opcode with EDNS version 1: BADVERS with our OPT (RFC 6891
    6.1.3 says MUST whatever the opcode, as BIND does); NSD answers NOTIMP
    without OPT."""
    if p.opcode and p.version and nsd["rcode"] == "NOTIMP" and dnsd["rcode"] == "BADVERS" and \
            nsd["opt"] == "none" and dnsd["opt"] == "version 0":
        return {"rcode", "opt", "do", "options"}
    return None


def d_notify(p, nsd, dnsd):
    """NOTIFY: dnsd is no secondary and answers NOTIMP like every opcode
    other than QUERY (SPEC 5); NSD handles NOTIFY (and refuses this one)."""
    if p.opcode == 4 and dnsd["rcode"] in ("NOTIMP", "BADVERS") and nsd["rcode"] not in ("NOTIMP", "BADVERS"):
        return {"rcode", "flags", "opt", "do", "options", "answers"}
    return None


DELIBERATE = [d_cd, d_ecs, d_opcode_flags, d_badvers_do, d_opcode_opt, d_opcode_badvers, d_notify]

DNSD_CONF = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
identity = "{identity}"

[[zone]]
origin = "{origin}"
file = "{zone}"
"""
NSD_SERVER = """    nsid: "ascii_{identity}"
    hide-version: yes
"""
NSD_ZONE = """    name: "{origin}"
    zonefile: "{zone}"
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    nsd_bin = dnsclient.nsd_binary()
    if not nsd_bin:
        print("SKIP: nsd is not installed (tools/deps installs it)")
        return 77
    check = dnsclient.check
    work = tempfile.mkdtemp(prefix="dnsd-compliance-")
    nsd = dnsd = None
    try:
        nsd_port, dnsd_port = dnsclient.free_port(), dnsclient.free_port()
        while dnsd_port == nsd_port:
            dnsd_port = dnsclient.free_port()
        zone = os.path.join(work, "compliance.test.zone")
        with open(zone, "w") as f:
            f.write(ZONE)
        with open(os.path.join(work, "nsd.conf"), "w") as f:
            f.write(dnsclient.nsd_conf(nsd_port, work, NSD_ZONE.format(origin=ORIGIN, zone=zone),
                                       NSD_SERVER.format(identity=IDENTITY)))
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(DNSD_CONF.format(port=dnsd_port, identity=IDENTITY, origin=ORIGIN, zone=zone))
        nsd = dnsclient.start_group([nsd_bin, "-d", "-c", os.path.join(work, "nsd.conf")],
                                    os.path.join(work, "nsd.out"))
        dnsd = dnsclient.start_group([os.path.abspath(args.dnsd), "run", "-c", os.path.join(work, "dnsd.toml")],
                                     os.path.join(work, "dnsd.out"))
        dnsclient.wait_for_dns(nsd_port, proc=nsd, name="www." + ORIGIN, rdclass="IN")
        dnsclient.wait_for_dns(dnsd_port, proc=dnsd, name="www." + ORIGIN, rdclass="IN")

        used, nsd_fails = set(), []
        for i, p in enumerate(probes()):
            wire = p.wire(1000 + i)
            raw = {who: dnsclient.send(wire, port, p.tcp) for who, port in (("nsd", nsd_port), ("dnsd", dnsd_port))}
            if raw["dnsd"] is None:
                check(False, f"{p.name}: dnsd answers")
                continue
            r = Reply(raw["dnsd"])
            tags = verdict(p, r)
            check(not tags and r.id == 1000 + i, f"{p.name}: genreport says ok" + (f" (not: {tags})" if tags else ""))
            if raw["nsd"] is None:
                check(False, f"{p.name}: NSD answers too")
                continue
            n = Reply(raw["nsd"])
            if verdict(p, n):
                nsd_fails.append(f"{p.name}={','.join(verdict(p, n))}")
            a, b = n.fields(), r.fields()
            differ = {k for k in a if a[k] != b[k]}
            explained = set()
            for rule in DELIBERATE:
                fields = rule(p, a, b)
                if fields is not None and differ & fields:
                    explained |= differ & fields
                    used.add(rule)
            rest = differ - explained
            if args.verbose or rest:
                print(f"     NSD  {a}\n     dnsd {b}")
            check(not rest, f"{p.name}: the same as NSD" + (f" but for {sorted(explained)} (deliberate)"
                                                              if explained else "")
                  + (f"; differs in {sorted(rest)}" if rest else ""))
        for rule in DELIBERATE:
            print(f"     deliberate: {' '.join(rule.__doc__.split())}{'' if rule in used else ' (not seen)'}")
        print(f"     NSD by genreport's rules: {' '.join(nsd_fails) or 'all ok'}")
    finally:
        dnsclient.stop_group(dnsd)
        dnsclient.stop_group(nsd)
        if dnsclient.failures:
            dnsclient.show_tails(work, ("nsd.out", "dnsd.out", "nsd.log"))
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
