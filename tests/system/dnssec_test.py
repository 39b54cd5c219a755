#!/usr/bin/python3
"""DNSSEC (SPEC 11) with the real dnsd on loopback, keys made by BIND's
dnssec-keygen, answers checked by code no one here wrote.

For a KSK/ZSK pair of algorithm 13 and a combined key of algorithm 15:
`dnsd check` prints the DS; dnspython validates the DNSKEY RRset against
that DS and every answer's RRSIGs (static, steered, CNAME, wildcard,
NXDOMAIN and NODATA as compact answers with their NSEC, DNSKEY, CDS, a
referral with its DS and one with an NSEC proving there is none). Then
Debian's unbound, with the DS as its only trust anchor and dnsd as the
stub for the zone, answers every kind with AD set, and again after a
site's health endpoint stops and the steered answer changes; a proxy that
flips a byte of a signature makes unbound answer SERVFAIL; delv validates
beside it. A DO query to an unsigned zone is answered as without DNSSEC.
Broken key directories are config errors naming the file."""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

check, failures = dnsclient.check, dnsclient.failures
ZONE = dns.name.from_text("example.test.")
INTERVAL, FALL = 0.3, 2

ZONE_TEXT = """$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
static A 192.0.2.1
static AAAA 2001:db8::1
alias CNAME static
away CNAME www
nowhere CNAME gone
*.wild A 192.0.2.9
sub NS ns.sub
ns.sub A 192.0.2.53
secure NS ns.secure
ns.secure A 192.0.2.54
secure DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
"""

UNSIGNED_ZONE = dnsclient.SMALL_ZONE + "host A 192.0.2.7\n"

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 1

[control]
listen = "127.0.0.1:{cport}"
token_file = "token"

[[zone]]
origin = "example.test."
file = "example.test.zone"
dnssec = "keys"

[[zone]]
origin = "plain.test."
file = "plain.test.zone"

[probes.web]
type = "http"
port = {http_port}
path = "/health"
interval = "{interval}ms"
timeout = "200ms"
rise = 1
fall = {fall}

[sites.a]
addresses = ["127.0.0.2"]
probe = "web"

[sites.b]
addresses = ["127.0.0.3"]
probe = "web"

