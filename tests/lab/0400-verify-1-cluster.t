#!/usr/bin/env bash
# Multi-vantage verification through the coordinator: two workers scan the lab with
# `[vantage] verify = true`; once the shards are done the coordinator re-probes the candidates
# from their original scan IP and a fresh IP of the other worker, runs the trigger test from a
# further fresh IP, and only then calls the job done. Every shunning and dynamic-blocking host
# of the truth gets its verdict — in both shapes: answering every port, and real services with
# closed ports elsewhere, where the first SYN often finds a closed port — on every row of the
# host; never-acking middleboxes and a filtered host are not_blocking and keep their class; no
# real service or other middlebox is called blocking; the verdicts' evidence says how the
# original IP was answered, and fresh IPs are burned per host.
# Then `lzr-coord report` aggregates the zero-window /24 into one block and draws the SVG, and with
# the lab's pfx2as.txt attributes the hosts to ASes. The coordinator's /metrics shows the
# verification's progress while it runs.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
coord_start --metrics 127.0.0.1:19412
worker_start v1
worker_start v2
wait_registered v1 v2
ok "both workers registered"

write_job "$CW/job.toml" 6000 2
printf '[vantage]\nmin_workers = 2\nverify = true\n' >>"$CW/job.toml"
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
is "$job" "1" "submit prints the job id"
# The verify phase: shards done, job still running until every candidate has a verdict.
saw_verify=no verify_metrics=
for _ in $(seq 1 150); do
    st=$(coordctl status "$job" 2>/dev/null)
    case $st in *verifying*)
        saw_verify=yes
        m=$(curl -sf --max-time 2 http://127.0.0.1:19412/metrics |
            awk '$1 ~ /^lzr_verify_/ { printf "%s=%s ", $1, $2 }')
        case $m in *"lzr_verify_job=1 "*) verify_metrics=$m ;; esac
        ;;
    esac
    [ "$(job_state "$job")" = done ] && break
    sleep 0.4
done
is "$(job_state "$job")" done "the job is done after verification"
is "$saw_verify" yes "status showed the verify phase"
like "$verify_metrics" "^lzr_verify_job=1 lzr_verify_candidates=[1-9][0-9]* lzr_verify_verdicts=[0-9]+ $" \
    "/metrics showed the verification under way, with its candidates"
like "$(coordctl status "$job")" "[0-9]+ verdicts" "status counts the verdicts"

coordctl results "$job" --verdicts >"$CW/verdicts.jsonl"
coordctl results "$job" >"$CW/results.jsonl"
diag "$(jq -c '[.ip,.port,.verdict,.evidence.orig,.evidence.fresh,.evidence.after_bare,.evidence.after_data,.evidence.note]' "$CW/verdicts.jsonl")"
verdict() { jq -r --arg ip "$1" 'select(.ip == $ip) | .verdict' "$CW/verdicts.jsonl"; }
hosts() { truth_rows "$1" | cut -f1 | sort -u; }
shun=$(hosts shunning)
dyn=$(hosts dynamic_blocking)
[ -n "$shun" ] && [ -n "$dyn" ] || bail_out "the truth lists no shunning or dynamic-blocking host"
for h in $shun; do is "$(verdict "$h")" shunning "shunning host $h is called shunning"; done
for h in $dyn; do is "$(verdict "$h")" dynamic_blocking "dynamic-blocking host $h is called dynamic_blocking"; done
# The verdict belongs to the host: every row of it (report_all: closed and silent ones too).
for h in $shun $dyn; do
    want=$(verdict "$h")
    rows=$(jq -r --arg ip "$h" 'select(.ip == $ip) | "\(.port) \(.class) \(.verdict)"' "$CW/results.jsonl")
    n_rows=$(wc -l <<<"$rows")
    n_ok=$(grep -c " $want\$" <<<"$rows")
    is "$n_ok/$n_rows" "$n_rows/$n_rows" "every row of $h carries $want"
    [ "$n_rows" -ge 17 ] || diag "$h: only $n_rows rows"
