#!/usr/bin/python3
"""stickiness = "client" with the real dnsd (SPEC 9): two instances started
with the same configuration (on different ports) give every ECS subnet the
same site of a weighted service, query after query, with ECS scope 24; the
site is the one weighted rendezvous hashing of the subnet gives (worked out
here, apart from dnsd); the CH TXT and /explain explanations say "picked by
client hash"; a site forced down through the control API moves only its
own clients; and max_answers gives a subnet its own addresses."""
import argparse
import ipaddress
import math
import os
import subprocess
import sys
import tempfile
import urllib.parse

import dns.edns
import dns.message
import dns.query
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

TOKEN = "a-sticky-token-0123456789"
# Answer data only: nothing connects to these (no probes: always up).
SITES = {"ams": ("192.0.2.1", 100), "fra": ("192.0.2.2", 100), "lon": ("192.0.2.3", 200),
         "par": ("192.0.2.4", 100)}
WINDOW = [f"198.51.100.{i}" for i in range(1, 7)]

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 2
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
[[zone]]
origin = "example.test."
file = "example.test.zone"
{sites}
[sites.many]
addresses = [{window}]
[[service]]
name = "www.example.test."
sites = ["ams", "fra", "lon", "par"]
policy = "weighted"
ttl = 20
stickiness = "client"
[[service]]
name = "win.example.test."
sites = ["many"]
ttl = 20
max_answers = 2
stickiness = "client"
"""

check, failures = dnsclient.check, dnsclient.failures

# Rendezvous hashing as SPEC 9 and dnsd/steer/rendezvous.hpp define it,
# written out apart: FNV-1a then the murmur3 finalizer; a site's score
# -weight / ln(u), u its rank mapped into (0, 1).
MASK = (1 << 64) - 1


def mix(x):
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & MASK
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & MASK
    return x ^ (x >> 33)


def fnv1a(data, h=0xCBF29CE484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def client_key(network):
    n = ipaddress.ip_network(network)
    return mix(fnv1a(n.network_address.packed, fnv1a(bytes([4 if n.version == 4 else 6, n.prefixlen]))))


def expected_site(network, sites):
    key = client_key(network)

    def score(name):
        rank = mix(key ^ mix(fnv1a(name.encode())))
        u = ((rank >> 12) + 0.5) * 2.0 ** -52
        return -SITES[name][1] / math.log(u)

    return max(sites, key=score)


def ask(port, name, subnet=None, source=24, rdtype="A", rdclass="IN"):
    """The answer's addresses (sorted for A) and the ECS scope of the reply."""
    options = [dns.edns.ECSOption(subnet, source)] if subnet else []
    q = dns.message.make_query(name, rdtype, rdclass=rdclass, use_edns=0, options=options)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    scope = next((o.scopelen for o in r.options if isinstance(o, dns.edns.ECSOption)), None)
    if rdclass == "CH":
        return [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset], scope
    return [rr.address for rrset in r.answer for rr in rrset if rrset.rdtype == dns.rdatatype.A], scope


http = dnsclient.http_json


def start(dnsd, work, name, port, cport, procs):
    """Starts an instance, in `procs` (to be stopped) before it answers."""
    sites = "".join(f'[sites.{s}]\naddresses = ["{a}"]\nweight = {w}\n' for s, (a, w) in SITES.items())
    conf = os.path.join(work, name + ".toml")
    with open(conf, "w") as f:
        f.write(CONFIG.format(port=port, cport=cport, sites=sites, window=", ".join(f'"{a}"' for a in WINDOW)))
    proc = subprocess.Popen([dnsd, "run", "-c", conf], cwd=work, stdout=open(os.path.join(work, name + ".log"), "w"),
                            stderr=subprocess.STDOUT)
    procs.append(proc)
    dnsclient.wait_for_dns(port, proc=proc)


SUBNETS = [f"10.{i // 256}.{i % 256}.0/24" for i in range(0, 4096, 37)]  # 111 subnets


def site_of(addresses):
    by_address = {a: s for s, (a, _) in SITES.items()}
    return by_address.get(addresses[0]) if len(addresses) == 1 else None


