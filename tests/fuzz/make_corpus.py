#!/usr/bin/python3
"""Writes the seed corpora of the fuzzers, checked in under
tests/fuzz/corpus/TARGET/. Re-run after changing it:

  tests/fuzz/make_corpus.py [query|config|zone ...]   (default: all three)

query:  well-formed queries of every kind the golden tests use, plus
        hand-made broken ones (needs dnspython).
config: the example configurations, those of `dnsd check`'s system tests and
        of the other system tests (placeholders filled in), plus hand-made
        edge cases.
zone:   the zone files of the examples and tests, with their origins moved
        to example.test. (the origin zone_fuzz reads with), plus hand-made
        edge cases."""
import ast
import os
import string
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


def query_seeds():
    import dns.edns
    import dns.flags
    import dns.message
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset

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
    # IXFR with the client's SOA (RFC 1995): our serial, older, ahead, and
    # a SOA of another name.
    for what, owner, serial in (("current", "example.test.", 2026112301), ("older", "example.test.", 1),
                                ("ahead", "example.test.", 2026112302), ("other-owner", "www.example.test.", 1)):
        m = dns.message.make_query("example.test.", "IXFR")
        m.id = serial & 0xFFFF
        soa = f"ns1.example.test. hostmaster.example.test. {serial} 1 2 3 4"
        m.authority.append(dns.rrset.from_text(owner, 0, "IN", "SOA", soa))
        seeds[f"ixfr-{what}"] = m.to_wire()

    return seeds


def repo_file(path):
    with open(os.path.join(REPO, path), "rb") as f:
        return f.read()


class Defaults(dict):
    def __missing__(self, key):
        return "1"


def system_test_strings(names):
    """Module-level string constants of the system tests (CONFIG, ZONE, ...),
    found without importing the tests, with their {placeholders} filled in."""
    values = {"port": "5353", "cport": "8053", "hport": "8080", "http_port": "8080", "wport": "8081",
              "nsd_port": "5300", "me": "127.0.0.1", "peers": '"http://127.0.0.2:8053", "http://127.0.0.3:8053"',
              "interval": "250", "timeout": "200", "rise": "2", "fall": "2", "ttl": "5", "threads": "1",
              "extra": "", "origin": "example.test.", "zone": "example.test.zone", "serial": "1",
              "text": "hello", "last": "1"}
    out = {}
    system = os.path.join(REPO, "tests", "system")
    for fname in sorted(os.listdir(system)):
        if not fname.endswith(".py"):
            continue
        with open(os.path.join(system, fname)) as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and
                    isinstance(node.targets[0], ast.Name) and node.targets[0].id in names and
                    isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                continue
            # A placeholder not listed above becomes 1 (a port, a count).
            text = string.Formatter().vformat(node.value.value, (), Defaults(values))
            out[f"{fname[:-3]}-{node.targets[0].id.lower()}"] = text.encode()
    return out


