#!/usr/bin/env bash
# Installs the Debian package that tools/package built into a clean Debian 12
# root (debootstrap, minbase) with apt, as an operator would, and checks what
# SPEC 12 promises: the files and their places, the dnsd user, the conffile,
# the unit enabled and not started, the token, nothing that names the source
# tree; then `dnsd check` and a short `dnsd run` of the installed
# configuration inside the root, started as the unit starts it (user dnsd,
# only CAP_NET_BIND_SERVICE) in a private network namespace of its own (so
# its port 53 is that namespace's loopback), queried with dig and driven
# with the installed dnsdctl; last a purge.
# Usage: tests/package/install_test.sh [DEB]   (root; network for apt)
# No -e: every check below reports and the run goes on; setup steps exit
# on failure explicitly.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
src=$(pwd)
deb=${1:-$(ls build/package/dnsd_*.deb 2>/dev/null | head -n 1)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "install_test: no package (run tools/package)"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  echo "install_test: SKIP: needs root (debootstrap, chroot, unshare)"
  exit 0
fi

root=$src/build/package/root
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  for m in proc dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
rm -rf "$root"

fail=0
check() { # CONDITION-STATUS MESSAGE
  if [ "$1" -eq 0 ]; then echo "ok   $2"; else echo "FAIL $2"; fail=1; fi
}

mirror=http://deb.debian.org/debian
echo "== debootstrap (minbase, bookworm)"
timeout 600 debootstrap --variant=minbase bookworm "$root" "$mirror" >build/package/debootstrap.log 2>&1 || {
  tail -n 20 build/package/debootstrap.log; echo "install_test: debootstrap failed"; exit 1; }
{ cp /etc/resolv.conf "$root/etc/resolv.conf" && mount -t proc proc "$root/proc" &&
  mount --bind /dev "$root/dev" && mount --bind /dev/pts "$root/dev/pts"; } || {
  echo "install_test: cannot prepare the root"; exit 1; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

echo "== apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/" || exit 1
# apt keeps this environment (a proxy, say); the checks run with a clean one.
chroot "$root" apt-get update -qq >/dev/null || { echo "install_test: apt-get update failed"; exit 1; }
if ! timeout 600 chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "/tmp/$(basename "$deb")" >build/package/apt.log 2>&1; then
  tail -n 30 build/package/apt.log; echo "install_test: apt-get install failed"; exit 1
fi
in_root dpkg -s dnsd | grep -q '^Status: install ok installed'; check $? "the package installs with apt (its dependencies resolved)"

echo "== files"
for f in /usr/sbin/dnsd /usr/bin/dnsdctl /lib/systemd/system/dnsd.service \
         /usr/share/man/man8/dnsd.8.gz /usr/share/man/man5/dnsd.toml.5.gz /usr/share/man/man8/dnsdctl.8.gz \
         /usr/share/doc/dnsd/copyright /usr/share/doc/dnsd/examples/full.toml \
         /usr/share/doc/dnsd/examples/zones/gslb.example.com.zone \
         /etc/dnsd/dnsd.toml /etc/dnsd/zones/gslb.example.com.zone; do
  [ -e "$root$f" ]; check $? "installed: $f"
done
in_root dpkg-query -W -f='${Conffiles}\n' dnsd | grep -q ' /etc/dnsd/dnsd.toml '; check $? "/etc/dnsd/dnsd.toml is a conffile"
in_root getent passwd dnsd >/dev/null; check $? "the dnsd user exists"
# Owners as the root's own passwd and group name them.
token=$(in_root stat -c '%a %U %G' /etc/dnsd/token)
[ "$token" = "640 root dnsd" ]; check $? "/etc/dnsd/token: 640 root:dnsd ($token)"
state=$(in_root stat -c '%a %U %G' /var/lib/dnsd)
[ "$state" = "750 dnsd dnsd" ]; check $? "/var/lib/dnsd: 750 dnsd:dnsd ($state)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/dnsd.service" ]; check $? "the unit is enabled"
grep -q '^ExecStart=/usr/sbin/dnsd run -c /etc/dnsd/dnsd.toml$' "$root/lib/systemd/system/dnsd.service"; check $? "the unit runs /usr/sbin/dnsd"
# Nothing installed names the tree it was built from.
leaks=$(in_root dpkg -L dnsd | while read -r f; do
  [ -f "$root$f" ] || continue
  case "$f" in *.gz) zcat "$root$f" ;; *) cat "$root$f" ;; esac | grep -a -l -F -e "$src" -e "/build/package/src" >/dev/null && echo "$f"