def cases(one, two, cone):
    # 1. Each subnet: one site, again and again, from any address in it,
    #    with scope 24; the same on the other instance; the one the
    #    rendezvous formula gives.
    picked, stable, scopes, same, formula = {}, True, set(), True, True
    for subnet in SUBNETS:
        net = subnet.split("/")[0]
        first, scope = ask(one, "www.example.test.", net)
        picked[subnet] = site_of(first)
        scopes.add(scope)
        for host in (1, 77, 254):
            addr = net.rsplit(".", 1)[0] + f".{host}"
            got, scope = ask(one, "www.example.test.", addr, 32)
            stable &= got == first
            scopes.add(scope)
        for _ in range(3):
            stable &= ask(one, "www.example.test.", net)[0] == first
        same &= ask(two, "www.example.test.", net)[0] == first
        formula &= picked[subnet] == expected_site(subnet, list(SITES))
    check(stable, f"each of {len(SUBNETS)} subnets gets one site, whatever its address and however often")
    check(scopes == {24}, f"the ECS scope is 24 (seen {sorted(scopes, key=str)})")
    check(same, "a second instance with the same configuration gives every subnet the same site")
    check(formula, "the site is the one weighted rendezvous hashing of the subnet gives")
    counts = {s: list(picked.values()).count(s) for s in SITES}
    print(f"     sites over {len(SUBNETS)} subnets: {counts}")
    check(all(counts[s] > 0 for s in SITES) and counts["lon"] > counts["ams"],
          "the subnets spread over every site, the heavier site taking more")
    # A source prefix shorter than /24: that scope.
    check(ask(one, "www.example.test.", "10.0.0.0", 20)[1] == 20, "an ECS /20 gets scope 20")

    # 2. The explanations say why.
    lines, _ = ask(one, "www.example.test.", "10.0.37.0", 24, rdtype="TXT", rdclass="CH")
    check("A site picked by client hash of 10.0.37.0/24 (ECS)" in lines, "CH TXT: picked by client hash")
    check(any(line.startswith("A answer: ") and line.endswith("ECS scope 24") for line in lines),
          "CH TXT: the answer's ECS scope is 24")
    status, doc = http(f"http://127.0.0.1:{cone}/explain?" + urllib.parse.urlencode(
        {"name": "www.example.test.", "client": "10.0.37.9", "type": "A"}))
    check(status == 200 and "A site picked by client hash of 10.0.37.0/24 (ECS)" in doc.get("lines", []),
          "GET /explain: picked by client hash")

    # 3. A site forced down moves only its own subnets; the other instance
    #    (without the override) still agrees on every other subnet.
    status, _ = http(f"http://127.0.0.1:{cone}/sites/fra/override", "POST", {"state": "down"}, token=TOKEN)
    check(status == 200, "fra forced down through the control API")
    moved, kept, agree = {}, True, True
    for subnet in SUBNETS:
        net = subnet.split("/")[0]
        now = site_of(ask(one, "www.example.test.", net)[0])
        if picked[subnet] == "fra":
            moved[now] = moved.get(now, 0) + 1
        else:
            kept &= now == picked[subnet]
            agree &= ask(two, "www.example.test.", net)[0] == ask(one, "www.example.test.", net)[0]
    print(f"     fra's subnets moved to: {moved}")
    check(kept and agree, "the other sites' subnets stay where they were, on both instances")
    check(moved and "fra" not in moved and None not in moved and len(moved) >= 2,
          "fra's subnets move to the other sites")
    http(f"http://127.0.0.1:{cone}/sites/fra/override", "POST", {"state": "auto"}, token=TOKEN)
    check(all(site_of(ask(one, "www.example.test.", s.split("/")[0])[0]) == picked[s] for s in SUBNETS),
          "fra back: every subnet back where it was")

    # 4. max_answers: a subnet's own two addresses, on both instances.
    windows, stable, same = set(), True, True
    for subnet in SUBNETS[:40]:
        net = subnet.split("/")[0]
        first, scope = ask(one, "win.example.test.", net)
        stable &= len(first) == 2 and scope == 24
        windows.add(tuple(sorted(first)))
        for _ in range(3):
            stable &= ask(one, "win.example.test.", net)[0] == first
        same &= ask(two, "win.example.test.", net)[0] == first
    check(stable, "max_answers: each subnet gets the same two addresses every time, scope 24")
    check(same, "max_answers: the same on the second instance")
    check(len(windows) > 5, f"max_answers: subnets get different pairs ({len(windows)} of 15)")
    lines, _ = ask(one, "win.example.test.", "10.0.37.0", 24, rdtype="TXT", rdclass="CH")
    check("A addresses picked by client hash of 10.0.37.0/24 (ECS)" in lines,
          "CH TXT: max_answers picked by client hash")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    work = tempfile.mkdtemp(prefix="dnsd-sticky-")
    procs = []
    try:
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        one, cone = dnsclient.free_port(), dnsclient.free_port()
        start(dnsd, work, "one", one, cone, procs)
        two, ctwo = dnsclient.free_port(), dnsclient.free_port()
        start(dnsd, work, "two", two, ctwo, procs)
        cases(one, two, cone)
    finally:
        for proc in procs:
            dnsclient.stop(proc)
        if failures:
            dnsclient.show_tails(work, ["two.log"])
        dnsclient.remove_work(work, "one.log")
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
