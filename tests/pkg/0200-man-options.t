#!/usr/bin/env bash
# Every command-line option is written in its man page: the long options of each getopt table
# (worker/scan.c, worker/agent_cli.c, worker/verify_cli.c for lzr-worker(1); coordinator/main.c for
# lzr-coord(1)) and every option the programs' --help prints must have a definition entry
# (**\--name**) in docs/man/*.md, every command of lzr-coord one too, and every key the job
# reader accepts (coordinator/job.c) one in lzr-job(5). `make man` must turn the sources into
# pages man can read.
set -uo pipefail
cd "$(dirname "$0")/../.."

# The TAP helpers of the lab tests (the lab itself is not used).
. tests/lab/lib.sh

# table_options FILE...: the long option names of the getopt tables in the C files.
table_options() {
    grep -ohE '\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$@" | sed -E 's/\{"([^"]*)".*/\1/'
}
# help_options CMD...: the --options a --help output mentions.
help_options() {
    "$@" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sed 's/^--//'
}
# missing PAGE NAME...: prints the option names without a **\--NAME** entry in PAGE.
missing() {
    local page=$1 name
    shift
    for name in "$@"; do
        grep -qF -- "**\\--$name**" "$page" || echo "--$name"
    done
}

worker_page=docs/man/lzr-worker.1.md
coord_page=docs/man/lzr-coord.1.md
job_page=docs/man/lzr-job.5.md

plan 9

# The check itself must be able to fail: a page without --rate is caught.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
grep -vF '**\--rate**' "$worker_page" >"$tmp"
[ "$(missing "$tmp" rate iface)" = "--rate" ]
result $? "the check finds an option a page lacks"

opts=$(table_options worker/scan.c worker/agent_cli.c worker/verify_cli.c | sort -u)
[ "$(wc -l <<<"$opts")" -ge 30 ]
result $? "the worker's getopt tables have $(wc -l <<<"$opts") options"
m=$(missing "$worker_page" $opts)
[ -z "$m" ] || echo "# missing from $worker_page: $m"
[ -z "$m" ]
result $? "every option of lzr-worker's getopt tables is in lzr-worker(1)"

make -s all >/dev/null 2>&1
hopts=$( (help_options bin/lzr-worker; help_options bin/lzr-worker scan; help_options bin/lzr-worker verify) | sort -u)
m=$(missing "$worker_page" $hopts)
[ -z "$m" ] || echo "# missing from $worker_page: $m"
[ -n "$hopts" ] && [ -z "$m" ]
result $? "every option lzr-worker --help, scan --help and verify --help print is in lzr-worker(1)"

opts=$( (table_options coordinator/main.c; help_options bin/lzr-coord) | sort -u)
m=$(missing "$coord_page" $opts)
[ -z "$m" ] || echo "# missing from $coord_page: $m"
[ -n "$opts" ] && [ -z "$m" ]
result $? "every option of lzr-coord (getopt table and --help) is in lzr-coord(1)"

cmds=$(grep -oE 'strcmp\(cmd, "[a-z]+"\)' coordinator/main.c | sed -E 's/.*"([a-z]+)".*/\1/' | grep -vx help)
m=$(for c in $cmds; do grep -qF "**$c**" "$coord_page" || echo "$c"; done)
[ -z "$m" ] || echo "# commands missing from $coord_page: $m"
[ -n "$cmds" ] && [ -z "$m" ]
result $? "every command of lzr-coord is in lzr-coord(1)"

keys=$(grep -oE 'strcmp\(k, "[a-z_]+"\)' coordinator/job.c | sed -E 's/.*"([a-z_]+)".*/\1/' | sort -u)
m=$(for k in $keys; do grep -qE "^\*\*((\[vantage\] )?$k\*\*|\[$k\])" "$job_page" || echo "$k"; done)
[ -z "$m" ] || echo "# keys missing from $job_page: $m"
[ "$(wc -w <<<"$keys")" -ge 10 ] && [ -z "$m" ]
result $? "every key of the job reader is in lzr-job(5)"

out=$(make -s man 2>&1)
rc=$?
[ $rc -eq 0 ] || echo "# $out"
result $rc "make man builds the pages with pandoc"
bad=0
for p in build/man/lzr-worker.1 build/man/lzr-coord.1 build/man/lzr-job.5; do
    w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
    if [ ! -s "$p" ] || ! grep -q '^\.TH' "$p" || [ -n "$w" ]; then
        echo "# $p: ${w:-empty or no .TH}"
        bad=1
    fi
done
result $bad "the pages render with man, without warnings"

done_testing
