#!/usr/bin/python3
"""The control endpoint and dnsdctl with the real dnsd: /status, bearer
tokens (401 without, 403 wrong), overrides that change answers at once and
reach the state file, the explanation, reload (a bad config is refused and
the running one stays), and dnsdctl's exit codes."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import dns.edns
import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNSDCTL = os.path.join(REPO, "tools", "dnsdctl")
TOKEN = "a-test-token-0123456789"

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
state_file = "state.json"
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
[[zone]]
origin = "example.test."
file = "example.test.zone"
[sites.ams]
location = {{ lat = 52.37, lon = 4.90 }}
addresses = ["192.0.2.1"]
[sites.nyc]
location = {{ lat = 40.71, lon = -74.01 }}
addresses = ["192.0.2.2"]
[[service]]
name = "www.example.test."
sites = ["ams", "nyc"]
[[service]]
name = "near.example.test."
sites = ["ams", "nyc"]
policy = "nearest"
[[geo.networks]]
prefix = "10.1.0.0/16"
location = {{ lat = 52.37, lon = 4.90 }}
[[geo.networks]]
prefix = "10.2.0.0/16"
location = {{ lat = 40.71, lon = -74.01 }}
[[geo.networks]]
prefix = "2001:db8:2::/48"
location = {{ lat = 40.71, lon = -74.01 }}
"""

check, failures = dnsclient.check, dnsclient.failures


http = dnsclient.http_json


def ctl(cport, *args, token=True):
    cmd = [sys.executable, DNSDCTL, "--url", f"http://127.0.0.1:{cport}"]
    if token:
        cmd += ["--token-file", "token"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=80)


ANSWERED = {}  # answer -> how many times, to check the decision counters


def answer(port):
    r = dns.query.udp(dns.message.make_query("www.example.test.", "A"), "127.0.0.1", port=port, timeout=2)
    got = sorted(rr.address for rrset in r.answer for rr in rrset)
    ANSWERED[tuple(got)] = ANSWERED.get(tuple(got), 0) + 1
    return got


def saved_overrides(done, limit=3):
    """The state file's overrides once `done(overrides)` holds (or after
    `limit` seconds): it is written just after the new state is published."""
    saved, deadline = {}, time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with open("state.json") as f:
                saved = json.load(f).get("overrides", {})
            if done(saved):
                break
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.02)
    return saved


def explain_txt(port, ecs=None):
    """The CH TXT explanation of near.example.test, as dig would ask it."""
    options = [dns.edns.ECSOption(*ecs)] if ecs else []
    q = dns.message.make_query("near.example.test.", "TXT", rdclass="CH", use_edns=0, options=options)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return [b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset]


