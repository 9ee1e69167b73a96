#!/usr/bin/env bash
# Runs every test stage of `make test` and prints one closing line "N passed, N failed":
# unit tests (cmocka, ASan+UBSan build, TAP output), lab tests (TAP scripts under tests/lab/, each
# run by prove against the lab, which is brought up once and torn down at the end), package tests
# (TAP scripts under tests/pkg/: the man pages, make install, the Debian package), fuzz smoke
# runs (bounded in time), and the format check. Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()

# count_tap NAME OUTPUT RC: adds a TAP run's ok / not ok lines to the totals; a run that exits
# non-zero without reporting a failure (a crash, a bad plan) counts as one failure.
count_tap() {
    local name=$1 out=$2 rc=$3 ok notok
    ok=$(grep -cE '^[[:space:]]*ok [0-9]+' <<<"$out")
    notok=$(grep -cE '^[[:space:]]*not ok [0-9]+' <<<"$out")
    if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
        notok=1
    fi
    passed=$((passed + ok))
    failed=$((failed + notok))
    [ "$notok" -eq 0 ] || failures+=("$name")
}

stage() { printf '\n=== %s\n' "$*"; }

stage "unit tests (ASan + UBSan)"
for t in build/san/tests/unit/test_*; do
    [ -x "$t" ] || continue
    out=$(CMOCKA_MESSAGE_OUTPUT=TAP prove -v --exec '' "$t" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    count_tap "$t" "$out" "$rc"
done

stage "lab tests"
if ls tests/lab/*.t >/dev/null 2>&1; then
    trap 'deploy/lab/lab down >/dev/null 2>&1' EXIT
    for t in tests/lab/*.t; do
        out=$(timeout 900 prove -v "$t" 2>&1)
        rc=$?
        printf '%s\n' "$out"
        count_tap "$t" "$out" "$rc"
    done
    deploy/lab/lab down
    trap - EXIT
fi

stage "package tests"
for t in tests/pkg/*.t; do
    [ -f "$t" ] || continue
    out=$(timeout 900 prove -v "$t" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    count_tap "$t" "$out" "$rc"
done

stage "fuzz smoke runs"
for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    if "$f" -max_total_time=15 -timeout=5 -rss_limit_mb=2048 -artifact_prefix="$work/" "$work" \
        >"$work.log" 2>&1; then
        echo "ok - $name ($(grep -oE 'stat::number_of_executed_units: [0-9]+|#[0-9]+ *DONE' "$work.log" | tail -1))"
        passed=$((passed + 1))
    else
        tail -30 "$work.log"
        echo "not ok - $name"
        failed=$((failed + 1))
        failures+=("$f")
    fi
    rm -rf "$work" "$work.log"
done

stage "format check"
if make -s format-check; then
    echo "ok - clang-format"
    passed=$((passed + 1))
else
    echo "not ok - clang-format (run make format)"
    failed=$((failed + 1))
    failures+=("format-check")
fi

echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
