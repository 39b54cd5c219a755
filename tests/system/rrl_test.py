#!/usr/bin/python3
"""Response rate limiting with the real dnsd: a flood from one /24 on
loopback is cut to the configured rate (every second limited answer sent
truncated, the rest dropped), while another client's queries all get full
answers, and TCP from the flooded network is still answered. The flood asks
a `nearest` service with EDNS Client Subnet: the truncated replies carry the
OPT and the ECS scope of the full ones; those to a TSIG-signed query are
signed (RFC 8945 5.3), as dnspython verifies."""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.tsigkeyring

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

RATE, BURST = 50, 50
SECRET = "c2lnbmVkLXF1ZXJpZXMtZ2V0LXNpZ25lZC1yZXBsaWVzLTA="

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1
[tsig.rrl]
algorithm = "hmac-sha256"
secret_file = "rrl.tsig"
[rate_limit]
responses_per_second = {rate}
burst = {burst}
slip = 2
[control]
listen = "127.0.0.1:{cport}"
[[zone]]
origin = "example.test."
file = "example.test.zone"
[[geo.networks]]
prefix = "10.1.0.0/16"
location = {{ lat = 52.4, lon = 4.9 }}
[sites.ams]
location = {{ lat = 52.37, lon = 4.90 }}
addresses = ["192.0.2.10"]
[sites.nyc]
location = {{ lat = 40.71, lon = -74.01 }}
addresses = ["192.0.2.20"]
[[service]]
name = "near.example.test."
sites = ["ams", "nyc"]
policy = "nearest"
"""

check, failures = dnsclient.check, dnsclient.failures


def ecs_of(msg):
    """(EDNS version, ECS scope or None) of a reply; None without OPT."""
    if msg.edns < 0:
        return None
    scopes = [o.scopelen for o in msg.options if isinstance(o, dns.edns.ECSOption)]
    return (msg.edns, scopes[0] if scopes else None)


def flood(source, port, seconds, result, ring=None):
    """As many queries as the socket takes, from `source`; counts the
    replies, and the OPT and ECS scope of the full and the truncated ones.
    With `ring`, the query is signed and every reply must verify."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.setblocking(False)
    query = dns.message.make_query("near.example.test.", "A", use_edns=0,
                                   options=[dns.edns.ECSOption("10.1.2.0", 24)])
    if ring:
        query.use_tsig(ring, keyname="rrl.")
    wire = query.to_wire()
    sent = full = truncated = 0
    seen = {"full": set(), "truncated": set()}

    def take():
        nonlocal full, truncated
        while True:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                return
            try:
                msg = dns.message.from_wire(data, keyring=ring, request_mac=query.mac if ring else b"")
            except Exception as e:  # noqa: BLE001 (an unsigned or badly signed reply)
                result.setdefault("bad", []).append(f"{type(e).__name__}: {e}")
                continue
            if ring and not msg.had_tsig:
                result.setdefault("bad", []).append("unsigned" + (" (truncated)" if msg.flags & dns.flags.TC else ""))
                continue
            if msg.flags & dns.flags.TC:
                truncated += 1
                seen["truncated"].add(ecs_of(msg))
            else:
                full += 1
                seen["full"].add(ecs_of(msg))

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            s.sendto(wire, ("127.0.0.1", port))
            sent += 1
        except BlockingIOError:
            pass
        take()
        time.sleep(0.0002)
    time.sleep(0.3)
    take()
    s.close()
    result.update(sent=sent, full=full, truncated=truncated, seen=seen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dnsd-rrl-")
    proc = None
    try:
        port, cport = dnsclient.free_port(), dnsclient.free_port()
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(CONFIG.format(port=port, cport=cport, rate=RATE, burst=BURST))
        fd = os.open(os.path.join(work, "rrl.tsig"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (SECRET + "\n").encode())
        os.close(fd)
        proc = subprocess.Popen([os.path.abspath(args.dnsd), "run", "-c", "dnsd.toml"], cwd=work,
                                stdout=open(os.path.join(work, "dnsd.log"), "w"), stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc, host="127.0.0.1")
        time.sleep(1.1)  # the start-up probe queries' bucket refills

        seconds = 2.0
        result = {}
        flooder = threading.Thread(target=flood, args=("127.0.0.9", port, seconds, result))
        flooder.start()
        # Another client, 10 queries a second from another /24: all answered in full.
        other_full = other_sent = 0
        end = time.monotonic() + seconds
        q = dns.message.make_query("ns1.example.test.", "A")
        while time.monotonic() < end:
            other_sent += 1
            r = dns.query.udp(q, "127.0.0.1", port=port, source="127.0.1.9", timeout=1)
            other_full += not (r.flags & dns.flags.TC) and len(r.answer) == 1
            time.sleep(0.1)
        flooder.join()
        allowed = BURST + RATE * seconds
        print(f"     flood: {result['sent']} sent, {result['full']} answered, {result['truncated']} truncated;"
              f" other client: {other_full}/{other_sent}")
        # Twice the allowance leaves room to see the limit at work even on a
        # loaded machine, where the Python flood is slow.
        check(result["sent"] > 2 * allowed, "the flood sends well above the rate")
        check(allowed * 0.8 <= result["full"] <= allowed * 1.2 + 10,
              f"the flooded /24 gets about burst + rate x time full answers ({allowed:.0f})")
        limited = result["sent"] - result["full"]
        check(abs(result["truncated"] - limited / 2) <= limited * 0.1 + 10,
              "every second limited answer is sent truncated (slip 2)")
        check(other_full == other_sent, "the other client's queries all get full answers")
        check(result["seen"]["full"] == {(0, 16)}, f"full answers carry OPT and ECS scope 16: {result['seen']['full']}")
        check(result["seen"]["truncated"] == result["seen"]["full"],
              f"truncated answers carry the same OPT and ECS scope: {result['seen']['truncated']}")
        r = dns.query.tcp(q, "127.0.0.1", port=port, source="127.0.0.9", timeout=2)
        check(len(r.answer) == 1, "TCP from the flooded network is answered (not limited)")

        # Signed queries from a third /24: full and truncated replies signed.
        signed = {}
        ring = dns.tsigkeyring.from_text({"rrl.": ("hmac-sha256", SECRET)})
        flood("127.0.2.9", port, 1.0, signed, ring)
        print(f"     signed flood: {signed['sent']} sent, {signed['full']} answered, "
              f"{signed['truncated']} truncated, {len(signed.get('bad', []))} not verified")
        check(signed["full"] > 0 and signed["truncated"] > 0, "the signed flood is limited too")
        check(not signed.get("bad"), f"every reply to a signed query, truncated or not, verifies: "
              f"{signed.get('bad', [])[:3]}")
        with urllib.request.urlopen(f"http://127.0.0.1:{cport}/metrics", timeout=5) as page:
            text = page.read().decode()
        check('dnsd_rate_limited_total{action="truncated"}' in text
              and f'dnsd_rate_limited_total{{action="truncated"}} {result["truncated"] + signed["truncated"]}'
              in text,
              "/metrics counts the truncated answers")
    finally:
        dnsclient.stop(proc)
        dnsclient.remove_work(work)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
