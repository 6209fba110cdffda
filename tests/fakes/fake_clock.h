/*
 * fake_clock — a monotonic clock in milliseconds that only moves when a test moves it (or a
 * fake that stands for waiting, such as fake_upstream's timeouts). For the engines that take
 * their time from a function pointer (dns_io_ops.now_ms, queue_runner_config.now).
 */
#ifndef PIGEON_TESTS_FAKE_CLOCK_H
#define PIGEON_TESTS_FAKE_CLOCK_H

#include <stdint.h>

struct fake_clock {
    uint64_t ms;
};

/* For dns_io_ops.now_ms: ctx is the struct fake_clock. */
uint64_t fake_clock_now_ms(void *ctx);
/* For callbacks that want seconds since the epoch: ms / 1000. */
int64_t fake_clock_now_s(void *ctx);
void fake_clock_advance(struct fake_clock *c, uint64_t ms);

#endif
