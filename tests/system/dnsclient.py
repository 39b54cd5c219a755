"""Helpers shared by the system tests: free loopback ports, waiting for a
server to answer, and stopping the processes a test started (by PID, with a
bounded wait), a site's HTTP health endpoint, a webhook that records the
alert events it is sent, and requests to the control endpoint."""
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import dns.message
import dns.query

# The tests run dnsd as whoever runs them, root included (CI runs as root),
# on high loopback ports: it may stay root (see `dnsd --help`).
os.environ.setdefault("DNSD_ALLOW_ROOT", "1")

# Every system test's checks: one line each, and the failures for its exit code.
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def result():
    """The test's last line and exit code: 1 when a check failed."""
    print(f"{len(failures)} failures")
    return 1 if failures else 0


def remove_work(work, log="dnsd.log"):
    """Removes the test's work directory, first showing the end of the
    server's log in it when a check failed."""
    path = os.path.join(work, log)
    if failures and os.path.exists(path):
        with open(path) as f:
            print(f"--- {log}\n" + f.read()[-2000:])
    shutil.rmtree(work, ignore_errors=True)


# The smallest zone the system tests serve beside their services.
SMALL_ZONE = """$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
"""


def http_json(url, method="GET", body=None, token=None):
    """A control endpoint request with an optional JSON body and bearer
    token: (status, the decoded JSON reply)."""
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "{}")


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on `host` (checked by binding both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
            if port < 20000:
                continue
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found")


def nsd_conf(port, work, zone, server_extra=""):
    """An NSD configuration for a test: one server on 127.0.0.1@port with
    everything (pid, logs, transfer state) in `work`, no remote control, and
    `zone`, the body of its zone: clause."""
    return f"""server:
    ip-address: 127.0.0.1@{port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{work}"
    database: ""
    zonelistfile: "{work}/zone.list"
    xfrdfile: "{work}/xfrd.state"
    xfrdir: "{work}"
    pidfile: "{work}/nsd.pid"
    logfile: "{work}/nsd.log"
    verbosity: 1
    # Debian builds NSD with response rate limiting: off, or a test's
    # burst of queries from one address is answered with TC or dropped.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
{server_extra}remote-control:
    control-enable: no
zone:
{zone}"""


def write_secret(path, text):
    """A secret file as an operator should keep it: mode 0600."""
    if os.path.exists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def knot_conf(work, port, primary, secret, source=None, transfer_acl=False):
    """A Knot DNS configuration for a test: one server on 127.0.0.1@port
    with everything in `work`, secondary for example.test of dnsd on
    127.0.0.1@primary with the TSIG key xfr (hmac-sha256, `secret`),
    NOTIFY from it accepted when signed; requests to dnsd sent from
    `source` when given; with `transfer_acl`, example.test may be
    transferred from Knot by 127.0.0.1 without a key."""
    via = f"\n    via: {source}" if source else ""
    transfer = "\n  - id: transfer_to_test\n    address: 127.0.0.1\n    action: transfer" if transfer_acl else ""
    acl = "[notify_from_primary, transfer_to_test]" if transfer_acl else "notify_from_primary"
    return f"""server:
    listen: 127.0.0.1@{port}
    rundir: {work}
database:
    storage: {work}/knot-db
key:
  - id: xfr
    algorithm: hmac-sha256
    secret: {secret}
remote:
  - id: primary
    address: 127.0.0.1@{primary}{via}
    key: xfr
acl:
  - id: notify_from_primary
    address: 127.0.0.1
    key: xfr
    action: notify{transfer}
template:
  - id: default
    storage: {work}
    file: "knot-%s.zone"
zone:
  - domain: example.test
    master: primary
    acl: {acl}
log:
  - target: {work}/knot.log
    any: info
control:
    listen: {work}/knot.sock
"""


def seconds(t):
    """A wait_serial() result for a check's line."""
    return "never" if t is None else f"{t:.2f}s"


def loopback_aliases(*hosts):
    """True when every 127.x.y.z in `hosts` can be bound (Linux routes all of
    127.0.0.0/8 to lo); otherwise prints why the test is skipped."""
    try:
        for host in hosts:
            socket.create_server((host, 0)).close()
        return True
    except OSError:
        print(f"SKIP: cannot bind {', '.join(hosts)} (loopback is only 127.0.0.1 here)")
        return False


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def wait_for_dns(port, host="127.0.0.1", proc=None, name="version.bind.", rdclass="CH",
                 timeout=15.0):
    """Waits until something answers a query on host:port over UDP and TCP.
    Raises when `proc` exits first or the time is up."""
    deadline = time.monotonic() + timeout
    query = dns.message.make_query(name, "TXT", rdclass=rdclass)
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            dns.query.udp(query, host, port=port, timeout=0.3)
            dns.query.tcp(query, host, port=port, timeout=0.3)
            return
        except Exception as e:  # not up yet
            last = e
            time.sleep(0.05)
    raise RuntimeError(f"no answer on {host}:{port} within {timeout}s: {last}")


def addresses(port, name="www.example.test.", rdtype="A"):
    """The addresses dnsd on 127.0.0.1:`port` answers for `name`, sorted."""
    r = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=2)
    return sorted(rr.address for rrset in r.answer for rr in rrset if rrset.rdtype == r.question[0].rdtype)


