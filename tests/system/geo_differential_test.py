#!/usr/bin/python3
"""Geo differential test: gdnsd (Debian package, plugin_geoip in its
coordinate mode, auto_dc_coords) and dnsd serve a `nearest` service over the
same three sites from dnsd's own geo test data (tests/geo/data/networks.json),
which the ctest fixture geo_data builds into mmdb files (--geo-data DIR).
gdnsd reads the MaxMind City layout (city.mmdb); one dnsd reads the same
file, another the DB-IP layout (dbip-ipv4.mmdb and dbip-ipv6.mmdb, a list
of databases). For the ends of every test network and the addresses just
outside it, a query with ECS must get the same site from all three, for A and
AAAA, and that site must be the one the data says: the nearest to the most
specific network holding the address, or the first site when that network
has no coordinates or none holds it.

Fails when the test databases are missing; skips (77) only without gdnsd."""
import argparse
import ipaddress
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import dns.edns
import dns.message
import dns.query
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITES = [("ams", 52.37, 4.90, "192.0.2.1", "2001:db8::1"),
         ("nyc", 40.71, -74.01, "192.0.2.2", "2001:db8::2"),
         ("sin", 1.35, 103.82, "192.0.2.3", "2001:db8::3")]

ZONE = """$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
"""


def load_networks():
    """(ip_network, (lat, lon) or None) for every network of the test data."""
    with open(os.path.join(REPO, "tests", "geo", "data", "networks.json")) as f:
        return [(ipaddress.ip_network(n["prefix"]), (n["lat"], n["lon"]) if "lat" in n else None)
                for n in json.load(f)["networks"]]


def haversine_km(a, b):
    r = math.pi / 180
    h = (math.sin((b[0] - a[0]) * r / 2) ** 2
         + math.cos(a[0] * r) * math.cos(b[0] * r) * math.sin((b[1] - a[1]) * r / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def expected_site(nets, address):
    """The site the data says a client at `address` gets, and why."""
    holding = [(net, loc) for net, loc in nets if net.version == address.version and address in net]
    if not holding:
        return SITES[0], "no network"
    net, loc = max(holding, key=lambda h: h[0].prefixlen)
    if loc is None:
        return SITES[0], f"{net} has no coordinates"
    return min(SITES, key=lambda s: haversine_km(loc, (s[1], s[2]))), f"{net} at {loc}"


def probes(nets):
    """(address, ECS source prefix): each network as a whole, its last
    address, and the addresses just outside it."""
    out = []
    for net, _ in nets:
        out.append((net.network_address, net.prefixlen))
        out.append((net.broadcast_address, net.max_prefixlen))
        for outside in (int(net.network_address) - 1, int(net.broadcast_address) + 1):
            if 0 <= outside < 2 ** net.max_prefixlen:
                out.append((type(net.network_address)(outside), net.max_prefixlen))
    return [(str(a), length) for a, length in out]


def gdnsd_config(d, port, db):
    os.makedirs(os.path.join(d, "zones"), exist_ok=True)
    with open(os.path.join(d, "zones", "example.test"), "w") as f:
        f.write(ZONE + "near 30 DYNA geoip!near\n")
    coords = "\n".join(f"        {n} => [ {lat}, {lon} ]" for n, lat, lon, _, _ in SITES)
    dcmap = "\n".join(f"        {n} => {{ addrs_v4 => {v4}, addrs_v6 => {v6} }}" for n, _, _, v4, v6 in SITES)
    with open(os.path.join(d, "config"), "w") as f:
        f.write(f"""options => {{
    listen => [ 127.0.0.1 ]
    dns_port => {port}
    udp_threads => 1
    tcp_threads => 1
    run_dir => "{d}/run"
    state_dir => "{d}/state"
}}
plugins => {{
  geoip => {{
    maps => {{
      near_map => {{
        geoip2_db => "{db}"
        datacenters => [ {", ".join(n for n, *_ in SITES)} ]
        auto_dc_coords => {{
{coords}
        }}
      }}
    }}
    resources => {{
      near => {{
        map => near_map
        dcmap => {{
{dcmap}
        }}
      }}
    }}
  }}
}}
""")


def dnsd_config(d, port, databases):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "example.test.zone"), "w") as f:
        f.write(ZONE)
    sites = "".join(f'[sites.{n}]\nlocation = {{ lat = {lat}, lon = {lon} }}\naddresses = ["{v4}", "{v6}"]\n'
                    for n, lat, lon, v4, v6 in SITES)
    with open(os.path.join(d, "dnsd.toml"), "w") as f:
        f.write(f"""[server]
listen = ["127.0.0.1:{port}"]
threads = 1
[[zone]]
origin = "example.test."
file = "example.test.zone"
[geo]
database = {json.dumps(databases)}
{sites}
[[service]]
name = "near.example.test."
sites = [{", ".join(f'"{n}"' for n, *_ in SITES)}]
policy = "nearest"
""")


