#!/usr/bin/python3
"""Reload and the control plane, with the real dnsd on loopback (SPEC 6, 8):

1. Consistency: with a site forced down, a storm of reloads (each builds a
   new catalog) while queries run: no answer ever carries the down address.
   The view and its health are published as one snapshot; published one
   after the other, a worker could pair the new health with the old zones
   and answer as if every address were up.
2. A reload applies the control plane: a rotated token works at once and
   the old one gets 403; a rotated peer token likewise for
   /cluster/verdicts; a moved [control] listen answers on the new address
   and no longer on the old; the reply names what needs a restart.
3. A control endpoint that is safe to expose: `listen = "unix:PATH"` (mode
   0660); HTTPS with tls_cert/tls_key, and a peer that reads another's
   verdicts over https:// verified against [cluster] ca_file (and refuses
   a certificate it does not trust); requests bounded in connections,
   header size and time; GET /explain needs the token outside
   explain_allow.
4. A reload reads again only the zones whose files or service records
   changed: unchanged files (also touched, or written again with the same
   bytes) keep the running zone, and the reply says how many zones were
   read; an edit to an $INCLUDE'd file is read and served, a service's new
   addresses replace its records in the running zone without reading it; a broken edit is refused naming file and line, and the
   running zone stays."""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNSDCTL = os.path.join(REPO, "tools", "dnsdctl")
TOKEN = "reload-test-token-0123456789"
TOKEN2 = "reload-test-token-rotated-9876543210"
PEER_TOKEN = "reload-test-peer-token-0123456789"
PEER_TOKEN2 = "reload-test-peer-token-rotated-0123"

check, failures = dnsclient.check, dnsclient.failures

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = {threads}
identity = "{identity}"
explain_allow = [{explain_allow}]
[control]
listen = "{control}"
token_file = "token"
{control_extra}
[[zone]]
origin = "example.test."
file = "example.test.zone"
[sites.ams]
addresses = ["192.0.2.1"]
[sites.nyc]
addresses = ["192.0.2.2"]
[[service]]
name = "www.example.test."
sites = ["ams", "nyc"]
policy = "failover"
ttl = {ttl}
{extra}
"""


def write(path, text):
    """Replaced in one step: a reload never reads half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def config(port, control, threads=2, ttl=30, identity="a", explain_allow='"127.0.0.0/8", "::1/128"',
           control_extra="", extra=""):
    return CONFIG.format(port=port, control=control, threads=threads, ttl=ttl, identity=identity,
                         explain_allow=explain_allow, control_extra=control_extra, extra=extra)


