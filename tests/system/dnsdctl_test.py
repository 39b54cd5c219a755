#!/usr/bin/python3
"""dnsdctl's own surface: the help of every command, --config (the control
endpoint and token found in dnsd's configuration, with no --url and no
$DNSD_URL: a TCP listener, a unix: one and HTTPS), its errors, and the bash
completion of commands, site and service names."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsclient  # noqa: E402
import reload_test  # noqa: E402  (its configuration and certificates)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNSDCTL = os.path.join(REPO, "tools", "dnsdctl")
COMPLETION = os.path.join(REPO, "tools", "completion", "dnsdctl")
TOKEN = "a-test-token-0123456789"

check = dnsclient.check

# Every option each command names in its --help.
HELP = {
    "status": [],
    "drain": ["SITE", "--for", "--until", "--force"],
    "down": ["SITE", "--for", "--until", "--force"],
    "up": ["SITE", "--for", "--until", "--force"],
    "auto": ["SITE"],
    "resume": ["SERVICE", "SITE"],
    "reload": [],
    "explain": ["NAME", "--client", "--type"],
    "demand": [],
    "simulate": ["--down", "--drain", "--up", "--load", "--service", "--json"],
}


def ctl(*args, cwd=None):
    """dnsdctl with none of its environment variables set."""
    env = {k: v for k, v in os.environ.items() if k not in ("DNSD_URL", "DNSD_TOKEN_FILE", "DNSD_CA_FILE")}
    return subprocess.run([sys.executable, DNSDCTL, *args], capture_output=True, text=True, timeout=80, env=env,
                          cwd=cwd)


def complete(line):
    """What the completion offers for the last word of `line` (a trailing
    space: a new, empty word)."""
    script = ('source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *" " ]] && COMP_WORDS+=(""); '
              'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _dnsdctl; echo "${COMPREPLY[*]}"')
    r = subprocess.run(["bash", "-c", script, "_", COMPLETION, line], capture_output=True, text=True, timeout=30)
    return r.stdout.split()


def help_cases():
    r = ctl("--help")
    check(r.returncode == 0 and all(o in r.stdout for o in ("--url", "--token-file", "--ca-file", "--config"))
          and all(c in r.stdout for c in HELP), "dnsdctl --help: every global option and command")
    for command, options in HELP.items():
        r = ctl(command, "--help")
        check(r.returncode == 0 and f"usage: dnsdctl {command}" in r.stdout
              and all(o in r.stdout for o in options),
              f"dnsdctl {command} --help: exit 0, names {', '.join(options) or 'its usage'}")
    r = ctl("help", "explain")
    check(r.returncode == 0 and "--client" in r.stdout and "--type" in r.stdout, "dnsdctl help explain")
    r = ctl("help")
    check(r.returncode == 0 and "--config" in r.stdout, "dnsdctl help: the general help")
    r = ctl("help", "nosuch")
    check(r.returncode == 2, "dnsdctl help nosuch: a usage error (exit 2)")


def completion_cases(conf):
    check(complete("dnsdctl dr") == ["drain"], "completion: a command")
    check(set(complete("dnsdctl ")) >= set(HELP), "completion: every command")
    check("--config" in complete("dnsdctl --c"), "completion: a global option")
    check(complete(f"dnsdctl --config {conf} drain ") == ["ams", "nyc"], "completion: site names from --config")
    check(complete(f"dnsdctl --config={conf} down n") == ["nyc"], "completion: a site name, --config=FILE")
    check(complete(f"dnsdctl --config {conf} resume w") == ["www.example.test"], "completion: a service name")
    check(complete(f"dnsdctl --config {conf} resume www.example.test a") == ["ams"],
          "completion: resume's site")
    check(complete("dnsdctl drain ams --f") == ["--for", "--force"], "completion: a command's option")
    check(complete(f"dnsdctl --config {conf} simulate --down a") == ["ams"], "completion: simulate --down's site")
    check(complete(f"dnsdctl --config {conf} simulate --service w") == ["www.example.test"],
          "completion: simulate --service's service")
    check(complete("dnsdctl simulate --d") == ["--down", "--drain"], "completion: simulate's options")
    check(complete("dnsdctl explain x --type ") == ["A", "AAAA"], "completion: --type's values")
    check(complete("dnsdctl --config /nonexistent/dnsd.toml up ") == [],
          "completion: no names from an unreadable config, and no error")


def start(dnsd, work, conf, log):
    proc = subprocess.Popen([os.path.abspath(dnsd), "run", "-c", conf], cwd=work,
                            stdout=open(os.path.join(work, log), "w"), stderr=subprocess.STDOUT)
    return proc


def serve(dnsd, work, name, listen, tls=""):
    """A dnsd whose control endpoint listens at `listen`: the process, its
    configuration's path and its DNS port."""
    port = dnsclient.free_port()
    conf = os.path.join(work, name + ".toml")
    with open(conf, "w") as f:
        f.write(reload_test.config(port, listen, threads=1, control_extra=tls))
    proc = start(dnsd, work, conf, name + ".log")
    dnsclient.wait_for_dns(port, proc=proc)
    return proc, conf, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dnsd-dnsdctl-")
    elsewhere = tempfile.mkdtemp(prefix="dnsd-dnsdctl-cwd-")  # relative paths are the config's, not the cwd's
    proc = None
    try:
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(os.path.join(work, "example.test.zone"), "w") as f:
            f.write(dnsclient.SMALL_ZONE)
        help_cases()

        # A TCP listener: found, with its token, from the configuration alone.
        cport = dnsclient.free_port()
        proc, conf, port = serve(args.dnsd, work, "tcp", f"127.0.0.1:{cport}")
        completion_cases(conf)
        r = ctl("--config", conf, "status", cwd=elsewhere)
        check(r.returncode == 0 and "192.0.2.1" in r.stdout and "nyc" in r.stdout,
              f"--config: status from [control] listen, no --url, no $DNSD_URL ({r.stderr.strip()})")
        r = ctl("--config", conf, "drain", "ams", cwd=elsewhere)
        check(r.returncode == 0 and "override drain" in r.stdout,
              f"--config: drain with the config's token_file, relative to the config ({r.stderr.strip()})")
        check(dnsclient.addresses(port) == ["192.0.2.2"], "the drain took effect")
        r = ctl("--config", conf, "auto", "ams", cwd=elsewhere)
        check(r.returncode == 0 and "override auto" in r.stdout, "--config: auto")
        r = ctl("--config", conf, "explain", "www.example.test", cwd=elsewhere)
        check(r.returncode == 0 and "answer" in r.stdout, "--config: explain")
        r = ctl("--config", conf, "down", "nosuch", cwd=elsewhere)
        check(r.returncode == 1 and "nosuch" in r.stderr, "--config: a refusal is still exit 1")
        r = ctl("--config", conf, "--url", f"http://127.0.0.1:{dnsclient.free_port()}", "status")
        check(r.returncode == 3, "--url wins over --config (an unreachable URL: exit 3)")
        dnsclient.stop(proc)
        proc = None
        r = ctl("--config", conf, "status")
        check(r.returncode == 3 and "cannot reach" in r.stderr, "--config: dnsd gone: exit 3")

        # A unix: listener, relative to the configuration file.
        proc, conf, _ = serve(args.dnsd, work, "unix", "unix:control.sock")
        r = ctl("--config", conf, "status", cwd=elsewhere)
        check(r.returncode == 0 and "192.0.2.1" in r.stdout, f"--config: a unix: listener ({r.stderr.strip()})")
        r = ctl("--config", conf, "drain", "nyc", "--for", "1m", cwd=elsewhere)
        check(r.returncode == 0 and "override drain until" in r.stdout, "--config: unix: drain with the token")
        dnsclient.stop(proc)
        proc = None

        # HTTPS: the server's own (self-signed) certificate is trusted.
        if shutil.which("openssl"):
            reload_test.self_signed(work, "tls")
            cport = dnsclient.free_port()
            proc, conf, _ = serve(args.dnsd, work, "tls", f"127.0.0.1:{cport}",
                               'tls_cert = "tls.crt"\ntls_key = "tls.key"')
            r = ctl("--config", conf, "status", cwd=elsewhere)
            check(r.returncode == 0 and "192.0.2.1" in r.stdout,
                  f"--config: https:// with the server's certificate ({r.stderr.strip()})")
            r = ctl("--url", f"https://127.0.0.1:{cport}", "status")
            check(r.returncode == 3, "the same endpoint by --url, without the CA: not verified (exit 3)")
            dnsclient.stop(proc)
            proc = None

        # Errors: exit 2, said plainly.
        r = ctl("--config", os.path.join(work, "missing.toml"), "status")
        check(r.returncode == 2 and "cannot read the configuration file" in r.stderr,
              f"--config with a wrong path: exit 2 ({r.stderr.strip()})")
        bare = os.path.join(work, "bare.toml")
        with open(bare, "w") as f:
            f.write('[[zone]]\norigin = "example.test."\nfile = "example.test.zone"\n')
        r = ctl("--config", bare, "status")
        check(r.returncode == 2 and "no [control]" in r.stderr, "--config without [control]: exit 2")
        with open(bare, "w") as f:
            f.write("[control\n")
        r = ctl("--config", bare, "status")
        check(r.returncode == 2 and "not a TOML file" in r.stderr, "--config that is not TOML: exit 2")
    finally:
        if proc:
            dnsclient.stop(proc)
        if dnsclient.failures:
            for name in ("tcp.log", "unix.log", "tls.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    with open(path) as f:
                        print(f"--- {name}\n" + f.read()[-1500:])
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(elsewhere, ignore_errors=True)
    return dnsclient.result()


if __name__ == "__main__":
    sys.exit(main())
