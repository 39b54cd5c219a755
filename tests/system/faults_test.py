#!/usr/bin/python3
"""Faults, with the real dnsd on loopback:

1. Health endpoints that misbehave at the TCP level: one that accepts and
   never sends, one that resets (SO_LINGER 0), one that sends random bytes
   instead of HTTP (http probes), and a listener whose accept queue is full,
   so that connect() hangs (a tcp probe). Each takes the address down within
   interval x fall + timeout (plus slack), every query is answered meanwhile,
   and the address comes back when the listener behaves again.
2. The state file: garbage at start (a warning, and dnsd serves); a path
   that cannot be written after start (its directory replaced by a regular
   file, since chmod does not stop root) and a file size limit (RLIMIT_FSIZE,
   the stand-in for a full disk): dnsd keeps serving, overrides and failover
   still take effect, an error names the file, and the old file is intact.
3. A zone file rewritten without pause (truncate, then written in small
   chunks) while SIGHUP arrives every few milliseconds: each reload serves one
   complete version or fails naming the file and keeps the previous one;
   queries never fail and the served serial never goes back.
4. 200 SIGHUPs in about a second while queries run: none lost, the process
   lives, and the last configuration and zone written are the ones served.
5. A webhook that accepts and never reads nor answers (timeout 500ms):
   failover still happens on time, queries are answered, and SIGTERM stops
   dnsd within 5 s."""
import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

INTERVAL, TIMEOUT, RISE, FALL = 0.3, 0.25, 1, 2
WORST = INTERVAL * FALL + TIMEOUT
SLACK = 1.5  # scheduling on a shared machine; the measured figures are printed
BACK = RISE * INTERVAL + TIMEOUT  # a healthy listener again: up after rise passes
TOKEN = "faults-test-token-0123456789"
ZONE_BASE = 1000  # zone serials in cases 3 and 4: ZONE_BASE + the version's number

check, failures = dnsclient.check, dnsclient.failures


# ---- configuration ----------------------------------------------------------

SERVER = """[server]
listen = ["127.0.0.1:{port}"]
threads = 2
{state}
[[zone]]
origin = "example.test."
file = "{zone}"
"""

PROBES = f"""
[probes.web]
type = "http"
port = {{hport}}
path = "/health"
expect_body = "ok"
interval = "{int(INTERVAL * 1000)}ms"
timeout = "{int(TIMEOUT * 1000)}ms"
rise = {RISE}
fall = {FALL}

[probes.conn]
type = "tcp"
port = {{tport}}
interval = "{int(INTERVAL * 1000)}ms"
timeout = "{int(TIMEOUT * 1000)}ms"
rise = {RISE}
fall = {FALL}
"""

# Site a: an http probe against 127.0.0.2; b: a tcp probe against 127.0.0.3;
# c: no probe (always up), the failover target of both services.
SITES = """
[sites.a]
addresses = ["127.0.0.2"]
probe = "web"

[sites.b]
addresses = ["127.0.0.3"]
probe = "conn"

[sites.c]
addresses = ["127.0.0.4"]

[[service]]
name = "www.example.test."
sites = ["a", "c"]
policy = "failover"
ttl = {ttl}

[[service]]
name = "tcp.example.test."
sites = ["b", "c"]
policy = "failover"
ttl = {ttl}
"""

CONTROL = """
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
"""

WEBHOOK = """
[[alert]]
type = "webhook"
url = "http://127.0.0.1:{wport}/events"
timeout = "500ms"
"""

A, B, C = ["127.0.0.2"], ["127.0.0.3"], ["127.0.0.4"]


def config(port, hport, tport, state="", zone="example.test.zone", ttl=5, extra=""):
    return (SERVER.format(port=port, state=f'state_file = "{state}"\n' if state else "", zone=zone)
            + PROBES.format(hport=hport, tport=tport) + SITES.format(ttl=ttl) + extra)


