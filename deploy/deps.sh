#!/usr/bin/env bash
# Installs, idempotently, every Debian package lzr needs to build, test, run the lab and run the
# peers (zmap, nmap). When nothing is missing it returns at once, without touching apt's lists.
# Lab daemons are installed with a policy-rc.d that forbids starting them on the host: the lab
# starts them itself, inside its namespaces.
set -euo pipefail

PACKAGES=(
  # build
  build-essential pkg-config clang libclang-rt-14-dev clang-format
  libzmq3-dev libczmq-dev libsodium-dev libpcap-dev libprotobuf-c-dev protobuf-c-compiler
  libsqlite3-dev sqlite3 libcmocka-dev libmicrohttpd-dev
  # network tools for the lab and the engine
  iproute2 nftables iptables ethtool tcpdump procps kmod
  # lab services and their clients
  nginx-light openssh-server openssh-client redis-server redis-tools mosquitto mosquitto-clients
  vsftpd postgresql postgresql-client memcached dnsmasq dnsutils dovecot-imapd opensmtpd
  openssl curl netcat-openbsd socat ftp
  # test runner, peers, benchmarks
  perl python3 jq bc zmap masscan netsniff-ng nmap hyperfine
  # lzr-coord report --svg, looked at as a PNG
  librsvg2-bin
  # man pages, `make install`, `make deb` and its test
  pandoc man-db debhelper lintian
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2

# Keep package scripts from starting daemons on the host while we install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { [ "$own_policy" -eq 1 ] && rm -f "$policy"; return 0; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
