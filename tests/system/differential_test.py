#!/usr/bin/python3
"""Differential test: NSD and dnsd serve the same zone on loopback high
ports and get the same queries, byte for byte, over UDP (with and without
EDNS, at several payload sizes) and TCP. Rcode, header flags, the question
(case included), EDNS presence and each section as a set of records must
agree. The differences that remain are listed in DELIBERATE with the RFC
that says dnsd is right, and are checked to be exactly that difference.

Skips (exit 77) when NSD is not installed."""
import argparse
import os
import shutil
import socket
import sys
import tempfile

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ZONE = os.path.join(HERE, "data", "diff.test.zone")
ORIGIN = "diff.test."

# Names and what each exercises (see data/diff.test.zone).
NAMES = [
    "diff.test.",                    # apex: SOA, NS, MX with in-zone and outside targets, TXT, A, AAAA
    "www.diff.test.",                # two A, one AAAA
    "WwW.DiFf.TeSt.",                # the question's case kept
    "mixed.diff.test.",              # owner written MiXeD
    "ttls.diff.test.",               # RRsets with their own TTLs
    "nothere.diff.test.",            # NXDOMAIN
    "deeper.nothere.diff.test.",     # NXDOMAIN below an absent name
    "b.c.diff.test.",                # empty non-terminal: NODATA
    "c.diff.test.",                  # empty non-terminal, two levels
    "y.z.deep.diff.test.",           # empty non-terminal
    "a.b.c.diff.test.",
    "c1.diff.test.",                 # CNAME chain of three to www
    "C2.diff.test.",
    "loop1.diff.test.",              # CNAME loop
    "self.diff.test.",               # CNAME to itself
    "dangling.diff.test.",           # CNAME to an absent name: NXDOMAIN
    "outside.diff.test.",            # CNAME out of the zone
    "tosub.diff.test.",              # CNAME into a delegation
    "towild.diff.test.",             # CNAME to a wildcard-synthesised name
    "tomx.diff.test.",
    "h1.diff.test.",                 # 10 CNAME hops
    "h5.diff.test.",
    "foo.wild.diff.test.",           # wildcard: A, TXT, MX
    "a.b.wild.diff.test.",           # wildcard, several labels deep
    "sub.wild.diff.test.",           # an existing name below the wildcard's parent
    "x.sub.wild.diff.test.",         # closest encloser sub.wild: no wildcard there, NXDOMAIN
    "*.wild.diff.test.",             # the wildcard asked for by name
    "any.cw.diff.test.",             # wildcard CNAME
    "any.ch.diff.test.",             # wildcard CNAME into a chain
    "host3.rfc4592.diff.test.",      # RFC 4592 2.2.1 examples
    "foo.bar.rfc4592.diff.test.",
    "host1.rfc4592.diff.test.",
    "sub.*.rfc4592.diff.test.",
    "_telnet._tcp.host1.rfc4592.diff.test.",
    "_ssh._tcp.host1.rfc4592.diff.test.",
    "_tcp.host1.rfc4592.diff.test.",
    "host.subdel.rfc4592.diff.test.",
    "ghost.*.rfc4592.diff.test.",
    "rfc4592.diff.test.",
    "sub.diff.test.",                # delegation: referral with v4 and v6 glue
    "www.sub.diff.test.",            # below the cut
    "ns1.sub.diff.test.",            # glue is not authoritative data
    "ext.diff.test.",                # delegation without glue
    "a.ext.diff.test.",
    "sib.diff.test.",                # glue found under a sibling delegation
    "wide.diff.test.",               # a referral with more glue than 512 bytes
    "x.wide.diff.test.",
    "_sip._udp.diff.test.",          # SRV with in-zone and outside targets
    "srvonly.diff.test.",
    "host.diff.test.",
    "caa.diff.test.",
    "sshfp.diff.test.",
    "ptr.diff.test.",
    "naptr.diff.test.",
    "unknown.diff.test.",
    "escaped\\.dot.diff.test.",
    "big.diff.test.",                # 40 A records: TC at 512
    "bigtxt.diff.test.",             # 1.2 kB of TXT
    "manymx.diff.test.",             # additional records that do not all fit
    "other.test.",                   # outside every zone: REFUSED
    "test.",
    ".",
]
TYPES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "SRV", "DS", "ANY"]
EXTRA_TYPES = {"host.diff.test.": ["HINFO"], "caa.diff.test.": ["CAA"], "sshfp.diff.test.": ["SSHFP"],
               "ptr.diff.test.": ["PTR"], "naptr.diff.test.": ["NAPTR"], "unknown.diff.test.": ["TYPE65400"]}

