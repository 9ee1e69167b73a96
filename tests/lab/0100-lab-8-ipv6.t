#!/usr/bin/env bash
# The lab's IPv6 side (2001:2::/48 only): every vantage, the router and the hosts that have an
# IPv6 twin carry it; every service of truth6.tsv answers over IPv6 and every closed row resets;
# the IPv6 middlebox twins behave as their IPv4 shapes do (shunning, dynamic blocking, never
# acking, a plain filter), per (source, host). Checked with kernel sockets from the vantages.
. "$(dirname "$0")/lib.sh"
lab_env

for k in LAB_TRUTH6 V1_SCAN_IP6 V1_FRESH_IPS6 V2_SCAN_IP6 V2_FRESH_IPS6 GW_IP6 NET6 TARGETS6; do
    [ -n "${!k:-}" ] && ok "env has $k" || not_ok "env has $k"
done
read -r FRESH6 FRESH6B <<<"$V1_FRESH_IPS6"

# Every global IPv6 address in every lab namespace is in 2001:2::/48 (link-local fe80::/10 aside).
for ns in $LAB_NAMESPACES; do
    bad=$(ip -n "$ns" -o -6 addr show scope global | awk '{print $4}' | python3 -c '
import ipaddress, sys
lab = ipaddress.ip_network("2001:2::/48")
for l in sys.stdin:
    a = ipaddress.ip_interface(l.strip())
    if not a.network.subnet_of(lab):
        print(a)')
    is "$bad" "" "$ns: every global IPv6 address is in 2001:2::/48"
done
like "$(ip -n "$V1_NS" -6 neigh show "$GW_IP6" dev "$V1_IF")" "lladdr $GW_MAC PERMANENT" \
    "$V1_NS: the IPv6 gateway $GW_IP6 is pinned to $GW_MAC"
like "$(ip -n "$V1_NS" -6 route get 2001:2:0:16::10)" "via $GW_IP6 dev $V1_IF" \
    "$V1_NS: IPv6 targets route via the gateway"
check "$V1_NS: nft drops inbound TCP to $SRC_PORTS on the IPv6 scan IP" bash -c \
    "ip netns exec $V1_NS nft list table inet lzrlab | grep -q 'ip6 daddr.*$V1_SCAN_IP6.*tcp dport ${SRC_PORTS} drop'"

# tcp6 NS SRC [DST PORT [DATA]]: kernel connections from SRC, one per line of "DST PORT" on stdin
# when DST is not given; prints, per connection, refused, silent (no answer to the SYN within
# 2 s), or open — then, with DATA sent, "open answered" or "open quiet".
tcp6() {
    local ns=$1 src=$2
    shift 2
    if [ $# -gt 0 ]; then printf '%s %s %s\n' "$1" "$2" "${3:-}"; else cat; fi |
        in_ns "$ns" python3 -c '
import socket, sys
src = sys.argv[1]
def one(dst, port, data):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.bind((src, 0))
    s.settimeout(2)
    try:
        s.connect((dst, port))
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, OSError):
        return "silent"
    if not data:
        return "open"
    s.sendall(data.encode().decode("unicode_escape").encode())
    try:
        return "open answered" if s.recv(512) else "open quiet"
    except (socket.timeout, OSError):
        return "open quiet"
    finally:
        s.close()
for line in sys.stdin:
    f = line.split(" ", 2)
    print(one(f[0], int(f[1]), f[2].strip() if len(f) > 2 else ""), flush=True)
' "$src"
}

# Every row of truth6: services accept, closed ports reset (the middlebox twins are checked below).
rows=$(grep -v '^#' "$LAB_TRUTH6" | grep -v '^2001:2:0:32::' | awk -F'\t' '$3 == "service" || $3 == "closed"')
got=$(cut -f1,2 <<<"$rows" | tr '\t' ' ' | LAB_TIMEOUT=120 tcp6 "$V1_NS" "$V1_SCAN_IP6")
n=0
while IFS=$'\t' read -r ip port class proto note && IFS= read -r answer <&3; do
    if [ "$class" = service ]; then
        is "$answer" open "$ip port $port ($proto) accepts over IPv6"
    else
        is "$answer" refused "$ip port $port resets over IPv6"
    fi
    n=$((n + 1))
done <<<"$rows" 3<<<"$got"
[ "$n" -gt 100 ] && ok "$n service and closed rows checked" || not_ok "only $n rows in truth6"
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" 2001:2:0:16::10 80 'GET / HTTP/1.0\r\n\r\n')" "open answered" \
    "nginx answers HTTP over IPv6"

mb6() { grep -v '^#' "$LAB_TRUTH6" | awk -F'\t' -v c="$1" '$3 == c {print $1}' | sort -u | head -1; }
shun=$(mb6 shunning)
dyn=$(mb6 dynamic_blocking)
noack=$(mb6 no_ack_data)
filt=$(grep -v '^#' "$LAB_TRUTH6" | awk -F'\t' '$5 ~ /filtered/ {print $1}' | head -1)
for v in shun dyn noack filt; do
    like "${!v}" '^2001:2:0:32::' "truth6 has an IPv6 $v host (${!v})"
done

check "lab reset" "$LAB" reset
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$shun" 21)" refused "shunning over IPv6: a first SYN to a closed port is reset"
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$shun" 80)" silent "shunning over IPv6: then the service is silent to that source"
is "$(tcp6 "$V1_NS" "$FRESH6" "$shun" 80)" open "shunning over IPv6: a fresh IP gets the service"
is "$(tcp6 "$V1_NS" "$FRESH6" "$shun" 8080)" silent "shunning over IPv6: and is shunned after it"

is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$dyn" 80)" open "dynamic blocking over IPv6: a source without data is served"
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$dyn" 8080)" open "dynamic blocking over IPv6: on every port"
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$dyn" 80 'GET / HTTP/1.0\r\n\r\n')" "open quiet" \
    "dynamic blocking over IPv6: the first data is dropped"
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$dyn" 8080)" silent "dynamic blocking over IPv6: the source is blocked on every port"
is "$(tcp6 "$V1_NS" "$FRESH6B" "$dyn" 8080)" open "dynamic blocking over IPv6: a fresh IP is served"

is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$noack" 80 'GET / HTTP/1.0\r\n\r\n')" "open quiet" \
    "never acking over IPv6: the SYN-ACK comes, the answer never does"
is "$(tcp6 "$V2_NS" "$V2_SCAN_IP6" "$noack" 8080)" open "never acking over IPv6: for every source"

is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$filt" 80 'GET / HTTP/1.0\r\n\r\n')" "open answered" \
    "filter over IPv6: port 80 is a real service"
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$filt" 8080)" silent "filter over IPv6: other ports are dropped, not reset"
is "$(tcp6 "$V1_NS" "$V1_SCAN_IP6" "$filt" 80)" open "filter over IPv6: and port 80 still answers the same source"
check "lab reset" "$LAB" reset
done_testing
