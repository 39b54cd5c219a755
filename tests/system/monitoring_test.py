#!/usr/bin/python3
"""The monitoring examples (examples/monitoring) against the real dnsd: the
alerting rules pass `promtool check rules` and their unit tests; every metric
the rules and the Grafana dashboard name is one a running dnsd exports (with
a probe, a service, a [cluster] whose peer is down, a site's load and a
service that spills, so that every family is there), with labels it has; and dnsd_probe_interval_seconds carries the
configured interval. promtool missing is a failure, not a skip."""
import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples", "monitoring")
RULES = os.path.join(EXAMPLES, "dnsd.rules.yml")
RULE_TESTS = os.path.join(EXAMPLES, "dnsd.rules.test.yml")
DASHBOARD = os.path.join(EXAMPLES, "grafana-dashboard.json")
TOKEN = "monitoring-test-token-0123456789"

# ams is probed (a TCP probe of dnsd's own DNS port) every 1.5 s; nyc is not.
# ams reports its load (0.42, from a server here); near.example.test spills.
CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
identity = "monitoring-test"
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
[cluster]
peers = ["http://127.0.0.1:{dead}"]
quorum = 2
token_file = "token"
interval = "250ms"
[[zone]]
origin = "example.test."
file = "example.test.zone"
[sites.ams]
addresses = ["127.0.0.1"]
probe = {{ type = "tcp", port = {port}, interval = "1500ms", timeout = "500ms" }}
location = {{ lat = 52.37, lon = 4.90 }}
load = "http://127.0.0.1:{lport}/"
[sites.nyc]
addresses = ["192.0.2.2"]
location = {{ lat = 40.71, lon = -74.01 }}
[[service]]
name = "www.example.test."
sites = ["ams", "nyc"]
failback = "30s"
[[service]]
name = "near.example.test."
sites = ["ams", "nyc"]
policy = "nearest"
spill_at = 0.8
"""

# What Prometheus adds to every scraped sample.
TARGET_LABELS = {"job", "instance"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

check, failures = dnsclient.check, dnsclient.failures


def rule_expressions():
    """Every `expr` of the rules file (YAML block scalars and plain lines)."""
    import yaml
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    return [(r.get("alert") or r.get("record"), r["expr"]) for g in doc["groups"] for r in g["rules"]]


def dashboard_expressions(doc):
    """Every target expression of the dashboard, rows' panels included, and
    the template variables' queries."""
    found = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                found.append((f"panel {p.get('title')!r}", t.get("expr", "")))
            walk(p.get("panels", []))

    walk(doc.get("panels", []))
    for v in doc.get("templating", {}).get("list", []):
        q = v.get("query")
        found.append((f"variable {v.get('name')!r}", q.get("query", "") if isinstance(q, dict) else q or ""))
    return found