class Control:
    """Requests to a control endpoint: TCP, TLS (with `context`) or a unix: socket."""

    def __init__(self, host=None, port=None, unix=None, context=None):
        self.host, self.port, self.unix, self.context = host, port, unix, context

    def connection(self, timeout=10):
        if self.unix:
            conn = http.client.HTTPConnection("localhost", timeout=timeout)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(self.unix)
            conn.sock = sock
            return conn
        if self.context:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, token=None):
        """(status, parsed JSON or text); (None, error) when it cannot connect."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = "Bearer " + token
        try:
            conn = self.connection()
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            r = conn.getresponse()
            data = r.read().decode()
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            return None, str(e)
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data

    def reload(self, token=TOKEN):
        return self.request("POST", "/reload", token=token)


def a_query(qid):
    """A plain query for www.example.test A (no EDNS), id `qid`."""
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + b"\x03www\x07example\x04test\x00\x00\x01\x00\x01"


def answers_of(reply):
    """The A addresses in a reply to a_query (answers follow the question)."""
    if len(reply) < 12:
        return []
    count = struct.unpack(">H", reply[6:8])[0]
    pos, out = 12 + 22, []
    for _ in range(count):
        if pos + 12 > len(reply):
            break
        pos += 2  # a compression pointer to the question's name
        rtype, _, _, length = struct.unpack(">HHIH", reply[pos:pos + 10])
        pos += 10
        if rtype == 1 and length == 4:
            out.append(socket.inet_ntoa(reply[pos:pos + 4]))
        pos += length
    return out


def consistency(dnsd, work):
    """1. No answer carries the down address during a reload storm."""
    port, cport = dnsclient.free_port(), dnsclient.free_port()
    conf = os.path.join(work, "dnsd.toml")
    write(conf, config(port, f"127.0.0.1:{cport}"))
    proc = subprocess.Popen([dnsd, "run", "-c", conf], cwd=work, stdout=open(os.path.join(work, "storm.log"), "w"),
                            stderr=subprocess.STDOUT)
    try:
        dnsclient.wait_for_dns(port, proc=proc)
        ctl = Control("127.0.0.1", cport)
        status, _ = ctl.request("POST", "/sites/ams/override", {"state": "down"}, token=TOKEN)
        check(status == 200, "storm: ams forced down")
        # In effect once the reply is read: the override is published first.
        first = answers_of(dnsclient.send(a_query(1), port, tcp=False) or b"")
        check(first == ["192.0.2.2"], f"storm: the override is answered as soon as it is acknowledged ({first})")
        stop = threading.Event()
        seen = {"replies": 0, "down": 0, "other": 0}

        def querier():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            qid = 0
            while not stop.is_set():
                for _ in range(32):  # a burst, then the replies
                    qid = (qid + 1) & 0xFFFF
                    try:
                        s.sendto(a_query(qid), ("127.0.0.1", port))
                    except BlockingIOError:
                        break
                deadline = time.monotonic() + 0.05
                while time.monotonic() < deadline:
                    try:
                        reply = s.recv(512)
                    except BlockingIOError:
                        time.sleep(0.0005)
                        continue
                    got = answers_of(reply)
                    seen["replies"] += 1
                    if "192.0.2.1" in got:
                        seen["down"] += 1
                    elif got != ["192.0.2.2"]:
                        seen["other"] += 1
            s.close()

        threads = [threading.Thread(target=querier) for _ in range(2)]
        for t in threads:
            t.start()
        hups, t_end = 0, time.monotonic() + 4
        while time.monotonic() < t_end and proc.poll() is None:
            proc.send_signal(signal.SIGHUP)
            hups += 1
            time.sleep(0.004)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(timeout=5)
        with open(os.path.join(work, "storm.log")) as f:
            reloads = f.read().count("reloaded ")
        print(f"     {hups} SIGHUPs, {reloads} reloads, {seen['replies']} replies")
        check(reloads >= 20 and seen["replies"] >= 1000, "storm: many reloads while many queries were answered")
        check(seen["down"] == 0, f"storm: the down address is never answered ({seen['down']} times)")
        check(seen["other"] == 0, f"storm: every answer is the up site ({seen['other']} others)")
    finally:
        dnsclient.stop(proc)


def dnsdctl(work, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DNSD_")}
    return subprocess.run([sys.executable, DNSDCTL, *args], cwd=work, env=env, capture_output=True, text=True,
                          timeout=60)


def start(dnsd, work, conf, log):
    proc = subprocess.Popen([dnsd, "run", "-c", conf], cwd=work, stdout=open(os.path.join(work, log), "w"),
                            stderr=subprocess.STDOUT)
    return proc


def wait_control(ctl, limit=5):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        status, _ = ctl.request("GET", "/status")
        if status == 200:
            return True
        time.sleep(0.05)
    return False


def reload_applies(dnsd, work):
    """2. Tokens, peer token and the listener follow the file at a reload."""
    port, cport, cport2 = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
    conf = os.path.join(work, "apply.toml")
    token, peer_token = os.path.join(work, "token"), os.path.join(work, "peer-token")
    write(token, TOKEN + "\n")
    write(peer_token, PEER_TOKEN + "\n")
    # A cluster whose peer is not there: what matters is who may read this
    # instance's verdicts.
    cluster = f'[cluster]\npeers = ["http://127.0.0.1:{dnsclient.free_port()}"]\nquorum = 1\n' \
              'token_file = "peer-token"\n'
    write(conf, config(port, f"127.0.0.1:{cport}", extra=cluster))
    proc = start(dnsd, work, conf, "apply.log")
    try:
        dnsclient.wait_for_dns(port, proc=proc)
        ctl = Control("127.0.0.1", cport)
        check(wait_control(ctl), "apply: the control endpoint answers")
        check(ctl.request("GET", "/cluster/verdicts", token=PEER_TOKEN)[0] == 200, "apply: the peer token reads verdicts")

        # Rotated tokens.
        write(token, TOKEN2 + "\n")
        write(peer_token, PEER_TOKEN2 + "\n")
        status, doc = ctl.reload(token=TOKEN)
        check(status == 200 and doc.get("ok") is True, f"apply: reload with the old token succeeds ({status} {doc})")
        override = ("POST", "/sites/ams/override", {"state": "auto"})
        check(ctl.request(*override, token=TOKEN2)[0] == 200, "apply: the new token works at once")
        check(ctl.request(*override, token=TOKEN)[0] == 403, "apply: the old token gets 403")
        check(ctl.request("GET", "/cluster/verdicts", token=PEER_TOKEN2)[0] == 200,
              "apply: the new peer token reads verdicts")
        check(ctl.request("GET", "/cluster/verdicts", token=PEER_TOKEN)[0] == 403, "apply: the old peer token gets 403")

        # The listener moves; what needs a restart is named.
        write(conf, config(port, f"127.0.0.1:{cport2}", threads=1, extra=cluster))
        status, doc = ctl.reload(token=TOKEN2)
        message = doc.get("message", "") if isinstance(doc, dict) else str(doc)
        check(status == 200 and "server.threads need a restart" in message,
              f"apply: the reply names what needs a restart ({message!r})")
        moved = Control("127.0.0.1", cport2)
        check(wait_control(moved), "apply: the control endpoint answers on its new address")
        check(ctl.request("GET", "/status")[0] is None, "apply: and no longer on the old one")
        with open(os.path.join(work, "apply.log")) as f:
            log = f.read()
        check("server.threads need a restart" in log, "apply: the log names what needs a restart")

        # A listener that cannot be set up: the old one stays, and says so.
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        write(conf, config(port, f"127.0.0.1:{taken}", threads=1, extra=cluster))
        status, doc = moved.reload(token=TOKEN2)
        message = doc.get("message", "") if isinstance(doc, dict) else str(doc)
        check(status == 200 and f"cannot listen on 127.0.0.1:{taken} (control)" in message
              and f"still on 127.0.0.1:{cport2}" in message, f"apply: a listener in use is reported ({message!r})")
        check(moved.request("GET", "/status")[0] == 200, "apply: the old listener still answers")
        busy.close()
    finally:
        dnsclient.stop(proc)
        write(token, TOKEN + "\n")


def reuse(dnsd, work):
    """4. Unchanged zones are not read again; changed ones are."""
    port, cport = dnsclient.free_port(), dnsclient.free_port()
    conf = os.path.join(work, "reuse.toml")
    zone, inc = os.path.join(work, "reuse.zone"), os.path.join(work, "hosts.inc")
    write(zone, dnsclient.SMALL_ZONE + "$INCLUDE hosts.inc\n")
    write(inc, "host1 A 192.0.2.50\n")
    body = CONFIG.format(port=port, control=f"127.0.0.1:{cport}", threads=1, ttl=30, identity="a",
                         explain_allow='"127.0.0.0/8"', control_extra="", extra="")
    body = body.replace('file = "example.test.zone"', 'file = "reuse.zone"')
    write(conf, body)
    proc = start(dnsd, work, conf, "reuse.log")
    ctl = Control("127.0.0.1", cport)

    def reload(what):
        status, doc = ctl.reload()
        message = doc.get("message", "") if isinstance(doc, dict) else str(doc)
        check(status is not None, f"reuse: {what}: the reload answers ({message!r})")
        return status, doc.get("ok") if isinstance(doc, dict) else None, message

    try:
        dnsclient.wait_for_dns(port, proc=proc)
        check(wait_control(ctl), "reuse: the control endpoint answers")
        check(dnsclient.addresses(port, "host1.example.test.") == ["192.0.2.50"], "reuse: the included record")

        _, ok, message = reload("nothing changed")
        check(ok and "(0 read, 1 unchanged)" in message, f"reuse: nothing changed, nothing read ({message!r})")
        # Policy is the catalog's, not the zone's: the zone stays.
        write(conf, body.replace('policy = "failover"', 'policy = "all"'))
        _, ok, message = reload("policy")
        check(ok and "(0 read, 1 unchanged)" in message, f"reuse: a new policy reads no zone ({message!r})")
        check(sorted(dnsclient.addresses(port)) == ["192.0.2.1", "192.0.2.2"], "reuse: the new policy answers")
        now = time.time() + 5
        os.utime(zone, (now, now))
        os.utime(inc, (now, now))
        _, ok, message = reload("touched")
        check(ok and "(0 read, 1 unchanged)" in message, f"reuse: touched files with the same bytes ({message!r})")

        write(inc, "host1 A 192.0.2.51\nhost2 A 192.0.2.52\n")
        _, ok, message = reload("include")
        check(ok and "(1 read, 0 unchanged)" in message, f"reuse: an edited $INCLUDE is read ({message!r})")
        check(dnsclient.addresses(port, "host1.example.test.") == ["192.0.2.51"]
              and dnsclient.addresses(port, "host2.example.test.") == ["192.0.2.52"], "reuse: and served")

        write(conf, body.replace('policy = "failover"', 'policy = "all"').replace("192.0.2.2", "192.0.2.3"))
        _, ok, message = reload("addresses")
        check(ok and "(0 read, 0 unchanged, 1 with new service records)" in message,
              f"reuse: a service's new address takes the running zone with new records ({message!r})")
        check(sorted(dnsclient.addresses(port)) == ["192.0.2.1", "192.0.2.3"], "reuse: and served")

        write(inc, "host1 A 192.0.2.51\nhost2 A 192.0.2.300\n")
        status, ok, message = reload("broken")
        check(ok is False and "hosts.inc:2:" in message and "still serving the previous configuration" in message
              and "zone example.test. not loaded; it is still served as loaded before, serial 1" in message,
              f"reuse: a broken include is refused with its file and line ({status} {message!r})")
        check(dnsclient.addresses(port, "host2.example.test.") == ["192.0.2.52"], "reuse: the running zone stays")
        write(inc, "host1 A 192.0.2.51\nhost2 A 192.0.2.52\n")
        # Put back as it was: the same bytes as the running zone's, so
        # nothing is read (its modification time differs).
        _, ok, message = reload("put back")
        check(ok and "(0 read, 1 unchanged)" in message, f"reuse: the file put back is the running zone ({message!r})")
        write(inc, "host1 A 192.0.2.51\nhost2 A 192.0.2.53\n")
        _, ok, message = reload("fixed")
        check(ok and "(1 read, 0 unchanged)" in message, f"reuse: the fixed file is read ({message!r})")
        check(dnsclient.addresses(port, "host2.example.test.") == ["192.0.2.53"], "reuse: and served")
    finally:
        dnsclient.stop(proc)


def self_signed(work, name):
    cert, key = os.path.join(work, name + ".crt"), os.path.join(work, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=dnsd test",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def safe_endpoint(dnsd, work):
    """3. unix: sockets, HTTPS, https:// peers, bounds, /explain."""
    port, port2, cport2 = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
    sock = os.path.join(work, "control.sock")
    conf = os.path.join(work, "unix.toml")
    write(conf, config(port, "unix:control.sock", explain_allow='"10.0.0.0/8"'))
    proc = start(dnsd, work, conf, "unix.log")
    procs = [proc]
    try:
        dnsclient.wait_for_dns(port, proc=proc)
        ctl = Control(unix=sock)
        check(wait_control(ctl), "unix: the control endpoint answers on a unix: socket")
        mode = os.stat(sock).st_mode
        check(stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o660, f"unix: the socket's mode is 0660 ({oct(mode)})")
        check(ctl.request("POST", "/sites/ams/override", {"state": "auto"})[0] == 401,
              "unix: changes still need the token")
        check(ctl.request("GET", "/explain?name=www.example.test")[0] == 200, "unix: /explain for whoever may connect")
        r = dnsdctl(work, "--url", "unix:" + sock, "status")
        check(r.returncode == 0 and "192.0.2.1" in r.stdout, f"unix: dnsdctl --url unix:PATH status ({r.stderr})")

        # HTTPS, and a peer that reads this instance over https://.
        cert, key = self_signed(work, "server")
        other_cert, _ = self_signed(work, "other")
        cport3 = dnsclient.free_port()  # the second instance's control endpoint, below
        write(conf, config(port, f"127.0.0.1:{cport2}", explain_allow='"10.0.0.0/8"',
                           control_extra=f'tls_cert = "{cert}"\ntls_key = "{key}"',
                           extra=f'[cluster]\npeers = ["http://127.0.0.1:{cport3}"]\nquorum = 1\n'))
        status, doc = ctl.reload(token=TOKEN)
        check(status == 200 and doc.get("ok"), f"tls: reload onto HTTPS ({status} {doc})")
        check(not os.path.exists(sock), "unix: the socket file goes with its listener")
        trusting = ssl.create_default_context(cafile=cert)
        tls = Control("127.0.0.1", cport2, context=trusting)
        check(wait_control(tls), "tls: the control endpoint answers over HTTPS, verified against its certificate")
        untrusting = Control("127.0.0.1", cport2, context=ssl.create_default_context(cafile=other_cert))
        status, error = untrusting.request("GET", "/status")
        check(status is None and "CERTIFICATE_VERIFY_FAILED" in error, f"tls: an untrusted certificate fails ({error})")

        # GET /explain outside explain_allow: the token is needed.
        check(tls.request("GET", "/explain?name=www.example.test")[0] == 401,
              "explain: outside explain_allow, no token: 401")
        check(tls.request("GET", "/explain?name=www.example.test", token="wrong-token-0123456789")[0] == 403,
              "explain: a wrong token: 403")
        status, doc = tls.request("GET", "/explain?name=www.example.test", token=TOKEN)
        check(status == 200 and doc.get("lines"), "explain: with the token: 200")
        url = f"https://127.0.0.1:{cport2}"
        r = dnsdctl(work, "--url", url, "--ca-file", cert, "--token-file", "token", "explain", "www.example.test")
        check(r.returncode == 0 and "answer" in r.stdout, f"tls: dnsdctl over https:// with --ca-file ({r.stderr})")
        r = dnsdctl(work, "--url", url, "status")
        check(r.returncode == 3 and "CERTIFICATE_VERIFY_FAILED" in r.stderr,
              f"tls: dnsdctl without the CA file cannot verify ({r.stderr.strip()})")

        # Bounds: a header over 8 KiB, a request that never ends, connections past the cap.
        status, _ = tls.request("GET", "/status?" + "x" * 10000)
        check(status == 431, f"bounds: a header over the limit gets 431 ({status})")
        raw = socket.create_connection(("127.0.0.1", cport2), timeout=10)
        t0 = time.monotonic()
        try:
            raw.sendall(b"\x16\x03\x01")  # a TLS record that never ends
            data = raw.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        waited = time.monotonic() - t0
        raw.close()
        check(data == b"" and 4 <= waited < 10, f"bounds: a request that never ends is closed after 5 s ({waited:.1f}s)")
        held = [socket.create_connection(("127.0.0.1", cport2), timeout=5) for _ in range(64)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", cport2), timeout=5)
        try:
            closed = extra.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            closed = True
        extra.close()
        check(closed, "bounds: a connection past 64 is closed at once")
        for c in held:
            c.close()
        check(wait_control(tls, 8), "bounds: the endpoint answers again once those are gone")

        # A second instance reads this one's verdicts over https://, with ca_file.
        def peer_config(ca):
            cluster = f'[cluster]\npeers = ["https://127.0.0.1:{cport2}"]\nquorum = 1\nca_file = "{ca}"\n'
            return config(port2, "127.0.0.1:" + str(cport3), identity="b", extra=cluster)
        peer_conf = os.path.join(work, "peer.toml")
        write(peer_conf, peer_config(other_cert))
        peer = start(dnsd, work, peer_conf, "peer.log")
        procs.append(peer)
        dnsclient.wait_for_dns(port2, proc=peer)
        peer_ctl = Control("127.0.0.1", cport3)

        def peer_state(want, limit=6):
            deadline, state = time.monotonic() + limit, {}
            while time.monotonic() < deadline:
                status, doc = peer_ctl.request("GET", "/status")
                peers = doc.get("cluster", {}).get("peers", []) if status == 200 and isinstance(doc, dict) else []
                state = peers[0] if peers else {}
                if want(state):
                    break
                time.sleep(0.1)
            return state
        state = peer_state(lambda p: "error" in p and p.get("error"))
        check(not state.get("reachable") and "certificate verify failed" in state.get("error", ""),
              f"peer: a certificate the CA file does not vouch for is refused ({state})")
        write(peer_conf, peer_config(cert))
        status, doc = peer_ctl.reload(token=TOKEN)
        check(status == 200, f"peer: reload with the right ca_file ({status})")
        state = peer_state(lambda p: p.get("reachable"))
        check(state.get("reachable") is True and state.get("instance") == "a",
              f"peer: verdicts read over https://, verified against ca_file ({state})")
    finally:
        for p in procs:
            dnsclient.stop(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    work = tempfile.mkdtemp(prefix="dnsd-reload-")
    try:
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        consistency(dnsd, work)
        reload_applies(dnsd, work)
        safe_endpoint(dnsd, work)
        reuse(dnsd, work)
    finally:
        if failures:
            for log in sorted(os.listdir(work)):
                if log.endswith(".log"):
                    with open(os.path.join(work, log)) as f:
                        print(f"--- {log}\n" + f.read()[-1500:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
