#!/bin/sh
# The fuzz-smoke step must fail `make check` on a crash, a leak or a UBSan report in any
# target (issue 10 item 3). This runs scripts/fuzz-smoke.sh on build/fuzz/fuzz_planted
# (tests/fuzz/selftest/fuzz_planted.c) once per planted defect, expecting a failure that
# names it, and once on a clean seed, expecting success. Exit 0 when all four hold.
# Run from the repository root after `make build/fuzz/fuzz_planted` (`make fuzz-selftest`).
bin=build/fuzz/fuzz_planted
log=build/fuzz/logs/fuzz_planted.log
tmp=$(mktemp -d build/fuzz/selftest.XXXXXX) || exit 1
bad=0

run() { # run NAME INPUT: fuzz-smoke on $bin with INPUT as its only seed
    mkdir -p "$tmp/$1/seeds/fuzz_planted"
    printf '%s' "$2" >"$tmp/$1/seeds/fuzz_planted/input"
    FUZZ_SEEDS="$tmp/$1/seeds" FUZZ_CORPUS="$tmp/$1" scripts/fuzz-smoke.sh 2 "$bin" \
        >"$tmp/$1.out" 2>&1
}

for kind in crash:SEGV leak:LeakSanitizer ubsan:runtime.error; do
    name=${kind%%:*}
    want=${kind#*:}
    if run "$name" "planted $name"; then
        echo "fuzz-selftest: FAIL: fuzz-smoke passed a planted $name"
        bad=1
    elif ! grep -q "$want" "$log"; then
        echo "fuzz-selftest: FAIL: the planted $name failed without a '$want' report:"
        tail -n 5 "$log"
        bad=1
    else
        echo "fuzz-selftest: planted $name fails fuzz-smoke ($want)"
    fi
done
if run clean "nothing planted here"; then
    echo "fuzz-selftest: a clean target passes fuzz-smoke"
else
    echo "fuzz-selftest: FAIL: fuzz-smoke failed a clean run:"
    cat "$tmp/clean.out"
    bad=1
fi
rm -rf "$tmp" build/fuzz/artifacts/fuzz_planted-*
exit $bad