def config_seeds():
    seeds = {}
    seeds["example-demo"] = repo_file("examples/demo.toml")
    # Every key there is, without the comment lines that explain them (which
    # would take it past 8 KB).
    full = repo_file("examples/full.toml").split(b"\n")
    seeds["example-full"] = b"\n".join(l for l in full if not l.lstrip().startswith(b"#"))
    check = os.path.join(REPO, "tests", "system", "check")
    for case in sorted(os.listdir(check)):
        seeds[f"check-{case}"] = repo_file(f"tests/system/check/{case}/dnsd.toml")
    seeds.update(system_test_strings({"CONFIG", "DNSD_CONF"}))
    zone = b'[[zone]]\norigin = "example.test."\nfile = "example.test.zone"\n'
    edge = {
        "empty": b"",
        "zone-only": zone,
        "bom-crlf": b"\xef\xbb\xbf[server]\r\nthreads = 1\r\n" + zone.replace(b"\n", b"\r\n"),
        "bad-utf8": b'[server]\nidentity = "\xff\xfe"\n' + zone,
        "unclosed-string": b'[server]\nidentity = "ns1\n',
        "unclosed-table": b"[server\nthreads = 1\n",
        "duplicate-key": b"[server]\nthreads = 1\nthreads = 2\n" + zone,
        "duplicate-table": b"[server]\n[server]\n" + zone,
        "nested-arrays": b"[server]\nlisten = " + b"[" * 40 + b"]" * 40 + b"\n" + zone,
        "wrong-types": b"server = 1\nzone = \"x\"\nsites = []\nservice = {}\ngeo = 2\ncontrol = []\n"
                       b"alert = 3\ncluster = \"c\"\nrate_limit = 4\n",
        "unknown-keys": b"[nope]\n[server]\nuser = \"dnsd\"\nbogus = 1\n" + zone,
        "numbers": b"[server]\nthreads = 9223372036854775807\nudp_payload = -1\nquery_log = 1e3\n"
                   b"[rate_limit]\nresponses_per_second = 0x10\nburst = 0o7\nslip = 0b1\n" + zone,
        "listen-forms": b'[server]\nlisten = ["[::1]:53", "127.0.0.1", "[fe80::1%eth0]:53", ":53", '
                        b'"127.0.0.1:99999", "[::1]"]\ntransfer_allow = ["0.0.0.0/0", "::/129", "10.0.0.1/8"]\n'
                        b'explain_allow = []\nnotify = ["192.0.2.53", "[2001:db8::53]:5300"]\n' + zone,
        "zone-forms": b'[[zone]]\norigin = "."\nfile = ""\n[[zone]]\norigin = "a..b."\nfile = "/abs.zone"\n'
                      b'[[zone]]\norigin = "\\\\046.\\\\000x"\nfile = "../rel.zone"\n[[zone]]\n',
        "durations": b'[probes.p]\ntype = "tcp"\nport = 80\ninterval = "1h2m3s4ms"\ntimeout = "0ms"\n'
                     b'rise = 0\nfall = 4294967296\n[sites.a]\naddresses = ["192.0.2.1"]\nprobe = "p"\n' + zone,
        "probe-kinds": b'[probes.h]\ntype = "https"\nhost = "h.example"\ninsecure = true\nexpect_status = [200, 301]\n'
                       b'[probes.d]\ntype = "dns"\nquery_name = "example.test."\nquery_type = 1\n'
                       b'expect_rcode = [0, 3]\nsource = "::1"\n[probes.x]\ntype = "exec"\ncommand = ["/bin/true"]\n'
                       b'[sites.a]\naddresses = ["192.0.2.1", "2001:db8::1"]\nprobe = "h"\nmin_up = 2\n'
                       b'[sites.b]\naddresses = ["192.0.2.2"]\nprobe = { type = "dns" }\n'
                       b'[sites.c]\naddresses = ["192.0.2.3"]\nprobe = "x"\n' + zone,
        "services": b'[sites.a]\nlocation = { lat = 91, lon = -181 }\naddresses = ["192.0.2.1"]\nweight = 0\n'
                    b'[sites.c]\ncname = "edge.cdn.example."\n[sites.e]\naddresses = []\n'
                    b'[[service]]\nname = "www.example.test."\nsites = ["a", "c", "missing", "a"]\n'
                    b'policy = "weighted"\nfallback = "site:a"\nmax_answers = 0\n'
                    b'[[service]]\nname = "example.test."\nsites = ["c"]\npolicy = "nearest"\nfallback = "none"\n'
                    b'[[service]]\nname = "www.example.test"\nsites = []\npolicy = "random"\nttl = -5\n' + zone,
        "geo": b'[geo]\ndatabase = ["a.mmdb", "/b.mmdb"]\necs = false\n[[geo.networks]]\nprefix = "10.0.0.0/8"\n'
               b'location = { lat = 0, lon = 0 }\n[[geo.networks]]\nprefix = "2001:db8::1/32"\n'
               b'location = { lat = "x" }\n[[geo.networks]]\n' + zone,
        "alerts-urls": b'[[alert]]\ntype = "webhook"\nurl = "http://[::1]:8080/a?b#c"\nretries = 11\n'
                       b'[[alert]]\nurl = "HTTPS://user@host/"\n[[alert]]\nurl = "http://h:0"\n'
                       b'[[alert]]\nurl = "http://[::1/"\n[[alert]]\ntype = "exec"\ncommand = "echo $DNSD_EVENT"\n'
                       b'timeout = "1ms"\n[[alert]]\ntype = "exec"\ncommand = []\n' + zone,
        "control-cluster": b'[control]\nlisten = "127.0.0.1:8053"\ntoken_file = "token"\n[cluster]\n'
                           b'peers = ["http://192.0.2.2:8053", "http://ns3.example.test:8053/", "ftp://x"]\n'
                           b'quorum = 0\ninterval = "99ms"\ntoken_file = "/nonexistent/token"\n' + zone,
    }
    for k, v in edge.items():
        seeds[f"edge-{k}"] = v
    return seeds


