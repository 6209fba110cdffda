/* fake_clock — see fake_clock.h. */
#include "fakes/fake_clock.h"

uint64_t fake_clock_now_ms(void *ctx)
{
    return ((struct fake_clock *)ctx)->ms;
}

int64_t fake_clock_now_s(void *ctx)
{
    return (int64_t)(((struct fake_clock *)ctx)->ms / 1000);
}

void fake_clock_advance(struct fake_clock *c, uint64_t ms)
{
    c->ms += ms;
}
