/* cache/store: objects written, found by key and Vary, bodies in memory and on disk, LRU
 * eviction to the byte budgets, reload after a restart (torn files dropped), 304 refresh,
 * purge by URL and prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/test_cache_store.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const struct cache_budget big = {1 << 20, 1 << 24, 1 << 22, 1 << 16};

static bool any(const struct cache_obj *o, void *arg)
{
    return true;
}

static bool vary_is(const struct cache_obj *o, void *arg)
{
    return !strcmp(o->vary, arg);
}

static struct cache_obj *put(struct cache_store *s, const char *key, const char *vary,
                             const char *body, size_t n)
{
    struct cache_writer *w =
        cache_writer_new(s, key, vary, 200, slice_cstr("Content-Type: text/plain\r\n"), 10, 11);
    assert_non_null(w);
    bool ok = true;
    for (size_t i = 0; i < n; i += 1000)
        ok = cache_writer_write(w, body + i, n - i < 1000 ? n - i : 1000) == 0 && ok;
    struct cache_obj *o = cache_writer_commit(w);
    assert_true(ok || !o); /* a refused write never leaves an object */
    return o;
}

/* The body of o, whether from memory or its file. */
static char *body_of(struct cache_store *s, struct cache_obj *o)
{
    const char *mem;
    int fd = cache_obj_body(s, o, &mem);
    char *out = calloc(1, o->body_len + 1);
    if (mem) {
        memcpy(out, mem, o->body_len);
    } else {
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, out, o->body_len, (off_t)o->body_off), (ssize_t)o->body_len);
        close(fd);
    }
    return out;
}

static void test_put_get(void **state)
{
    const char *err;
    struct cache_store *s = cache_store_open(dir, &big, &err);
    assert_non_null(s);
    struct cache_obj *o = put(s, "http://h/a", "", "hello", 5);
    assert_non_null(o);
    cache_obj_unref(s, o);
    assert_null(cache_store_lookup(s, "http://h/b", any, NULL));
    o = cache_store_lookup(s, "http://h/a", any, NULL);
    assert_non_null(o);
    assert_int_equal(o->status, 200);
    assert_int_equal(o->request_time, 10);
    assert_int_equal(o->response_time, 11);
    assert_true(slice_eq(o->fields, "Content-Type: text/plain\r\n"));
    char *b = body_of(s, o);
    assert_string_equal(b, "hello");
    free(b);
    cache_obj_unref(s, o);
    struct cache_stats st;
    cache_store_stats(s, &st);
    assert_int_equal(st.objects, 1);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 1);
    cache_store_close(s);
}

static void test_vary_variants(void **state)
{
    const char *err;
    struct cache_store *s = cache_store_open(dir, &big, &err);
    cache_obj_unref(s, put(s, "http://h/v", "accept-language:en\n", "english", 7));
    cache_obj_unref(s, put(s, "http://h/v", "accept-language:de\n", "deutsch", 7));
    struct cache_obj *o = cache_store_lookup(s, "http://h/v", vary_is, "accept-language:de\n");
    assert_non_null(o);
    char *b = body_of(s, o);
    assert_string_equal(b, "deutsch");
    free(b);
    cache_obj_unref(s, o);
    o = cache_store_lookup(s, "http://h/v", vary_is, "accept-language:en\n");
    b = body_of(s, o);
    assert_string_equal(b, "english");
    free(b);
    cache_obj_unref(s, o);
    assert_null(cache_store_lookup(s, "http://h/v", vary_is, "accept-language:fr\n"));
    /* a newer response replaces its own variant only */
    cache_obj_unref(s, put(s, "http://h/v", "accept-language:en\n", "ENGLISH", 7));
    struct cache_stats st;
    cache_store_stats(s, &st);
    assert_int_equal(st.objects, 2);
    o = cache_store_lookup(s, "http://h/v", vary_is, "accept-language:en\n");
    b = body_of(s, o);
    assert_string_equal(b, "ENGLISH");
    free(b);
    cache_obj_unref(s, o);
    cache_store_close(s);
}

static void test_restart_and_torn(void **state)
{
    const char *err;
    struct cache_store *s = cache_store_open(dir, &big, &err);
    static char large[200000];
    memset(large, 'x', sizeof large);
    cache_obj_unref(s, put(s, "http://h/small", "", "tiny", 4));
    struct cache_obj *o = put(s, "http://h/large", "", large, sizeof large);
    char path[200];
    snprintf(path, sizeof path, "%s/%s", dir, o->path);
    cache_obj_unref(s, o);
    cache_store_close(s);
    s = cache_store_open(dir, &big, &err);
    o = cache_store_lookup(s, "http://h/large", any, NULL);
    assert_non_null(o);
    assert_int_equal(o->body_len, sizeof large);
    char *b = body_of(s, o);
    assert_memory_equal(b, large, sizeof large);
    free(b);
    cache_obj_unref(s, o);
    o = cache_store_lookup(s, "http://h/small", any, NULL);
    b = body_of(s, o);
    assert_string_equal(b, "tiny");
    free(b);
    cache_obj_unref(s, o);
    cache_store_close(s);
    /* a file cut short (a crash while it was renamed? never; a disk error): dropped */
    assert_int_equal(truncate(path, 1000), 0);
    s = cache_store_open(dir, &big, &err);
    assert_null(cache_store_lookup(s, "http://h/large", any, NULL));
    assert_int_equal(access(path, F_OK), -1);
    assert_non_null(o = cache_store_lookup(s, "http://h/small", any, NULL));
    cache_obj_unref(s, o);
    cache_store_close(s);
}