def write_atomically(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


# ---- processes --------------------------------------------------------------

class Dnsd:
    """One dnsd started by the test; its log is a file of its own. With
    `fsize`, it runs under RLIMIT_FSIZE (SIGXFSZ ignored, so that writes fail
    with EFBIG instead of killing it); its stderr then goes through a pipe,
    which the limit does not cover, to the log file."""

    def __init__(self, dnsd, work, name, port, fsize=None):
        self.log_path = os.path.join(work, f"dnsd-{name}.log")
        self.port = port
        self.copier = None
        argv = [dnsd, "run", "-c", os.path.join(work, f"{name}.toml")]
        log = open(self.log_path, "w")
        if fsize is None:
            self.proc = subprocess.Popen(argv, cwd=work, stdout=log, stderr=subprocess.STDOUT)
            log.close()
        else:
            # A small exec wrapper: the PID stays dnsd's after execv.
            wrapper = ("import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                       f"resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize})); "
                       "os.execv(sys.argv[1], sys.argv[1:])")
            self.proc = subprocess.Popen([sys.executable, "-c", wrapper] + argv, cwd=work,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

            def copy():
                with log:
                    for line in self.proc.stdout:
                        log.write(line.decode(errors="replace"))
                        log.flush()

            self.copier = threading.Thread(target=copy, daemon=True)
            self.copier.start()
        dnsclient.wait_for_dns(port, proc=self.proc)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        code = dnsclient.stop(self.proc)
        if self.copier:
            self.copier.join(timeout=5)
            self.proc.stdout.close()
        return code


class Client:
    """Queries one dnsd over UDP and counts what went wrong: timeouts
    (lost), other rcodes than NOERROR (bad). Shared by a background loop and
    the test's own polling."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.sent = self.lost = 0
        self.bad = []
        self.slowest = 0.0

    def ask(self, name, rdtype="A"):
        q = dns.message.make_query(name, rdtype)
        t0 = time.monotonic()
        try:
            r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=1)
        except dns.exception.Timeout:
            with self.lock:
                self.sent += 1
                self.lost += 1
            return None
        with self.lock:
            self.sent += 1
            self.slowest = max(self.slowest, time.monotonic() - t0)
            if r.rcode() != dns.rcode.NOERROR:
                self.bad.append(f"{name} {rdtype}: {dns.rcode.to_text(r.rcode())}")
                return None
        return r

    def a(self, name="www.example.test."):
        r = self.ask(name)
        if r is None:
            return None
        return sorted(rr.address for rrset in r.answer for rr in rrset if rrset.rdtype == dns.rdatatype.A)

    def wait_for(self, want, limit, name="www.example.test."):
        """Seconds until `name` answers `want`, or None after `limit`."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            if self.a(name) == want:
                return time.monotonic() - t0
            time.sleep(0.02)
        return None

    def summary(self):
        return f"{self.sent} queries, {self.lost} lost, {len(self.bad)} bad, slowest {self.slowest * 1000:.0f}ms"


class Loop:
    """Asks `names` in turn without pause until stopped; `verify(name,
    reply)` returns an error text for a wrong reply (None when right)."""

    def __init__(self, client, names, verify):
        self.client, self.names, self.verify = client, names, verify
        self.wrong = []
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        i = 0
        while self.running:
            name, rdtype = self.names[i % len(self.names)]
            i += 1
            r = self.client.ask(name, rdtype)
            if r is not None:
                error = self.verify(name, r)
                if error:
                    self.wrong.append(error)
            time.sleep(0.002)

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)


def a_verify(allowed):
    def verify(name, r):
        got = sorted(rr.address for rrset in r.answer for rr in rrset if rrset.rdtype == dns.rdatatype.A)
        return None if got in allowed.get(name, [got]) else f"{name}: {got}"
    return verify


# ---- misbehaving listeners --------------------------------------------------

class FaultListener:
    """A TCP listener that answers HTTP health checks as told by `mode`:
    ok (HTTP 200 "ok"), stall (accepts, never sends, holds the socket),
    reset (closes at once with SO_LINGER 0: an RST) or garbage (reads the
    request, answers random bytes, closes)."""

    def __init__(self, host, port, mode="ok"):
        self.mode = mode
        self.accepted = 0
        self.held = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.sock.settimeout(0.05)
        self.running = True
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self.serve, args=(conn, self.mode), daemon=True).start()

    def serve(self, conn, mode):
        if mode == "stall":
            with self.lock:
                self.held.append(conn)
            return
        try:
            if mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            conn.settimeout(1)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 8192:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            if mode == "garbage":
                conn.sendall(b"\x00" + os.urandom(511))  # never "HTTP/1.x"
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass
        finally:
            conn.close()

    def set_mode(self, mode):
        self.mode = mode
        if mode != "stall":
            self.release()

    def release(self):
        with self.lock:
            held, self.held = self.held, []
        for conn in held:
            conn.close()

    def stop(self):
        self.running = False
        self.sock.close()
        self.thread.join(timeout=5)
        self.release()


