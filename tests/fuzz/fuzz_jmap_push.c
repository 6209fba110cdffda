/*
 * libFuzzer target for the pure half of JMAP push (jmap/push.c): the input is an event source
 * URL's query (types, closeafter, ping: what a client puts in its request line), and, after
 * a NUL, two state strings separated by a newline as a client could hand back (only the
 * server's own states reach jmap_push_state_change, but its parser must hold anyway). The
 * parameters must come out in range; the StateChange must be valid JSON.
 */
#include "jmap/push.h"

#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    size_t qlen = nul ? (size_t)(nul - p) : size;
    struct jmap_push_params params;
    const char *why = NULL;
    if (jmap_push_params_parse(p, qlen, &params, &why) == 0) {
        assert(params.ping == 0 ||
               (params.ping >= JMAP_PUSH_PING_MIN && params.ping <= JMAP_PUSH_PING_MAX));
        assert((params.types & ~JMAP_PUSH_ALL) == 0);
    } else {
        assert(why != NULL);
    }
    if (!nul)
        return 0;
    size_t rest = size - qlen - 1;
    char *states = malloc(rest + 1);
    memcpy(states, nul + 1, rest);
    states[rest] = '\0';
    char *nl = strchr(states, '\n');
    if (nl) {
        *nl = '\0';
        struct str out = STR_INIT;
        if (jmap_push_state_change("u1", JMAP_PUSH_ALL, states, nl + 1, nl + 1, &out)) {
            json_t *j = json_loads(str_cstr(&out), 0, NULL);
            assert(j != NULL);
            json_decref(j);
        }
        str_clear(&out);
    }
    free(states);
    return 0;
}
