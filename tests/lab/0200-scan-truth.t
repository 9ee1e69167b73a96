#!/usr/bin/env bash
# lzr-worker scan against the whole lab from one vantage: every truth row gets the class a
# single vantage can see (shunning and dynamic-blocking hosts show as lost_after_synack,
# no_ack_data or silence), every service its protocol, and the evidence fields agree with the
# behaviour behind each class.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null

out=$(mktemp /tmp/lzr-0200.XXXXXX)
err=$(mktemp /tmp/lzr-0200-err.XXXXXX)
trap 'rm -f "$out" "$err"' EXIT

# The paper's five handshakes, then the probes of lab services that speak only when spoken to
# in their own protocol (docs/fingerprints.md).
HS=wait,tls,http,dns,pptp,redis,mqtt,postgres
if timeout 300 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip "$V1_SCAN_IP" --targets "${TARGETS// /,}" --ports "$PORTS_CSV" \
    --allow-reserved 198.18.0.0/15 --timeout-ms 1500 --retransmit-ms 500 --rate 5000 --all \
    --acking-firewall-probes 8 --handshakes "$HS" --output "$out" 2>"$err"; then
    ok "scan of the lab ran to the end"
else
    not_ok "scan of the lab ran to the end"
    diag "$(tail -20 "$err")"
fi

if diff_out=$("$LAB_ROOT/tests/lab/tools/compare-truth" "$LAB_TRUTH" "$out" --single-vantage); then
    ok "every truth row has its single-vantage class and protocol"
else
    not_ok "every truth row has its single-vantage class and protocol"
    diag "$diff_out"
fi

rows=$(truth_rows | wc -l)
got=$(jq -r 'select(.class != "silent") | .ip + ":" + (.port|tostring)' "$out" | sort -u | wc -l)
want=$(truth_rows | awk -F'\t' '$3 != "shunning" && $3 != "dynamic_blocking"' | wc -l)
[ "$got" -ge "$want" ] && ok "answered records ($got) cover the $want truth rows a vantage sees of $rows" ||
    not_ok "answered records ($got) cover the $want truth rows a vantage sees of $rows"

is "$(jq -r .source_ip "$out" | sort -u)" "$V1_SCAN_IP" "every record names the scan IP"
is "$(jq -r 'select(.class == "zero_window") | .window' "$out" | sort -u)" "0" \
    "zero_window records carry the SYN-ACK's window 0"
is "$(jq -r 'select(.class == "mid_handshake_drop") | (.synack_retransmits > 0)' "$out" | sort -u)" \
    "true" "mid_handshake_drop records saw the SYN-ACK retransmitted"
is "$(jq -r 'select(.class == "acks_no_data") | .acked_data' "$out" | sort -u)" "true" \
    "acks_no_data records saw their data acknowledged"
is "$(jq -r 'select(.class == "no_ack_data") | .acked_data' "$out" | sort -u)" "false" \
    "no_ack_data records never saw their data acknowledged"
ssh=$(jq -r 'select(.protocol == "ssh") | .data' "$out" | head -1 | base64 -d 2>/dev/null | head -c 4)
is "$ssh" "SSH-" "the ssh record's data is the server's banner"
is "$(jq -r 'select(.class == "service") | (.handshake != "" and .data_len > 0)' "$out" | sort -u)" \
    "true" "every service names the handshake that drew data and keeps the data"
done_testing
