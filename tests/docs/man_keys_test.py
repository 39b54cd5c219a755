#!/usr/bin/python3
"""dnsd.toml(5) and examples/full.toml name the same configuration keys.

Keys are compared as dotted paths: server.listen, geo.networks.prefix,
service.damping.penalty. Named tables are normalised (sites.ams.weight ->
sites.NAME.weight, probes.web.type -> probes.NAME.type, tsig.xfr.algorithm
-> tsig.NAME.algorithm); a site's inline probe counts as a [probes.NAME]
table; location and probe_targets are values, not tables. full.toml shows
optional keys and alternatives commented out (`# key = value`, under the
last table header, commented or not): those count too. In the man page
each key is a line `*key* = ...` under a heading `## [table]` or
`## [[table]]`.

With --dnsd, two more checks against the parser itself: a configuration
that sets every documented key (with full.toml's value) draws no "unknown
key" from `dnsd check`, so the page lists no key this version refuses; and
`dnsd check -c examples/full.toml` passes."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FULL = os.path.join(REPO, "examples", "full.toml")
PAGE = os.path.join(REPO, "docs", "man", "dnsd.toml.5.scd")

NAMED = {"sites", "probes", "tsig"}  # [NAME.x] tables whose second part is a name
VALUE_TABLES = {"location", "probe_targets"}  # inline tables that are one value

HEADER = re.compile(r"^#?\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")
COMMENTED_KEY = re.compile(r"^#\s?([A-Za-z0-9_-]+\s*=\s*.+)$")
PAGE_SECTION = re.compile(r"^## (\[\[?)([A-Za-z_.]+)(\]\]?)\s*$")
PAGE_KEY = re.compile(r"^\*([A-Za-z0-9_.-]+)\* = ")


def normalise(parts):
    parts = list(parts)
    if parts[0] in NAMED and len(parts) > 1:
        parts[1] = "NAME"
    # A site's inline probe has the keys of a [probes.NAME] table.
    if parts[:3] == ["sites", "NAME", "probe"] and len(parts) > 3:
        parts = ["probes", "NAME"] + parts[3:]
    return ".".join(parts)


def leaves(prefix, value, out):
    """Every key path below `prefix` in a parsed TOML value, with its value."""
    if isinstance(value, dict) and (not prefix or prefix[-1] not in VALUE_TABLES):
        if prefix[-1:] == ["probe"]:
            out.setdefault(normalise(prefix), value)  # a site's `probe = { ... }` is also its key probe
        for k, v in value.items():
            leaves(prefix + [k], v, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for v in value:  # [[table]] entries
            leaves(prefix, v, out)
    else:
        out.setdefault(normalise(prefix), value)


def full_keys(path=FULL):
    """{key path: a value full.toml gives it}, commented-out keys included."""
    with open(path, "rb") as f:
        text = f.read().decode()
    out = {}
    leaves([], tomllib.loads(text), out)
    table = []
    for line in text.splitlines():
        line = line.strip()
        if m := HEADER.match(line):
            table = m.group(1).split(".")
            continue
        m = COMMENTED_KEY.match(line)
        if not m:
            continue
        try:
            parsed = tomllib.loads(m.group(1))
        except tomllib.TOMLDecodeError:
            continue  # prose with an equals sign
        for k, v in parsed.items():
            leaves(table + [k], v, out)
    return out


def page_keys(path=PAGE):
    """{key path: its section heading} of the man page, and the problems of its layout."""
    keys, problems, section = {}, [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if m := PAGE_SECTION.match(line):
                section = m.group(0)[3:].strip()
                table = m.group(2)
                continue
            if line.startswith("# "):
                section = None
            if m := PAGE_KEY.match(line):
                if section is None:
                    problems.append(f"{path}:{n}: key {m.group(1)} outside a ## [table] section")
                    continue
                key = table + "." + m.group(1)
                if key in keys:
                    problems.append(f"{path}:{n}: {key} is documented twice")
                keys[key] = section
    return keys, problems


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"


def every_key_config(documented, values):
    """A configuration with every documented key, under its own section,
    valued as in full.toml. A key that is also a table of dotted keys
    (damping and damping.penalty) is written as the table."""
    sections = {}
    for key, section in documented.items():
        if key in values:
            sections.setdefault(section, []).append(key)
    lines = []
    for section, keys in sections.items():
        lines.append(section.replace("NAME", "x"))
        table = section.strip("[]").count(".") + 1
        for key in keys:
            if any(other.startswith(key + ".") for other in keys):
                continue
            lines.append(".".join(key.split(".")[table:]) + " = " + toml_value(values[key]))
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnsd", help="also check the documented keys against this dnsd's parser")
    ap.add_argument("--full", default=FULL, help=argparse.SUPPRESS)
    ap.add_argument("--page", default=PAGE, help=argparse.SUPPRESS)
    args = ap.parse_args()
    failures = []
    example = full_keys(args.full)
    documented, problems = page_keys(args.page)
    failures += problems
    for key in sorted(set(example) - set(documented)):
        failures.append(f"examples/full.toml has {key}, which dnsd.toml(5) does not document")
    for key in sorted(set(documented) - set(example)):
        failures.append(f"dnsd.toml(5) documents {key}, which examples/full.toml does not show")
    if not documented or not example:
        failures.append("no keys found (the page's or full.toml's layout changed?)")

    if args.dnsd:
        with tempfile.TemporaryDirectory(prefix="dnsd-man-keys-") as work:
            conf = os.path.join(work, "every-key.toml")
            with open(conf, "w") as f:
                f.write(every_key_config(documented, example))
            r = subprocess.run([args.dnsd, "check", "-c", conf], capture_output=True, text=True, timeout=60)
            said = r.stdout + r.stderr
            if conf not in said:
                failures.append(f"dnsd check said nothing about {conf}: {said[:500]}")
            for line in said.splitlines():
                if line.endswith(": unknown key") or ": syntax:" in line:
                    failures.append(f"dnsd refuses a documented key: {line}")
        r = subprocess.run([args.dnsd, "check", "-c", args.full], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failures.append(f"dnsd check -c examples/full.toml: exit {r.returncode}: {r.stderr.strip()[:1000]}")

    for f in failures:
        print("FAIL: " + f)
    print(f"{len(documented)} keys documented, {len(example)} in examples/full.toml; "
          f"{'ok' if not failures else str(len(failures)) + ' problems'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
