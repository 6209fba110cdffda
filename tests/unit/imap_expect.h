/*
 * imap_expect — what the IMAP engine's unit tests say to a fakes/fake_imap session and what
 * they expect back (test_imap_session.c, test_imap_ext.c). Include after <cmocka.h>.
 */
#ifndef PIGEON_TESTS_IMAP_EXPECT_H
#define PIGEON_TESTS_IMAP_EXPECT_H

#include "core/xmalloc.h"
#include "fakes/fake_imap.h"

#include <stdlib.h>
#include <string.h>

/* The output written by the engine for input (a copy the test frees). */
static inline char *send(struct fake_imap *f, const char *input)
{
    size_t mark = f->out.len;
    fake_imap_feeds(f, input);
    return xstrndup(str_cstr(&f->out) + mark, f->out.len - mark);
}

static inline void expect(struct fake_imap *f, const char *input, const char *want)
{
    char *got = send(f, input);
    if (!strstr(got, want))
        fail_msg("after %s expected to contain\n'%s'\ngot\n'%s'", input, want, got);
    free(got);
}

static inline void expect_not(struct fake_imap *f, const char *input, const char *unwanted)
{
    char *got = send(f, input);
    if (strstr(got, unwanted))
        fail_msg("after %s did not expect '%s' in\n'%s'", input, unwanted, got);
    free(got);
}

#endif