done
wrong=$(jq -r 'select(.verdict == "shunning" or .verdict == "dynamic_blocking") | .ip' "$CW/verdicts.jsonl" |
    grep -vxF -e "${shun// /$'\n'}" -e "${dyn// /$'\n'}" || true)
is "$wrong" "" "no other host is called shunning or dynamic_blocking"
bad=$(jq -r 'select(.ip | startswith("198.18.16.")) | select(.verdict != null) | "\(.ip):\(.port) \(.verdict)"' "$CW/results.jsonl")
is "$bad" "" "no host of real services (all ports answered) got a verdict"
bad=$(jq -r 'select(.verdict == "transient") | .ip' "$CW/verdicts.jsonl")
is "$bad" "" "no host is called transient (nothing in the lab comes back)"
bad=$(jq -r 'select(.verdict == "churn" or .verdict == "unverified") | "\(.ip) \(.verdict)"' "$CW/verdicts.jsonl")
is "$bad" "" "no host is called churn or unverified (every lab host is up, every worker answers)"
noack=$(hosts no_ack_data)
[ "$(wc -w <<<"$noack")" -ge 2 ] || bail_out "the truth lists fewer than two never-acking hosts"
for h in $noack; do
    is "$(verdict "$h")" not_blocking "never-acking middlebox $h answers every source: not_blocking"
    is "$(jq -r --arg ip "$h" 'select(.ip == $ip and .class != "silent") | .class' "$CW/results.jsonl" | sort -u)" \
        no_ack_data "never-acking middlebox $h keeps its class on every answered port"
done
filtered=$(awk -F'\t' '$5 ~ /filtered/ {print $1}' "$LAB_TRUTH" | sort -u)
[ -n "$filtered" ] || bail_out "the truth lists no filtered host"
for h in $filtered; do
    is "$(verdict "$h")" not_blocking "filtered host $h (one service, other ports dropped) is not_blocking"
    is "$(jq -r --arg ip "$h" 'select(.ip == $ip and .port == 80) | "\(.class) \(.protocol)"' "$CW/results.jsonl")" \
        "service http" "filtered host $h keeps its service"
done
for h in $shun $dyn; do
    like "$(jq -r --arg ip "$h" 'select(.ip == $ip) | "\(.evidence.orig) \(.evidence.orig_random != "-") \(.evidence.fresh)"' "$CW/verdicts.jsonl")" \
        "^silent true (synack|rst)$" "$h: the original IP got silence, was tried on a random port, the fresh IP an answer"
done
# Fresh IPs: another worker's, never a scan IP, and burned in contacts for that host.
is "$(jq -r 'select(.fresh_ip != "") | select(.fresh_ip == "'"$V1_SCAN_IP"'" or .fresh_ip == "'"$V2_SCAN_IP"'") | .ip' "$CW/verdicts.jsonl")" "" \
    "no scan IP is used as a fresh IP"