[[service]]
name = "www.example.test."
sites = ["a", "b"]
policy = "failover"
ttl = 5
"""

UNBOUND_CONF = """server:
    interface: 127.0.0.1
    port: {port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{work}"
    pidfile: ""
    use-syslog: no
    logfile: "{work}/unbound.log"
    verbosity: 1
    val-log-level: 2
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "validator iterator"
    qname-minimisation: no
    cache-max-ttl: 1
    cache-max-negative-ttl: 1
    trust-anchor: "{anchor}"
    # test. is special-use (RFC 6761): unbound answers it locally unless told.
    local-zone: "test." nodefault
stub-zone:
    name: "example.test."
    stub-addr: 127.0.0.1@{dnsd_port}
"""


def keygen(keys, *args):
    out = subprocess.run(["dnssec-keygen", "-q", "-K", keys, *args, "example.test"], capture_output=True,
                         text=True, timeout=60, check=True)
    return out.stdout.strip()


def query(port, name, rdtype, do=True, rd=False, tcp=False):
    q = dns.message.make_query(name, rdtype, want_dnssec=do)
    if not rd:
        q.flags &= ~dns.flags.RD
    send = dns.query.tcp if tcp else dns.query.udp
    return send(q, "127.0.0.1", port=port, timeout=3)


def sigs_for(section, rrset):
    return [s for s in section if s.rdtype == dns.rdatatype.RRSIG and s.covers == rrset.rdtype and
            s.name == rrset.name]


def all_validate(r, dnskeys, section_names=("answer", "authority")):
    """Every RRset of the sections has an RRSIG and each validates; the
    number of RRsets validated (raises on the first failure)."""
    n = 0
    for sec in section_names:
        section = getattr(r, sec)
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.RRSIG:
                continue
            if sec == "authority" and rrset.rdtype == dns.rdatatype.NS:
                continue  # a referral's NS are not signed
            sigs = sigs_for(section, rrset)
            if not sigs:
                raise AssertionError(f"no RRSIG for {rrset.name} {dns.rdatatype.to_text(rrset.rdtype)}")
            for sig in sigs:
                dns.dnssec.validate(rrset, sig, {ZONE: dnskeys})
            n += 1
    return n


def nsec_of(r, name):
    for rrset in r.authority:
        if rrset.rdtype == dns.rdatatype.NSEC and rrset.name == dns.name.from_text(name):
            return rrset[0]
    return None


NXNAME = 128  # RFC 9824; dnspython 2.3 has no name for it


def bitmap_types(nsec):
    """The NSEC's types as numbers, from its windows (RFC 4034 4.1.2)."""
    return {w * 256 + i * 8 + b for w, bits in nsec.windows for i, byte in enumerate(bits) for b in range(8)
            if byte & (0x80 >> b)}


def dnspython_cases(port, ds_text, label):
    """Every kind of answer validated by dnspython."""
    r = query(port, "example.test.", "DNSKEY")
    dnskeys = r.find_rrset(r.answer, ZONE, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    ds_tag, ds_alg, _, ds_hex = ds_text.split()[-4:]
    matched = [k for k in dnskeys if dns.dnssec.key_id(k) == int(ds_tag) and
               dns.dnssec.make_ds(ZONE, k, "SHA256").digest.hex().upper() == ds_hex.upper()]
    check(len(matched) == 1, f"{label}: the DS `dnsd check` prints matches a served DNSKEY")
    try:
        all_validate(r, dnskeys)
        check(True, f"{label}: the DNSKEY RRset validates")
    except Exception as e:  # noqa: BLE001
        check(False, f"{label}: the DNSKEY RRset validates: {e}")

    def positive(name, rdtype, what, want=None):
        r = query(port, name, rdtype)
        try:
            n = all_validate(r, dnskeys)
            got = [rr.to_text() for rrset in r.answer for rr in rrset if rrset.rdtype == dns.rdatatype.from_text(
                rdtype)]
            ok = n > 0 and r.rcode() == dns.rcode.NOERROR and (want is None or want in got)
            check(ok, f"{label}: {what}: {n} RRsets validate {got}")
        except Exception as e:  # noqa: BLE001
            check(False, f"{label}: {what}: {e}")
        return r

    positive("static.example.test.", "A", "static A", "192.0.2.1")
    positive("static.example.test.", "AAAA", "static AAAA", "2001:db8::1")
    positive("www.example.test.", "A", "steered A", "127.0.0.2")
    positive("alias.example.test.", "A", "CNAME and its target", "192.0.2.1")
    positive("away.example.test.", "A", "CNAME to a service", "127.0.0.2")
    r = positive("x.wild.example.test.", "A", "wildcard", "192.0.2.9")
    sig = [s for rrset in r.answer if rrset.rdtype == dns.rdatatype.RRSIG for s in rrset][0]
    # Signed as the name asked (4 labels), not as the wildcard (3): an online
    # signer answers for the name itself, so no proof of its absence is due.
    check(sig.labels == 4, f"{label}: a wildcard answer is signed as the name asked (labels {sig.labels})")
    positive("example.test.", "CDS", "CDS at the apex")
    positive("example.test.", "SOA", "SOA")

    def negative(name, rdtype, what, nxname, absent):
        r = query(port, name, rdtype)
        try:
            all_validate(r, dnskeys)
            owner = dns.name.from_text(name)
            if r.answer and r.answer[0].rdtype == dns.rdatatype.CNAME:
                owner = r.answer[0][0].target
            nsec = nsec_of(r, owner.to_text())
            types = bitmap_types(nsec) if nsec else set()
            ok = (r.rcode() == dns.rcode.NOERROR and nsec is not None and
                  nsec.next == dns.name.Name((b"\x00",) + owner.labels) and
                  (NXNAME in types) == nxname and absent not in types and
                  dns.rdatatype.NSEC in types and dns.rdatatype.RRSIG in types)
            check(ok, f"{label}: {what}: NOERROR, NSEC {nsec}, validates")
        except Exception as e:  # noqa: BLE001
            check(False, f"{label}: {what}: {e}")

    negative("nothere.example.test.", "A", "NXDOMAIN as a compact answer (NXNAME)", True, dns.rdatatype.A)
    negative("nowhere.example.test.", "A", "CNAME to a name that does not exist", True, dns.rdatatype.A)
    negative("static.example.test.", "TXT", "NODATA", False, dns.rdatatype.TXT)
    negative("x.wild.example.test.", "TXT", "NODATA at a wildcard", False, dns.rdatatype.TXT)
    negative("www.example.test.", "AAAA", "NODATA at a service (no IPv6 site)", False, dns.rdatatype.AAAA)
    negative("sub.example.test.", "DS", "no DS at a delegation", False, dns.rdatatype.DS)

    r = query(port, "a.sub.example.test.", "A")
    nsec = nsec_of(r, "sub.example.test.")
    try:
        all_validate(r, dnskeys, ("authority",))
        types = bitmap_types(nsec) if nsec else set()
        check(nsec is not None and dns.rdatatype.NS in types and dns.rdatatype.DS not in types and
              not r.flags & dns.flags.AA, f"{label}: referral without DS: a signed NSEC proves there is none")
    except Exception as e:  # noqa: BLE001
        check(False, f"{label}: referral without DS: {e}")
    r = query(port, "a.secure.example.test.", "A")
    try:
        n = all_validate(r, dnskeys, ("authority",))
        has_ds = any(rrset.rdtype == dns.rdatatype.DS for rrset in r.authority)
        check(has_ds and n == 1, f"{label}: referral with DS: the DS is signed")
    except Exception as e:  # noqa: BLE001
        check(False, f"{label}: referral with DS: {e}")
    r = query(port, "static.example.test.", "A", do=False)
    check(not any(rrset.rdtype == dns.rdatatype.RRSIG for rrset in r.answer),
          f"{label}: without DO no RRSIG")
    r = query(port, "static.example.test.", "A", tcp=True)
    check(bool(sigs_for(r.answer, r.answer[0])), f"{label}: signed over TCP too")
    r = query(port, "host.plain.test.", "A")
    check(r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1 and r.answer[0].rdtype == dns.rdatatype.A,
          f"{label}: a DO query to an unsigned zone is answered as before (no RRSIG)")
    r = query(port, "nothere.plain.test.", "A")
    check(r.rcode() == dns.rcode.NXDOMAIN and not any(x.rdtype == dns.rdatatype.NSEC for x in r.authority),
          f"{label}: ... and its NXDOMAIN stays NXDOMAIN")
    return dnskeys


class FlipProxy:
    """A UDP proxy to dnsd that flips the last byte of every reply that
    holds `marker` (the end of an RRSIG's signature): a tampered answer."""

    def __init__(self, upstream_port, marker):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.upstream, self.marker, self.running = upstream_port, marker, True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            try:
                data, client = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.settimeout(2)
            try:
                up.sendto(data, ("127.0.0.1", self.upstream))
                reply = bytearray(up.recv(65535))
            except OSError:
                continue
            finally:
                up.close()
            r = dns.message.from_wire(bytes(reply))
            if any(rrset.rdtype == dns.rdatatype.RRSIG and rrset.name.to_text().startswith(self.marker)
                   for rrset in r.answer):
                # The answer's first RRSIG: the last byte of its signature.
                for rrset in r.answer:
                    if rrset.rdtype == dns.rdatatype.RRSIG:
                        sig = rrset[0].signature
                        at = bytes(reply).find(sig)
                        if at >= 0:
                            reply[at + len(sig) - 1] ^= 0x01
                        break
            self.sock.sendto(bytes(reply), client)

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def start_unbound(work, port, dnsd_port, anchor, name):
    conf = os.path.join(work, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(UNBOUND_CONF.format(port=port, work=work, anchor=anchor, dnsd_port=dnsd_port))
    proc = subprocess.Popen(["unbound", "-d", "-c", conf], cwd=work, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, f"{name}.err"), "a"))
    dnsclient.wait_for_dns(port, proc=proc, name="static.example.test.", rdclass="IN")
    return proc


def resolve(port, name, rdtype):
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=5)