def serial(port, zone="example.test."):
    """The SOA serial the server on 127.0.0.1:`port` answers for `zone`;
    None while it does not answer (a secondary before its first transfer)."""
    try:
        r = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=port, timeout=1)
    except Exception:  # not serving yet
        return None
    return r.answer[0][0].serial if r.answer else None


def wait_serial(port, want, limit, zone="example.test."):
    """Seconds until `zone`'s serial on `port` is `want`, or None after
    `limit` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if serial(port, zone) == want:
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


def wait_for_addresses(port, want, limit, name="www.example.test."):
    """Seconds until the A answer for `name` is `want` (sorted), or None
    after `limit` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if addresses(port, name) == want:
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def stop(proc, sig=signal.SIGTERM, timeout=10.0):
    """Stops a process the test started; returns its exit code. Kills it
    when it has not stopped within `timeout` seconds."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    return proc.returncode


def nsd_binary():
    """Debian's nsd, or None (a test that needs it then skips)."""
    return shutil.which("nsd") or ("/usr/sbin/nsd" if os.path.exists("/usr/sbin/nsd") else None)


def show_tails(work, names):
    """Prints the end of each file of `names` in `work` that has anything in it."""
    for name in names:
        path = os.path.join(work, name)
        if os.path.exists(path):
            with open(path) as f:
                tail = f.read()[-2000:]
            if tail.strip():
                print(f"--- {name}\n{tail}")


def send(wire, port, tcp, timeout=3.0):
    """Sends raw query bytes; returns the reply's bytes (None on timeout)."""
    if tcp:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(len(wire).to_bytes(2, "big") + wire)
            head = b""
            while len(head) < 2:
                chunk = s.recv(2 - len(head))
                if not chunk:
                    return None
                head += chunk
            n = int.from_bytes(head, "big")
            data = b""
            while len(data) < n:
                chunk = s.recv(n - len(data))
                if not chunk:
                    return None
                data += chunk
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(wire, ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                return None
    return data


def start_group(cmd, log_path):
    """Starts `cmd` in a process group of its own (NSD forks), output to `log_path`."""
    log = open(log_path, "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_group(proc):
    """NSD forks; stop the whole process group we started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


class Listener:
    """One site's health endpoint; its behaviour is switched by the test."""

    def __init__(self, host, port, context=None):
        self.host, self.port, self.context = host, port, context
        self.mode = "ok"  # ok | 503 | body | hang
        self.hosts = []  # the Host header of each request
        self.server = None
        self.thread = None

    def start(self):
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                listener.hosts.append(self.headers.get("Host"))
                mode = listener.mode
                if mode == "hang":
                    time.sleep(3)
                    return
                status, body = (503, b"ok") if mode == "503" else (200, b"nope" if mode == "body" else b"ok")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        if self.context:
            self.server.socket = self.context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Webhook:
    """Records the JSON events POSTed to it."""

    def __init__(self, port):
        self.events = []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    hook.events.append(json.loads(body))
                except ValueError:
                    hook.events.append({"unparsable": body.decode(errors="replace")})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def find(self, **fields):
        return [e for e in list(self.events) if all(e.get(k) == v for k, v in fields.items())]

    def wait(self, limit, **fields):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.find(**fields):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def metrics_contract(text, cluster):
    """What in a /metrics text differs from the README's table of metrics
    (SPEC 6: names and labels are a contract): every metric listed there
    is exposed with its type (the [cluster] ones when `cluster`), nothing
    else is, and every sample carries exactly its listed labels. Returns
    the problems, empty when none."""
    import re
    readme = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "README.md")
    listed = {}
    with open(readme) as f:
        for line in f:
            m = re.match(r"\| `(dnsd_[a-z_]+)` \| (\w+) \| ([^|]*)\|", line)
            if m:
                labels = set(re.findall(r"`([a-z_]+)`", m.group(3)))
                listed[m.group(1)] = (m.group(2), labels)
    problems = []
    if len(listed) < 10:
        problems.append(f"README lists only {len(listed)} metrics")
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    for name, (kind, _) in listed.items():
        if name not in types and (cluster or not name.startswith("dnsd_cluster_")):
            problems.append(f"{name}: in the README, not exposed")
        elif name in types and types[name] != kind:
            problems.append(f"{name}: {types[name]}, the README says {kind}")
    for name in types:
        if name not in listed:
            problems.append(f"{name}: exposed, not in the README")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-z_]+)(?:\{(.*)\})? \S+$", line)
        if not m:
            problems.append(f"not a sample line: {line}")
            continue
        name, labels = m.group(1), set(re.findall(r'([a-z_]+)="', m.group(2) or ""))
        base = re.sub(r"_(bucket|sum|count)$", "", name) if name not in listed else name
        want = set(listed.get(base, ("", set()))[1]) - {"le"}  # a histogram's buckets alone have `le`
        if name.endswith("_bucket") and base != name:
            want.add("le")
        if base not in listed:
            problems.append(f"{name}: a sample of no listed metric")
        elif labels != want:
            problems.append(f"{line}: labels {sorted(labels)}, the README says {sorted(want)}")
    return problems