def ask(port, rdtype, addr, length):
    ecs = dns.edns.ECSOption(addr, length)
    q = dns.message.make_query("near.example.test.", rdtype, use_edns=0, options=[ecs])
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return sorted(rr.to_text() for rrset in r.answer for rr in rrset
                  if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    ap.add_argument("--geo-data", required=True, help="where tests/geo/make_mmdb.pl wrote the test databases")
    args = ap.parse_args()
    files = {name: os.path.abspath(os.path.join(args.geo_data, name))
             for name in ("city.mmdb", "dbip-ipv4.mmdb", "dbip-ipv6.mmdb")}
    missing = [p for p in files.values() if not os.path.exists(p)]
    if missing:
        print(f"FAIL: missing {', '.join(missing)} (the ctest fixture geo_data builds them)")
        return 1
    gdnsd = shutil.which("gdnsd") or ("/usr/sbin/gdnsd" if os.path.exists("/usr/sbin/gdnsd") else None)
    if not gdnsd:
        print("SKIP: needs gdnsd")
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-geodiff-")
    procs = []
    failures = 0
    servers = []  # (name, port)
    try:
        gdir = os.path.join(work, "gdnsd")
        gport = dnsclient.free_port()
        gdnsd_config(gdir, gport, files["city.mmdb"])
        glog = open(os.path.join(work, "gdnsd.log"), "w")
        procs.append(subprocess.Popen([gdnsd, "-c", gdir, "start"],
                                      stdout=glog, stderr=subprocess.STDOUT, start_new_session=True))
        dnsclient.wait_for_dns(gport, proc=procs[-1], name="near.example.test.", rdclass="IN")
        servers.append(("gdnsd", gport))
        for name, databases in (("dnsd-city", files["city.mmdb"]),
                                ("dnsd-dbip", [files["dbip-ipv4.mmdb"], files["dbip-ipv6.mmdb"]])):
            port = dnsclient.free_port()
            dnsd_config(os.path.join(work, name), port, databases)
            procs.append(subprocess.Popen(
                [os.path.abspath(args.dnsd), "run", "-c", os.path.join(work, name, "dnsd.toml")],
                stdout=open(os.path.join(work, name + ".log"), "w"), stderr=subprocess.STDOUT,
                start_new_session=True))
            dnsclient.wait_for_dns(port, proc=procs[-1], name="near.example.test.", rdclass="IN")
            servers.append((name, port))
        nets = load_networks()
        compared = 0
        seen = {}
        for addr, length in probes(nets):
            want, why = expected_site(nets, ipaddress.ip_address(addr))
            for rdtype in ("A", "AAAA"):
                expected = [want[3] if rdtype == "A" else want[4]]
                answers = {name: ask(port, rdtype, addr, length) for name, port in servers}
                compared += 1
                seen[want[0] + " " + rdtype] = seen.get(want[0] + " " + rdtype, 0) + 1
                if any(a != expected for a in answers.values()):
                    failures += 1
                    print(f"FAIL {addr}/{length} {rdtype}: want {expected} ({want[0]}: {why}), got {answers}")
        print(f"{compared} queries over {len(nets)} networks, {failures} differences; sites expected: {seen}")
        if len(seen) < 6:  # every site, for A and AAAA: the comparison is not trivial
            failures += 1
            print("FAIL: the test networks should reach every site")
        if compared < 300:
            failures += 1
            print("FAIL: too few queries compared")
    except RuntimeError as e:
        failures += 1
        print(f"FAIL: {e}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if failures:
            for name in ("gdnsd.log", "dnsd-city.log", "dnsd-dbip.log"):
                p = os.path.join(work, name)
                if os.path.exists(p):
                    print(f"--- {name}\n" + open(p).read()[-2000:])
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