def ad_text(r):
    return f"{dns.rcode.to_text(r.rcode())}{' AD' if r.flags & dns.flags.AD else ''}"


def unbound_cases(work, dnsd_port, ds_text, label, listeners):
    """unbound with the DS as its trust anchor: AD on every kind."""
    anchor = ds_text.replace(" IN DS ", " DS ")
    port = dnsclient.free_port()
    unbound = start_unbound(work, port, dnsd_port, anchor, "unbound")
    try:
        cases = [("static.example.test.", "A", dns.rcode.NOERROR, "static"),
                 ("www.example.test.", "A", dns.rcode.NOERROR, "steered"),
                 ("alias.example.test.", "A", dns.rcode.NOERROR, "CNAME"),
                 ("away.example.test.", "A", dns.rcode.NOERROR, "CNAME to a service"),
                 ("nothere.example.test.", "A", dns.rcode.NOERROR, "NXDOMAIN (compact: NOERROR, NXNAME)"),
                 ("static.example.test.", "TXT", dns.rcode.NOERROR, "NODATA"),
                 ("www.example.test.", "AAAA", dns.rcode.NOERROR, "NODATA at a service"),
                 ("x.wild.example.test.", "A", dns.rcode.NOERROR, "wildcard"),
                 ("y.wild.example.test.", "TXT", dns.rcode.NOERROR, "NODATA at a wildcard"),
                 ("secure.example.test.", "DS", dns.rcode.NOERROR, "delegation with DS (the DS)"),
                 ("sub.example.test.", "DS", dns.rcode.NOERROR, "delegation without DS (proven)"),
                 ("example.test.", "DNSKEY", dns.rcode.NOERROR, "DNSKEY"),
                 ("example.test.", "CDNSKEY", dns.rcode.NOERROR, "CDNSKEY")]
        for name, rdtype, rcode, what in cases:
            r = resolve(port, name, rdtype)
            check(r.flags & dns.flags.AD and r.rcode() == rcode,
                  f"{label}: unbound validates {what} ({name} {rdtype}): {ad_text(r)}")
        r = resolve(port, "www.example.test.", "A")
        before = sorted(rr.address for rrset in r.answer if rrset.rdtype == dns.rdatatype.A for rr in rrset)
        listeners["a"].stop()
        moved = dnsclient.wait_for_addresses(dnsd_port, ["127.0.0.3"], INTERVAL * FALL + 5)
        # unbound keeps an answer up to about two seconds (cache-max-ttl 1,
        # whole seconds): asked until it has the new one.
        deadline = time.monotonic() + 5
        while True:
            r = resolve(port, "www.example.test.", "A")
            after = sorted(rr.address for rrset in r.answer if rrset.rdtype == dns.rdatatype.A for rr in rrset)
            if after != before or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        check(moved is not None and before == ["127.0.0.2"] and after == ["127.0.0.3"] and
              bool(r.flags & dns.flags.AD),
              f"{label}: unbound validates the steered answer after a failover: {before} -> {after} "
              f"{ad_text(r)}")
        listeners["a"].start()
        dnsclient.wait_for_addresses(dnsd_port, ["127.0.0.2"], INTERVAL * 2 + 5)
    finally:
        dnsclient.stop(unbound)

    # A tampered answer: a proxy flips a byte of the signature.
    proxy = FlipProxy(dnsd_port, "static.")
    port2 = dnsclient.free_port()
    tampered = start_unbound(work, port2, proxy.port, anchor, "unbound-tampered")
    try:
        r = resolve(port2, "static.example.test.", "A")
        check(r.rcode() == dns.rcode.SERVFAIL, f"{label}: a flipped signature byte: unbound says "
                                                f"{dns.rcode.to_text(r.rcode())}")
        r = resolve(port2, "alias.example.test.", "CNAME")
        check(r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AD,
              f"{label}: ... while an untouched answer through the proxy validates: {ad_text(r)}")
    finally:
        dnsclient.stop(tampered)
        proxy.stop()


