#!/usr/bin/env bash
# The lab's wiring: namespaces, addresses only from 198.18.0.0/15, bridges isolated in lzr-br,
# checksum offload off on every veth end, the vantages' gateway, kernel port range and RST
# suppression (proved by probes that must, and must not, see our kernel's RST), and lab DNS.
. "$(dirname "$0")/lib.sh"
lab_env

for k in LAB_STATE LAB_TRUTH LAB_NAMESPACES LAB_VANTAGES V1_NS V1_IF V1_MAC V1_SCAN_IP V1_FRESH_IP \
    V1_FRESH_IPS V2_NS V2_IF V2_MAC V2_SCAN_IP V2_FRESH_IP V2_FRESH_IPS GW_IP GW_MAC SRC_PORTS \
    KERNEL_PORTS TARGETS PORTS PORTS_CSV MB_PORTS SVC_NS MB_NS LOAD_NS LOAD_CIDR LOAD_PORTS DNS_IP; do
    [ -n "${!k:-}" ] && ok "env has $k" || not_ok "env has $k"
done

for ns in $LAB_NAMESPACES; do
    check "namespace $ns exists" ip netns pids "$ns"
    # Every address in every lab namespace is the loopback or in 198.18.0.0/15.
    bad=$(ip -n "$ns" -o -4 addr show | awk '{print $4}' | python3 -c '
import ipaddress, sys
lab = ipaddress.ip_network("198.18.0.0/15")
for l in sys.stdin:
    a = ipaddress.ip_interface(l.strip())
    if not (a.ip.is_loopback or a.network.subnet_of(lab)):
        print(a)')
    is "$bad" "" "$ns: every address is in 198.18.0.0/15"
    # Every veth end has checksum offload off.
    for ifc in $(ip -n "$ns" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1); do
        off=$(in_ns "$ns" ethtool -k "$ifc" | grep -E '^(tx|rx)-checksumming:' | awk '{print $2}' | tr '\n' ' ')
        is "$off" "off off " "$ns/$ifc: tx and rx checksum offload off"
    done
done

# The bridges live in lzr-br, and every veth end there leads to a lab namespace.
is "$(ip -n "$LAB_BRIDGE_NS" -o link show type bridge | awk -F': ' '{print $2}' | sort | tr '\n' ' ')" \
    "br-t br-v " "bridges br-v and br-t are in $LAB_BRIDGE_NS"
for l in $(ip -n "$LAB_BRIDGE_NS" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1); do
    peer_ns=$(ip -n "$LAB_BRIDGE_NS" -d link show "$l" | grep -oE 'link-netns [^ ]+' | awk '{print $2}')
    like "$peer_ns" '^lzr-' "$LAB_BRIDGE_NS/$l leads to a lab namespace ($peer_ns)"
done
is "$(ip -o link show type veth | grep -c 'lzr-' || true)" 0 "no veth in the root namespace leads to the lab"

for v in $LAB_VANTAGES; do
    V=${v^^}
    ns_var=${V}_NS; if_var=${V}_IF; scan_var=${V}_SCAN_IP; fresh_var=${V}_FRESH_IPS
    ns=${!ns_var}; ifc=${!if_var}; scan=${!scan_var}
    is "$(in_ns "$ns" sysctl -n net.ipv4.ip_local_port_range | tr -s ' \t' ' ')" "$KERNEL_PORTS" \
        "$ns: kernel ephemeral ports are $KERNEL_PORTS"
    like "$(ip -n "$ns" neigh show "$GW_IP" dev "$ifc")" "lladdr $GW_MAC PERMANENT" \
        "$ns: gateway $GW_IP is pinned to $GW_MAC"
    like "$(ip -n "$ns" route get 198.18.16.10)" "via $GW_IP dev $ifc" "$ns: targets route via the gateway"
    like "$(ip -n "$ns" route get "${LOAD_CIDR%/*}")" "via $GW_IP dev $ifc" "$ns: load range routes via the gateway"
    for ip in $scan ${!fresh_var}; do
        like "$(ip -n "$ns" -o -4 addr show dev "$ifc")" "inet $ip/" "$ns: $ip on $ifc"
    done
    check "$ns: nft drops inbound TCP to $SRC_PORTS" bash -c \
        "ip netns exec $ns nft list table inet lzrlab | grep -q 'tcp dport ${SRC_PORTS} drop'"
    # Functional proof: a reply to a probe port in the range draws no RST from our kernel, one to a
    # port outside it does (so the check can fail).
    for ip in $scan ${!fresh_var}; do
        r=$(probe "$ns" "$ip" --wait 1.5 hs 198.18.16.10:80)
        is "$(probe_field "$r" kernel_rst)" 0 "$ns: no kernel RST from $ip in $SRC_PORTS"
        r=$(probe "$ns" "$ip" --wait 1.5 --sports 39000-39999 hs 198.18.16.10:80)
        is "$(probe_field "$r" kernel_rst)" 1 "$ns: kernel RST from $ip outside the range (control)"
    done
done
is "$(ip -n "$LAB_ROUTER_NS" link show eth0 | grep -oE 'link/ether [^ ]+' | awk '{print $2}')" "$GW_MAC" \
    "GW_MAC is the router's MAC on the vantage LAN"
is "$(in_ns "$LAB_ROUTER_NS" sysctl -n net.ipv4.ip_forward)" 1 "router forwards"
r=$(probe "$V1_NS" "$V1_SCAN_IP" --wait 1 syn "$GW_IP:1")
is "$(probe_field "$r" result)" rst "router reachable from v1 (RST from a closed port)"

for ns in $LAB_NAMESPACES; do
    like "$(cat "/etc/netns/$ns/resolv.conf")" "nameserver $DNS_IP" "$ns: resolv.conf points at lab DNS"
done
is "$(in_ns "$SVC_NS" getent hosts mail.lab | awk '{print $1}')" 198.18.16.18 "names resolve through lab DNS"
like "$(ip -n "$LOAD_NS" route show table local)" "local $LOAD_CIDR dev lo" "load range is local in $LOAD_NS"

done_testing
