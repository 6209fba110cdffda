#!/bin/sh
# fuzz-smoke.sh SECONDS BIN... — runs each libFuzzer target for SECONDS on its corpus
# (build/fuzz/corpus-NAME) and seeds (tests/fuzz/seeds/NAME), prints the executions it made,
# and exits non-zero when any target found a crash, a leak or a UBSan report (the fuzz build
# aborts on UBSan). Every target runs even after one failed; the failing ones are listed last
# with the tail of their log. Crash inputs go to build/fuzz/artifacts/.
#
# FUZZ_SEEDS (default tests/fuzz/seeds) and FUZZ_CORPUS (default build/fuzz) move the input
# folders; the fuzz-smoke self-test uses them. No pipes: sh has no pipefail, and the exit
# status is the fuzzer's own.
secs=$1
shift
seeds_root=${FUZZ_SEEDS:-tests/fuzz/seeds}
corpus_root=${FUZZ_CORPUS:-build/fuzz}
mkdir -p build/fuzz/artifacts build/fuzz/logs
failed=
for f in "$@"; do
    name=$(basename "$f")
    corpus=$corpus_root/corpus-$name
    log=build/fuzz/logs/$name.log
    mkdir -p "$corpus"
    seeds=$seeds_root/$name
    [ -d "$seeds" ] || seeds=
    "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$name"- \
        "$corpus" $seeds >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ $rc -eq 0 ]; then
        echo "== $name: ${execs:-?} executions in ${secs}s"
    else
        echo "== $name: FAILED (exit $rc)"
        failed="$failed $name"
    fi
done
for name in $failed; do
    echo "---- $name (build/fuzz/logs/$name.log) ----"
    grep -E "ERROR|runtime error|SUMMARY|Test unit written" "build/fuzz/logs/$name.log" | head -n 20
done
[ -z "$failed" ] || { echo "fuzz-smoke: failures in:$failed" >&2; exit 1; }
