#!/usr/bin/python3
"""`dnsd check` on good and broken configurations and zones.

Each directory under tests/system/check/ holds a dnsd.toml (and its zones)
and `expected`: the exact output of `dnsd check -c dnsd.toml` run in that
directory, followed by a last line `exit N`. Every problem must be reported
with its file and line, all of them in one run.
Run with --update to rewrite the expected files (review the diff!)."""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()
    dnsd = os.path.abspath(args.dnsd)
    failures = 0
    cases = sorted(os.listdir(os.path.join(HERE, "check")))
    for case in cases:
        d = os.path.join(HERE, "check", case)
        p = subprocess.run([dnsd, "check", "-c", "dnsd.toml"], cwd=d, capture_output=True, text=True, timeout=30)
        got = p.stderr + p.stdout + f"exit {p.returncode}\n"
        exp_path = os.path.join(d, "expected")
        if args.update:
            with open(exp_path, "w") as f:
                f.write(got)
            print(f"updated {case}")
            continue
        with open(exp_path) as f:
            expected = f.read()
        if got != expected:
            failures += 1
            print(f"FAIL {case}\n--- expected\n{expected}--- got\n{got}")
        else:
            print(f"ok   {case}")
    # The shipped examples must pass.
    examples = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples")
    for name in sorted(os.listdir(examples)):
        if name.endswith(".toml"):
            p = subprocess.run([dnsd, "check", "-c", os.path.join(examples, name)], capture_output=True,
                               text=True, timeout=30)
            if p.returncode != 0:
                failures += 1
                print(f"FAIL examples/{name}:\n{p.stderr}")
            else:
                print(f"ok   examples/{name}")
    # The command line itself.
    p = subprocess.run([dnsd, "--version"], capture_output=True, text=True, timeout=10)
    if p.returncode != 0 or not p.stdout.startswith("dnsd "):
        failures += 1
        print("FAIL --version:", p.stdout, p.stderr)
    p = subprocess.run([dnsd, "--help"], capture_output=True, text=True, timeout=10)
    if p.returncode != 0 or "dnsd run -c FILE" not in p.stdout:
        failures += 1
        print("FAIL --help:", p.stdout, p.stderr)
    p = subprocess.run([dnsd, "check"], capture_output=True, text=True, timeout=10)
    if p.returncode != 2 or "-c FILE is required" not in p.stderr:
        failures += 1
        print("FAIL check without -c:", p.stdout, p.stderr)
    p = subprocess.run([dnsd, "check", "-c", "/nonexistent/dnsd.toml"], capture_output=True, text=True, timeout=10)
    if p.returncode != 1 or "/nonexistent/dnsd.toml" not in p.stderr:
        failures += 1
        print("FAIL missing config:", p.stdout, p.stderr)
    print(f"{len(cases)} check cases, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