done || true)
[ -z "$leaks" ]; check $? "no installed file names the source tree ${leaks}"
in_root man -w dnsd.toml >/dev/null 2>&1 || [ -e "$root/usr/share/man/man5/dnsd.toml.5.gz" ]; check $? "man page dnsd.toml(5)"

# The unit across upgrades: restarted after the new files are in place,
# never stopped before (preinst), stopped on remove (prerm).
scripts=$(mktemp -d)
dpkg-deb -e "$deb" "$scripts"
! grep -q "deb-systemd-invoke stop" "$scripts/preinst" 2>/dev/null; check $? "an upgrade does not stop dnsd first"
grep -q "deb-systemd-invoke try-restart" "$scripts/postinst"; check $? "an upgrade restarts a running dnsd"
grep -q 'deb-systemd-invoke stop dnsd.service' "$scripts/prerm"; check $? "a remove stops dnsd"
rm -rf "$scripts"

echo "== dnsd check, as installed"
in_root dnsd --version; check $? "dnsd --version"
in_root dnsd check -c /etc/dnsd/dnsd.toml >build/package/check.log 2>&1; check $? "dnsd check -c /etc/dnsd/dnsd.toml: $(tail -n 1 build/package/check.log)"

echo "== dnsd run, as the unit runs it, in a network namespace of its own"
# The whole run in one private namespace: its loopback has port 53 free.
unshare -n bash -s "$root" <<'INNER' >build/package/run.log 2>&1
set -u
root=$1
ip link set lo up
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  setpriv --reuid=dnsd --regid=dnsd --init-groups \
          --inh-caps=+net_bind_service --ambient-caps=+net_bind_service \
  /usr/sbin/dnsd run -c /etc/dnsd/dnsd.toml 2>"$root/tmp/dnsd.log" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
ok=1
for _ in $(seq 50); do
  a=$(dig +short +time=1 +tries=1 @127.0.0.1 www.gslb.example.com A 2>/dev/null)
  [ "$a" = 192.0.2.10 ] && { ok=0; break; }
  sleep 0.2
done
echo "answer: $a"
[ $ok -eq 0 ] && echo "RESULT query ok" || echo "RESULT query FAIL"
a6=$(dig +short +time=1 +tries=1 @::1 ns1.gslb.example.com A)
[ "$a6" = 127.0.0.1 ] && echo "RESULT ipv6 ok" || echo "RESULT ipv6 FAIL ($a6)"
# dnsdctl on the server: the endpoint and token from /etc/dnsd/dnsd.toml.
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dnsdctl status && echo "RESULT status ok" || echo "RESULT status FAIL"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dnsdctl drain one && echo "RESULT drain ok" || echo "RESULT drain FAIL"
a=$(dig +short +time=1 +tries=1 @127.0.0.1 www.gslb.example.com A)
[ "$a" = 198.51.100.10 ] && echo "RESULT drained ok" || echo "RESULT drained FAIL ($a)"
kill -TERM $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "RESULT stop FAIL"; else wait $pid; echo "RESULT stop ok (status $?)"; fi
echo "--- dnsd's log"; cat "$root/tmp/dnsd.log"
INNER
cat build/package/run.log | sed 's/^/   /'
for what in query ipv6 status drain drained stop; do
  grep -q "^RESULT $what ok" build/package/run.log; check $? "run: $what"
done
grep -q " info dnsd serving 1 zones on 127.0.0.1:53, \[::1\]:53" "$root/tmp/dnsd.log"; check $? "dnsd logged what it serves"
! grep -E " (warning|error|critical) " "$root/tmp/dnsd.log"; check $? "dnsd logged no warning or error"
[ -s "$root/var/lib/dnsd/state.json" ]; check $? "the state file was written in /var/lib/dnsd"

echo "== purge"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq dnsd >/dev/null 2>&1; check $? "apt-get purge dnsd"
[ ! -e "$root/etc/dnsd/token" ] && [ ! -e "$root/var/lib/dnsd" ] && [ ! -e "$root/usr/sbin/dnsd" ]; check $? "purged: binary, token and state gone"

cleanup
trap - EXIT
rm -rf "$root"
[ $fail -eq 0 ] && echo "install_test: PASS" || echo "install_test: FAIL"
exit $fail