def delv_cases(work, dnsd_port, ds_text, label):
    if not shutil.which("delv"):
        print("skip delv: not installed")
        return
    tag, alg, digest_type, digest = ds_text.split()[-4:]
    anchors = os.path.join(work, "anchors.conf")
    with open(anchors, "w") as f:
        f.write(f'trust-anchors {{\n example.test. static-ds {tag} {alg} {digest_type} "{digest}";\n}};\n')
    for name, rdtype, want in (("static.example.test", "A", "; fully validated"),
                               ("www.example.test", "A", "; fully validated"),
                               ("nothere.example.test", "A", "; negative response, fully validated"),
                               ("static.example.test", "TXT", "; negative response, fully validated")):
        p = subprocess.run(["delv", "-a", anchors, "+root=example.test", "-p", str(dnsd_port), "@127.0.0.1",
                            name, rdtype], capture_output=True, text=True, timeout=30)
        check(want in p.stdout + p.stderr, f"{label}: delv: {name} {rdtype}: {want}")


def reload_cases(work, port, cport):
    """A reload whose keys are refused keeps the running, signed view; a
    good one applies."""
    url, token = f"http://127.0.0.1:{cport}/reload", "0123456789abcdef0123456789abcdef"
    keys = os.path.join(work, "keys")
    privates = [os.path.join(keys, n) for n in os.listdir(keys) if n.endswith(".private")]
    for p in privates:
        os.chmod(p, 0o644)
    status, doc = dnsclient.http_json(url, "POST", token=token)
    message = doc.get("message", "") if isinstance(doc, dict) else str(doc)
    r = query(port, "static.example.test.", "A")
    check(doc.get("ok") is not True and os.path.basename(privates[0]).split("+")[0] in message and
          bool(sigs_for(r.answer, r.answer[0])),
          f"a reload with a world-readable key is refused naming it, and dnsd still signs ({status} {message[:120]!r})")
    for p in privates:
        os.chmod(p, 0o600)
    status, doc = dnsclient.http_json(url, "POST", token=token)
    r = query(port, "static.example.test.", "A")
    check(doc.get("ok") is True and bool(sigs_for(r.answer, r.answer[0])),
          f"the keys put right, the reload applies and answers are signed ({status})")


