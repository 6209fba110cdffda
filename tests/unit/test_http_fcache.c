/* http/handler/fcache: the open-file cache serves a hot file from memory, and never a stale
 * one — a file written in place, replaced by rename, deleted, or reached through a directory
 * that was swapped (revalidation by path) is served as it is now. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/handler/fcache.h"
#include "http/response.h"
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
    char dir[64];
    int root;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/pigeon-fcache-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->root = open(f->dir, O_RDONLY | O_DIRECTORY);
    assert_true(f->root >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    close(f->root);
    free(f);
    return 0;
}

static void put(struct fx *f, const char *rel, const char *text)
{
    char tmp[300], path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    assert_non_null(o);
    fputs(text, o);
    assert_int_equal(fclose(o), 0);
    assert_int_equal(rename(tmp, path), 0); /* replaced as deploy tools do: a new inode */
}

static void write_in_place(struct fx *f, const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* The content fc gives for rel now (from memory or the descriptor), as a C string. */
static void expect(struct http_fcache *fc, struct fx *f, const char *rel, const char *want,
                   bool cached)
{
    struct http_file_ref r;
    assert_int_equal(http_fcache_open(fc, f->root, rel, &r), 0);
    assert_true(S_ISREG(r.st.st_mode));
    assert_int_equal(r.st.st_size, (off_t)strlen(want));
    char buf[256] = {0};
    if (r.data)
        memcpy(buf, r.data, (size_t)r.st.st_size);
    else
        assert_int_equal(pread(r.fd, buf, sizeof buf - 1, 0), (ssize_t)strlen(want));
    assert_string_equal(buf, want);
    assert_int_equal(r.borrowed, cached);
    assert_int_equal(r.data != NULL, cached);
    if (r.etag) { /* the validators kept with the entry are those of the file as it is now */
        struct http_file_meta m = {(uint64_t)r.st.st_size, r.st.st_mtim.tv_sec,
                                   r.st.st_mtim.tv_nsec, (uint64_t)r.st.st_ino};
        char etag[64], date[30];
        http_etag(&m, etag);
        http_date_format(r.st.st_mtim.tv_sec, date);
        assert_string_equal(r.etag, etag);
        assert_string_equal(r.last_modified, date);
    }
    assert_int_equal(r.etag != NULL, cached);
    http_file_ref_clear(&r);
}

static void test_hit_and_changes(void **state)
{
    struct fx *f = *state;
    struct http_fcache *fc = http_fcache_new(8, 60000);
    assert_non_null(fc);
    put(f, "a.html", "first");
    expect(fc, f, "a.html", "first", true);
    expect(fc, f, "a.html", "first", true);
    write_in_place(f, "a.html", "second!");
    expect(fc, f, "a.html", "second!", true);
    put(f, "a.html", "third, renamed over");
    expect(fc, f, "a.html", "third, renamed over", true);
    char path[256];
    snprintf(path, sizeof path, "%s/a.html", f->dir);
    assert_int_equal(chmod(path, 0600), 0);
    expect(fc, f, "a.html", "third, renamed over", true); /* dropped (attributes), read again */
    assert_int_equal(unlink(path), 0);
    struct http_file_ref r;
    assert_int_equal(http_fcache_open(fc, f->root, "a.html", &r), -ENOENT);
    http_fcache_free(fc);
}

/* Told of input, the cache drains inotify once per input: look-ups answering requests read
 * together see the files as they were at the first of them, the next input's see the change. */
static void test_input_drains_once(void **state)
{
    struct fx *f = *state;
    struct http_fcache *fc = http_fcache_new(8, 60000);
    put(f, "a.html", "first");
    http_fcache_input(fc);
    expect(fc, f, "a.html", "first", true);
    write_in_place(f, "a.html", "second!");
    expect(fc, f, "a.html", "first", true); /* the same batch: no second read of the queue */
    http_fcache_input(fc);
    expect(fc, f, "a.html", "second!", true);
    expect(fc, f, "a.html", "second!", true);
    http_fcache_input(NULL); /* no cache: nothing to do */
    http_fcache_free(fc);
}

static void test_swapped_directory_revalidated(void **state)
{
    struct fx *f = *state;
    char a[256], b[256], old[256];
    snprintf(a, sizeof a, "%s/d", f->dir);
    snprintf(b, sizeof b, "%s/e", f->dir);
    snprintf(old, sizeof old, "%s/d.old", f->dir);
    assert_int_equal(mkdir(a, 0755), 0);
    assert_int_equal(mkdir(b, 0755), 0);
    put(f, "d/x.txt", "in d");
    put(f, "e/x.txt", "in e, longer");
    /* Checked by path on every look-up: the swap is seen although no watched file changed. */
    struct http_fcache *fc = http_fcache_new(8, 0);
    expect(fc, f, "d/x.txt", "in d", true);
    assert_int_equal(rename(a, old), 0);
    assert_int_equal(rename(b, a), 0);
    expect(fc, f, "d/x.txt", "in e, longer", true);
    http_fcache_free(fc);
}

static void test_bounded_large_and_directories(void **state)
{
    struct fx *f = *state;
    struct http_fcache *fc = http_fcache_new(2, 60000);
    put(f, "1", "one");
    put(f, "2", "two");
    put(f, "3", "three");
    for (int round = 0; round < 3; round++) {
        expect(fc, f, "1", "one", true);
        expect(fc, f, "2", "two", true);
        expect(fc, f, "3", "three", true);
    }
    /* A large file: kept open, not in memory; the caller dups what it keeps. */
    char path[256];
    snprintf(path, sizeof path, "%s/big", f->dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_int_equal(ftruncate(fd, 100000), 0);
    close(fd);
    struct http_file_ref r;
    assert_int_equal(http_fcache_open(fc, f->root, "big", &r), 0);
    assert_true(r.borrowed && r.data == NULL && r.st.st_size == 100000);
    int mine = http_file_ref_take_fd(&r);
    assert_true(mine >= 0 && mine != r.fd);
    close(mine);
    http_file_ref_clear(&r);
    /* A directory is opened for the caller, never cached; paths never leave the root. */
    assert_int_equal(http_fcache_open(fc, f->root, "", &r), 0);
    assert_true(S_ISDIR(r.st.st_mode) && !r.borrowed);
    http_file_ref_clear(&r);
    assert_int_equal(http_fcache_open(fc, f->root, "../etc/passwd", &r), -EXDEV);
    /* Without a cache the same calls open per request. */
    expect(NULL, f, "1", "one", false);
    http_fcache_free(fc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_and_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_drains_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_directory_revalidated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_large_and_directories, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
