#!/usr/bin/env bash
# The lab's life cycle: down is safe when nothing is up and leaves no namespace, process or state
# behind; up builds everything in under a minute without touching the root namespace; a second
# up is a quick no-op that keeps the same processes.
. "$(dirname "$0")/lib.sh"

lab_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^lzr-' || true; }
root_links() { ip -o link show | awk -F': ' '{print $2}' | sort; }

# A lab may be up from an earlier file: note its processes, then take it down.
old_pids=""
[ -d "$LAB_STATE/pids" ] && old_pids=$(cat "$LAB_STATE"/pids/* 2>/dev/null | tr '\n' ' ')
check "down succeeds" timeout 60 "$LAB" down
is "$(lab_ns)" "" "down leaves no lzr- namespace"
left=""
for p in $old_pids; do [ -d "/proc/$p" ] && ! grep -q "^State:.*Z" "/proc/$p/status" 2>/dev/null && left="$left $p"; done
is "$left" "" "down stopped every process the lab had started"
check "down leaves no state dir" test ! -e "$LAB_STATE"
check "down leaves no /etc/netns/lzr-* entry" bash -c '! ls -d /etc/netns/lzr-* 2>/dev/null'
check "down is safe when nothing is up" timeout 60 "$LAB" down
st=0
timeout 20 "$LAB" status >/dev/null 2>&1 || st=$?
is "$st" 3 "status says down (exit 3)"

before=$(root_links)
t0=$(date +%s%N)
check "up succeeds" timeout 120 "$LAB" up
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
diag "up took $ms ms"
check "up takes under a minute" test "$ms" -lt 60000
check "env file written" test -s "$LAB_STATE/env"
check "truth file written" test -s "$LAB_STATE/truth.tsv"
is "$(root_links)" "$before" "up adds no link to the root namespace"
is "$(ip -o addr show | grep -cE ' 198\.1[89]\.')" 0 "root namespace has no lab address"
is "$(ip route show | grep -cE '^198\.1[89]\.')" 0 "root namespace has no lab route"
check "status says up" timeout 20 "$LAB" status

pids1=$(cat "$LAB_STATE"/pids/* | sort | tr '\n' ' ')
t0=$(date +%s%N)
out=$(timeout 60 "$LAB" up 2>&1)
t1=$(date +%s%N)
like "$out" "already up" "second up is a no-op"
check "second up is quick" test $(((t1 - t0) / 1000000)) -lt 5000
is "$(cat "$LAB_STATE"/pids/* | sort | tr '\n' ' ')" "$pids1" "second up keeps the same processes"

# Every process the lab started runs inside a lab namespace, never in the root one.
root_netns=$(readlink /proc/self/ns/net)
bad=""
for p in $pids1; do
    [ "$(readlink "/proc/$p/ns/net")" = "$root_netns" ] && bad="$bad $p"
done
is "$bad" "" "no lab process runs in the root namespace"

# A broken lab (a daemon gone) is rebuilt by up.
victim=$(cat "$LAB_STATE/pids/memcached")
kill -KILL "$victim"
sleep 0.3
check "up repairs a lab with a dead daemon" timeout 120 "$LAB" up
check "the lab is healthy again" timeout 20 "$LAB" status

done_testing