# Transports: (label, tcp, EDNS payload or None)
TRANSPORTS = [("udp", False, None), ("udp-edns1232", False, 1232), ("udp-edns512", False, 512),
              ("udp-edns4096", False, 4096), ("tcp", True, None), ("tcp-edns", True, 1232)]


class Reply:
    """A reply as the comparison sees it: header, question, EDNS, and each
    section as a set of records. Normalisers adjust NSD's copy."""

    def __init__(self, msg, wire_size):
        self.msg = msg
        self.size = wire_size
        self.rcode = msg.rcode()
        self.flags = msg.flags
        self.id = msg.id
        self.question = [(q.name.to_text(), q.rdtype, q.rdclass) for q in msg.question]
        self.edns = msg.edns
        self.payload = msg.payload if msg.edns >= 0 else None
        self.answer = records(msg.answer)
        self.authority = records(msg.authority)
        self.additional = records(msg.additional)

    @property
    def tc(self):
        return bool(self.flags & dns.flags.TC)


def records(section):
    """A section as a set of comparable records: names lower-cased (RFC 4343),
    TTL, class, type and rdata in canonical text."""
    out = set()
    for rrset in section:
        for rr in rrset:
            out.add((rrset.name.to_text().lower(), rrset.ttl, rrset.rdclass, rrset.rdtype,
                     rr.to_text().lower()))
    return out


def owners(recs):
    return {r[0] for r in recs}


def apex_ns(ctx):
    return {r for r in ctx["apex_ns"]}


# Differences that remain, each with the RFC that says dnsd is right. Each
# normaliser gets (query, nsd, dnsd, ctx); when its difference is present it
# checks that the difference is exactly the documented one and changes NSD's
# Reply to what dnsd deliberately does (returning True), so that the normal
# comparison then runs on everything else. It returns False when it does not
# apply, and raises Mismatch when the difference is there but not as
# documented.
class Mismatch(Exception):
    pass


def n_authority_ns(q, nsd, dnsd, ctx):
    """NSD adds the zone's NS RRset to the authority section of positive
    answers (and their addresses to the additional section). dnsd sends it
    only with referrals, as RFC 1034 4.3.2 step 3a describes (Knot, gdnsd and
    BIND's default minimal-responses do the same)."""
    if nsd.rcode != dns.rcode.NOERROR or not nsd.answer or not (nsd.flags & dns.flags.AA):
        return False
    if nsd.authority != ctx["apex_ns"] or dnsd.authority:
        return False
    nsd.authority = set()
    # Addresses of the NS names, unless the answer itself asked for them.
    ns_names = {r[4] for r in ctx["apex_ns"]}
    nsd.additional = {r for r in nsd.additional if r[0] not in ns_names or r in dnsd.additional}
    return True


def n_any(q, nsd, dnsd, ctx):
    """RFC 8482 4.1: ANY is answered with one RRset of the name; which one
    is the server's choice (dnsd: the first in type order; NSD 4.6: its
    own). dnsd's RRset must be exactly what NSD answers for that type."""
    question = q.question[0]
    if question.rdtype != dns.rdatatype.ANY or nsd.rcode != dns.rcode.NOERROR or nsd.tc or dnsd.tc:
        return False
    if nsd.answer == dnsd.answer:
        return False
    qname = question.name.to_text().lower()
    types = {r[3] for r in dnsd.answer if r[0] == qname}
    if dnsd.rcode != nsd.rcode or len(types) != 1:
        raise Mismatch(f"dnsd answered ANY with {len(types)} RRsets at the name")
    ref_query = dns.message.make_query(question.name, types.pop(), use_edns=q.edns >= 0, payload=q.payload)
    ref_query.id = q.id
    ref_query.flags = q.flags
    ref = ctx["ask_nsd"](ref_query)
    n_authority_ns(ref_query, ref, dnsd, ctx)
    if ref.answer != dnsd.answer:
        raise Mismatch("dnsd's ANY answer is not the name's RRset as NSD serves it")
    nsd.answer, nsd.authority, nsd.additional = ref.answer, ref.authority, ref.additional
    return True


