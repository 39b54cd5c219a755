#!/usr/bin/python3
"""Writes the seed corpus for the query fuzzer: well-formed queries of every
kind the golden tests use, plus hand-made broken ones. Re-run after changing
it; the files are checked in under tests/fuzz/corpus/query/."""
import os
import struct

import dns.edns
import dns.flags
import dns.message
import dns.rdataclass
import dns.rdatatype

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "query")
os.makedirs(out, exist_ok=True)
seeds = {}

names = ["www.example.test.", "WwW.Example.TEST.", "nope.example.test.", "b.c.example.test.",
         "x.wild.example.test.", "chain1.example.test.", "loop1.example.test.", "deep.sub.example.test.",
         "sub.example.test.", "example.test.", "big.example.test.", "srv.example.test.", "other.org."]
types = ["A", "AAAA", "NS", "MX", "TXT", "SRV", "DS", "ANY", "SOA", "CNAME", "AXFR", "IXFR"]
i = 0
for n in names:
    for t in types:
        m = dns.message.make_query(n, t)
        m.id = i
        seeds[f"q-{i:03d}"] = m.to_wire()
        i += 1
for n in ["www.example.test.", "big.example.test."]:
    for size in (512, 1232, 4096):
        m = dns.message.make_query(n, "TXT", use_edns=0, payload=size,
                                   options=[dns.edns.GenericOption(3, b"")])
        seeds[f"edns-{size}-{n[:3]}"] = m.to_wire()
ecs = dns.edns.ECSOption("192.0.2.0", 24)
seeds["ecs-v4"] = dns.message.make_query("www.example.test.", "A", use_edns=0, options=[ecs]).to_wire()
ecs6 = dns.edns.ECSOption("2001:db8::", 56)
seeds["near-ecs-v4"] = dns.message.make_query("near.example.test.", "A", use_edns=0, options=[ecs]).to_wire()
seeds["near-ecs-v4-in-more-specific"] = dns.message.make_query(
    "near.example.test.", "A", use_edns=0, options=[dns.edns.ECSOption("192.0.2.200", 32)]).to_wire()
seeds["all-aaaa"] = dns.message.make_query("all.example.test.", "AAAA", use_edns=0).to_wire()
seeds["cdn-a"] = dns.message.make_query("cdn.example.test.", "A").to_wire()
seeds["health-server"] = dns.message.make_query("health.server.", "TXT", rdclass="CH").to_wire()
seeds["ecs-v6"] = dns.message.make_query("www.example.test.", "AAAA", use_edns=0, options=[ecs6]).to_wire()
# ECS with bits set past the prefix and a short address (malformed)
seeds["ecs-bad-bits"] = dns.message.make_query("www.example.test.", "A", use_edns=0,
    options=[dns.edns.GenericOption(8, b"\x00\x01\x18\x00\xc0\x00\x02\x01")]).to_wire()
seeds["ecs-short"] = dns.message.make_query("www.example.test.", "A", use_edns=0,
    options=[dns.edns.GenericOption(8, b"\x00\x01\x18\x00\xc0")]).to_wire()
seeds["badvers"] = dns.message.make_query("www.example.test.", "A", use_edns=1).to_wire()
seeds["chaos"] = dns.message.make_query("id.server.", "TXT", rdclass="CH").to_wire()
seeds["version"] = dns.message.make_query("version.bind.", "TXT", rdclass="CH").to_wire()
hdr = lambda qd, an=0, ns=0, ar=0, flags=0x0100: struct.pack("!HHHHHH", 7, flags, qd, an, ns, ar)
seeds["qd0"] = hdr(0)
seeds["qd2"] = hdr(2) + b"\x01a\x00\x00\x01\x00\x01\x01b\x00\x00\x01\x00\x01"
seeds["pointer-loop"] = hdr(1) + b"\xc0\x0c\x00\x01\x00\x01"
seeds["label-past-end"] = hdr(1) + b"\x3fabc"
seeds["notimp"] = hdr(1, flags=0x2900) + b"\x03www\x07example\x04test\x00\x00\x01\x00\x01"
seeds["opt-not-root"] = hdr(1, ar=1) + b"\x01a\x00\x00\x01\x00\x01" + b"\x01a\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
seeds["two-opt"] = hdr(1, ar=2) + b"\x01a\x00\x00\x01\x00\x01" + (b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00" * 2)
seeds["short"] = b"\x00\x01\x00"
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
