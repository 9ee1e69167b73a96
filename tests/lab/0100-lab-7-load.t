#!/usr/bin/env bash
# The load range: every one of its addresses is answered by the kernel (SYN-ACK on LOAD_PORTS, RST
# elsewhere), including the first and last, and an HTTP request to any of them gets nginx.
. "$(dirname "$0")/lib.sh"
lab_env

n=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1]).num_addresses)" "$LOAD_CIDR")
check "load range has at least 65536 addresses ($n)" test "$n" -ge 65536
port=${LOAD_PORTS%% *}
all=$(python3 -c "
import ipaddress, sys
for a in ipaddress.ip_network(sys.argv[1]): print('%s:%s' % (a, sys.argv[2]))" "$LOAD_CIDR" "$port")
out=$(probe "$V1_NS" "$V1_SCAN_IP" --wait 3 syn - <<<"$all")
got=$(grep -c 'result=synack' <<<"$out")
is "$(grep -c 'kernel_rst=1' <<<"$out")" 0 "no kernel RST from the scan IP during the sweep"
# On a busy 2-core machine a sweep this fast can lose a few replies: ask the silent ones again,
# as a scanner would, so the check is about the lab and not about packet loss.
if [ "$got" -ne "$n" ]; then
    again=$(awk '$3 != "result=synack" {print $1 ":" $2}' <<<"$out")
    diag "$((n - got)) addresses silent in the first sweep; probing them again"
    out2=$(probe "$V1_NS" "$V1_SCAN_IP" --wait 3 syn - <<<"$again")
    got=$((got + $(grep -c 'result=synack' <<<"$out2")))
fi
is "$got" "$n" "all $n load addresses SYN-ACK on port $port"

first=$(python3 -c "import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); print(n[0], n[-1], n[4242])" "$LOAD_CIDR")
set -- $first
out=$(probe "$V2_NS" "$V2_SCAN_IP" --wait 1 syn "$1:$((port + 1))" "$2:$((port + 1))" "$3:22")
is "$(grep -c 'result=rst' <<<"$out")" 3 "other ports of load addresses are closed (RST)"
like "$(in_ns "$V2_NS" curl -s --max-time 5 --interface "$V2_FRESH_IP" "http://$3:$port/")" "lzr lab load" \
    "http to load address $3 from a fresh IP"
like "$(in_ns "$V1_NS" curl -s --max-time 5 "http://$2:$port/")" "lzr lab load" "http to the last load address $2"

# The IPv6 twin: a /112 inside 2001:2::/48, answered the same way; its first, last and a middle
# address get nginx, another port is refused.
n6=$(python3 -c "import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); print(n.num_addresses if n.subnet_of(ipaddress.ip_network('2001:2::/48')) else 0)" "$LOAD_CIDR6")
is "$n6" 65536 "the IPv6 load range $LOAD_CIDR6 holds 65536 addresses of 2001:2::/48"
set -- $(python3 -c "import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); print(n[0], n[-1], n[4242])" "$LOAD_CIDR6")
for a in "$1" "$2" "$3"; do
    like "$(in_ns "$V1_NS" curl -s --max-time 5 "http://[$a]:$port/")" "lzr lab load" "http to IPv6 load address $a"
done
is "$(in_ns "$V2_NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except ConnectionRefusedError:
    print("refused")
except OSError:
    print("silent")' "$3" $((port + 1)))" refused "another port of IPv6 load address $3 is refused"

done_testing