def n_glue_tc(q, nsd, dnsd, ctx):
    """RFC 9471 3.1: when the in-domain glue of a referral does not all fit,
    the reply is truncated (TC). NSD 4.6 drops some glue and does not set TC."""
    if not dnsd.tc or nsd.tc or (nsd.flags & dns.flags.AA) or not nsd.authority:
        return False
    full = ctx["full"]()
    if full is None or not (full.additional - nsd.additional):
        raise Mismatch("dnsd set TC on a referral whose glue NSD fitted")
    in_domain = {r for r in full.additional if r[0].endswith(ORIGIN)}
    if in_domain <= nsd.additional:
        raise Mismatch("dnsd set TC although all in-domain glue fits")
    nsd.flags |= dns.flags.TC
    return True


def n_trim_additional(q, nsd, dnsd, ctx):
    """RFC 2181 9 / RFC 1035 4.1: optional additional records that do not fit
    a UDP reply are left out without TC; which ones go may differ (both must
    be drawn from the full set, and dnsd must have left out only what did
    not fit)."""
    if nsd.tc or dnsd.tc or nsd.additional == dnsd.additional or ctx["tcp"]:
        return False
    full = ctx["full"]()
    if full is None:
        return False
    n_authority_ns(q, full, dnsd, ctx)  # the full reference without NSD's NS habit
    if not (dnsd.additional < full.additional and nsd.additional <= full.additional):
        return False
    missing = full.additional - dnsd.additional
    smallest = min(12 + len(r[0]) + (4 if r[3] == dns.rdatatype.A else 16) for r in missing)
    if dnsd.size + smallest <= ctx["limit"]:
        raise Mismatch(f"dnsd left out additional records that fit ({dnsd.size} + {smallest} bytes "
                       f"<= {ctx['limit']})")
    nsd.additional = set(dnsd.additional)
    return True


def n_cd(q, nsd, dnsd, ctx):
    """RFC 4035 3.1.6: a security-aware server copies CD from the query into
    the response; NSD 4.6 clears it."""
    if not (q.flags & dns.flags.CD) or (nsd.flags & dns.flags.CD) or not (dnsd.flags & dns.flags.CD):
        return False
    nsd.flags |= dns.flags.CD
    return True


def n_formerr_rd(q, nsd, dnsd, ctx):
    """RFC 1035 4.1.1: RD is copied into the response, FORMERR included; NSD
    clears it when QDCOUNT is above 1."""
    if nsd.rcode != dns.rcode.FORMERR or dnsd.rcode != dns.rcode.FORMERR:
        return False
    if (nsd.flags ^ dnsd.flags) != dns.flags.RD or not (q.flags & dns.flags.RD):
        return False
    nsd.flags |= dns.flags.RD
    return True


OPCODE_NOTE = "NOTIMP with the question and without TC or RD (RFC 1035 4.1.1, RFC 5452 9.1); NSD echoes TC and RD"

NORMALISERS = [
    ("positive answers without the zone's NS RRset in authority (RFC 1034 4.3.2 step 3a)", n_authority_ns),
    ("ANY answered with the first RRset in type order (RFC 8482 4.1); NSD picks another", n_any),
    ("TC when a referral's in-domain glue does not fit (RFC 9471 3.1); NSD 4.6 drops glue", n_glue_tc),
    ("optional additional records left out differently when they do not fit (RFC 2181 9)", n_trim_additional),
    ("CD copied into the response (RFC 4035 3.1.6); NSD 4.6 clears it", n_cd),
    ("RD copied into FORMERR replies (RFC 1035 4.1.1); NSD clears it for QDCOUNT > 1", n_formerr_rd),
]


