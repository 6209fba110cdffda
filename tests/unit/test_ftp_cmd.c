/* The FTP engine's pure parts: command lines, Telnet stripping, PORT/EPRT, virtual paths,
 * ASCII conversion and listing lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ftp/ascii.h"
#include "ftp/cmd.h"
#include "ftp/list.h"
#include "ftp/path.h"

#include <string.h>

static int parse(const char *line, struct ftp_cmd *cmd)
{
    return ftp_cmd_parse(line, strlen(line), cmd);
}

static void test_verbs(void **state)
{
    struct ftp_cmd c;
    assert_int_equal(parse("retr my file.txt", &c), 0);
    assert_int_equal(c.verb, FTP_RETR);
    assert_true(c.has_arg);
    assert_int_equal(c.arg.len, 11);
    assert_memory_equal(c.arg.p, "my file.txt", 11);
    assert_int_equal(parse("PWD", &c), 0);
    assert_int_equal(c.verb, FTP_PWD);
    assert_false(c.has_arg);
    assert_int_equal(parse("XYZZY", &c), -3);
    assert_string_equal(c.reply, "500 Syntax error, command unrecognized.");
    assert_int_equal(parse("RETR", &c), -3);
    assert_int_equal(c.verb, FTP_RETR);
    assert_string_equal(c.reply, "501 Syntax error in parameters or arguments.");
    assert_int_equal(parse("RETR ", &c), -3);
    char nul[] = "RETR a\0b";
    assert_int_equal(ftp_cmd_parse(nul, sizeof nul - 1, &c), -3);
    assert_string_equal(ftp_verb_name(FTP_MLSD), "MLSD");
    /* RFC 1123 §4.1.3.1: the X forms of the directory commands are the standard ones */
    assert_int_equal(parse("xpwd", &c), 0);
    assert_int_equal(c.verb, FTP_PWD);
    assert_int_equal(parse("XCUP", &c), 0);
    assert_int_equal(c.verb, FTP_CDUP);
    assert_int_equal(parse("XCWD a b", &c), 0);
    assert_int_equal(c.verb, FTP_CWD);
    assert_memory_equal(c.arg.p, "a b", 3);
    assert_int_equal(parse("XMKD d", &c), 0);
    assert_int_equal(c.verb, FTP_MKD);
    assert_int_equal(parse("XRMD d", &c), 0);
    assert_int_equal(c.verb, FTP_RMD);
    assert_int_equal(parse("XMKD", &c), -3);
    assert_string_equal(c.reply, "501 Syntax error in parameters or arguments.");
    assert_int_equal(parse("XRET x", &c), -3);
    assert_string_equal(c.reply, "500 Syntax error, command unrecognized.");
}

static void test_mfmt_time(void **state)
{
    int64_t t = 0;
    struct slice p;
    assert_int_equal(ftp_parse_mfmt(slice_cstr("19700101000000 a"), &t, &p), 0);
    assert_int_equal(t, 0);
    assert_int_equal(p.len, 1);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20380119031408 my file"), &t, &p), 0);
    assert_int_equal(t, 2147483648LL);
    assert_memory_equal(p.p, "my file", 7);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("24000229000000.5 x"), &t, &p), 0);
    assert_int_equal(t, 13574563200LL);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("19691231235959 x"), &t, &p), 0);
    assert_int_equal(t, -1);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20200101000000.123 x"), &t, &p), 0);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20200101000000.1234 x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20200101000000. x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("21000229000000 x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20200431000000 x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20201301000000 x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20200101240000 x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("2020010100000 x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20200101000000 "), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("20200101000000x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr("-0200101000000 x"), &t, &p), -3);
    assert_int_equal(ftp_parse_mfmt(slice_cstr(""), &t, &p), -3);
}

static void test_telnet(void **state)
{
    /* BSD ftp's ABOR: IAC IP, IAC (its DM went out of band), then the command. */
    char a[] = "\xff\xf4\xff\xf2" "ABOR";
    assert_int_equal(ftp_telnet_strip(a, sizeof a - 1), 4);
    assert_memory_equal(a, "ABOR", 4);
    char b[] = "\xff\xf4\xff" "ABOR";
    assert_int_equal(ftp_telnet_strip(b, sizeof b - 1), 4);
    assert_memory_equal(b, "ABOR", 4);
    char c[] = "RETR a\xff\xff" "b";
    assert_int_equal(ftp_telnet_strip(c, sizeof c - 1), 8);
    assert_memory_equal(c, "RETR a\xff" "b", 8);
    char d[] = "\xff\xfb\x01NOOP\xff";
    assert_int_equal(ftp_telnet_strip(d, sizeof d - 1), 4);
    assert_memory_equal(d, "NOOP", 4);
}

static void test_port(void **state)
{
    struct ftp_hostport hp;
    assert_int_equal(ftp_parse_port(slice_cstr("127,0,0,1,4,1"), &hp), 0);
    assert_string_equal(hp.addr, "127.0.0.1");
    assert_int_equal(hp.port, 1025);
    assert_int_equal(hp.family, 4);
    assert_true(ftp_parse_port(slice_cstr("127,0,0,1,4"), &hp) < 0);
    assert_true(ftp_parse_port(slice_cstr("127,0,0,256,4,1"), &hp) < 0);
    assert_true(ftp_parse_port(slice_cstr("127,0,0,1,4,1,9"), &hp) < 0);
    assert_true(ftp_parse_port(slice_cstr("127,0,,1,4,1"), &hp) < 0);
    assert_true(ftp_parse_port(slice_cstr("a,0,0,1,4,1"), &hp) < 0);
    char text[64];
    assert_int_equal(ftp_format_pasv(&hp, text, sizeof text), 0);
    assert_string_equal(text, "(127,0,0,1,4,1)");
}

