#!/usr/bin/env bash
# The package as an operator gets it: `make install` into a DESTDIR honours PREFIX; `make deb`
# builds lzr_VERSION_ARCH.deb from a copy of the tree (lintian finds no error, the tree's bin/
# is left as it was); `dpkg -i` installs it into this machine, both programs print the version
# the tree has, the man pages are found by man, units and /etc/lzr land where Debian expects;
# `dpkg -P` removes every trace again. Needs root; skips when an lzr package is already installed
# (it would not be ours to remove).
set -uo pipefail
cd "$(dirname "$0")/../.."

# The TAP helpers of the lab tests (the lab itself is not used).
. tests/lab/lib.sh

if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root for dpkg -i"
    exit 0
fi
if dpkg-query -W -f='${Status}' lzr 2>/dev/null | grep -q 'installed'; then
    echo "1..0 # SKIP an lzr package is already installed on this machine"
    exit 0
fi
plan 17

had_user=0
getent passwd lzr >/dev/null && had_user=1
stage=$(mktemp -d)
cleanup() {
    dpkg-query -W lzr >/dev/null 2>&1 && dpkg -P lzr >/dev/null 2>&1
    if [ "$had_user" -eq 0 ] && getent passwd lzr >/dev/null; then
        deluser --system lzr >/dev/null 2>&1
        getent group lzr >/dev/null && delgroup --system lzr >/dev/null 2>&1
    fi
    rm -rf "$stage"
}
trap cleanup EXIT

version=$(sh deploy/version.sh)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=build/deb/lzr_${version}_${arch}.deb

# make install into a staging directory, with a prefix of its own.
make -s install DESTDIR="$stage" PREFIX=/opt/lzr >"$stage.log" 2>&1
result $? "make install DESTDIR=… PREFIX=/opt/lzr"
[ -x "$stage/opt/lzr/bin/lzr-worker" ] && [ -x "$stage/opt/lzr/bin/lzr-coord" ] &&
    [ -f "$stage/opt/lzr/share/man/man1/lzr-worker.1" ] &&
    [ -f "$stage/opt/lzr/share/man/man5/lzr-job.5" ] &&
    [ -f "$stage/etc/lzr/worker.env" ] && [ -f "$stage/etc/lzr/lzr-worker.nft" ] &&
    [ -f "$stage/etc/lzr/blocklist.conf" ] &&
    [ -f "$stage/opt/lzr/share/lzr/zgrab2/lzr.ini" ]
result $? "install puts binaries, man pages, the zgrab2 config and /etc/lzr defaults under DESTDIR and PREFIX"
grep -q '^ExecStart=/opt/lzr/bin/lzr-coord ' "$stage/opt/lzr/lib/systemd/system/lzr-coord.service"
result $? "installed units start the binaries of PREFIX"
rm -f "$stage.log"

before=$(sha256sum bin/lzr-worker bin/lzr-coord 2>/dev/null)
make -s deb >"$stage/deb.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -30 "$stage/deb.log" | sed 's/^/# /'
result $rc "make deb builds the package and lintian finds no error"
[ -f "$deb" ]
result $? "the package is $deb"
[ "$(sha256sum bin/lzr-worker bin/lzr-coord 2>/dev/null)" = "$before" ]
result $? "the tree's own bin/ is left as it was"

dpkg -i "$deb" >"$stage/dpkg.log" 2>&1
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$stage/dpkg.log"
result $rc "dpkg -i installs it"
[ "$(lzr-worker --version 2>&1)" = "lzr-worker $version" ]
result $? "lzr-worker --version says $version"
[ "$(lzr-coord --version 2>&1)" = "lzr-coord $version" ]
result $? "lzr-coord --version says $version"
[ "$(command -v lzr-worker)" = /usr/bin/lzr-worker ]
result $? "lzr-worker is /usr/bin/lzr-worker"
[ "$(man -w lzr-worker 2>&1)" = /usr/share/man/man1/lzr-worker.1.gz ] &&
    [ "$(man -w lzr-coord 2>&1)" = /usr/share/man/man1/lzr-coord.1.gz ] &&
    [ "$(man -w 5 lzr-job 2>&1)" = /usr/share/man/man5/lzr-job.5.gz ]
result $? "man -w finds lzr-worker(1), lzr-coord(1) and lzr-job(5)"
grep -q '^ExecStart=/usr/bin/lzr-worker ' /lib/systemd/system/lzr-worker.service &&
    grep -q '^ExecStart=/usr/bin/lzr-coord ' /lib/systemd/system/lzr-coord.service
result $? "the units are in /lib/systemd/system and start /usr/bin"
dpkg-query -W -f='${Conffiles}\n' lzr | grep -q /etc/lzr/worker.env &&
    dpkg-query -W -f='${Conffiles}\n' lzr | grep -q /etc/lzr/lzr-worker.nft &&
    dpkg-query -W -f='${Conffiles}\n' lzr | grep -q /etc/lzr/blocklist.conf
result $? "/etc/lzr/worker.env, blocklist.conf and lzr-worker.nft are conffiles"
getent passwd lzr >/dev/null
result $? "the system user lzr exists for the coordinator's unit"
[ -f /usr/share/lzr/zgrab2/lzr.ini ]
result $? "the zgrab2 config is /usr/share/lzr/zgrab2/lzr.ini"

dpkg -P lzr >"$stage/dpkg.log" 2>&1
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$stage/dpkg.log"
result $rc "dpkg -P removes it"
! dpkg-query -W lzr >/dev/null 2>&1 && [ ! -e /usr/bin/lzr-worker ] && [ ! -e /usr/bin/lzr-coord ] &&
    [ ! -e /etc/lzr ] && [ ! -e /lib/systemd/system/lzr-worker.service ] &&
    [ ! -e /usr/share/man/man1/lzr-worker.1.gz ] && [ ! -e /usr/share/doc/lzr ] &&
    [ ! -e /usr/share/lzr ]
result $? "no file of the package is left"

done_testing
