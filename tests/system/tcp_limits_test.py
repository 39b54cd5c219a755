#!/usr/bin/python3
"""TCP limits with the real dnsd (RFC 7766 6.2.3): connections per client
and per worker, the idle timeout, a lifetime that ends even a busy
connection, slow writers and readers cut off, and UDP unaffected while TCP
is at its caps."""
import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
tcp_connections = 8
tcp_per_client = 3
tcp_idle_timeout = "700ms"
tcp_lifetime = "2500ms"
[control]
listen = "127.0.0.1:{cport}"
[[zone]]
origin = "example.test."
file = "example.test.zone"
"""

check, failures = dnsclient.check, dnsclient.failures


QUERY = dns.message.make_query("ns1.example.test.", "A").to_wire()


def framed(wire):
    return struct.pack("!H", len(wire)) + wire


def connect(port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(3)
    s.connect(("127.0.0.1", port))
    return s


def answered(s):
    """Sends one query; True when a reply comes back on the connection."""
    try:
        s.sendall(framed(QUERY))
        head = s.recv(2)
        if len(head) < 2:
            return False
        n = struct.unpack("!H", head)[0]
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                return False
            data += chunk
        return dns.message.from_wire(data).answer != []
    except OSError:
        return False


def closed_within(s, seconds):
    """Seconds until the server closes `s`, or None."""
    s.settimeout(seconds)
    t0 = time.monotonic()
    try:
        data = s.recv(1)
        return time.monotonic() - t0 if data == b"" else None
    except ConnectionResetError:
        return time.monotonic() - t0
    except socket.timeout:
        return None


def udp_ok(port):
    r = dns.query.udp(dns.message.make_query("ns1.example.test.", "A"), "127.0.0.1", port=port, timeout=2)
    return len(r.answer) == 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dnsd-tcp-")
    proc = None
    conns = []
    try:
        port, cport = dnsclient.free_port(), dnsclient.free_port()
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(CONFIG.format(port=port, cport=cport))
        proc = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", "dnsd.toml"], cwd=work,
                                stdout=open(os.path.join(work, "dnsd.log"), "w"), stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)
        time.sleep(0.8)  # the start-up check's connections are gone

        # Per client: 3; the 4th from the same address is closed at once,
        # another address still gets in.
        conns = [connect(port, "127.0.0.5") for _ in range(4)]
        results = [answered(c) for c in conns]
        check(results == [True, True, True, False], f"a 4th connection from one client is refused: {results}")
        other = connect(port, "127.0.0.6")
        check(answered(other), "another client still gets in")
        conns.append(other)
        # Per worker: 8 in all (3 + 1 open now, after the refused one closed).
        for i in range(4):
            conns.append(connect(port, f"127.0.0.{10 + i}"))
        check(all(answered(c) for c in conns[-4:]), "up to the worker's cap of 8, all answered")
        late = connect(port, "127.0.0.20")
        check(not answered(late), "the 9th connection on the worker is refused")
        check(udp_ok(port), "UDP answers while TCP is at its caps")
        for c in conns + [late]:
            c.close()
        conns = []
        time.sleep(0.3)

        # Idle: closed after about 700 ms without a query.
        s = connect(port, "127.0.0.7")
        check(answered(s), "a fresh connection is answered")
        t = closed_within(s, 3)
        check(t is not None and 0.4 < t < 1.5, f"an idle connection is closed after the idle timeout ({t})")
        s.close()

        # Lifetime: a connection that is never idle still ends after 2.5 s.
        s = connect(port, "127.0.0.7")
        t0 = time.monotonic()
        served = 0
        while time.monotonic() - t0 < 5 and answered(s):
            served += 1
            time.sleep(0.2)
        lived = time.monotonic() - t0
        check(served > 5 and 2.0 < lived < 3.5, f"a busy connection ends at its lifetime ({lived:.1f}s, {served} answers)")
        s.close()

        # A slow writer: one byte of a query every 300 ms is cut off by the lifetime.
        s = connect(port, "127.0.0.8")
        msg = framed(QUERY)
        t0 = time.monotonic()
        cut = False
        for b in msg:
            try:
                s.sendall(bytes([b]))
            except OSError:
                cut = True
                break
            time.sleep(0.3)
            if time.monotonic() - t0 > 4:
                break
        if not cut:
            cut = closed_within(s, 2) is not None
        check(cut and time.monotonic() - t0 < 4.5, "a trickling writer is cut off")
        s.close()

        # A slow reader: queries pipelined without ever reading the answers.
        # Once the socket buffers fill, dnsd's writes wait, and the lifetime
        # (or the message timeout) ends the connection: draining it later
        # reaches the end instead of waiting forever.
        s = connect(port, "127.0.0.9")
        s.setblocking(False)
        batch = framed(QUERY) * 200
        t0 = time.monotonic()
        sent = 0
        while time.monotonic() - t0 < 3.5:
            try:
                sent += s.send(batch)
            except BlockingIOError:
                time.sleep(0.05)
            except OSError:
                break
        s.setblocking(True)
        s.settimeout(3)
        ended = False
        try:
            while True:
                if not s.recv(1 << 16):
                    ended = True
                    break
        except ConnectionResetError:
            ended = True
        except socket.timeout:
            pass
        check(ended and sent > 100_000, f"a reader that never reads is cut off ({sent} bytes of queries sent)")
        s.close()

        with urllib.request.urlopen(f"http://127.0.0.1:{cport}/metrics", timeout=5) as page:
            text = page.read().decode()
        check("dnsd_tcp_refused_total 2" in text, "/metrics counts the refused connections")
    finally:
        for c in conns:
            c.close()
        dnsclient.stop(proc)
        dnsclient.remove_work(work)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
