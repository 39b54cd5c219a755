#!/usr/bin/python3
"""Demand, what-if and guards with the real dnsd (SPEC 10): a known mix of
ECS prefixes from several regions is replayed at a `nearest` service of
three sites; GET /demand counts each prefix exactly, with its location;
`dnsdctl simulate --down ams` moves every one of ams's prefixes to the site
worked out here, apart from dnsd, from the sites' coordinates (great-circle
distance), and nothing else; an override that breaks min_sites_up or a
site's capacity is refused with the simulation, and --force passes and is
logged and alerted as forced; unknown sites and services are a 400 naming
them; every site down shows the fallback; a service without queries says
it has no demand yet."""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import dns.edns
import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

TOKEN = "a-demand-token-0123456789"
# The three test sites of tests/geo/data/networks.json: every located test
# network is clearly nearest one of them, then clearly the second.
SITES = {"ams": ("192.0.2.1", 52.37, 4.90), "nyc": ("192.0.2.2", 40.71, -74.01),
         "sin": ("192.0.2.3", 1.35, 103.82)}
# The mix: (ECS prefix, where tests/geo/data/networks.json puts it, queries).
MIX = [
    ("10.0.1.0/24", (50.11, 8.68), 40),      # Frankfurt
    ("10.6.1.0/24", (40.42, -3.70), 25),     # Madrid
    ("192.168.5.0/24", (59.33, 18.07), 15),  # Stockholm
    ("10.8.1.0/24", (35.69, 51.39), 10),     # Tehran
    ("10.1.5.0/24", (35.68, 139.69), 30),    # Tokyo
    ("10.1.2.0/24", (41.88, -87.63), 20),    # Chicago
    ("10.200.7.0/24", (-23.55, -46.63), 12),  # Sao Paulo
    ("203.0.113.0/24", None, 6),             # not in the database: the first site listed
    ("2001:db8:8000::/56", (55.76, 37.62), 8),  # Moscow
]

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 2
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
[geo]
database = "{db}"
[[alert]]
type = "exec"
command = ["/bin/sh", "-c", "echo \\"$DNSD_EVENT $DNSD_SITE $DNSD_STATE $DNSD_MESSAGE\\" >> alerts.log"]
[[zone]]
origin = "example.test."
file = "example.test.zone"
{sites}
[[service]]
name = "www.example.test."
sites = ["ams", "nyc", "sin"]
policy = "nearest"
min_sites_up = 2
[[service]]
name = "idle.example.test."
sites = ["ams", "nyc"]
policy = "failover"
"""

check, failures = dnsclient.check, dnsclient.failures
http = dnsclient.http_json


def unit(lat, lon):
    la, lo = math.radians(lat), math.radians(lon)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def km(a, b):
    ua, ub = unit(*a), unit(*b)
    dot = max(-1.0, min(1.0, sum(x * y for x, y in zip(ua, ub))))
    return 6371.0 * math.acos(dot)


def nearest(where, up):
    """The site the nearest policy gives, worked out here: the nearest up
    site, or the first up site listed for an unknown location."""
    order = [s for s in SITES if s in up]
    if where is None:
        return order[0]
    return min(order, key=lambda s: km(where, SITES[s][1:]))


def ask(port, prefix):
    net, length = prefix.split("/")
    q = dns.message.make_query("www.example.test.", "A", use_edns=0,
                               options=[dns.edns.ECSOption(net, int(length))])
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return sorted(rr.address for rrset in r.answer for rr in rrset)


def dnsdctl(cport, *args):
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "dnsdctl")
    env = dict(os.environ, DNSD_TOKEN_FILE="")
    p = subprocess.run([sys.executable, tool, "--url", f"http://127.0.0.1:{cport}", *args], capture_output=True,
                       text=True, env=env, timeout=30)
    return p.returncode, p.stdout + p.stderr


def service(doc, name):
    return next(s for s in doc["services"] if s["service"] == name)


def cases(port, cport, work):
    base = f"http://127.0.0.1:{cport}"
    # Just started: no demand, said so rather than zeros.
    status, doc = http(base + "/demand")
    www = service(doc, "www.example.test.")
    check(status == 200 and www["empty"] and www["top"] == [], "GET /demand before any query: empty, said so")
    status, doc = http(base + "/simulate?down=ams")
    check(status == 200 and service(doc, "www.example.test.")["empty"], "simulate with no demand: says so")
    code, out = dnsdctl(cport, "simulate", "--down", "ams")
    check(code == 0 and "no demand counted yet" in out, "dnsdctl simulate with no demand: says so")

    # The replay, from every region; each prefix's answer is the nearest site.
    answers_ok = True
    for prefix, where, n in MIX:
        want = SITES[nearest(where, SITES)][0]
        for _ in range(n):
            answers_ok &= ask(port, prefix) == [want]
    check(answers_ok, f"{sum(n for *_, n in MIX)} queries from {len(MIX)} prefixes, each answered by its nearest site")
    time.sleep(3)  # idle workers hand over their counts within a second or two

    status, doc = http(base + "/demand")
    www = service(doc, "www.example.test.")
    got = {t["prefix"]: t for t in www.get("top", [])}
    exact = all(abs(got[p]["queries"] - n) < 0.01 * n for p, _, n in MIX if p in got)
    check(status == 200 and not www["empty"] and set(got) == {p for p, *_ in MIX} and exact,
          f"GET /demand: every prefix counted exactly ({ {p: round(t['queries'], 2) for p, t in got.items()} })")
    located = all((got[p]["location"] is None) == (w is None) and
                  (w is None or abs(got[p]["location"]["lat"] - w[0]) < 0.01) for p, w, _ in MIX if p in got)
    check(located, "GET /demand: each prefix with its location (none for the database miss)")
    total = sum(n for *_, n in MIX)
    check(abs(www["queries"] - total) < 0.01 * total and www["rate"] > 0, f"the service's total is {total}")
    check(service(doc, "idle.example.test.")["empty"], "a service without queries: empty")
    status, metrics = 0, ""
    import urllib.request
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        metrics = r.read().decode()
    check('dnsd_demand_rate{service="www.example.test."}' in metrics and
          'dnsd_demand_site_rate{service="www.example.test.",site="ams"}' in metrics,
          "/metrics: demand per service and per site")

    # The what-if: ams down, worked out here from the coordinates.
    status, doc = http(base + "/simulate?down=ams&service=www.example.test.")
    sim = service(doc, "www.example.test.")
    now = {s: 0.0 for s in SITES}
    after = {s: 0.0 for s in SITES}
    moves = {}
    for prefix, where, n in MIX:
        a, b = nearest(where, SITES), nearest(where, ["nyc", "sin"])
        now[a] += n / total
        after[b] += n / total
        if a != b:
            moves.setdefault((a, b), set()).add(prefix)
    shares_ok = all(abs(s["share_now"] - now[s["site"]]) < 0.005 and abs(s["share_after"] - after[s["site"]]) < 0.005
                    for s in sim["sites"])
    check(status == 200 and shares_ok and len(doc["services"]) == 1,
          f"simulate down=ams: shares now {  {k: round(v, 3) for k, v in now.items()} } "
          f"and after { {k: round(v, 3) for k, v in after.items()} } as worked out from the coordinates")
    got_moves = {(m["from"], m["to"]): {p["prefix"] for p in m["top"]} for m in sim["moves"]}
    check(got_moves == moves, f"every moved prefix accounted for, to its second-nearest site: {got_moves}")
    check(sim["fallback"]["after"] == 0 and sim["no_answer"]["after"] == 0, "nothing gets the fallback")
    code, out = dnsdctl(cport, "simulate", "--down", "ams", "--service", "www.example.test.")
    check(code == 0 and "moves ams -> nyc" in out and "moves ams -> sin" in out and "10.0.1.0/24" in out,
          "dnsdctl simulate --down ams prints the moves with their prefixes")
    # Nothing changed.
    check(ask(port, "10.0.1.0/24") == [SITES["ams"][0]], "the simulation changed nothing: ams still answers")

    # Every site down: the fallback (all) gets everything.
    status, doc = http(base + "/simulate?down=ams,nyc&down=sin&service=www.example.test.")
    sim = service(doc, "www.example.test.")
    check(status == 200 and abs(sim["fallback"]["after"] - sim["rate"]) < 0.01 * sim["rate"] and
          abs(sim["no_answer"]["after"] - sim["rate"]) < 0.01 * sim["rate"] and sim["sites_up_after"] == 0,
          "every site forced down: the fallback decides all of the demand, and has nothing to answer with")
    code, out = dnsdctl(cport, "simulate", "--down", "ams", "--down", "nyc", "--down", "sin")
    check(code == 0 and "fallback: 0.000 ->" in out and "no answer: 0.000 ->" in out,
          "dnsdctl simulate with every site down prints the fallback")
    # Every site drained: drained sites still answer when nothing else can
    # (SPEC 3), so no fallback.
    status, doc = http(base + "/simulate?drain=ams,nyc,sin&service=www.example.test.")
    sim = service(doc, "www.example.test.")
    check(status == 200 and sim["fallback"]["after"] == 0 and sim["sites_up_after"] == 0 and
          abs(sum(s["share_after"] for s in sim["sites"]) - 1) < 0.01,
          "every site drained: still answered by the drained sites, no fallback")

    # Bad input: a 400 naming what is unknown.
    status, doc = http(base + "/simulate?down=ams&drain=nowhere&down=atlantis")
    check(status == 400 and "nowhere" in doc.get("error", "") and "atlantis" in doc["error"],
          f"unknown sites: 400 naming them ({doc.get('error')})")
    status, doc = http(base + "/simulate?service=nope.example.test.")
    check(status == 400 and "nope.example.test." in doc.get("error", ""), "unknown service: 400 naming it")
    code, out = dnsdctl(cport, "simulate", "--drain", "nowhere")
    check(code == 1 and "nowhere" in out, "dnsdctl simulate of an unknown site: refused, named")

    # Guards: capacity (nyc can take 1 q/s) and min_sites_up (2).
    token = os.path.join(work, "token")
    code, out = dnsdctl(cport, "--token-file", token, "drain", "ams")
    check(code == 1 and "capacity" in out and "moves ams -> nyc" in out,
          "drain ams refused: nyc past its capacity, with the simulation")
    check(ask(port, "10.0.1.0/24") == [SITES["ams"][0]], "refused: ams still answers")
    status, doc = http(base + "/sites/ams/override", "POST", {"state": "drain"}, token=TOKEN)
    check(status == 409 and doc.get("breaches") and "simulation" in doc, "POST override: 409 with the simulation")
    code, out = dnsdctl(cport, "--token-file", token, "drain", "ams", "--force")
    check(code == 0 and "forced" in out, "drain ams --force: done")
    check(ask(port, "10.0.1.0/24") == [SITES["nyc"][0]], "forced: Frankfurt now gets nyc")
    status, doc = http(base + "/sites/sin/override", "POST", {"state": "down"}, token=TOKEN)
    check(status == 409 and "min_sites_up" in doc.get("error", ""), f"down sin too: below min_sites_up, 409")
    status, doc = http(base + "/sites/sin/override", "POST", {"state": "down", "force": True}, token=TOKEN)
    check(status == 200 and doc.get("forced"), "down sin with \"force\": true: done")
    for s in ("ams", "sin"):
        http(base + f"/sites/{s}/override", "POST", {"state": "auto"}, token=TOKEN)
    time.sleep(1)
    with open(os.path.join(work, "dnsd.log")) as f:
        log = f.read()
    check("FORCED past the guards" in log, "the forced override is logged as forced")
    alerts = open(os.path.join(work, "alerts.log")).read() if os.path.exists(os.path.join(work, "alerts.log")) else ""
    check("forced past the guards" in alerts, "and alerted as forced")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    ap.add_argument("--geo-data", required=True, help="where tests/geo/make_mmdb.pl wrote the test databases")
    args = ap.parse_args()
    db = os.path.abspath(os.path.join(args.geo_data, "city.mmdb"))
    if not os.path.exists(db):
        print(f"FAIL: missing {db} (the ctest fixture geo_data builds it)")
        return 1
    work = tempfile.mkdtemp(prefix="dnsd-demand-")
    port, cport = dnsclient.free_port(), dnsclient.free_port()
    with open(os.path.join(work, "token"), "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(os.path.join(work, "token"), 0o600)
    with open(os.path.join(work, "example.test.zone"), "w") as f:
        f.write(dnsclient.SMALL_ZONE)
    sites = "".join(f'[sites.{s}]\naddresses = ["{a}"]\nlocation = {{ lat = {la}, lon = {lo} }}\n'
                    + ("capacity = 1\n" if s == "nyc" else "") for s, (a, la, lo) in SITES.items())
    with open(os.path.join(work, "dnsd.toml"), "w") as f:
        f.write(CONFIG.format(port=port, cport=cport, db=db, sites=sites))
    proc = subprocess.Popen([args.dnsd, "run", "-c", "dnsd.toml"], cwd=work,
                            stdout=open(os.path.join(work, "dnsd.log"), "w"), stderr=subprocess.STDOUT)
    try:
        dnsclient.wait_for_dns(port, proc=proc)
        cases(port, cport, work)
    finally:
        dnsclient.stop(proc)
        dnsclient.remove_work(work)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