def describe(resp):
    if resp is None:
        return "no answer"
    lines = [f"rcode={dns.rcode.to_text(resp.rcode)} flags={dns.flags.to_text(resp.flags)} "
             f"edns={resp.edns} payload={resp.payload} size={resp.size}"]
    for title, sec in (("answer", resp.answer), ("authority", resp.authority), ("additional", resp.additional)):
        for r in sorted(sec):
            lines.append(f"  {title}: {r[0]} {r[1]} {dns.rdatatype.to_text(r[3])} {r[4]}")
    return "\n".join(lines)


def compare(query, nsd, dnsd):
    """The differences between two replies (Reply objects), as strings."""
    if nsd is None or dnsd is None:
        return [] if nsd is None and dnsd is None else ["one server did not answer"]
    diffs = []
    if nsd.rcode != dnsd.rcode:
        diffs.append(f"rcode {dns.rcode.to_text(nsd.rcode)} vs {dns.rcode.to_text(dnsd.rcode)}")
    if nsd.flags != dnsd.flags:
        diffs.append(f"flags {dns.flags.to_text(nsd.flags)} vs {dns.flags.to_text(dnsd.flags)}")
    if nsd.id != dnsd.id or dnsd.id != query.id:
        diffs.append("id")
    if nsd.question != dnsd.question:
        diffs.append(f"question {nsd.question} vs {dnsd.question}")
    if (nsd.edns >= 0) != (dnsd.edns >= 0):
        diffs.append(f"EDNS present {nsd.edns >= 0} vs {dnsd.edns >= 0}")
    elif nsd.edns >= 0 and (nsd.edns, nsd.payload) != (dnsd.edns, dnsd.payload):
        diffs.append(f"EDNS version/payload {nsd.edns}/{nsd.payload} vs {dnsd.edns}/{dnsd.payload}")
    if nsd.tc and dnsd.tc:
        return diffs  # what a truncated reply carries besides TC may differ
    for title in ("answer", "authority", "additional"):
        a, b = getattr(nsd, title), getattr(dnsd, title)
        if a != b:
            diffs.append(f"{title}: NSD only {sorted(a - b)}; dnsd only {sorted(b - a)}")
    return diffs


def ask(wire, port, tcp, timeout=3.0):
    data = dnsclient.send(wire, port, tcp, timeout)
    return None if data is None else Reply(dns.message.from_wire(data), len(data))


def build_queries():
    """(label, Message, tcp) for every case."""
    out = []
    qid = 1
    for name in NAMES:
        for rdtype in TYPES + EXTRA_TYPES.get(name, []):
            for label, tcp, payload in TRANSPORTS:
                # Every name over UDP with EDNS; the other transports for the
                # types that make the name's point, to keep the run short.
                if label != "udp-edns1232" and rdtype not in ("A", "MX", "ANY", "TXT") and \
                        not name.startswith(("big", "wide", "manymx")):
                    continue
                q = dns.message.make_query(name, rdtype, use_edns=payload is not None,
                                           payload=payload or 1232)
                q.id = qid
                qid += 1
                out.append((f"{name} {rdtype} {label}", q, tcp))
    # Header-level cases: RD clear, CD set, other opcodes, EDNS version 1,
    # class CH for a zone name, QDCOUNT 0 and 2.
    extra = []
    q = dns.message.make_query("www.diff.test.", "A")
    q.flags &= ~dns.flags.RD
    extra.append(("RD clear", q, False))
    q = dns.message.make_query("www.diff.test.", "A")
    q.flags |= dns.flags.CD
    extra.append(("CD set", q, False))
    q = dns.message.make_query("www.diff.test.", "A", use_edns=1, payload=1232)
    extra.append(("EDNS version 1", q, False))
    q = dns.message.make_query("www.diff.test.", "A", rdclass="CH")
    extra.append(("class CH in the zone", q, False))
    for i, (label, q, tcp) in enumerate(extra):
        q.id = 60000 + i
        out.append((label, q, tcp))
    return out


def raw_cases():
    """Hand-built packets: (label, bytes, tcp)."""
    header = lambda qd: bytes([0x12, 0x34, 0x01, 0x00, 0, qd, 0, 0, 0, 0, 0, 0])  # noqa: E731
    question = b"\x03www\x04diff\x04test\x00\x00\x01\x00\x01"
    return [
        ("QDCOUNT 0", header(0), False),
        ("QDCOUNT 2", header(2) + question + question, False),
        ("question cut short", header(1) + question[:-3], False),
    ]