owner_check=$(jq -r --arg s1 "$V1_SCAN_IP" --arg s2 "$V2_SCAN_IP" --arg f1 " $V1_FRESH_IPS " \
    --arg f2 " $V2_FRESH_IPS " 'select(.fresh_ip != "") | . as $v |
    (if ($f1 | contains(" " + $v.fresh_ip + " ")) then $s1 elif ($f2 | contains(" " + $v.fresh_ip + " ")) then $s2 else "nobody" end) as $owner |
    select($owner == $v.original_ip or $owner == "nobody") | $v.ip' "$CW/verdicts.jsonl") || owner_check="jq failed"
is "$owner_check" "" "each fresh IP is a fresh IP of the worker that did not scan the host"
n_burned=$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM contacts c JOIN verdicts v ON v.job_id = c.job_id AND v.ip = c.ip AND v.fresh_ip = c.source_ip WHERE v.fresh_ip <> 0")
is "$n_burned" "$(jq -r 'select(.fresh_ip != "") | .ip' "$CW/verdicts.jsonl" | wc -l)" \
    "every fresh IP used is recorded in contacts for its host"
jq -c 'select(.verdict != null)' "$CW/results.jsonl" | head -3 >"$CW/with-verdict"
like "$(cat "$CW/with-verdict")" '"verdict":"(shunning|dynamic_blocking|transient|not_blocking|churn|blocking|unverified)"' \
    "results rows of candidates carry their verdict"

check "report runs" sh -c "timeout 30 '$COORD_BIN' report $job --db '$CW/lzr.db' --svg '$CW/report.svg' --pfx2as '$LAB_STATE/pfx2as.txt' >'$CW/report.txt'"
diag "$(cat "$CW/report.txt")"
like "$(cat "$CW/report.txt")" "198\.18\.33\.0 - 198\.18\.33\.255  256 addresses \(/24\)  zero_window" \
    "the zero-window /24 is reported as one block"
like "$(grep -m1 '^zero_window ' "$CW/report.txt")" "^zero_window +257 +2 +1 +0 +1 +0$" \
    "block table: zero_window has one /32 (198.18.32.10) and one /24"
like "$(grep -m1 '^shunning ' "$CW/report.txt")" "^shunning +2 +2 +2 +0 +0 +0$" "block table: two shunning /32s (198.18.32.17 and .20)"
like "$(cat "$CW/report.txt")" "only [0-9]+% of HTTP on port 80" "the off-IANA table: HTTP off its port"
# ASes from the lab's pfx2as.txt: the zero-window /24 is AS64501, the zero-window host
# 198.18.32.10 sits in AS64497; the shunning hosts in AS64498 (.17) and, by the more specific
# multi-origin /30, AS64499_64500 (.20); every AS but the services' has a middlebox.
like "$(grep '^zero_window ' "$CW/report.txt" | tail -1)" "^zero_window +257 +2  AS64501:256 AS64497:1$" \
    "ASes: the zero-window addresses by AS, most first"
like "$(grep '^shunning ' "$CW/report.txt" | tail -1)" "^shunning +2 +2  AS64498:1 AS64499_64500:1$" \
    "ASes: longest-prefix match puts the shunning hosts in two ASes"
like "$(cat "$CW/report.txt")" "ASes with at least one middlebox: 4 of 5 \(80\.0%\)" \
    "ASes: the share with a middlebox"
like "$(grep -c "addresses: 5 ASes, 4 with at least one middlebox" "$CW/report.svg")" "^1$" "ASes: the SVG panel"
check "a bad pfx2as line is an error naming file:line" sh -c "printf '198.18.16.0\t24\tAS1\n' >'$CW/bad.txt'; ! '$COORD_BIN' report $job --db '$CW/lzr.db' --pfx2as '$CW/bad.txt' 2>'$CW/bad.err' >/dev/null && grep -q 'bad.txt:1: AS \"AS1\"' '$CW/bad.err'"
like "$(grep '^27017 ' "$CW/report.txt")" "http:1" "per port: HTTP found on 27017"
check "the SVG is well-formed XML" python3 -c "import sys,xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$CW/report.svg"
if command -v rsvg-convert >/dev/null; then
    check "the SVG renders (rsvg-convert)" rsvg-convert -o "$CW/report.png" "$CW/report.svg"
fi
# LZR_KEEP_REPORT=DIR keeps the report, the SVG and the verdicts for a person to look at.
if [ -n "${LZR_KEEP_REPORT:-}" ]; then
    mkdir -p "$LZR_KEEP_REPORT" && cp "$CW"/report.* "$CW/verdicts.jsonl" "$LZR_KEEP_REPORT"/
fi
"$LAB" reset >/dev/null 2>&1
done_testing
