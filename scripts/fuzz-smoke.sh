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
# Targets run side by side, one per core (FUZZ_JOBS to change it): each fuzzer keeps one core
# busy, so on N cores N of them take the time one would.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
mkdir -p build/fuzz/artifacts build/fuzz/logs
rcdir=$(mktemp -d build/fuzz/rc.XXXXXX) || exit 1

run_one() { # run_one BIN: fuzz one target, its exit status in $rcdir/NAME
    name=$(basename "$1")
    corpus=$corpus_root/corpus-$name
    mkdir -p "$corpus"
    seeds=$seeds_root/$name
    [ -d "$seeds" ] || seeds=
    "$1" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$name"- \
        "$corpus" $seeds >"build/fuzz/logs/$name.log" 2>&1
    echo $? >"$rcdir/$name"
}

report() { # report NAME: one line per target, in the order given
    name=$1
    log=build/fuzz/logs/$name.log
    rc=$(cat "$rcdir/$name")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ "$rc" -eq 0 ]; then
        echo "== $name: ${execs:-?} executions in ${secs}s"
    else
        echo "== $name: FAILED (exit $rc)"
        failed="$failed $name"
    fi
}

failed=
batch=
n=0
for f in "$@"; do
    run_one "$f" &
    batch="$batch $(basename "$f")"
    n=$((n + 1))
    if [ $n -ge "$jobs" ]; then
        wait
        for name in $batch; do report "$name"; done
        batch=
        n=0
    fi
done
wait
for name in $batch; do report "$name"; done
rm -rf "$rcdir"
for name in $failed; do
    echo "---- $name (build/fuzz/logs/$name.log) ----"
    # the report and the frames of the project's own code (libFuzzer's "deadly signal" on an
    # abort() names nothing else)
    grep -E "ERROR|runtime error|SUMMARY|Test unit written|#[0-9]+ .* in .* (src|tests)/" \
        "build/fuzz/logs/$name.log" | head -n 30
done
[ -z "$failed" ] || { echo "fuzz-smoke: failures in:$failed" >&2; exit 1; }