def selectors(expr):
    """(metric name, label names matched) for each dnsd_ identifier of a
    PromQL expression. String literals are blanked first (a label value
    may say anything); Grafana's $variables stay inside them."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    out = []
    for m in re.finditer(r"(?<![A-Za-z0-9_:$])(dnsd_[A-Za-z0-9_:]*)\s*(\{[^}]*\})?", bare):
        labels = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(2) or ""))
        out.append((m.group(1), labels))
    return out


def exported(text):
    """From a /metrics text: each family's type, and the label names seen on
    each sample name (histograms: on _bucket, _sum and _count)."""
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    labels = {}
    for line in text.splitlines():
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? \S+$", line)
        if m and not line.startswith("#"):
            labels.setdefault(m.group(1), set()).update(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="', m.group(2) or ""))
    return types, labels


def problems_of(where, expr, types, labels):
    """What in one expression names no metric dnsd exports (or a label its
    samples do not have)."""
    problems = []
    names = selectors(expr)
    if not names and not expr.strip().startswith("up"):
        problems.append(f"{where}: names no dnsd metric: {expr}")
    for name, matched in names:
        base = next((name[:-len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s)), None)
        if name in types:
            if types[name] == "histogram":
                problems.append(f"{where}: {name} is a histogram: use its _bucket, _sum or _count")
                continue
        elif not (base and types.get(base) == "histogram"):
            problems.append(f"{where}: {name} is not exported")
            continue
        have = labels.get(name)
        if have is None:
            problems.append(f"{where}: {name} has no samples")
            continue
        unknown = matched - have - TARGET_LABELS
        if unknown:
            problems.append(f"{where}: {name} has no label {sorted(unknown)}")
    return problems


def run_promtool(promtool, *args):
    r = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120, cwd=EXAMPLES)
    return r.returncode, (r.stdout + r.stderr).strip()


def scrape(cport):
    with urllib.request.urlopen(f"http://127.0.0.1:{cport}/metrics", timeout=10) as page:
        return page.read().decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    ap.add_argument("--promtool", default=shutil.which("promtool") or "/usr/bin/promtool")
    args = ap.parse_args()

    # The rules, by Prometheus's own tool.
    if not os.access(args.promtool, os.X_OK):
        check(False, f"promtool at {args.promtool} (Debian's prometheus package; tools/deps installs it)")
        return dnsclient.result()
    code, out = run_promtool(args.promtool, "check", "rules", RULES)
    check(code == 0 and "SUCCESS" in out, "promtool check rules: " + out.replace("\n", " | "))
    code, out = run_promtool(args.promtool, "test", "rules", RULE_TESTS)
    check(code == 0 and "SUCCESS" in out, "promtool test rules: " + out[-3000:].replace("\n", " | "))

    with open(DASHBOARD) as f:
        board = json.load(f)
    inputs = [i.get("name") for i in board.get("__inputs", [])]
    variables = [v.get("name") for v in board.get("templating", {}).get("list", [])]
    check("DS_PROMETHEUS" in inputs and "instance" in variables and 36 <= board.get("schemaVersion", 0) <= 41,
          f"dashboard: a DS_PROMETHEUS input, an instance variable, schemaVersion {board.get('schemaVersion')}")
    ids = []

    def panel_ids(panels):
        for p in panels:
            ids.append(p.get("id"))
            if p.get("type") != "row":
                check(p.get("datasource", {}).get("uid") == "${DS_PROMETHEUS}"
                      and all(t.get("datasource", {}).get("uid") == "${DS_PROMETHEUS}" for t in p.get("targets", []))
                      and p.get("targets"), f"dashboard: panel {p.get('title')!r} queries ${{DS_PROMETHEUS}}")
            panel_ids(p.get("panels", []))

    panel_ids(board.get("panels", []))
    check(len(ids) == len(set(ids)), "dashboard: panel ids are unique")

    work = tempfile.mkdtemp(prefix="dnsd-monitoring-")
    proc = None

    class Load(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"0.42")

        def log_message(self, *args):
            pass

    load = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Load)
    load.daemon_threads = True
    threading.Thread(target=load.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        port, cport, dead = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        conf = os.path.join(work, "dnsd.toml")
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=port, cport=cport, dead=dead, lport=load.server_address[1]))
        proc = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", conf], cwd=work,
                                stdout=open(os.path.join(work, "dnsd.log"), "w"), stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)
        # A steered answer (decisions), a reload (reloads); then wait for a
        # probe result (the histogram) and the dead peer's first failure.
        dns.query.udp(dns.message.make_query("www.example.test.", "A"), "127.0.0.1", port=port, timeout=2)
        status, _ = dnsclient.http_json(f"http://127.0.0.1:{cport}/reload", "POST", token=TOKEN)
        check(status == 200, f"POST /reload: {status}")
        deadline = time.monotonic() + 20
        text = scrape(cport)
        while time.monotonic() < deadline and not (
                "dnsd_probe_duration_seconds_count{" in text and 'dnsd_cluster_peer_up{peer="' in text
                and "dnsd_decisions_total{" in text and "dnsd_site_load{" in text):
            time.sleep(0.2)
            text = scrape(cport)
        problems = dnsclient.metrics_contract(text, cluster=True)
        check(not problems, f"/metrics: exactly the README's metrics and labels {problems[:5]}")
        types, labels = exported(text)
        families = {n for n in types if n.startswith("dnsd_")}
        with_samples = {n for n in families
                        if n in labels or any(n + s in labels for s in HISTOGRAM_SUFFIXES)}
        check(families == with_samples, f"/metrics: every family has samples (none: {sorted(families - with_samples)})")

        lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        interval = lines.get('dnsd_probe_interval_seconds{site="ams"}')
        check(interval is not None and float(interval) == 1.5,
              f"dnsd_probe_interval_seconds of the probed site: {interval}, configured 1500ms")
        check(not any(k.startswith('dnsd_probe_interval_seconds{site="nyc"') for k in lines),
              "no dnsd_probe_interval_seconds for a site without a probe")

        # The checker itself can fail: a name dnsd does not export, a
        # histogram named bare and a label it does not have are each caught.
        check(problems_of("self-check", "rate(dnsd_no_such_total[5m])", types, labels)
              and problems_of("self-check", "dnsd_probe_duration_seconds", types, labels)
              and problems_of("self-check", 'dnsd_site_up{sites="x"}', types, labels)
              and not problems_of("self-check", 'x{job="dnsd_not_a_metric"} or dnsd_site_up', types, labels),
              "the name check catches unknown metrics and labels, and skips strings")

        rules = rule_expressions()
        check(len(rules) >= 6, f"the rules file has {len(rules)} rules")
        for where, expr in rules:
            bad = problems_of(f"rule {where}", expr, types, labels)
            check(not bad, f"rule {where}: names only what dnsd exports {bad}")
        named = set()
        for where, expr in dashboard_expressions(board):
            named.update(n for n, _ in selectors(expr))
            bad = problems_of(f"dashboard {where}", expr, types, labels)
            check(not bad, f"dashboard {where}: names only what dnsd exports {bad}")
        # Operators look at these first: the dashboard shows each family.
        shown = {next((n[:-len(s)] for s in HISTOGRAM_SUFFIXES if n.endswith(s) and n[:-len(s)] in types), n)
                 for n in named}
        check(families <= shown, f"the dashboard shows every family (not: {sorted(families - shown)})")
    finally:
        dnsclient.stop(proc)
        load.shutdown()
        load.server_close()
        dnsclient.remove_work(work)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
