#!/usr/bin/python3
"""Spill-over with the real dnsd (SPEC 10): three sites of a `nearest`
service (ams, fra, lon), each with a `load` URL served here, and 120 client
networks around them ([[geo.networks]], which are also the reference
distribution dnsd cuts by). Every network is queried with ECS: at a load up
to spill_at nothing moves; at 0.9 half of ams's networks move (to one
network), each to its next-nearest site, every one moved with less extra
distance (computed here, apart from dnsd) than every one kept; at 1.0 all of
them move; a second instance with the same configuration sheds the same
networks, and so does a third that cannot read ams's load itself but is in
a [cluster] with the first, whose reading it uses; an unreadable load moves nothing and is shown as unreadable in
/status and /metrics; the CH TXT explanation says what happened; and
`dnsdctl simulate --load ams=0.9` (GET /simulate?load=ams=0.9), run over
the demand the queries made while ams was at 0.5, moves the networks, and
the share, that the load then moves."""
import argparse
import http.server
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import dns.edns
import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

TOKEN = "a-spill-token-0123456789"
SITES = {"ams": ("192.0.2.1", 52.37, 4.90), "fra": ("192.0.2.2", 50.11, 8.68),
         "lon": ("192.0.2.3", 51.51, -0.13)}
# 120 client networks on a grid over the Low Countries, the Rhineland and
# southern England.
NETWORKS = [(f"10.0.{i}.0", 49.0 + (i % 12) * 0.5, -2.0 + (i // 12) * 1.2) for i in range(120)]

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 2
explain_allow = ["127.0.0.1"]
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
[[zone]]
origin = "example.test."
file = "example.test.zone"
{sites}
[[service]]
name = "www.example.test."
sites = ["ams", "fra", "lon"]
policy = "nearest"
spill_at = 0.8
ttl = 20
{networks}
"""

check, failures = dnsclient.check, dnsclient.failures


def km(lat1, lon1, lat2, lon2):
    r = math.pi / 180
    a = (math.sin((lat2 - lat1) * r / 2) ** 2 +
         math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin((lon2 - lon1) * r / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def ranked(lat, lon):
    """The sites by distance from (lat, lon), with the distances."""
    return sorted(((km(lat, lon, s[1], s[2]), name) for name, s in SITES.items()))


class Loads:
    """The sites' load URLs: GET /NAME answers what `values` says."""

    def __init__(self):
        self.values = {name: "0.5" for name in SITES}
        loads = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                body = loads.values.get(self.path.strip("/"), "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # The sites' TCP probes connect here and reset: not an error.
        self.server.handle_error = lambda request, address: None
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def ask(port, net, rdtype="A", rdclass="IN"):
    q = dns.message.make_query("www.example.test.", rdtype, rdclass=rdclass, use_edns=0,
                               options=[dns.edns.ECSOption(net, 24)])
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    scope = next((o.scopelen for o in r.options if isinstance(o, dns.edns.ECSOption)), None)
    if rdclass == "CH":
        return [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset], scope
    return [rr.address for rrset in r.answer for rr in rrset], scope


def sites_now(port):
    """Each network's site, and the ECS scopes seen."""
    by_address = {s[0]: name for name, s in SITES.items()}
    out, scopes = {}, set()
    for net, _, _ in NETWORKS:
        addresses, scope = ask(port, net)
        out[net] = by_address.get(addresses[0]) if len(addresses) == 1 else None
        scopes.add(scope)
    return out, scopes


def status(cport):
    code, doc = dnsclient.http_json(f"http://127.0.0.1:{cport}/status")
    return doc if code == 200 else {}


def wait_for(cport, what, limit=10.0):
    """Waits until `what(status)` holds; True when it did."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if what(status(cport)):
            return True
        time.sleep(0.1)
    return False


def metrics(cport):
    with urllib.request.urlopen(f"http://127.0.0.1:{cport}/metrics", timeout=10) as r:
        return r.read().decode()


def site_load(doc, name):
    return next((s.get("load", {}) for s in doc.get("sites", []) if s["name"] == name), {})


def start(dnsd, work, name, port, cport, lport, procs, cluster="", ams_path="ams"):
    """An instance; with `cluster`, that [cluster] section, and ams's load
    read from `ams_path`."""
    sites = "".join(
        f'[sites.{s}]\naddresses = ["{a}"]\nlocation = {{ lat = {lat}, lon = {lon} }}\n'
        f'load = "http://127.0.0.1:{lport}/{ams_path if s == "ams" else s}"\n'
        # Probed (at the loopback, through probe_targets) so that the load
        # is read every 250 ms, at the probe's interval.
        f'probe = {{ type = "tcp", port = {lport}, interval = "250ms", timeout = "200ms" }}\n'
        f'probe_targets = {{ "{a}" = "127.0.0.1" }}\n'
        for s, (a, lat, lon) in SITES.items())
    networks = "".join(f'[[geo.networks]]\nprefix = "{net}/24"\nlocation = {{ lat = {lat}, lon = {lon} }}\n'
                       for net, lat, lon in NETWORKS)
    conf = os.path.join(work, name + ".toml")
    with open(conf, "w") as f:
        f.write(CONFIG.format(port=port, cport=cport, sites=sites, networks=networks) + cluster)
    proc = subprocess.Popen([dnsd, "run", "-c", conf], cwd=work, stdout=open(os.path.join(work, name + ".log"), "w"),
                            stderr=subprocess.STDOUT)
    procs.append(proc)
    dnsclient.wait_for_dns(port, proc=proc)


def cluster(peer_cport):
    return (f'[cluster]\npeers = ["http://127.0.0.1:{peer_cport}"]\nquorum = 1\ntoken_file = "peer-token"\n'
            'interval = "250ms"\n')


def cases(one, two, three, cone, ctwo, cthree, loads):
    nearest = {net: ranked(lat, lon)[0][1] for net, lat, lon in NETWORKS}
    ams_nets = [net for net in nearest if nearest[net] == "ams"]
    extra = {net: ranked(lat, lon)[1][0] - ranked(lat, lon)[0][0] for net, lat, lon in NETWORKS}
    following = {net: ranked(lat, lon)[1][1] for net, lat, lon in NETWORKS}
    print(f"     nearest: { {s: list(nearest.values()).count(s) for s in SITES} }")
    check(len(ams_nets) >= 20, f"ams is the nearest site of {len(ams_nets)} networks")

    # 1. Loads at 0.5: every network at its nearest site, scope 24.
    check(wait_for(cone, lambda d: site_load(d, "ams").get("value") == 0.5),
          "/status shows ams's load 0.5 once read")
    got, scopes = sites_now(one)
    check(got == nearest, "at load 0.5 every network gets its nearest site")
    check(scopes == {24}, f"ECS scope 24 (seen {scopes})")

    # The what-if (dnsdctl simulate --load ams=0.9) over the demand those
    # queries made: what it says moves is what moves below.
    # Workers hand over their counts within a second or two.
    check(wait_for(cone, lambda d: not dnsclient.http_json(f"http://127.0.0.1:{cone}/demand")[1]
                   ["services"][0]["empty"]), "the queries are counted as demand")
    code, sim = dnsclient.http_json(f"http://127.0.0.1:{cone}/simulate?load=ams%3D0.9")
    check(code == 200, f"GET /simulate?load=ams=0.9 ({code})")
    svc = sim.get("services", [{}])[0]
    ams_now = next((t["now"] for t in svc.get("sites", []) if t["site"] == "ams"), 0)
    sim_moves = [m for m in svc.get("moves", []) if m["from"] == "ams"]
    sim_share = sum(m["rate"] for m in sim_moves) / ams_now if ams_now else -1
    sim_prefixes = {p["prefix"].split("/")[0]: m["to"] for m in sim_moves for p in m["top"]}
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "dnsdctl")
    out = subprocess.run([sys.executable, tool, "--url", f"http://127.0.0.1:{cone}", "simulate", "--load", "ams=0.9"],
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0 and re.search(r"moves ams -> (fra|lon)", out.stdout),
          "dnsdctl simulate --load ams=0.9 prints the moves")
    code, _ = dnsclient.http_json(f"http://127.0.0.1:{cone}/simulate?load=ams%3D2")
    check(code == 400, "a load above 1 in a simulation is refused")
    check(all(got[net] == "ams" for net in ams_nets), "the simulation changed nothing")

    # 2. ams at 0.9, spill_at 0.8: it keeps half.
    loads.values["ams"] = "0.9"
    for cport in (cone, ctwo):
        check(wait_for(cport, lambda d: any(x["site"] == "ams" for x in d["services"][0].get("spilling", []))),
              "/status shows ams spilling")
    got, scopes = sites_now(one)
    moved = [net for net in ams_nets if got[net] != "ams"]
    kept = [net for net in ams_nets if got[net] == "ams"]
    print(f"     at 0.9: {len(moved)} of ams's {len(ams_nets)} networks moved")
    check(all(got[net] == nearest[net] for net in nearest if nearest[net] != "ams"),
          "the other sites' networks stay where they are")
    check(abs(len(moved) - len(ams_nets) / 2) <= 1, "half of ams's networks move (to one network)")
    check(all(got[net] == following[net] for net in moved), "each to its next-nearest site")
    check(moved and kept and max(extra[n] for n in moved) < min(extra[n] for n in kept),
          "every network moved has less extra distance than every one kept")
    check(scopes == {24}, "a shed answer's ECS scope is the network's (24)")
    check(abs(sim_share - len(moved) / len(ams_nets)) < 0.03,
          f"simulate --load ams=0.9 moved {sim_share:.2f} of ams's demand, as many as moved")
    check(sim_prefixes and all(got.get(net) == to for net, to in sim_prefixes.items()),
          "each network the simulation moved moved there")
    check(sites_now(two)[0] == got, "a second instance sheds the same networks")
    # The third cannot read ams's load itself; its peer's reading counts.
    check(site_load(status(cthree), "ams").get("state") == "unreadable", "the third instance cannot read ams's load")
    check(wait_for(cthree, lambda d: any(x["site"] == "ams" for x in d["services"][0].get("spilling", []))),
          "the third instance spills by its peer's reading")
    check(sites_now(three)[0] == got, "and sheds the same networks")
    lines, _ = ask(one, moved[0], "TXT", "CH")
    check(any(re.fullmatch(r"A site ams load 0\.90 above 0\.80: keeps 50 %; this client sheds "
                           r"\(\+\d+ km to (fra|lon)\)", line) for line in lines),
          "CH TXT: the client sheds, and how much farther it goes")
    lines, _ = ask(one, kept[0], "TXT", "CH")
    check(any(line.startswith("A site ams load 0.90 above 0.80: keeps 50 %; this client stays") for line in lines),
          "CH TXT: a client kept")
    text = metrics(cone)
    check('dnsd_site_load{site="ams"} 0.9' in text, "/metrics: the load")
    check('dnsd_service_shed_ratio{service="www.example.test.",site="ams",family="ipv4"} 0.5' in text,
          "/metrics: the share shed")

    # 3. At 1.0 every ams network moves.
    loads.values["ams"] = "1"
    check(wait_for(cone, lambda d: site_load(d, "ams").get("value") == 1), "ams's load 1.0 read")
    got, _ = sites_now(one)
    check(all(got[net] == following[net] for net in ams_nets), "at 1.0 all of ams's networks move")

    # 4. An unreadable load counts as not overloaded, and is shown so.
    loads.values["ams"] = "{\"busy\": true}"
    check(wait_for(cone, lambda d: site_load(d, "ams").get("state") == "unreadable"),
          "/status: ams's load unreadable")
    got, _ = sites_now(one)
    check(got == nearest, "an unreadable load moves nothing")
    check('dnsd_site_load_readable{site="ams"} 0' in metrics(cone),
          "/metrics: ams's load unreadable")
    lines, _ = ask(one, ams_nets[0], "TXT", "CH")
    check(any("load unknown" in line and "counts as not overloaded" in line for line in lines),
          "CH TXT: the load is unknown")

    # 5. Back to spill_at exactly: nothing moves.
    loads.values["ams"] = "0.8"
    check(wait_for(cone, lambda d: site_load(d, "ams").get("value") == 0.8), "ams's load 0.8 read")
    check(sites_now(one)[0] == nearest, "at spill_at nothing moves")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    work = tempfile.mkdtemp(prefix="dnsd-spill-")
    procs = []
    loads = Loads()
    try:
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        with open(os.path.join(work, "peer-token"), "w") as f:
            f.write("a-peer-token-0123456789\n")
        one, cone = dnsclient.free_port(), dnsclient.free_port()
        two, ctwo = dnsclient.free_port(), dnsclient.free_port()
        three, cthree = dnsclient.free_port(), dnsclient.free_port()
        start(dnsd, work, "one", one, cone, loads.port, procs, cluster(cthree))
        start(dnsd, work, "two", two, ctwo, loads.port, procs)
        # In a [cluster] with the first, its ams load URL broken.
        start(dnsd, work, "three", three, cthree, loads.port, procs, cluster(cone), "nothing-here")
        cases(one, two, three, cone, ctwo, cthree, loads)
    finally:
        for proc in procs:
            dnsclient.stop(proc)
        loads.stop()
        if failures:
            dnsclient.show_tails(work, ["one.log", "two.log", "three.log"])
        dnsclient.remove_work(work, "one.log")
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