class FullBacklog:
    """A listener that never accepts, with its accept queue full: the kernel
    drops further SYNs, so connect() to it hangs until the caller's timeout."""

    def __init__(self, host, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(0)
        self.fillers = []
        self.full = False
        for _ in range(8):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.settimeout(0.3)
            self.fillers.append(c)
            try:
                c.connect((host, port))
            except OSError:
                self.full = True  # this one's SYN was dropped: the queue is full
                break

    def stop(self):
        for c in self.fillers:
            c.close()
        self.sock.close()


# ---- 1. probes against misbehaving listeners --------------------------------

def probe_faults(dnsd, work, ports, hosts):
    port, hport, tport = ports["dns"], ports["http"], ports["tcp"]
    with open(os.path.join(work, "probes.toml"), "w") as f:
        f.write(config(port, hport, tport))
    web = hosts["web"] = FaultListener("127.0.0.2", hport)
    conn = hosts["conn"] = FaultListener("127.0.0.3", tport)
    server = Dnsd(dnsd, work, "probes", port)
    client = Client(port)
    try:
        check(client.wait_for(A, 5) is not None and client.wait_for(B, 5, "tcp.example.test.") is not None,
              "probes: a and b answer while their listeners are healthy")
        loop = Loop(client, [("www.example.test.", "A"), ("tcp.example.test.", "A")],
                    a_verify({"www.example.test.": [A, C], "tcp.example.test.": [B, C]}))
        try:
            for mode, what in (("stall", "accepts and never sends"), ("reset", "resets (SO_LINGER 0)"),
                               ("garbage", "sends random bytes")):
                web.set_mode(mode)
                t = client.wait_for(C, WORST + SLACK + 2)
                print(f"     {mode}: down after {t if t is None else round(t, 2)}s "
                      f"(bound {WORST:.2f}s + {SLACK}s slack)")
                check(t is not None and t <= WORST + SLACK, f"http probe, a listener that {what}: down in time")
                web.set_mode("ok")
                t = client.wait_for(A, BACK + SLACK + 2)
                print(f"     {mode}: back after {t if t is None else round(t, 2)}s")
                check(t is not None and t <= BACK + SLACK, f"http probe, after {mode}: back when it behaves")
            # The tcp probe: the listener goes, and a full accept queue takes
            # its place on the same port, so connect() hangs.
            conn.stop()
            full = hosts["full"] = FullBacklog("127.0.0.3", tport)
            check(full.full, "tcp: the accept queue of the stand-in listener is full")
            t = client.wait_for(C, WORST + SLACK + 2, "tcp.example.test.")
            print(f"     connect hangs: down after {t if t is None else round(t, 2)}s")
            check(t is not None and t <= WORST + SLACK, "tcp probe, connect() that hangs: down in time")
            full.stop()
            conn = hosts["conn"] = FaultListener("127.0.0.3", tport)
            t = client.wait_for(B, BACK + SLACK + 2, "tcp.example.test.")
            check(t is not None and t <= BACK + SLACK, "tcp probe: back when the listener accepts again")
        finally:
            loop.stop()
        print(f"     {client.summary()}; {web.accepted} probes reached the http listener")
        check(client.lost == 0 and not client.bad and not loop.wrong,
              f"probes: every query answered meanwhile ({client.lost} lost, bad {client.bad[:3]}, "
              f"wrong {loop.wrong[:3]})")
        log = server.log()
        check("health: a/127.0.0.2 is down" in log and "health: b/127.0.0.3 is down" in log,
              "probes: the log has both addresses going down")
        check(server.alive(), "probes: dnsd still running")
    finally:
        code = server.stop()
        check(code == 0, f"probes: clean stop (exit {code})")
        web.set_mode("ok")


# ---- 2. the state file ------------------------------------------------------

def override(cport, site, state):
    req = urllib.request.Request(f"http://127.0.0.1:{cport}/sites/{site}/override", method="POST",
                                 data=json.dumps({"state": state}).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def state_file_faults(dnsd, work, ports, hosts):
    port, hport, tport, cport = ports["dns"], ports["http"], ports["tcp"], ports["control"]
    web = hosts["web"]
    web.set_mode("ok")
    statedir = os.path.join(work, "statedir")
    os.mkdir(statedir)
    path = os.path.join(statedir, "state.json")
    # (a) Garbage at start.
    with open(path, "w") as f:
        f.write('{"version": 1, "overrides": {"a": "dr\x00\xff garbage')
    with open(os.path.join(work, "token"), "w") as f:
        f.write(TOKEN + "\n")
    with open(os.path.join(work, "state.toml"), "w") as f:
        f.write(config(port, hport, tport, state="statedir/state.json", extra=CONTROL.format(cport=cport)))
    server = Dnsd(dnsd, work, "state", port)
    client = Client(port)
    try:
        check(client.wait_for(A, 5) is not None, "corrupt state file: dnsd starts and serves")
        warned = [line for line in server.log().splitlines() if "state file is not valid JSON" in line]
        check(len(warned) == 1 and " warn" in warned[0] and "statedir/state.json" in warned[0],
              f"corrupt state file: one warning naming the file: {warned}")
        # The first change replaces the garbage with a valid state.
        check(override(cport, "a", "drain") == 200 and client.wait_for(C, 2) is not None,
              "corrupt state file: an override takes effect")
        deadline, state = time.monotonic() + 3, None
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    state = json.load(f)
                break
            except ValueError:
                time.sleep(0.05)
        check(state is not None and state.get("overrides") == {"a": "drain"},
              "corrupt state file: replaced by a valid one at the first change")
        override(cport, "a", "auto")
        check(client.wait_for(A, 2) is not None, "override cleared")
        # The state thread saves after the API has answered: wait for it,
        # so that no save falls between removing the directory and putting
        # the file in its place (which would fail with ENOENT instead).
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            with open(path) as f:
                if json.load(f).get("overrides") == {}:
                    break
            time.sleep(0.05)
        time.sleep(0.1)

        # (b) The state file's directory becomes a regular file: writing
        # state.json.tmp fails with ENOTDIR (root ignores chmod 0555).
        shutil.rmtree(statedir)
        with open(statedir, "w") as f:
            f.write("not a directory\n")
        loop = Loop(client, [("www.example.test.", "A")], a_verify({"www.example.test.": [A, C]}))
        try:
            t0 = time.monotonic()
            status = override(cport, "a", "drain")
            t = client.wait_for(C, 2)
            check(status == 200 and t is not None and t < 1, "unwritable state file: an override still takes effect")
            override(cport, "a", "auto")
            check(client.wait_for(A, 2) is not None, "unwritable state file: and is cleared")
            web.set_mode("reset")
            t = client.wait_for(C, WORST + SLACK + 2)
            check(t is not None and t <= WORST + SLACK, "unwritable state file: failover still in time")
            web.set_mode("ok")
            check(client.wait_for(A, BACK + SLACK + 2) is not None, "unwritable state file: back again")
            errors = [line for line in server.log().splitlines() if "cannot write state file" in line]
            print(f"     {len(errors)} state file errors in {time.monotonic() - t0:.1f}s; first: "
                  f"{errors[0] if errors else None}")
            check(len([line for line in errors if "Not a directory" in line]) >= 4
                  and all(" error " in line and path in line for line in errors),
                  "unwritable state file: an error naming the file at each change")
        finally:
            loop.stop()
        check(client.lost == 0 and not client.bad and not loop.wrong,
              f"unwritable state file: every query answered ({client.summary()})")
        # Writable again: the next change is saved.
        os.remove(statedir)
        os.mkdir(statedir)
        override(cport, "a", "drain")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not os.path.exists(path):
            time.sleep(0.05)
        with open(path) if os.path.exists(path) else open(os.devnull) as f:
            text = f.read()
        check('"a":"drain"' in text.replace(" ", ""), "writable again: the next change is saved")
        check(server.alive(), "state file: dnsd still running")
    finally:
        code = server.stop()
        check(code == 0, f"state file: clean stop (exit {code})")

    # (c) Disk full. A real ENOSPC needs a small filesystem, i.e. a mount,
    # which this test must not do; RLIMIT_FSIZE makes the same write(2) fail
    # (EFBIG instead of ENOSPC) through the same code path. The state file
    # present at start is larger than the limit: reading it is fine, and
    # writing it atomically must leave it whole.
    os.remove(path)
    before = json.dumps({"version": 1, "overrides": {}, "addresses": {"a/127.0.0.2": {"up": True, "since": 1}}})
    with open(path, "w") as f:
        f.write(before)
    with open(os.path.join(work, "full.toml"), "w") as f:
        f.write(config(port, hport, tport, state="statedir/state.json"))
    server = Dnsd(dnsd, work, "full", port, fsize=16)
    client = Client(port)
    try:
        check(client.wait_for(A, 5) is not None, "file size limit: dnsd starts and serves")
        web.set_mode("reset")
        t = client.wait_for(C, WORST + SLACK + 2)
        check(t is not None and t <= WORST + SLACK, "file size limit: failover in time")
        web.set_mode("ok")
        check(client.wait_for(A, BACK + SLACK + 2) is not None, "file size limit: back again")
        time.sleep(0.2)
        errors = [line for line in server.log().splitlines() if "cannot write state file" in line]
        print(f"     first: {errors[0] if errors else None}")
        check(len(errors) >= 2 and all(path in line and "too large" in line for line in errors),
              "file size limit: an error naming the file at each change")
        with open(path) as f:
            check(f.read() == before, "file size limit: the previous state file is intact")
        check(not os.path.exists(path + ".tmp"), "file size limit: no temporary file left behind")
        check(client.lost == 0 and not client.bad, f"file size limit: every query answered ({client.summary()})")
        check(server.alive(), "file size limit: dnsd still running")
    finally:
        code = server.stop()
        check(code == 0, f"file size limit: clean stop (exit {code})")


# ---- 3 and 4. reloads: a zone file changing while read, a SIGHUP storm ------

def zone_text(version):
    """Version `version` of the zone: serial ZONE_BASE + version, marker a
    (even) or b (odd) in the SOA's RNAME and in every TXT. The SOA comes
    last, in parentheses: a partly written file has no SOA or an unclosed
    '(' and is refused, so only complete versions can be served.
    Every version written has a serial of its own, ahead of the last, as an
    operator's would be: dnsd serves the file's serial (docs/DEPLOYMENT.md),
    so the serial says which version was served."""
    marker = "ab"[version % 2]
    lines = ["$TTL 300", "@ NS ns1", "ns1 A 127.0.0.1"]
    lines += [f't{i} TXT "version {marker} record {i}, padding to make the file a few kB long"' for i in range(40)]
    lines.append(f"@ SOA ns1 {marker}.hostmaster ( {ZONE_BASE + version} 3600 600 86400 60 )")
    return "\n".join(lines) + "\n"


def soa_of(r):
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0]
    return None


def reload_faults(dnsd, work, ports, hosts):
    port, hport, tport = ports["dns"], ports["http"], ports["tcp"]
    hosts["web"].set_mode("ok")
    zone_path = os.path.join(work, "reload.zone")
    conf_path = os.path.join(work, "reload.toml")
    with open(zone_path, "w") as f:
        f.write(zone_text(0))
    write_atomically(conf_path, config(port, hport, tport, zone="reload.zone"))
    server = Dnsd(dnsd, work, "reload", port)
    client = Client(port)
    try:
        check(client.wait_for(A, 5) is not None, "reload: dnsd serves")
        # 3. The zone file rewritten in place, without pause.
        written = [0]  # the newest version whose writing has begun
        seen = {"last": ZONE_BASE, "serials": set(), "wrong": []}
        running = [True]

        def writer():
            version = 0
            while running[0]:
                version += 1
                written[0] = version
                data = zone_text(version).encode()
                fd = os.open(zone_path, os.O_WRONLY | os.O_TRUNC)
                try:
                    for i in range(0, len(data), 200):
                        os.write(fd, data[i:i + 200])
                        time.sleep(0.0002)
                finally:
                    os.close(fd)
                time.sleep(0.003)  # complete for a while too, so that some reloads succeed

        def verify_soa(name, r):
            soa = soa_of(r)
            if soa is None:
                return f"no SOA: {r}"
            marker = soa.rname.to_text()
            newest = written[0]  # read after the reply: what was served had begun by then
            version = soa.serial - ZONE_BASE
            if not 0 <= version <= newest:
                return f"serial {soa.serial} was never written (newest {ZONE_BASE + newest})"
            if marker != "ab"[version % 2] + ".hostmaster.example.test.":
                return f"serial {soa.serial} with the other version's RNAME {marker}"
            if soa.serial < seen["last"]:
                return f"serial went back from {seen['last']} to {soa.serial}"
            seen["last"] = soa.serial
            seen["serials"].add(soa.serial)
            return None

        write_thread = threading.Thread(target=writer, daemon=True)
        loop = Loop(client, [("example.test.", "SOA")], verify_soa)
        write_thread.start()
        hups = 0
        try:
            t_end = time.monotonic() + 3
            while time.monotonic() < t_end and server.alive():
                server.proc.send_signal(signal.SIGHUP)
                hups += 1
                time.sleep(0.01)
        finally:
            running[0] = False
            write_thread.join(timeout=5)
            loop.stop()
        last = written[0] + 1
        write_atomically(zone_path, zone_text(last))
        server.proc.send_signal(signal.SIGHUP)
        deadline, serial = time.monotonic() + 3, None
        while time.monotonic() < deadline:
            r = client.ask("example.test.", "SOA")
            serial = soa_of(r).serial if r is not None and soa_of(r) else None
            if serial == ZONE_BASE + last:
                break
            time.sleep(0.02)
        log = server.log().splitlines()
        ok = [line for line in log if "reloaded " in line]
        failed = [line for line in log if "reload of " in line and "failed" in line]
        errors = [line for line in log if " reload: " in line]
        print(f"     {hups} SIGHUPs, {written[0]} versions written: {len(ok)} reloads served a version, "
              f"{len(failed)} refused a partly written file, {len(seen['serials'])} serials seen; "
              f"{client.summary()}")
        if errors:
            print(f"     e.g. {errors[0]}")
        check(server.alive(), "zone rewritten while read: dnsd still running")
        check(client.lost == 0 and not client.bad, "zone rewritten while read: no query lost, no SERVFAIL")
        check(not loop.wrong, f"zone rewritten while read: only complete versions served, serial never back "
                               f"{loop.wrong[:3]}")
        check(len(seen["serials"]) >= 3 and len(failed) >= 1,
              "zone rewritten while read: several versions served, and partly written files refused")
        check(all("reload.zone" in line for line in errors),
              f"zone rewritten while read: each reload error names the zone file {errors[:2]}")
        check(serial == ZONE_BASE + last, f"zone rewritten while read: the last version is served ({serial})")

        # 4. A SIGHUP storm: 200 in about a second, while queries run, with
        # the configuration (service TTL) and the zone replaced along the way.
        client = Client(port)
        before = len(server.log().splitlines())
        loop = Loop(client, [("www.example.test.", "A"), ("example.test.", "SOA")],
                    a_verify({"www.example.test.": [A]}))
        t0 = time.monotonic()
        try:
            for i in range(200):
                if i in (50, 100, 150, 199):
                    ttl = 42 if i == 199 else 10 + i // 50
                    write_atomically(conf_path, config(port, hport, tport, zone="reload.zone", ttl=ttl))
                    last += 1
                    write_atomically(zone_path, zone_text(last))
                server.proc.send_signal(signal.SIGHUP)
                time.sleep(max(0.0, t0 + (i + 1) * 0.005 - time.monotonic()))
            storm = time.monotonic() - t0
            # The last version is the one whose marker the SOA carries. Its
            # serial may be served bumped: a reload that read the new
            # configuration before the new zone was written saw changed
            # content under an unchanged file serial, and the serial rule
            # then serves the last serial plus one (and the next file serial
            # is no longer ahead). What must hold is the last content, and a
            # serial that never goes back.
            marker = "ab"[last % 2]
            deadline, got = time.monotonic() + 5, (None, None, None)
            while time.monotonic() < deadline:
                r, s = client.ask("www.example.test."), client.ask("example.test.", "SOA")
                soa = soa_of(s) if s is not None else None
                got = (r.answer[0].ttl if r is not None and r.answer else None,
                       soa.serial if soa else None, str(soa.rname).split(".")[0] if soa else None)
                if got[0] == 42 and got[2] == marker and got[1] is not None and got[1] >= ZONE_BASE + last:
                    break
                time.sleep(0.05)
            settled = time.monotonic() - t0
        finally:
            loop.stop()
        reloads = [line for line in server.log().splitlines()[before:] if "reloaded " in line]
        print(f"     200 SIGHUPs in {storm:.2f}s, settled after {settled:.2f}s; {len(reloads)} reloads; "
              f"{client.summary()}")
        check(storm < 1.5, "SIGHUP storm: 200 signals sent within about a second")
        check(server.alive(), "SIGHUP storm: dnsd still running")
        check(client.lost == 0 and not client.bad and not loop.wrong,
              f"SIGHUP storm: no query lost or answered wrongly {loop.wrong[:3]}")
        check(got[0] == 42 and got[2] == marker and got[1] is not None and got[1] >= ZONE_BASE + last,
              f"SIGHUP storm: the last configuration and zone are served {got}, file serial {ZONE_BASE + last}")
        # Errors only: a reload that read the new configuration before the
        # new zone warns that the data changed under an unchanged serial.
        storm_errors = [line for line in server.log().splitlines()[before:] if " error reload: " in line]
        check(not storm_errors, f"SIGHUP storm: no reload errors (every file was complete) {storm_errors[:2]}")
    finally:
        code = server.stop()
        check(code == 0, f"reload: clean stop (exit {code})")


# ---- 5. a webhook that never answers ----------------------------------------

def webhook_fault(dnsd, work, ports, hosts):
    port, hport, tport, wport = ports["dns"], ports["http"], ports["tcp"], ports["webhook"]
    web = hosts["web"]
    web.set_mode("ok")
    hole = hosts["hole"] = FaultListener("127.0.0.1", wport, mode="stall")  # never reads nor answers
    with open(os.path.join(work, "webhook.toml"), "w") as f:
        f.write(config(port, hport, tport, extra=WEBHOOK.format(wport=wport)))
    server = Dnsd(dnsd, work, "webhook", port)
    client = Client(port)
    try:
        check(client.wait_for(A, 5) is not None, "webhook: dnsd serves")
        loop = Loop(client, [("www.example.test.", "A")], a_verify({"www.example.test.": [A, C]}))
        try:
            for n in range(3):  # every change queues more undeliverable events
                web.set_mode("reset")
                t = client.wait_for(C, WORST + SLACK + 2)
                print(f"     round {n}: down after {t if t is None else round(t, 2)}s")
                check(t is not None and t <= WORST + SLACK, f"webhook never answers: failover {n} in time")
                web.set_mode("ok")
                t = client.wait_for(A, BACK + SLACK + 2)
                check(t is not None and t <= BACK + SLACK, f"webhook never answers: back {n} in time")
        finally:
            loop.stop()
        print(f"     {client.summary()}; {len(hole.held)} connections to the webhook")
        check(client.lost == 0 and not client.bad and not loop.wrong, "webhook never answers: every query answered")
        check(len(hole.held) >= 1, "webhook never answers: dnsd did try to deliver")
        alerts = [line for line in server.log().splitlines() if "alert to " in line]
        print(f"     {len(alerts)} alert log lines; first: {alerts[0] if alerts else None}")
        check(any("timeout after 500ms" in line for line in alerts),
              "webhook never answers: the log says the delivery timed out")
        check(server.alive(), "webhook never answers: dnsd still running")
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - t0
        print(f"     stopped {took:.2f}s after SIGTERM")
        check(code == 0 and took < 5, f"webhook never answers: SIGTERM stops dnsd within 5 s (exit {code})")
    finally:
        server.stop()


# ---- main -------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    if not dnsclient.loopback_aliases("127.0.0.2"):
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-faults-")
    hosts = {}
    started = time.monotonic()
    try:
        ports = {"dns": dnsclient.free_port(), "control": dnsclient.free_port(),
                 "webhook": dnsclient.free_port(), "http": dnsclient.free_port("127.0.0.2"),
                 "tcp": dnsclient.free_port("127.0.0.3")}
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        for case in (probe_faults, state_file_faults, reload_faults, webhook_fault):
            t0 = time.monotonic()
            print(f"-- {case.__name__}", flush=True)
            case(dnsd, work, ports, hosts)
            print(f"     ({time.monotonic() - t0:.1f}s)", flush=True)
    finally:
        for host in hosts.values():
            host.stop()
        if failures:
            for name in sorted(os.listdir(work)):
                if name.endswith(".log"):
                    with open(os.path.join(work, name), errors="replace") as f:
                        print(f"--- {name} (tail)\n" + f.read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failures in {time.monotonic() - started:.1f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