static void test_eprt(void **state)
{
    struct ftp_hostport hp;
    assert_int_equal(ftp_parse_eprt(slice_cstr("|1|132.235.1.2|6275|"), &hp), 0);
    assert_string_equal(hp.addr, "132.235.1.2");
    assert_int_equal(hp.port, 6275);
    assert_int_equal(ftp_parse_eprt(slice_cstr("|2|0:0::1|5282|"), &hp), 0);
    assert_string_equal(hp.addr, "::1");
    assert_int_equal(hp.family, 6);
    assert_int_equal(ftp_parse_eprt(slice_cstr("!2!::1!5282!"), &hp), 0);
    assert_int_equal(ftp_parse_eprt(slice_cstr("|3|1.2.3.4|5282|"), &hp), 1);
    assert_true(ftp_parse_eprt(slice_cstr("|1|::1|5282|"), &hp) < 0);
    assert_true(ftp_parse_eprt(slice_cstr("|1|1.2.3.4|0|"), &hp) < 0);
    assert_true(ftp_parse_eprt(slice_cstr("|1|1.2.3.4|70000|"), &hp) < 0);
    assert_true(ftp_parse_eprt(slice_cstr("|1|1.2.3.4|5|6|"), &hp) < 0);
    assert_true(ftp_parse_eprt(slice_cstr("|1|1.2.3.4|5"), &hp) < 0);
    uint64_t off;
    assert_int_equal(ftp_parse_offset(slice_cstr("1234567890123"), &off), 0);
    assert_true(off == 1234567890123ULL);
    assert_true(ftp_parse_offset(slice_cstr("-1"), &off) < 0);
    assert_true(ftp_parse_offset(slice_cstr("99999999999999999999"), &off) < 0);
}

static void resolve(const char *cwd, const char *arg, const char *want)
{
    char out[FTP_PATH_MAX];
    assert_int_equal(ftp_path_resolve(cwd, slice_cstr(arg), out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void test_paths(void **state)
{
    resolve("/", "a/b", "/a/b");
    resolve("/a", "b//c/", "/a/b/c");
    resolve("/a/b", "..", "/a");
    resolve("/a/b", "../../../../etc/passwd", "/etc/passwd");
    resolve("/a", "/x/./y/../z", "/x/z");
    resolve("/a", ".", "/a");
    resolve("/", "..", "/");
    resolve("/a", "...", "/a/...");
    char out[16];
    assert_true(ftp_path_resolve("/", slice_cstr("aaaaaaaaaaaaaaaaaaaa"), out, sizeof out) < 0);
    assert_string_equal(ftp_path_rel("/"), ".");
    assert_string_equal(ftp_path_rel("/a/b"), "a/b");
    assert_string_equal(ftp_path_base("/a/b"), "b");
}

static void test_ascii(void **state)
{
    char out[64];
    bool cr = false;
    size_t n = ftp_ascii_to_wire("a\nb\r\nc\n", 7, out, &cr);
    assert_int_equal(n, 9);
    assert_memory_equal(out, "a\r\nb\r\nc\r\n", 9);
    /* a CR at the end of one chunk and the LF at the start of the next */
    cr = false;
    n = ftp_ascii_to_wire("x\r", 2, out, &cr);
    n += ftp_ascii_to_wire("\ny", 2, out + n, &cr);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "x\r\ny", 4);
    bool held = false;
    n = ftp_ascii_from_wire("a\r\nb\r", 5, out, &held);
    n += ftp_ascii_from_wire("\nc\rd\r", 5, out + n, &held);
    n += ftp_ascii_from_wire_end(out + n, &held);
    assert_int_equal(n, 8);
    assert_memory_equal(out, "a\nb\nc\rd\r", 8);
}

static void test_list(void **state)
{
    struct str s;
    str_init(&s);
    struct ftp_stat st = {.is_file = true, .size = 1234, .mtime = 1700000000, .mode = 0644,
                          .nlink = 1, .dev = 8, .ino = 99};
    ftp_list_append(&s, FTP_LIST_LONG, &st, "a.txt", FTP_MLSX_ENTRY, false, 1700000100,
                    FACT_ALL);
    assert_string_equal(str_cstr(&s), "-rw-r--r--   1 ftp      ftp              1234 Nov 14 22:13"
                                      " a.txt\r\n");
    str_reset(&s);
    ftp_list_append(&s, FTP_LIST_LONG, &st, "a.txt", FTP_MLSX_ENTRY, false, 1800000000,
                    FACT_ALL);
    assert_non_null(strstr(str_cstr(&s), "Nov 14  2023 a.txt"));
    str_reset(&s);
    ftp_list_append(&s, FTP_LIST_MLSX, &st, "a.txt", FTP_MLSX_ENTRY, false, 0, FACT_ALL);
    assert_string_equal(str_cstr(&s), "type=file;size=1234;modify=20231114221320;perm=adfrw;"
                                      "unique=8U63; a.txt\r\n");
    str_reset(&s);
    st.is_dir = true;
    st.is_file = false;
    ftp_list_append(&s, FTP_LIST_MLSX, &st, ".", FTP_MLSX_CDIR, true, 0,
                    FACT_TYPE | FACT_PERM);
    assert_string_equal(str_cstr(&s), "type=cdir;perm=el; .\r\n");
    str_reset(&s);
    ftp_list_append(&s, FTP_LIST_NAMES, &st, "d", FTP_MLSX_ENTRY, true, 0, FACT_ALL);
    assert_string_equal(str_cstr(&s), "d\r\n");
    str_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs), cmocka_unit_test(test_telnet),
        cmocka_unit_test(test_port),  cmocka_unit_test(test_eprt),
        cmocka_unit_test(test_paths), cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_list),  cmocka_unit_test(test_mfmt_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
