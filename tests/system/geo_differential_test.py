#!/usr/bin/python3
"""Geo differential test: gdnsd (Debian package, plugin_geoip in its
coordinate mode, auto_dc_coords) and dnsd serve a `nearest` service over the
same three sites and MaxMind's GeoIP2-City test database; for every test
network with coordinates, a query with ECS for that network must get the
same site from both, for A and AAAA.

Skips (77) without gdnsd or without the test databases (../shared/geo
beside the checkout, /work/shared/geo, or DNSD_GEO_TEST_DIR)."""
import argparse
import ipaddress
import json
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


def geo_dir():
    for d in (os.environ.get("DNSD_GEO_TEST_DIR"), os.path.join(REPO, "..", "shared", "geo"), "/work/shared/geo"):
        if d and os.path.exists(os.path.join(d, "GeoIP2-City-Test.mmdb")):
            return os.path.abspath(d)
    return None


def networks(path):
    out = []
    with open(path) as f:
        for entry in json.load(f):
            for key, value in entry.items():
                loc = value.get("location", {})
                if "latitude" not in loc:
                    continue
                addr, length = key.split("/")
                length = int(length)
                if addr.startswith("::") and "." in addr:  # IPv4 written inside IPv6
                    addr, length = addr[2:], length - 96
                out.append((addr, length))
    return out


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


def dnsd_config(d, port, db):
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
database = "{db}"
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
    args = ap.parse_args()
    gdnsd = shutil.which("gdnsd") or ("/usr/sbin/gdnsd" if os.path.exists("/usr/sbin/gdnsd") else None)
    d = geo_dir()
    if not gdnsd or not d:
        print("SKIP: needs gdnsd and MaxMind's test databases")
        return 77
    db = os.path.join(d, "GeoIP2-City-Test.mmdb")
    work = tempfile.mkdtemp(prefix="dnsd-geodiff-")
    procs = []
    failures = 0
    try:
        gport, dport = dnsclient.free_port(), dnsclient.free_port()
        gdir = os.path.join(work, "gdnsd")
        gdnsd_config(gdir, gport, db)
        dnsd_config(work, dport, db)
        glog = open(os.path.join(work, "gdnsd.log"), "w")
        procs.append(subprocess.Popen([gdnsd, "-c", gdir, "start"],
                                      stdout=glog, stderr=subprocess.STDOUT, start_new_session=True))
        procs.append(subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", os.path.join(work, "dnsd.toml")],
                                      stdout=open(os.path.join(work, "dnsd.log"), "w"), stderr=subprocess.STDOUT,
                                      start_new_session=True))
        dnsclient.wait_for_dns(gport, proc=procs[0], name="near.example.test.", rdclass="IN")
        dnsclient.wait_for_dns(dport, proc=procs[1], name="near.example.test.", rdclass="IN")
        nets = networks(os.path.join(d, "source-data", "GeoIP2-City-Test.json"))
        compared = 0
        seen = {}
        for addr, length in nets:
            net = ipaddress.ip_network(f"{addr}/{length}", strict=False)
            for rdtype in ("A", "AAAA"):
                g, n = ask(gport, rdtype, str(net.network_address), length), ask(dport, rdtype, str(net.network_address),
                                                                                  length)
                compared += 1
                seen[tuple(n)] = seen.get(tuple(n), 0) + 1
                if g != n:
                    failures += 1
                    print(f"FAIL {net} {rdtype}: gdnsd {g} dnsd {n}")
        print(f"{compared} queries over {len(nets)} networks, {failures} differences; answers: {seen}")
        if len(seen) < 6:  # every site, for A and AAAA: the comparison is not trivial
            failures += 1
            print("FAIL: the test networks should reach every site")
        if compared < 400:
            failures += 1
            print("FAIL: too few networks compared")
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
            for name in ("gdnsd.log", "dnsd.log"):
                p = os.path.join(work, name)
                if os.path.exists(p):
                    print(f"--- {name}\n" + open(p).read()[-2000:])
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
