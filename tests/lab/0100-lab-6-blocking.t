#!/usr/bin/env bash
# Connection shunning and dynamic blocking, with the fresh-IP difference that defines them:
# shunning drops every SYN from an address after its first one (any port, 10 minutes), dynamic
# blocking drops an address once it sent data; in both cases a fresh address still gets SYN-ACKs.
# `lab reset` clears that state between steps and at the end.
. "$(dirname "$0")/lib.sh"
lab_env

res() { probe_field "$(probe "$1" "$2" --wait "${4:-1}" "${5:-syn}" "$3")" result; }

shun=$(truth_rows shunning | head -1 | cut -f1)
dyn=$(truth_rows dynamic_blocking | head -1 | cut -f1)
check "truth has a shunning host" test -n "$shun"
check "truth has a dynamic-blocking host" test -n "$dyn"
check "lab reset" "$LAB" reset

# --- shunning
is "$(res "$V1_NS" "$V1_SCAN_IP" "$shun:80")" synack "shunning: first SYN from the scan IP is answered"
is "$(res "$V1_NS" "$V1_SCAN_IP" "$shun:80")" none "shunning: a second SYN from the scan IP is not"
is "$(res "$V1_NS" "$V1_SCAN_IP" "$shun:48302")" none "shunning: nor on another port"
is "$(res "$V1_NS" "$V1_FRESH_IP" "$shun:48302")" synack "shunning: a fresh IP is answered"
is "$(res "$V2_NS" "$V2_FRESH_IP" "$shun:80")" synack "shunning: a fresh IP of v2 is answered"
is "$(res "$V1_NS" "$V1_FRESH_IP" "$shun:443")" none "shunning: the fresh IP is shunned after its SYN"
check "lab reset" "$LAB" reset
is "$(res "$V1_NS" "$V1_SCAN_IP" "$shun:443")" synack "shunning: reset forgets the scan IP"
# Every truth row: the first SYN of a new source is answered (a SYN-ACK, or the RST of a closed
# port of the second shape).
while IFS=$'\t' read -r ip port class proto note; do
    timeout 20 "$LAB" reset 2>/dev/null
    like "$(res "$V1_NS" "$V1_SCAN_IP" "$ip:$port")" "^(synack|rst)$" "shunning row $ip:$port answers a first SYN"
done < <(truth_rows shunning)
# The second shape: real services on two ports, RST elsewhere; a first SYN that finds a closed
# port is all a source gets, on every port.
shun2=$(truth_rows shunning | cut -f1 | sort -u | grep -vxF "$shun" | head -1)
check "truth has a second shunning host" test -n "$shun2"
check "lab reset" "$LAB" reset
is "$(res "$V1_NS" "$V1_SCAN_IP" "$shun2:21")" rst "shunning, second shape: a closed port resets the first SYN"
is "$(res "$V1_NS" "$V1_SCAN_IP" "$shun2:80")" none "shunning, second shape: then its service is silent to that source"
is "$(res "$V1_NS" "$V1_FRESH_IP" "$shun2:80")" synack "shunning, second shape: a fresh IP gets the service's SYN-ACK"
is "$(res "$V1_NS" "$V1_FRESH_IP" "$shun2:21")" none "shunning, second shape: and is shunned after it" 

# --- dynamic blocking
check "lab reset" "$LAB" reset
is "$(res "$V1_NS" "$V1_SCAN_IP" "$dyn:80")" synack "dynamic blocking: SYN answered"
is "$(res "$V1_NS" "$V1_SCAN_IP" "$dyn:80")" synack "dynamic blocking: SYNs alone do not block"
r=$(probe "$V1_NS" "$V1_SCAN_IP" --wait 2.5 hs "$dyn:443")
like "$r" "result=synack .*acked=0 data=0" "dynamic blocking: data is never acknowledged"
is "$(res "$V1_NS" "$V1_SCAN_IP" "$dyn:80")" none "dynamic blocking: the scan IP is blocked after data"
is "$(res "$V1_NS" "$V1_SCAN_IP" "$dyn:8080")" none "dynamic blocking: on every port"
is "$(res "$V1_NS" "$V1_FRESH_IP" "$dyn:80")" synack "dynamic blocking: a fresh IP is answered"
is "$(res "$V2_NS" "$V2_SCAN_IP" "$dyn:443")" synack "dynamic blocking: v2's scan IP is answered"
check "lab reset" "$LAB" reset
is "$(res "$V1_NS" "$V1_SCAN_IP" "$dyn:80")" synack "dynamic blocking: reset forgets the scan IP"
while IFS=$'\t' read -r ip port class proto note; do
    like "$(res "$V1_NS" "$V1_SCAN_IP" "$ip:$port")" "^(synack|rst)$" "dynamic-blocking row $ip:$port answers SYNs"
done < <(truth_rows dynamic_blocking)

check "lab reset" "$LAB" reset
done_testing