def zone_seeds():
    seeds = {}
    moved = {"examples/zones/gslb.example.com.zone": b"gslb.example.com.",
             "tests/system/data/diff.test.zone": b"diff.test."}
    files = ["examples/zones/gslb.example.com.zone", "tests/query/data/example.test.zone",
             "tests/system/data/diff.test.zone", "tests/zones/data/main.zone", "tests/zones/data/loop.zone",
             "tests/zones/data/inc/hosts.inc", "tests/zones/data/inc/sub.inc"]
    check = os.path.join(REPO, "tests", "system", "check")
    for root, _, names in sorted(os.walk(check)):
        files += sorted(os.path.relpath(os.path.join(root, n), REPO)
                        for n in names if n.endswith((".zone", ".inc")))
    for path in files:
        data = repo_file(path)
        if path in moved:
            data = data.replace(moved[path], b"example.test.")
        key = path.replace("tests/system/check/", "check-").replace("/", "-")
        for prefix in ("examples-zones-", "tests-query-data-", "tests-system-data-", "tests-zones-data-"):
            key = key.removeprefix(prefix)
        seeds[key] = data
    seeds.update(system_test_strings({"ZONE", "SMALL_ZONE"}))
    head = b"$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.53\n"
    edge = {
        "empty": b"",
        "minimal": head,
        "crlf-nul": head.replace(b"\n", b"\r\n") + b"a A 192.0.2.1\x00junk\r\n",
        "include": head + b"$INCLUDE inc.zone\n$INCLUDE inc.zone sub\n$INCLUDE missing.zone\n"
                          b"$INCLUDE /nonexistent/x.zone\n$INCLUDE\n$include a b c\n",
        "include-special": head + b"$INCLUDE /dev/zero\n$INCLUDE /\n$INCLUDE .\n",
        "directives": b"$ttl 1h30m\n$TTL 2147483648\n$TTL 1w2d3h4m5s\n$TTL\n$ORIGIN\n$ORIGIN sub\n"
                      b"$ORIGIN example.test.\n$GENERATE 1-3 h$ A 1.2.3.$\n$FOO\n" + head[9:],
        "parens-quotes": head + b"t TXT ( \"a b\" ; comment\n \"c\\\"d\" )\nu TXT \"open\n)\n(\n"
                          b"v TXT \"x\" )\nw TXT (\n",
        "escapes": head + b"\\@sign A 192.0.2.1\na\\.b A 192.0.2.2\n\\000\\255x TXT \"\\065\\999\"\n"
                          b"\\ A 192.0.2.3\nend\\",
        "long-names": head + b"a" * 63 + b" A 192.0.2.1\n" + b"b" * 64 + b" A 192.0.2.2\n" +
                      b".".join([b"c" * 60] * 4) + b" A 192.0.2.3\n" +
                      b".".join([b"d" * 50] * 4) + b" A 192.0.2.4\n",
        "ttl-class": head + b"a 60 IN A 192.0.2.1\nb IN 60 A 192.0.2.2\nc 1h IN A 192.0.2.3\n"
                            b"d 4294967296 A 192.0.2.4\ne CH TXT x\nf CLASS1 A 192.0.2.5\ng 60 60 A 1.2.3.4\n"
                            b"h IN IN A 1.2.3.4\ni 60 TYPE1 \\# 4 c0000201\nj TYPE65280 \\# 0\n"
                            b"k A \\# 3 c00002\nl MX \\# 2 0001\nm 5m\n  AAAA ::1\n",
        "types": head + b"@ MX 10 mail\n@ MX 0 .\nmail A 192.0.2.25\n_sip._tcp SRV 0 5 5060 sip\n"
                        b"@ CAA 0 issue \"ca.example\"\n@ TXT \"" + b"x" * 255 + b"\" \"y\"\n"
                        b"ptr PTR www\ndn DNAME other.test.\n@ DS 1 8 2 " + b"ab" * 32 + b"\n"
                        b"hinfo HINFO cpu os\nsshfp SSHFP 1 1 " + b"cd" * 20 + b"\nloc LOC 52 22 N 4 53 E 0m\n"
                        b"@ OPT \\# 0\n@ AXFR \\# 0\n",
        "structure": head + b"www CNAME a\nwww A 192.0.2.1\ncn CNAME a\ncn CNAME b\n@ CNAME x\n"
                            b"sub NS ns.sub\nsub MX 10 x\nns.sub A 192.0.2.2\nx.sub TXT glue\n"
                            b"deep.er.sub AAAA ::1\n@ SOA a b 2 2 3 4 5\nnot SOA a b 1 2 3 4 5\n"
                            b"out.other. A 192.0.2.3\n*.wild A 192.0.2.4\n*.wild.* A 192.0.2.5\n",
        "no-soa-ns": b"$TTL 60\nwww A 192.0.2.1\n",
        "duplicates-ttls": head + b"a 60 A 192.0.2.1\na 120 A 192.0.2.1\na 120 A 192.0.2.2\nA.A 5 A 192.0.2.3\n"
                                  b"a.a 6 AAAA ::1\n",
        "blank-owner-first": b"  A 192.0.2.1\n$TTL 60\n\tNS ns\n",
    }
    for k, v in edge.items():
        seeds[f"edge-{k}"] = v
    return seeds


TARGETS = {"query": query_seeds, "config": config_seeds, "zone": zone_seeds}

for target in sys.argv[1:] or TARGETS:
    if target not in TARGETS:
        raise SystemExit(f"usage: make_corpus.py [{'|'.join(TARGETS)} ...]")
    seeds = TARGETS[target]()
    out = os.path.join(HERE, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        if len(data) > 8192:
            raise SystemExit(f"{target}/{name}: {len(data)} bytes; seeds stay under 8 KB")
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out}")