def bad_keys_cases(dnsd, work):
    """Key directories that are config errors naming the file."""
    base = os.path.join(work, "bad")
    os.makedirs(base)
    shutil.copy(os.path.join(work, "example.test.zone"), base)
    shutil.copy(os.path.join(work, "plain.test.zone"), base)

    def run_check(keys_dir):
        with open(os.path.join(base, "dnsd.toml"), "w") as f:
            f.write(f'[[zone]]\norigin = "example.test."\nfile = "example.test.zone"\ndnssec = "{keys_dir}"\n')
        return subprocess.run([dnsd, "check", "-c", "dnsd.toml"], cwd=base, capture_output=True, text=True,
                              timeout=30)

    p = run_check("missing")
    check(p.returncode != 0 and "missing" in p.stderr + p.stdout, "a missing key directory is an error naming it")
    os.makedirs(os.path.join(base, "empty"))
    p = run_check("empty")
    check(p.returncode != 0 and "empty" in p.stderr + p.stdout, "a directory without keys is an error")
    wr = os.path.join(base, "world")
    os.makedirs(wr)
    stem = keygen(wr, "-a", "13")
    os.chmod(os.path.join(wr, stem + ".private"), 0o644)
    p = run_check("world")
    check(p.returncode != 0 and stem + ".private" in p.stderr + p.stdout,
          "a world-readable .private is refused, naming the file")
    os.chmod(os.path.join(wr, stem + ".private"), 0o640)
    p = run_check("world")
    check(p.returncode == 0 and " DS " in p.stdout, "a group-readable (0640) .private is accepted")
    old = os.path.join(base, "old")
    os.makedirs(old)
    stem = keygen(old, "-a", "13", "-P", "20200101", "-A", "20200101", "-I", "20200201", "-D", "20200301")
    p = run_check("old")
    check(p.returncode != 0 and "no key is active" in p.stderr + p.stdout, "only retired keys: an error")
    soon = os.path.join(base, "soon")
    os.makedirs(soon)
    keygen(soon, "-a", "13", "-I", "+5d")
    p = run_check("soon")
    check(p.returncode == 0 and "Inactive time in" in p.stdout, "a key near its Inactive time: a warning")
    ahead = os.path.join(base, "ahead")
    os.makedirs(ahead)
    stem = keygen(ahead, "-a", "13")
    private = os.path.join(ahead, stem + ".private")
    with open(private) as f:
        text = re.sub(r"^Created: \d+", "Created: 20990101000000", f.read(), flags=re.M)
    with open(private, "w") as f:
        f.write(text)
    p = run_check("ahead")
    check(p.returncode == 0 and "clock looks far off" in p.stderr + p.stdout,
          "keys created ahead of the host's clock: a warning that the clock looks far off")
    unknown = os.path.join(base, "unknown")
    os.makedirs(unknown)
    stem = keygen(unknown, "-a", "8", "-b", "2048")
    p = run_check("unknown")
    check(p.returncode != 0 and stem in p.stderr + p.stdout, "an unknown algorithm (8) is an error naming the file")


