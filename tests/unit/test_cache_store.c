/* cache/store: objects written, found by key and Vary, bodies in memory and on disk, LRU
 * eviction to the byte budgets, reload after a restart (torn files dropped), 304 refresh,
 * purge by URL and prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache/sketch.h"
#include "cache/store.h"

#include <dirent.h>
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

static const struct cache_budget big = {1 << 20, 1 << 24, 1 << 22, 1 << 16, CACHE_LRU};

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
    struct cache_budget b = {0, 7000, 1 << 20, 0, CACHE_LRU};
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
    struct cache_budget small = {0, 1 << 20, 100, 0, CACHE_LRU};
    cache_store_close(s);
    s = cache_store_open(dir, &small, &err);
    assert_null(put(s, "http://h/big", "", body, sizeof body));
    assert_false(cache_store_has(s, "http://h/big"));
    cache_store_close(s);
}

static void test_mem_budget(void **state)
{
    const char *err;
    struct cache_budget b = {10, 1 << 20, 1 << 20, 8, CACHE_LRU};
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

static void test_sketch(void **state)
{
    struct cache_sketch *k = cache_sketch_new(64);
    uint64_t a = cache_sketch_hash("http://a/"), b = cache_sketch_hash("http://b/");
    for (int i = 0; i < 5; i++)
        cache_sketch_add(k, a);
    cache_sketch_add(k, b);
    assert_int_equal(cache_sketch_estimate(k, a), 5);
    assert_int_equal(cache_sketch_estimate(k, b), 1);
    for (int i = 0; i < 40; i++)
        cache_sketch_add(k, a); /* saturates at 15 */
    assert_int_equal(cache_sketch_estimate(k, a), 15);
    /* 10 x 64 additions in all halve every counter: old popularity fades. */
    for (int i = 0; i < 10 * 64; i++)
        cache_sketch_add(k, cache_sketch_hash("http://c/") + (uint64_t)i * 7919);
    assert_true(cache_sketch_estimate(k, a) <= 8);
    cache_sketch_free(k);
}

/* A Zipf(1) replay over 1000 URLs with room for 100 objects: LFU's admission keeps the
 * popular ones, so it hits more often than LRU. Returns the hit ratio. */
static double zipf_replay(enum cache_policy policy, const char *sub)
{
    enum { KEYS = 1000, ROOM = 100, REQUESTS = 15000 };
    static double cdf[KEYS];
    double sum = 0;
    for (int i = 0; i < KEYS; i++)
        sum += 1.0 / (i + 1);
    double acc = 0;
    for (int i = 0; i < KEYS; i++)
        cdf[i] = (acc += 1.0 / (i + 1) / sum);
    char path[128], body[1000];
    memset(body, 'z', sizeof body);
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    const char *err;
    struct cache_budget b = {1 << 20, 0, 1 << 20, 1 << 16, policy};
    b.disk_bytes = (uint64_t)ROOM * 1100; /* each object's file: its 1000 octets and ~90 of head */
    struct cache_store *s = cache_store_open(path, &b, &err);
    assert_non_null(s);
    uint64_t x = 88172645463325252ull; /* xorshift64: the same sequence for both policies */
    unsigned hits = 0;
    for (int r = 0; r < REQUESTS; r++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double u = (double)(x >> 11) / (double)(1ull << 53);
        int k = 0;
        while (k < KEYS - 1 && cdf[k] < u)
            k++;
        char key[64];
        snprintf(key, sizeof key, "http://zipf.test/%d", k);
        struct cache_obj *o = cache_store_lookup(s, key, any, NULL);
        if (o)
            hits++;
        else
            o = put(s, key, "", body, sizeof body);
        cache_obj_unref(s, o);
    }
    struct cache_stats st;
    cache_store_stats(s, &st);
    assert_true(st.disk_bytes <= b.disk_bytes);
    cache_store_close(s);
    return (double)hits / REQUESTS;
}

static void test_lfu_beats_lru_on_zipf(void **state)
{
    double lru = zipf_replay(CACHE_LRU, "lru"), lfu = zipf_replay(CACHE_LFU, "lfu");
    printf("zipf(1), 1000 URLs, room for 100: hit ratio LRU %.3f, LFU %.3f\n", lru, lfu);
    assert_true(lru > 0.2);
    assert_true(lfu > lru + 0.03);
}

/* Files left in the store's tmp/. */
static int tmp_files(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/tmp", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A body past max_object is never stored, but the temporary file goes on as a spool for the
 * readers following it, up to the disk budget; commit drops it. */
static void test_spool_past_max_object(void **state)
{
    const char *err;
    struct cache_budget b = {0, 4096, 1000, 0, CACHE_LRU};
    struct cache_store *s = cache_store_open(dir, &b, &err);
    assert_int_equal(cache_store_spool_limit(s), 4096);
    struct cache_writer *w =
        cache_writer_new(s, "http://h/spool", "", 200, slice_cstr("A: b\r\n"), 10, 11);
    uint64_t off;
    int fd = cache_writer_reader(w, &off);
    assert_true(fd >= 0);
    char piece[500];
    for (int i = 0; i < 5; i++) {
        memset(piece, 'a' + i, sizeof piece);
        assert_int_equal(cache_writer_write(w, piece, sizeof piece), 0);
    }
    char got[2500];
    assert_int_equal(pread(fd, got, sizeof got, (off_t)off), (ssize_t)sizeof got);
    assert_int_equal(got[0], 'a');
    assert_int_equal(got[2499], 'e');
    char more[2000] = {0};
    assert_int_equal(cache_writer_write(w, more, sizeof more), -1); /* past the spool limit */
    assert_null(cache_writer_commit(w));
    assert_false(cache_store_has(s, "http://h/spool"));
    assert_int_equal(tmp_files(), 0);
    close(fd);
    /* one that ends below the spool limit is not stored either */
    w = cache_writer_new(s, "http://h/spool2", "", 200, slice_cstr("A: b\r\n"), 10, 11);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cache_writer_write(w, piece, sizeof piece), 0);
    assert_null(cache_writer_commit(w));
    assert_int_equal(tmp_files(), 0);
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
        cmocka_unit_test_setup_teardown(test_spool_past_max_object, setup, teardown),
        cmocka_unit_test(test_sketch),
        cmocka_unit_test_setup_teardown(test_lfu_beats_lru_on_zipf, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
