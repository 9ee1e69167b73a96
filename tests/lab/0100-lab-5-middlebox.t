#!/usr/bin/env bash
# Every middlebox row of the truth (but shunning and dynamic blocking, proved in -6-), checked with
# a raw handshake probe whose ACK carries data, from both vantages' scan IPs and a fresh IP: the
# probe sees exactly the behaviour the class names, never our own kernel's RST, and middleboxes
# answer with TTL 64 (one hop closer than real servers, which arrive with 63).
. "$(dirname "$0")/lib.sh"
lab_env

# expect CLASS: the regex a probe line must match for that class.
expect() {
    case "$1" in
    zero_window) echo 'result=synack win=0 ttl=64 .*data=0 rst=0 fin=0 kernel_rst=0' ;;
    mid_handshake_drop) echo 'result=synack win=[1-9][0-9]* ttl=64 retx=[1-9][0-9]* acked=0 data=0 rst=0 fin=0 kernel_rst=0' ;;
    rst_after_handshake) echo 'result=synack win=[1-9][0-9]* ttl=64 retx=0 acked=[01] data=0 rst=1 fin=0 kernel_rst=0' ;;
    fin_after_handshake) echo 'result=synack win=[1-9][0-9]* ttl=64 retx=0 acked=[01] data=0 rst=0 fin=1 kernel_rst=0' ;;
    no_ack_data) echo 'result=synack win=[1-9][0-9]* ttl=64 retx=0 acked=0 data=0 rst=0 fin=0 kernel_rst=0' ;;
    acks_no_data | acking_firewall) echo 'result=synack win=[1-9][0-9]* ttl=64 retx=0 acked=1 data=0 rst=0 fin=0 kernel_rst=0' ;;
    esac
}

classes="zero_window mid_handshake_drop rst_after_handshake fin_after_handshake no_ack_data acks_no_data acking_firewall"
# The single hosts (198.18.32.0/24); the /24 block is checked below with SYN probes.
rows=$(for c in $classes; do truth_rows "$c"; done | awk -F'\t' '$1 !~ /^198\.18\.33\./')
for c in $classes; do
    check "truth has $c rows" test -n "$(awk -F'\t' -v c="$c" '$3 == c' <<<"$rows")"
done
targets=$(awk -F'\t' '{print $1 ":" $2}' <<<"$rows")
for v in "$V1_NS $V1_SCAN_IP" "$V1_NS $V1_FRESH_IP" "$V2_NS $V2_SCAN_IP"; do
    set -- $v
    out=$(probe "$1" "$2" --wait 3 hs - <<<"$targets")
    while IFS=$'\t' read -r ip port class proto note; do
        line=$(grep -E "^$ip $port " <<<"$out")
        like "$line" "$(expect "$class")" "$class $ip:$port from $2"
    done <<<"$rows"
done

# The acking firewall also answers on ports nobody would list (the scanner's random-port check).
afw=$(truth_rows acking_firewall | head -1 | cut -f1)
rand="$afw:$((RANDOM % 20000 + 30000)) $afw:$((RANDOM % 20000 + 30000)) $afw:1 $afw:65535"
out=$(probe "$V1_NS" "$V1_SCAN_IP" --wait 1 syn $rand)
is "$(grep -c 'result=synack' <<<"$out")" 4 "acking firewall $afw SYN-ACKs random ports too"
# The other middleboxes do not.
zw=$(truth_rows zero_window | head -1 | cut -f1)
out=$(probe "$V1_NS" "$V1_SCAN_IP" --wait 1 syn "$zw:48302" "$zw:1")
is "$(grep -c 'result=none' <<<"$out")" 2 "zero-window host $zw is silent on unlisted ports"

# The /24 of zero-window addresses: every listed row gives a zero-window SYN-ACK.
block=$(truth_rows zero_window | awk -F'\t' '$1 ~ /^198\.18\.33\./ {print $1 ":" $2}')
nb=$(wc -l <<<"$block")
is "$(truth_rows zero_window | awk -F'\t' '$1 ~ /^198\.18\.33\./ {print $1}' | sort -u | wc -l)" 256 \
    "zero_window covers a whole /24 (256 addresses)"
for v in "$V1_NS $V1_SCAN_IP" "$V2_NS $V2_FRESH_IP"; do
    set -- $v
    out=$(probe "$1" "$2" --wait 2 syn - <<<"$block")
    is "$(grep -c 'result=synack win=0 ttl=64' <<<"$out")" "$nb" "all $nb /24 rows give a zero-window SYN-ACK to $2"
    is "$(grep -c 'kernel_rst=1' <<<"$out")" 0 "no kernel RST from $2 during the /24 sweep"
done

done_testing