# NSD by default adds the zone's NS RRset to the authority section of
# positive answers; RFC 2181 and common practice (Knot, gdnsd, dnsd) do not
# need it. Minimal responses make the sections comparable.
NSD_SERVER = """    minimal-responses: no
    ipv4-edns-size: 1232
    hide-version: yes
    hide-identity: yes
"""
NSD_ZONE = """    name: "{origin}"
    zonefile: "{zone}"
    provide-xfr: 127.0.0.1 NOKEY
"""

DNSD_CONF = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
udp_payload = 1232
transfer_allow = ["127.0.0.1"]

[[zone]]
origin = "{origin}"
file = "{zone}"
"""


def axfr(port):
    q = dns.message.make_query(ORIGIN, "AXFR")
    records_ = set()
    soas = 0
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        wire = q.to_wire()
        s.sendall(len(wire).to_bytes(2, "big") + wire)
        f = s.makefile("rb")
        while soas < 2:
            head = f.read(2)
            if len(head) < 2:
                break
            msg = dns.message.from_wire(f.read(int.from_bytes(head, "big")), one_rr_per_rrset=True)
            if msg.rcode() != dns.rcode.NOERROR:
                return None, msg.rcode()
            for rrset in msg.answer:
                if rrset.rdtype == dns.rdatatype.SOA:
                    soas += 1
            records_ |= records(msg.answer)
    return records_, soas


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    nsd_bin = dnsclient.nsd_binary()
    if not nsd_bin:
        print("SKIP: nsd is not installed (tools/deps installs it)")
        return 77

    work = tempfile.mkdtemp(prefix="dnsd-diff-")
    nsd = dnsd = None
    failures = []
    try:
        nsd_port, dnsd_port = dnsclient.free_port(), dnsclient.free_port()
        while dnsd_port == nsd_port:
            dnsd_port = dnsclient.free_port()
        with open(os.path.join(work, "nsd.conf"), "w") as f:
            f.write(dnsclient.nsd_conf(nsd_port, work, NSD_ZONE.format(origin=ORIGIN, zone=ZONE), NSD_SERVER))
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(DNSD_CONF.format(port=dnsd_port, origin=ORIGIN, zone=ZONE))
        nsd = dnsclient.start_group([nsd_bin, "-d", "-c", os.path.join(work, "nsd.conf")], os.path.join(work, "nsd.out"))
        dnsd = dnsclient.start_group([os.path.abspath(args.dnsd), "run", "-c", os.path.join(work, "dnsd.toml")],
                     os.path.join(work, "dnsd.out"))
        dnsclient.wait_for_dns(nsd_port, proc=nsd, name="www.diff.test.", rdclass="IN")
        dnsclient.wait_for_dns(dnsd_port, proc=dnsd, name="www.diff.test.", rdclass="IN")

        cases = build_queries()
        counts = {"same": 0, "deliberate": 0}
        used = set()
        apex = ask(dns.message.make_query(ORIGIN, "NS").to_wire(), nsd_port, True)
        for label, q, tcp in cases:
            wire = q.to_wire()
            a, b = ask(wire, nsd_port, tcp), ask(wire, dnsd_port, tcp)
            if a is None or b is None:
                if (a is None) != (b is None):
                    failures.append(label)
                    print(f"FAIL {label}: {'NSD' if a is None else 'dnsd'} did not answer")
                else:
                    counts["same"] += 1
                continue
            limit = 65535 if tcp else (max(512, min(q.payload, 1232)) if q.edns >= 0 else 512)
            ctx = {"apex_ns": apex.answer, "tcp": tcp, "limit": limit,
                   "full": lambda w=wire: ask(w, nsd_port, True),
                   "ask_nsd": lambda m, t=tcp: ask(m.to_wire(), nsd_port, t)}
            applied = []
            try:
                for why, rule in NORMALISERS:
                    if rule(q, a, b, ctx):
                        applied.append(why)
                diffs = compare(q, a, b)
            except Mismatch as e:
                diffs = [str(e)]
            if not diffs:
                if applied:
                    counts["deliberate"] += 1
                    used.update(applied)
                else:
                    counts["same"] += 1
                continue
            failures.append(label)
            print(f"FAIL {label}: " + "; ".join(diffs) + (f" (after: {applied})" if applied else ""))
            if args.verbose:
                print("--- NSD (normalised)\n" + describe(a) + "\n--- dnsd\n" + describe(b))
        # Opcodes other than QUERY: NOTIMP from both. dnsd sends the question
        # back (RFC 5452 9.1: clients match replies on it) and neither TC
        # (RFC 1035 4.1.1: TC marks a truncated message) nor RD (RD means
        # something only for QUERY); NSD echoes the query's TC and RD and
        # drops the question.
        for opcode in (1, 2, 3, 6, 15):
            for tcp in (False, True):
                q = dns.message.make_query("www.diff.test.", "A")
                q.flags |= dns.flags.TC
                wire = bytearray(q.to_wire())
                wire[2] = (wire[2] & 0x87) | (opcode << 3)
                ra, rb = dnsclient.send(bytes(wire), nsd_port, tcp), dnsclient.send(bytes(wire), dnsd_port, tcp)
                label = f"opcode {opcode} {'tcp' if tcp else 'udp'}"
                problems = []
                for who, r in (("NSD", ra), ("dnsd", rb)):
                    if r is None or len(r) < 12 or (r[3] & 0xF) != dns.rcode.NOTIMP or ((r[2] >> 3) & 0xF) != opcode:
                        problems.append(f"{who} did not answer NOTIMP with the opcode")
                if rb is not None and len(rb) >= 12:
                    if rb[2] & 0x03 or rb[2] & 0x04:
                        problems.append("dnsd echoed TC, RD or set AA")
                    if rb[4:6] != b"\x00\x01" or rb[12:len(wire)] != bytes(wire[12:]):
                        problems.append("dnsd did not send the question back")
                if problems:
                    failures.append(label)
                    print(f"FAIL {label}: " + "; ".join(problems))
                else:
                    counts["deliberate"] += 1
                    used.add(OPCODE_NOTE)
                cases.append((label, None, tcp))
        # Packets too broken to parse as a Message: compare rcode and flags.
        for label, wire, tcp in raw_cases():
            a, b = dnsclient.send(wire, nsd_port, tcp, timeout=1.0), dnsclient.send(wire, dnsd_port, tcp, timeout=1.0)
            got = [(None if m is None else (m[3] & 0xF, m[2] & 0x87)) for m in (a, b)]
            if got[0] != got[1] and got[0] and got[1] and got[0][0] == got[1][0] == dns.rcode.FORMERR \
                    and (got[0][1] | 0x01) == got[1][1]:
                counts["deliberate"] += 1  # RD copied, as n_formerr_rd explains
                used.add(NORMALISERS[-1][0])
                continue
            if got[0] != got[1]:
                failures.append(label)
                print(f"FAIL {label}: NSD {got[0]} vs dnsd {got[1]}")
            else:
                counts["same"] += 1
        # AXFR: the same records, SOA first and last.
        za, sa = axfr(nsd_port)
        zb, sb = axfr(dnsd_port)
        if za is None or zb is None or za != zb or sa != 2 or sb != 2:
            failures.append("AXFR")
            print(f"FAIL AXFR: NSD {len(za or ())} records, dnsd {len(zb or ())}; "
                  f"differences {sorted((za or set()) ^ (zb or set()))[:6]}")
        else:
            counts["same"] += 1
        total = len(cases) + len(raw_cases()) + 1
        print(f"{total} queries: {counts['same']} identical, {counts['deliberate']} deliberate differences, "
              f"{len(failures)} failures")
        for why in [n for n, _ in NORMALISERS] + [OPCODE_NOTE]:
            print(f"  deliberate: {why}{'' if why in used else ' (not seen in this run)'}")
        if total < 300:
            print("FAIL: fewer than 300 queries")
            failures.append("count")
    finally:
        dnsclient.stop_group(dnsd)
        dnsclient.stop_group(nsd)
        if failures:
            dnsclient.show_tails(work, ("nsd.out", "dnsd.out", "nsd.log"))
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
