#!/usr/bin/env bash
# Watching a cluster: a coordinator with --metrics runs a job on two workers over the load
# range (every address answers on port 80). Scrapes of /metrics during the job show every
# metric docs/monitoring.md names, two workers connected, records stored growing and each
# worker's probe counter above zero; `results --follow`, started right after the submit,
# prints records before the job is done and ends by itself with exactly the records plain
# `results` prints afterwards.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
MADDR=127.0.0.1:19411
coord_start --metrics "$MADDR"
worker_start v1
worker_start v2
wait_registered v1 v2

scrape() { curl -sf --max-time 5 "http://$MADDR/metrics"; }
# value NAME_WITH_LABELS: the sample's value in $page
value() { awk -v m="$1" '$1 == m { print $2 }' <<<"$page"; }
# gt A B: A > B as numbers
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

write_load_job "$CW/job.toml" metrics 4000 8
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
is "$job" "1" "the job is submitted"
# follow NAME: `results --follow` into $CW/NAME.jsonl; its PID in $CW/NAME.pid, its exit
# code in $CW/NAME.rc once it ends.
follow() {
    (
        "$COORD_BIN" results "$job" --follow --db "$CW/lzr.db" >"$CW/$1.jsonl" 2>>"$CW/follow.log" &
        echo $! >"$CW/$1.pid"
        wait $!
        echo $? >"$CW/$1.rc"
    ) &
    wait_until 5 test -s "$CW/$1.pid"
    _coord_pids+=("$(cat "$CW/$1.pid")")
}
follow follow
follow interrupted

check "records are stored" wait_results
page=$(scrape)
first=$(value lzr_records_stored_total)
sleep 2
page=$(scrape)
diag "$(grep -v '^#' <<<"$page" | tr '\n' ' ')"
for m in lzr_jobs lzr_shards lzr_workers_connected lzr_records_stored_total \
    lzr_records_stored_per_second lzr_batches_stored_total lzr_batch_retries_total \
    lzr_batches_failed_total lzr_messages_malformed_total lzr_messages_untrusted_total \
    lzr_verify_job lzr_verify_candidates lzr_verify_verdicts lzr_worker_packets_per_second \
    lzr_worker_rate lzr_worker_probes_sent_total lzr_worker_packets_sent_total lzr_worker_replies_total lzr_worker_hits_total \
    lzr_worker_pcap_drops_total lzr_worker_blocked_total lzr_worker_hold_seconds_total \
    lzr_worker_rx_wait_seconds_total; do
    type=$(awk -v m="$m" '$1 == "#" && $2 == "TYPE" && $3 == m { print $4 }' <<<"$page")
    if [ -n "$type" ] && grep -q "^$m[{ ]" <<<"$page"; then
        ok "$m is there ($type)"
    else
        not_ok "$m is there"
    fi
done
is "$(value lzr_workers_connected)" 2 "two workers connected"
is "$(value 'lzr_jobs{state="running"}')" 1 "one job running"
is "$(($(value 'lzr_shards{state="pending"}') + $(value 'lzr_shards{state="leased"}') + \
    $(value 'lzr_shards{state="done"}')))" 8 "the running job's 8 shards are counted"
second=$(value lzr_records_stored_total)
if gt "$second" "$first"; then ok "records stored grows ($first, then $second)"; else
    not_ok "records stored grows ($first, then $second)"; fi
if gt "$(value lzr_records_stored_per_second)" 0; then ok "records per second above 0"; else
    not_ok "records per second above 0"; fi
for w in v1 v2; do
    if gt "$(value "lzr_worker_probes_sent_total{worker=\"$w\"}")" 0; then
        ok "$w has sent probes"
    else
        not_ok "$w has sent probes"
    fi
    if gt "$(value "lzr_worker_replies_total{worker=\"$w\"}")" 0; then ok "$w has replies"; else
        not_ok "$w has replies"; fi
    if gt "$(value "lzr_worker_rate{worker=\"$w\"}")" 0; then ok "$w has a rate"; else
        not_ok "$w has a rate"; fi
done

during=$(wc -l <"$CW/follow.jsonl")
state=$(job_state "$job")
if [ "$state" = running ] && [ "$during" -gt 0 ]; then
    ok "--follow printed $during records while the job runs"
else
    not_ok "--follow printed records while the job runs ($during records, job $state)"
fi

kill -INT "$(cat "$CW/interrupted.pid")"
check "SIGINT ends --follow" wait_until 3 test -s "$CW/interrupted.rc"
is "$(cat "$CW/interrupted.rc")" 0 "--follow stopped by SIGINT exits with 0"

if wait_job_done "$job" 120; then ok "the job is done"; else not_ok "the job is done"; fi
check "--follow ends by itself once the job is done" wait_until 10 test -s "$CW/follow.rc"
is "$(cat "$CW/follow.rc")" 0 "--follow exits with 0"
coordctl results "$job" >"$CW/results.jsonl"
total=$(wc -l <"$CW/results.jsonl")
if [ "$total" -gt 60000 ]; then ok "$total records stored"; else not_ok "$total records stored"; fi
is "$(wc -l <"$CW/follow.jsonl")" "$total" "--follow printed as many records as results"
is "$(sort "$CW/follow.jsonl" | md5sum)" "$(sort "$CW/results.jsonl" | md5sum)" \
    "--follow printed the same records"

sleep 1.5
page=$(scrape)
is "$(value 'lzr_jobs{state="done"}')" 1 "after the job: one job done"
is "$(value 'lzr_jobs{state="running"}')" 0 "after the job: none running"
stored=$(value lzr_records_stored_total)
if [ "$stored" -ge "$total" ]; then ok "records stored ($stored) covers the results"; else
    not_ok "records stored ($stored) covers the results ($total)"; fi

# A reader that goes away ends --follow with SIGPIPE, as it would any filter.
timeout 10 "$COORD_BIN" results "$job" --follow --db "$CW/lzr.db" | head -1 >/dev/null
is "${PIPESTATUS[0]}" 141 "--follow into a closed pipe ends with SIGPIPE"
done_testing
