#!/usr/bin/env bash
# Every `service` row of the truth, proved with the protocol's ordinary client (curl, openssl
# s_client, ssh-keyscan, redis-cli, mosquitto_pub/sub, curl ftp://, psql, dig +tcp, nc) from both
# vantages' scan IPs and from a fresh IP, plus a raw handshake probe from the scanner's port range.
. "$(dirname "$0")/lib.sh"
lab_env

# prove_service NS SRC IP PORT PROTO: the protocol answers on IP:PORT to a client bound to SRC.
# Clients without a source-address option run from the namespace's default source (its scan IP).
prove_service() {
    local ns=$1 src=$2 ip=$3 port=$4 proto=$5 out default
    default=$(ip -n "$ns" route get "$ip" | grep -oE 'src [0-9.]+' | awk '{print $2}')
    case "$proto" in
    http)
        out=$(in_ns "$ns" curl -s --max-time 5 --interface "$src" "http://$ip:$port/")
        like "$out" "lzr lab web" "http on $ip:$port from $src (curl)"
        ;;
    tls)
        out=$(in_ns "$ns" curl -sk --max-time 5 --interface "$src" "https://$ip:$port/")
        like "$out" "lzr lab tls" "tls on $ip:$port from $src (curl https)"
        if [ "$src" = "$default" ]; then
            out=$(in_ns "$ns" openssl s_client -connect "$ip:$port" </dev/null 2>/dev/null)
            like "$out" "subject=CN ?= ?tls.lab" "tls on $ip:$port from $src (openssl s_client)"
        fi
        ;;
    ssh)
        if [ "$src" = "$default" ]; then
            out=$(in_ns "$ns" ssh-keyscan -T 5 -t ed25519 -p "$port" "$ip" 2>/dev/null)
            like "$out" "ssh-ed25519 AAAA" "ssh on $ip:$port from $src (ssh-keyscan)"
        fi
        out=$(in_ns "$ns" nc -s "$src" -w 3 "$ip" "$port" </dev/null | head -1)
        like "$out" "^SSH-2.0-OpenSSH" "ssh banner on $ip:$port from $src (nc)"
        ;;
    redis)
        if [ "$src" = "$default" ]; then
            is "$(in_ns "$ns" redis-cli -h "$ip" -p "$port" ping)" PONG "redis on $ip:$port from $src (redis-cli)"
        fi
        out=$(printf 'PING\r\nQUIT\r\n' | in_ns "$ns" nc -s "$src" -w 3 "$ip" "$port")
        like "$out" "\+PONG" "redis on $ip:$port from $src (nc)"
        ;;
    mqtt)
        local topic="lab/$RANDOM$RANDOM"
        in_ns "$ns" mosquitto_pub -A "$src" -h "$ip" -p "$port" -t "$topic" -m "hello $port" -r -q 1
        out=$(in_ns "$ns" mosquitto_sub -A "$src" -h "$ip" -p "$port" -t "$topic" -C 1 -W 5)
        is "$out" "hello $port" "mqtt on $ip:$port from $src (mosquitto_pub/sub, retained)"
        in_ns "$ns" mosquitto_pub -A "$src" -h "$ip" -p "$port" -t "$topic" -n -r >/dev/null 2>&1
        ;;
    ftp)
        out=$(in_ns "$ns" curl -s --max-time 5 --interface "$src" "ftp://$ip:$port/")
        like "$out" "README" "ftp on $ip:$port from $src (curl ftp:// listing)"
        out=$(printf 'QUIT\r\n' | in_ns "$ns" nc -s "$src" -w 3 "$ip" "$port" | head -1)
        like "$out" "^220 lzr lab FTP ready" "ftp banner on $ip:$port from $src (nc)"
        ;;
    postgres)
        if [ "$src" = "$default" ]; then
            out=$(in_ns "$ns" env PGCONNECT_TIMEOUT=5 psql -h "$ip" -p "$port" -U postgres -tAc 'select 6*7')
            is "$out" 42 "postgres on $ip:$port from $src (psql)"
        fi
        # SSLRequest: the server answers one byte, N (no TLS configured).
        out=$(printf '\x00\x00\x00\x08\x04\xd2\x16\x2f' | in_ns "$ns" nc -s "$src" -w 2 "$ip" "$port" | head -c 1)
        is "$out" N "postgres SSLRequest on $ip:$port from $src (nc)"
        ;;
    memcached_ascii)
        out=$(printf 'version\r\nquit\r\n' | in_ns "$ns" nc -s "$src" -w 3 "$ip" "$port")
        like "$out" "^VERSION [0-9]" "memcached on $ip:$port from $src (nc)"
        ;;
    dns)
        out=$(in_ns "$ns" dig +tcp +short +time=3 +tries=1 -b "$src" -p "$port" "@$ip" web.lab A)
        is "$out" 198.18.16.10 "dns over tcp on $ip:$port from $src (dig +tcp)"
        ;;
    smtp)
        # OpenSMTPD refuses commands sent before its greeting: wait for it.
        out=$( (
            sleep 0.5
            printf 'EHLO probe.lab\r\n'
            sleep 0.5
            printf 'QUIT\r\n'
        ) | in_ns "$ns" nc -s "$src" -w 3 "$ip" "$port")
        like "$out" "^220 mail.lab ESMTP" "smtp on $ip:$port from $src (nc banner)"
        like "$out" "250[- ]" "smtp EHLO on $ip:$port from $src"
        ;;
    imap)
        out=$(printf 'a1 CAPABILITY\r\na2 LOGOUT\r\n' | in_ns "$ns" nc -s "$src" -w 3 "$ip" "$port")
        like "$out" "\* OK .*Dovecot" "imap on $ip:$port from $src (nc banner)"
        like "$out" "a1 OK" "imap CAPABILITY on $ip:$port from $src"
        ;;
    *)
        not_ok "no client for protocol $proto ($ip:$port)"
        ;;
    esac
}

n=0
while IFS=$'\t' read -r ip port class proto note; do
    n=$((n + 1))
    prove_service "$V1_NS" "$V1_SCAN_IP" "$ip" "$port" "$proto"
    prove_service "$V1_NS" "$V1_FRESH_IP" "$ip" "$port" "$proto"
    prove_service "$V2_NS" "$V2_SCAN_IP" "$ip" "$port" "$proto"
done < <(truth_rows service)
check "at least 10 service rows (got $n)" test "$n" -ge 10
is "$(truth_rows service | cut -f4 | sort -u | wc -l)" 11 "11 distinct protocols"

# Raw handshake probe from the scanner's port range: every service completes the handshake and
# acknowledges data; server-first protocols also send data without being asked.
targets=$(truth_rows service | awk -F'\t' '{print $1 ":" $2}')
for src in "$V1_SCAN_IP" "$V1_FRESH_IP"; do
    # shellcheck disable=SC2086
    while read -r ip port rest; do
        r="$ip $port $rest"
        proto=$(truth_rows service | awk -F'\t' -v i="$ip" -v p="$port" '$1 == i && $2 == p {print $4}')
        like "$r" "result=synack .*acked=1 .*kernel_rst=0" "probe from $src: $ip:$port handshake, data acked"
        case "$proto" in ssh | ftp | smtp | imap)
            like "$r" "data=[1-9]" "probe from $src: $ip:$port ($proto) sends a banner"
            ;;
        esac
        like "$r" "ttl=63 " "probe from $src: $ip:$port answers from one hop behind the router"
    done < <(probe "$V1_NS" "$src" --wait 2 --data 'x' hs $targets)
done

done_testing
