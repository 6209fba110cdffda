/*
 * fuzz_planted — a test-only libFuzzer target with planted defects, never part of `make fuzz`:
 * tests/fuzz/selftest.sh runs scripts/fuzz-smoke.sh on it to prove that the smoke step fails
 * on a crash, a leak and a UBSan report. Each defect fires only for one exact input (found by
 * a hash, so the fuzzer cannot reach it by mutation in a short run and a clean seed passes).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

static uint64_t hash_of(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return fnv1a((const uint8_t *)s, n);
}

static char *volatile sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fnv1a(data, size);
    if (h == hash_of("planted crash")) {
        volatile char *p = NULL;
        *p = 1;
    }
    if (h == hash_of("planted leak")) {
        sink = malloc(64);
        sink = NULL;
    }
    if (h == hash_of("planted ubsan")) {
        volatile int x = INT_MAX;
        sink = (char *)(intptr_t)(x + (int)size);
    }
    return 0;
}