def one_setup(dnsd, label, keygen_args, extra_checks):
    work = tempfile.mkdtemp(prefix="dnsd-dnssec-")
    proc = None
    listeners = {}
    try:
        keys = os.path.join(work, "keys")
        os.makedirs(keys)
        for args in keygen_args:
            keygen(keys, *args)
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(ZONE_TEXT)
        with open(os.path.join(work, "plain.test.zone"), "w") as f:
            f.write(UNSIGNED_ZONE)
        port, http_port, cport = dnsclient.free_port(), dnsclient.free_port(), dnsclient.free_port()
        with open(os.path.join(work, "dnsd.toml"), "w") as f:
            f.write(CONFIG.format(port=port, http_port=http_port, interval=int(INTERVAL * 1000), fall=FALL,
                                  cport=cport))
        dnsclient.write_secret(os.path.join(work, "token"), "0123456789abcdef0123456789abcdef\n")
        p = subprocess.run([dnsd, "check", "-c", "dnsd.toml"], cwd=work, capture_output=True, text=True,
                           timeout=30)
        ds = [line.strip() for line in p.stdout.splitlines() if " IN DS " in line]
        check(p.returncode == 0 and len(ds) == 1, f"{label}: dnsd check prints the DS: {ds}")
        if not ds:
            print(p.stdout, p.stderr)
            return
        for name, host in (("a", "127.0.0.2"), ("b", "127.0.0.3")):
            listeners[name] = dnsclient.Listener(host, http_port)
            listeners[name].start()
        proc = subprocess.Popen([dnsd, "run", "-c", "dnsd.toml"], cwd=work,
                                stdout=open(os.path.join(work, "dnsd.log"), "a"), stderr=subprocess.STDOUT)
        dnsclient.wait_for_dns(port, proc=proc)
        dnsclient.wait_for_addresses(port, ["127.0.0.2"], 5)
        dnspython_cases(port, ds[0], label)
        unbound_cases(work, port, ds[0], label, listeners)
        delv_cases(work, port, ds[0], label)
        with urllib.request.urlopen(f"http://127.0.0.1:{cport}/metrics", timeout=10) as page:
            text = page.read().decode()
        made = re.search(r'^dnsd_dnssec_signatures_total\{result="made"\} (\d+)$', text, re.M)
        cached = re.search(r'^dnsd_dnssec_signatures_total\{result="cached"\} (\d+)$', text, re.M)
        check(made and cached and int(made.group(1)) > 0 and int(cached.group(1)) > int(made.group(1)),
              f"{label}: /metrics counts signatures made ({made and made.group(1)}) and taken from the cache "
              f"({cached and cached.group(1)})")
        problems = dnsclient.metrics_contract(text, cluster=False)
        check(not problems, f"{label}: /metrics: exactly the README's metrics and labels {problems[:3]}")
        if extra_checks:
            reload_cases(work, port, cport)
            bad_keys_cases(dnsd, work)
        check(proc.poll() is None, f"{label}: dnsd still running")
    finally:
        dnsclient.stop(proc)
        for listener in listeners.values():
            listener.stop()
        dnsclient.remove_work(work)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    for tool in ("dnssec-keygen", "unbound"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"skip: {tool} is not installed (tools/deps installs it)")
            return 77
    dnsclient.loopback_aliases("127.0.0.2", "127.0.0.3")
    one_setup(dnsd, "alg 13 KSK+ZSK", [("-a", "13", "-f", "KSK"), ("-a", "13")], True)
    one_setup(dnsd, "alg 15 combined", [("-a", "15", "-f", "KSK")], False)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