static void test_lru_disk_budget(void **state)
{
    const char *err;
    /* each object is ~2100 octets with its head: 3 fit in 7000 */
    struct cache_budget b = {0, 7000, 1 << 20, 0};
    struct cache_store *s = cache_store_open(dir, &b, &err);
    static char body[2000];
    memset(body, 'y', sizeof body);
    cache_obj_unref(s, put(s, "http://h/1", "", body, sizeof body));
    cache_obj_unref(s, put(s, "http://h/2", "", body, sizeof body));
    cache_obj_unref(s, put(s, "http://h/3", "", body, sizeof body));
    /* touch 1: now 2 is the least recently used */
    cache_obj_unref(s, cache_store_lookup(s, "http://h/1", any, NULL));
    cache_obj_unref(s, put(s, "http://h/4", "", body, sizeof body));
    struct cache_stats st;
    cache_store_stats(s, &st);
    assert_int_equal(st.objects, 3);
    assert_int_equal(st.evicted, 1);
    assert_true(st.disk_bytes <= 7000);
    assert_false(cache_store_has(s, "http://h/2"));
    assert_true(cache_store_has(s, "http://h/1"));
    assert_true(cache_store_has(s, "http://h/3"));
    assert_true(cache_store_has(s, "http://h/4"));
    /* larger than max_object: not stored */
    struct cache_budget small = {0, 1 << 20, 100, 0};
    cache_store_close(s);
    s = cache_store_open(dir, &small, &err);
    assert_null(put(s, "http://h/big", "", body, sizeof body));
    assert_false(cache_store_has(s, "http://h/big"));
    cache_store_close(s);
}

static void test_mem_budget(void **state)
{
    const char *err;
    struct cache_budget b = {10, 1 << 20, 1 << 20, 8};
    struct cache_store *s = cache_store_open(dir, &b, &err);
    struct cache_obj *o1 = put(s, "http://h/m1", "", "12345", 5);
    assert_non_null(o1->mem);
    struct cache_obj *o2 = put(s, "http://h/m2", "", "abcde", 5);
    assert_non_null(o2->mem);
    cache_obj_unref(s, o1);
    cache_obj_unref(s, o2);
    cache_obj_unref(s, put(s, "http://h/m3", "", "vwxyz", 5));
    struct cache_stats st;
    cache_store_stats(s, &st);
    assert_true(st.mem_bytes <= 10);
    /* the oldest lost its memory copy and is served from its file */
    o1 = cache_store_lookup(s, "http://h/m1", any, NULL);
    assert_null(o1->mem);
    char *body = body_of(s, o1);
    assert_string_equal(body, "12345");
    free(body);
    cache_obj_unref(s, o1);
    /* over mem_max_object: file only */
    o2 = put(s, "http://h/m4", "", "123456789", 9);
    assert_null(o2->mem);
    cache_obj_unref(s, o2);
    cache_store_close(s);
}

static void test_refresh_and_purge(void **state)
{
    const char *err;
    struct cache_store *s = cache_store_open(dir, &big, &err);
    struct cache_obj *o = put(s, "http://h/r", "", "body!", 5);
    struct cache_obj *n = cache_store_refresh(s, o, slice_cstr("ETag: \"2\"\r\n"), 50, 51);
    assert_non_null(n);
    assert_true(o->dead); /* replaced in the index, still readable by its holder */
    cache_obj_unref(s, o);
    cache_obj_unref(s, n);
    o = cache_store_lookup(s, "http://h/r", any, NULL);
    assert_true(slice_eq(o->fields, "ETag: \"2\"\r\n"));
    assert_int_equal(o->response_time, 51);
    char *b = body_of(s, o);
    assert_string_equal(b, "body!");
    free(b);
    cache_obj_unref(s, o);
    cache_obj_unref(s, put(s, "http://h/dir/a", "", "a", 1));
    cache_obj_unref(s, put(s, "http://h/dir/b", "", "b", 1));
    cache_obj_unref(s, put(s, "http://h/other", "", "c", 1));
    assert_int_equal(cache_store_purge(s, "http://h/r", false), 1);
    assert_false(cache_store_has(s, "http://h/r"));
    assert_int_equal(cache_store_purge(s, "http://h/dir/", true), 2);
    assert_true(cache_store_has(s, "http://h/other"));
    cache_store_close(s);
    /* purged files are gone from disk too */
    s = cache_store_open(dir, &big, &err);
    assert_false(cache_store_has(s, "http://h/dir/a"));
    assert_true(cache_store_has(s, "http://h/other"));
    cache_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vary_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_and_torn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_disk_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mem_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_and_purge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