def explanation_cases(port, cport):
    """What the explanation says for several clients (SPEC 4)."""
    lines = explain_txt(port, ("10.1.2.0", 24))
    check("client 10.1.2.0/24 (ECS, from 127.0.0.1)" in lines and "location 52.37,4.90 (geo.networks, /16)" in lines
          and "A site ams: 1/1 up, override auto, 0 km: chosen" in lines
          and "A site nyc: 1/1 up, override auto, 5863 km: standby" in lines
          and "A answer: 192.0.2.1, ttl 30, ECS scope 16" in lines, f"explanation for an ECS client near ams: {lines}")
    lines = explain_txt(port, ("10.2.0.0", 16))
    check("client 10.2.0.0/16 (ECS, from 127.0.0.1)" in lines
          and "A site nyc: 1/1 up, override auto, 0 km: chosen" in lines
          and "A answer: 192.0.2.2, ttl 30, ECS scope 16" in lines, f"explanation for an ECS client near nyc: {lines}")
    lines = explain_txt(port)
    check("client 127.0.0.1 (source address)" in lines
          and "location unknown (not in geo.networks or the databases)" in lines
          and "A site ams: 1/1 up, override auto, distance unknown: chosen" in lines
          and "A answer: 192.0.2.1, ttl 30, ECS scope 0" in lines, f"explanation without ECS: {lines}")
    r = ctl(cport, "explain", "near.example.test", "--client", "2001:db8:2::1", "--type", "A")
    check(r.returncode == 0 and "client 2001:db8:2::1/128 (ECS, from 127.0.0.1)" in r.stdout
          and "location 40.71,-74.01 (geo.networks, /48)" in r.stdout and "A answer: 192.0.2.2" in r.stdout
          and "AAAA" not in r.stdout, "dnsdctl explain --client (IPv6) --type A: " + r.stdout.replace("\n", " | "))
    status, _ = http(f"http://127.0.0.1:{cport}/explain?name=near.example.test&type=MX")
    check(status == 400, "GET /explain with type=MX: 400")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dnsd-control-")
    proc = None
    try:
        port, cport = dnsclient.free_port(), dnsclient.free_port()
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        conf = os.path.join(work, "dnsd.toml")
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=port, cport=cport))
        proc = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", conf], cwd=work,
                                stdout=open(os.path.join(work, "dnsd.log"), "w"), stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)
        os.chdir(work)
        base = f"http://127.0.0.1:{cport}"

        status, doc = http(base + "/status")
        check(status == 200 and [s["name"] for s in doc["sites"]] == ["ams", "nyc"], "GET /status lists the sites")
        check(http(base + "/sites/ams/override", "POST", {"state": "down"})[0] == 401, "no token: 401")
        check(http(base + "/sites/ams/override", "POST", {"state": "down"}, token="wrong")[0] == 403,
              "wrong token: 403")
        check(http(base + "/sites/ams/override", "POST", {"state": "sideways"}, token=TOKEN)[0] == 400,
              "bad state: 400")
        check(answer(port) == ["192.0.2.1"], "ams answers")

        r = ctl(cport, "drain", "ams")
        check(r.returncode == 0 and "override drain" in r.stdout, "dnsdctl drain ams")
        check(answer(port) == ["192.0.2.2"], "a drained site is not answered while another is up")
        check(saved_overrides(lambda o: o == {"ams": "drain"}) == {"ams": "drain"},
              "the override reaches the state file")
        r = ctl(cport, "status")
        check(r.returncode == 0 and "drain" in r.stdout and "192.0.2.2" in r.stdout, "dnsdctl status shows it")
        with urllib.request.urlopen(base + "/", timeout=10) as page:
            html = page.read().decode()
            check(page.headers["Content-Type"].startswith("text/html") and "<svg" in html
                  and "<title>ams: drain</title>" in html and 'http-equiv="refresh"' in html
                  and "http://" not in html.replace(base, ""),
                  "GET / is a self-refreshing page with the sites plotted, no outside assets")
        r = ctl(cport, "explain", "www.example.test", "--type", "A")
        check(r.returncode == 0 and "A site ams: 1/1 up, override drain, distance unknown: drained" in r.stdout
              and "A answer: 192.0.2.2" in r.stdout and "AAAA" not in r.stdout, "dnsdctl explain")
        r = ctl(cport, "auto", "ams")
        check(r.returncode == 0 and answer(port) == ["192.0.2.1"], "dnsdctl auto ams: back")
        explanation_cases(port, cport)
        # An override for a while: it ends by itself, within a second of its time.
        r = ctl(cport, "drain", "ams", "--for", "2s")
        check(r.returncode == 0 and "override drain until" in r.stdout, "dnsdctl drain --for 2s")
        check(answer(port) == ["192.0.2.2"], "drained for now")
        saved = saved_overrides(lambda o: isinstance(o.get("ams"), dict)).get("ams", {})
        check(isinstance(saved, dict) and saved.get("state") == "drain" and saved.get("until", 0) > 0,
              "the state file keeps the end time")
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and answer(port) != ["192.0.2.1"]:
            time.sleep(0.1)
        check(answer(port) == ["192.0.2.1"], "the override expired by itself")
        check(http(base + "/sites/ams/override", "POST", {"state": "down", "until": 1000}, token=TOKEN)[0] == 400,
              "an end time in the past: 400")
        r = ctl(cport, "down", "nosuch")
        check(r.returncode == 1 and "no site named nosuch" in r.stderr, "unknown site: exit 1 with the reason")
        r = ctl(cport, "drain", "ams", token=False)
        check(r.returncode == 2, "no token file: exit 2")

        r = ctl(cport, "reload")
        check(r.returncode == 0 and "reloaded" in r.stdout, "dnsdctl reload")
        with open(conf, "a") as f:
            f.write("[sites.broken]\n")
        r = ctl(cport, "reload")
        check(r.returncode == 1 and "sites.broken: has neither addresses nor cname" in r.stderr
              and "still serving the previous configuration" in r.stderr, "a bad reload is refused, with the error")
        check(answer(port) == ["192.0.2.1"], "the running configuration stays")
        with urllib.request.urlopen(base + "/metrics", timeout=10) as page:
            text = page.read().decode()
        lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        problems = dnsclient.metrics_contract(text, cluster=False)
        check(not problems, f"/metrics: exactly the metrics and labels the README lists {problems[:5]}")
        check('dnsd_build_info{version="0.1.0"}' in lines, "/metrics: build info")
        queries = 'dnsd_queries_total{zone="example.test.",type="A",rcode="NOERROR",transport="udp"}'
        check(int(lines.get(queries, 0)) >= 4,  # the answer() calls above
              "/metrics: queries by zone, type, rcode and transport")
        check(lines.get('dnsd_site_override{site="ams",override="auto"}') == "1"
              and lines.get('dnsd_address_up{site="nyc",address="192.0.2.2"}') == "1", "/metrics: sites and addresses")
        # Counted per view and kept across the reload above.
        ams, nyc = ANSWERED.get(("192.0.2.1",), 0), ANSWERED.get(("192.0.2.2",), 0)
        svc = 'service="www.example.test.",outcome="site"'
        check(int(lines.get(f'dnsd_decisions_total{{{svc},site="ams"}}', 0)) == ams
              and int(lines.get(f'dnsd_decisions_total{{{svc},site="nyc"}}', 0)) == nyc and ams > 0 and nyc > 0,
              f"/metrics: steering decisions by service and site ({ams} ams, {nyc} nyc)")
        check(int(lines.get(queries, 0)) >= ams + nyc, "/metrics: the zone's A queries, kept across the reload")
        check(lines.get('dnsd_reloads_total{outcome="ok"}') == "1"
              and lines.get('dnsd_reloads_total{outcome="failed"}') == "1", "/metrics: reloads by outcome")
        dnsclient.stop(proc)
        proc = None
        r = ctl(cport, "status")
        check(r.returncode == 3 and "cannot reach" in r.stderr, "server gone: exit 3")
    finally:
        if proc:
            dnsclient.stop(proc)
        if failures:
            with open(os.path.join(work, "dnsd.log")) as f:
                print("--- dnsd.log\n" + f.read()[-2000:])
        os.chdir(REPO)
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
