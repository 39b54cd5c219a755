#!/usr/bin/python3
"""Privileges and readiness with the real dnsd, as root: it refuses to run
as root without server.user unless told to; with `user = "nobody"` every
thread runs as nobody after binding, queries are answered, and the state
file and the control endpoint still work; a user the machine does not
have is a warning in `check` and an error in `run`; and the service manager hears READY=1, RELOADING=1 and STOPPING=1
on $NOTIFY_SOCKET (systemd's Type=notify)."""
import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import dns.message
import dns.query

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402

TOKEN = "privileges-test-token-0123"

CONFIG = """[server]
listen = ["127.0.0.1:{port}"]
threads = 2
{user}
state_file = "state/state.json"
[control]
listen = "127.0.0.1:{cport}"
token_file = "token"
[[zone]]
origin = "example.test."
file = "example.test.zone"
[sites.a]
addresses = ["192.0.2.1"]
[sites.b]
addresses = ["192.0.2.2"]
[[service]]
name = "www.example.test."
sites = ["a", "b"]
"""

check, failures = dnsclient.check, dnsclient.failures


def uids(pid):
    """The real, effective, saved and filesystem uids of every thread."""
    out = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    out.update(int(x) for x in line.split()[1:])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    if os.geteuid() != 0:
        print("SKIP: needs root (to drop privileges)")
        return 77
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        print("SKIP: no user nobody")
        return 77
    work = tempfile.mkdtemp(prefix="dnsd-priv-")
    os.chmod(work, 0o755)
    procs = []
    notify = None
    try:
        port, cport = dnsclient.free_port(), dnsclient.free_port()
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        os.makedirs(os.path.join(work, "state"))
        os.chown(os.path.join(work, "state"), nobody.pw_uid, nobody.pw_gid)
        conf = os.path.join(work, "dnsd.toml")
        env = {k: v for k, v in os.environ.items() if k != "DNSD_ALLOW_ROOT"}

        # 1. Root without server.user: refused, with the way out.
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=port, cport=cport, user=""))
        r = subprocess.run([dnsd, "run", "-c", conf], env=env, capture_output=True, text=True, timeout=20)
        check(r.returncode == 1 and "not starting as root without server.user" in r.stderr
              and "--allow-root" in r.stderr, "as root without server.user: refused, saying how")

        # 2. A user this machine does not have: `check` warns (it may run on
        # a CI box that checks a production config), `run` refuses to start.
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=port, cport=cport, user='user = "no-such-user-dnsd"'))
        r = subprocess.run([dnsd, "check", "-c", conf], env=env, capture_output=True, text=True, timeout=20)
        check(r.returncode == 0 and f"{conf}:4: warning: server.user: no user named 'no-such-user-dnsd' on this "
              "machine" in r.stderr, f"an unknown user: check warns, FILE:LINE: server.user ({r.stderr.strip()})")
        r = subprocess.run([dnsd, "run", "-c", conf], env=env, capture_output=True, text=True, timeout=20)
        check(r.returncode == 1 and f"{conf}:4: server.user: no user named 'no-such-user-dnsd' on this machine: "
              "not starting" in r.stderr, f"an unknown user: run refuses to start ({r.stderr.strip()[-300:]})")

        # 3. user = "nobody", with a service manager listening.
        notify_path = os.path.join(work, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        os.chmod(notify_path, 0o777)  # as systemd's: dnsd writes to it after the drop
        notify.settimeout(10)
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=port, cport=cport, user='user = "nobody"'))
        proc = subprocess.Popen([dnsd, "run", "-c", conf], cwd=work, env=dict(env, NOTIFY_SOCKET=notify_path),
                                stdout=open(os.path.join(work, "dnsd.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(proc)
        ready = notify.recv(4096).decode()
        check(ready.startswith("READY=1") and f"MAINPID={proc.pid}" in ready, f"READY=1 with MAINPID: {ready!r}")
        check(uids(proc.pid) == {nobody.pw_uid}, f"every thread runs as nobody ({uids(proc.pid)})")
        r = dns.query.udp(dns.message.make_query("www.example.test.", "A"), "127.0.0.1", port=port, timeout=2)
        check([rr.address for rrset in r.answer for rr in rrset] == ["192.0.2.1"], "queries are answered")
        req = urllib.request.Request(f"http://127.0.0.1:{cport}/sites/a/override", method="POST",
                                     data=json.dumps({"state": "drain"}).encode(),
                                     headers={"Authorization": "Bearer " + TOKEN})
        with urllib.request.urlopen(req, timeout=5) as resp:
            check(resp.status == 200, "the control endpoint works after the drop")
        state = os.path.join(work, "state", "state.json")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not os.path.exists(state):
            time.sleep(0.05)
        check(os.path.exists(state) and os.stat(state).st_uid == nobody.pw_uid, "the state file is written, by nobody")
        proc.send_signal(signal.SIGHUP)
        got = [notify.recv(4096).decode().split("\n")[0] for _ in range(2)]
        check(got == ["RELOADING=1", "READY=1"], f"a reload: RELOADING=1, then READY=1 ({got})")
        proc.send_signal(signal.SIGTERM)
        check(notify.recv(4096).decode().startswith("STOPPING=1"), "SIGTERM: STOPPING=1")
        check(proc.wait(timeout=10) == 0, "and it exits 0")
        with open(os.path.join(work, "dnsd.log")) as f:
            check(f"running as user nobody (uid {nobody.pw_uid}" in f.read(), "the log says which user")

        # 4. The systemd unit in examples/ is one systemd accepts.
        analyze = shutil.which("systemd-analyze")
        if analyze:
            repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            with open(os.path.join(repo, "examples", "dnsd.service")) as f:
                unit = f.read().replace("/usr/sbin/dnsd", dnsd)
            # Its man pages are where the package installs them, not here
            # (verify runs man): tests/package/install_test.sh has them.
            unit = "\n".join(l for l in unit.split("\n") if not l.startswith("Documentation=man:"))
            with open(os.path.join(work, "dnsd.service"), "w") as f:
                f.write(unit)
            r = subprocess.run([analyze, "verify", os.path.join(work, "dnsd.service")], capture_output=True,
                               text=True, timeout=60)
            check(r.returncode == 0 and "Type=notify" in unit, "systemd-analyze verify examples/dnsd.service: "
                  + (r.stderr.strip() or "clean"))

        # 5. --allow-root keeps root, as asked.
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=port, cport=cport, user=""))
        proc = subprocess.Popen([dnsd, "run", "-c", conf, "--allow-root"], cwd=work, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        procs.append(proc)
        dnsclient.wait_for_dns(port, proc=proc)
        check(uids(proc.pid) == {0}, "--allow-root: runs as root")
    finally:
        for proc in procs:
            dnsclient.stop(proc)
        if notify:
            notify.close()
        if (failures or sys.exc_info()[0]) and os.path.exists(os.path.join(work, "dnsd.log")):
            with open(os.path.join(work, "dnsd.log")) as f:
                print("--- dnsd.log\n" + f.read()[-2000:])
        shutil.rmtree(work, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
