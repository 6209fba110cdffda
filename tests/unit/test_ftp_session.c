/* The FTP session engine driven through fakes/fake_ftp: replies, login rules, data setup
 * checks (bounce), transfers, ABOR, TLS, held commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/log.h"
#include "fakes/fake_ftp.h"

#include <string.h>

/* Output written since the input was fed must equal want. */
static void expect_exact(struct fake_ftp *f, const char *input, const char *want)
{
    size_t mark = f->out.len;
    fake_ftp_feeds(f, input);
    const char *got = str_cstr(&f->out) + mark;
    if (strcmp(got, want) != 0)
        fail_msg("after %s expected\n'%s'\ngot\n'%s'", input, want, got);
}

static void expect_reply(struct fake_ftp *f, const char *input, const char *prefix)
{
    size_t mark = f->out.len;
    fake_ftp_feeds(f, input);
    const char *got = str_cstr(&f->out) + mark;
    if (strncmp(got, prefix, strlen(prefix)) != 0)
        fail_msg("after %s expected '%s...', got '%s'", input, prefix, got);
}

static void login(struct fake_ftp *f)
{
    expect_exact(f, "USER bob\r\n", "331 Please specify the password.\r\n");
    expect_exact(f, "PASS hungry\r\n", "230 Login successful.\r\n");
}

/* The textbook session of the lecture notes, over the engine. */
static void test_textbook(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    assert_string_equal(str_cstr(&f.out), "220 Pigeon FTP server ready.\r\n");
    login(&f);
    expect_exact(&f, "PWD\r\n", "257 \"/\" is the current directory.\r\n");
    expect_exact(&f, "CWD docs\r\n", "250 Directory successfully changed.\r\n");
    expect_exact(&f, "PWD\r\n", "257 \"/docs\" is the current directory.\r\n");
    expect_exact(&f, "PASV\r\n", "227 Entering Passive Mode (127,0,0,1,195,80).\r\n");
    expect_exact(&f, "LIST\r\n", "150 Here comes the directory listing.\r\n"
                                 "226 Transfer complete.\r\n");
    assert_int_equal(f.last.kind, FTP_XFER_LIST);
    assert_string_equal(f.last_path, "/docs");
    expect_exact(&f, "TYPE I\r\n", "200 Switching to Binary mode.\r\n");
    expect_exact(&f, "PASV\r\n", "227 Entering Passive Mode (127,0,0,1,195,80).\r\n");
    expect_exact(&f, "RETR a.txt\r\n", "150 Opening BINARY mode data connection (5 bytes).\r\n"
                                       "226 Transfer complete.\r\n");
    assert_string_equal(f.last_path, "/docs/a.txt");
    assert_false(f.last.ascii);
    expect_exact(&f, "QUIT\r\n", "221 Goodbye.\r\n");
    assert_true(ftp_session_closing(f.s));
    fake_ftp_free(&f);
}

static void test_login_rules(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, false, "192.0.2.7");
    expect_exact(&f, "PWD\r\n", "530 Please login with USER and PASS.\r\n");
    expect_exact(&f, "PASS x\r\n", "503 Login with USER first.\r\n");
    /* no password in clear text from this address */
    expect_exact(&f, "USER bob\r\n",
                 "530 Non-anonymous sessions must use encryption (AUTH TLS).\r\n");
    expect_exact(&f, "AUTH TLS\r\n", "234 Proceed with negotiation.\r\n");
    expect_exact(&f, "USER bob\r\n", "331 Please specify the password.\r\n");
    expect_exact(&f, "PASS wrong\r\n", "530 Login incorrect.\r\n");
    expect_exact(&f, "USER bob\r\n", "331 Please specify the password.\r\n");
    expect_exact(&f, "PASS wrong\r\n", "530 Login incorrect.\r\n");
    expect_exact(&f, "USER bob\r\n", "331 Please specify the password.\r\n");
    expect_exact(&f, "PASS wrong\r\n", "530 Login incorrect.\r\n421 Too many login failures, "
                                       "closing control connection.\r\n");
    assert_true(ftp_session_closing(f.s));
    fake_ftp_free(&f);
}

static void test_anonymous_read_only(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, false, "192.0.2.7");
    expect_reply(&f, "USER anonymous\r\n", "331 ");
    expect_exact(&f, "PASS guest@example.org\r\n", "230 Login successful.\r\n");
    assert_true(f.anonymous_login);
    expect_exact(&f, "MKD x\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "DELE hello.txt\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "PASV\r\n", "227 Entering Passive Mode (127,0,0,1,195,80).\r\n");
    expect_exact(&f, "STOR up.bin\r\n", "550 Permission denied.\r\n");
    expect_reply(&f, "MLST hello.txt\r\n", "250-Listing /hello.txt\r\n type=file;size=13;"
                                           "modify=20231114221320;perm=r;");
    fake_ftp_free(&f);
}

/* [ftp] anonymous_upload: new files right in /incoming, nothing in it read, listed or
 * looked at; the rest of the tree stays read-only. */
static void test_anonymous_upload(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, false, "192.0.2.7");
    expect_reply(&f, "USER anonymous\r\n", "331 ");
    expect_exact(&f, "PASS guest@example.org\r\n", "230 Login successful.\r\n");
    expect_exact(&f, "TYPE I\r\n", "200 Switching to Binary mode.\r\n");
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_exact(&f, "STOR /incoming/new.bin\r\n", "150 Ok to send data (BINARY mode).\r\n"
                                                    "226 Transfer complete.\r\n");
    assert_int_equal(f.last.kind, FTP_XFER_STOR);
    assert_true(f.last.create_only);
    assert_string_equal(f.last_path, "/incoming/new.bin");
    expect_exact(&f, "CWD incoming\r\n", "250 Directory successfully changed.\r\n");
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "STOU\r\n", "150 FILE: ");
    assert_string_equal(f.last_path, "/incoming/ftp.upload");
    unsigned xfers = f.xfers;
    expect_reply(&f, "PASV\r\n", "227 ");
    /* nothing within it is read, listed or looked at */
    expect_exact(&f, "RETR dropped.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "LIST\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "NLST /incoming\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "MLSD\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "SIZE dropped.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "MDTM /incoming/dropped.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "MLST dropped.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "STAT /incoming\r\n", "550 Permission denied.\r\n");
    /* no append, resume, subdirectory, delete or rename; nothing outside it */
    expect_exact(&f, "APPE dropped.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "REST 5\r\n", "350 Restart position accepted (5).\r\n");
    expect_exact(&f, "STOR more.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "STOR sub/x.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "STOR /up.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "STOR /incomingx/up.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "MKD sub\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "DELE dropped.bin\r\n", "550 Permission denied.\r\n");
    expect_exact(&f, "RNFR dropped.bin\r\n", "550 Permission denied.\r\n");
    assert_int_equal(f.xfers, xfers);
    /* outside the drop box reading works as before */
    expect_exact(&f, "RETR /hello.txt\r\n", "150 Opening BINARY mode data connection (13 "
                                             "bytes).\r\n226 Transfer complete.\r\n");
    assert_false(f.last.create_only);
    fake_ftp_free(&f);
}

/* A logged-in user is not bound by the anonymous drop box's rules. */
static void test_upload_dir_is_anonymous_only(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    login(&f);
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "RETR /incoming/dropped.bin\r\n", "150 ");
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "APPE /incoming/dropped.bin\r\n", "150 ");
    assert_false(f.last.create_only);
    fake_ftp_free(&f);
}

/* RFC 2577: PORT/EPRT only to the client itself and to a port >= 1024. */
static void test_port_bounce(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    login(&f);
    expect_exact(&f, "PORT 10,0,0,1,0,25\r\n",
                 "504 PORT only to your own address and a port above 1023.\r\n");
    expect_exact(&f, "PORT 127,0,0,1,0,25\r\n",
                 "504 PORT only to your own address and a port above 1023.\r\n");
    expect_exact(&f, "EPRT |1|192.0.2.1|2000|\r\n",
                 "504 EPRT only to your own address and a port above 1023.\r\n");
    assert_false(f.have_active);
    expect_exact(&f, "PORT 127,0,0,1,7,208\r\n", "200 PORT command successful.\r\n");
    assert_true(f.have_active);
    assert_int_equal(f.active.port, 2000);
    expect_exact(&f, "EPRT |3|x|1|\r\n", "522 Network protocol not supported, use (1,2)\r\n");
    expect_exact(&f, "PORT 1,2,3\r\n", "501 Illegal PORT command.\r\n");
    fake_ftp_free(&f);
}

static void test_epsv(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    login(&f);
    expect_exact(&f, "EPSV\r\n", "229 Entering Extended Passive Mode (|||50000|).\r\n");
    expect_exact(&f, "EPSV 2\r\n", "522 Network protocol not supported, use (1)\r\n");
    expect_exact(&f, "EPSV ALL\r\n", "200 EPSV ALL ok.\r\n");
    expect_exact(&f, "PASV\r\n", "503 EPSV ALL is in effect; use EPSV.\r\n");
    expect_exact(&f, "PORT 127,0,0,1,7,208\r\n", "503 EPSV ALL is in effect; use EPSV.\r\n");
    expect_exact(&f, "EPSV 1\r\n", "229 Entering Extended Passive Mode (|||50000|).\r\n");
    fake_ftp_free(&f);
}

static void test_transfer_rules(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    login(&f);
    expect_exact(&f, "RETR hello.txt\r\n", "425 Use PORT or PASV first.\r\n");
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_exact(&f, "RETR nope\r\n", "550 No such file or directory.\r\n");
    /* one data setup serves one transfer */
    expect_exact(&f, "RETR hello.txt\r\n", "425 Use PORT or PASV first.\r\n");
    expect_exact(&f, "REST 10\r\n", "350 Restart position accepted (10).\r\n");
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "RETR hello.txt\r\n", "150 Opening ASCII mode");
    assert_int_equal(f.last.offset, 10);
    assert_true(f.last.ascii);
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "STOR new.bin\r\n", "150 Ok to send data");
    assert_int_equal(f.last.offset, 0); /* REST was used up by the RETR */
    assert_non_null(fake_ftp_find(&f, "/new.bin"));
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_exact(&f, "STOU\r\n", "150 FILE: /ftp.upload\r\n226 Transfer complete (unique file "
                                 "name: /ftp.upload).\r\n");
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "MLSD docs\r\n", "150 Here comes");
    assert_int_equal(f.last.kind, FTP_XFER_MLSD);
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "NLST -la docs\r\n", "150 ");
    assert_string_equal(f.last_path, "/docs");
    f.xfer_fail_conn = true;
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_exact(&f, "LIST\r\n", "425 Cannot open data connection.\r\n");
    f.passive_fail = true;
    expect_exact(&f, "PASV\r\n", "425 Cannot open passive connection; try EPSV.\r\n");
    fake_ftp_free(&f);
}

/* ABOR during a transfer: 426 for the transfer, 226 for ABOR; other commands wait. */
static void test_abor_and_held(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    login(&f);
    f.hold = true;
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_exact(&f, "RETR hello.txt\r\n", "");
    assert_true(ftp_session_transferring(f.s));
    expect_reply(&f, "STAT\r\n", "211-Pigeon FTP server status:");
    assert_non_null(strstr(str_cstr(&f.out), "42 octets moved"));
    /* a command that must wait, then ABOR behind it: the engine stops at the first */
    size_t used = fake_ftp_feeds(&f, "PWD\r\nNOOP\r\n");
    assert_int_equal(used, 5);
    fake_ftp_complete(&f);
    assert_non_null(strstr(str_cstr(&f.out), "226 Transfer complete.\r\n257 \"/\""));
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_exact(&f, "RETR hello.txt\r\n", "");
    ftp_session_xfer_open(f.s, 13, NULL);
    expect_exact(&f, "\xff\xf4\xff" "ABOR\r\n", "426 Connection closed; transfer aborted.\r\n"
                                                "226 Abort successful.\r\n");
    assert_int_equal(f.aborts, 1);
    assert_false(ftp_session_transferring(f.s));
    expect_exact(&f, "ABOR\r\n", "226 No transfer to abort.\r\n");
    /* a result that comes after ABOR is ignored */
    ftp_session_xfer_done(f.s, FTP_XFER_OK, 0);
    expect_exact(&f, "NOOP\r\n", "200 NOOP ok.\r\n");
    fake_ftp_free(&f);
}

static void test_files(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    login(&f);
    expect_exact(&f, "MKD new \"dir\r\n", "257 \"/new \"\"dir\" created.\r\n");
    expect_exact(&f, "MKD docs\r\n", "550 File exists.\r\n");
    expect_exact(&f, "RMD docs\r\n", "550 Directory not empty.\r\n");
    expect_exact(&f, "RNFR hello.txt\r\n", "350 Ready for RNTO.\r\n");
    expect_exact(&f, "RNTO docs/b.txt\r\n", "250 Rename successful.\r\n");
    assert_non_null(fake_ftp_find(&f, "/docs/b.txt"));
    expect_exact(&f, "RNTO x\r\n", "503 RNFR required first.\r\n");
    expect_exact(&f, "RNFR docs/b.txt\r\n", "350 Ready for RNTO.\r\n");
    expect_exact(&f, "NOOP\r\n", "200 NOOP ok.\r\n");
    expect_exact(&f, "RNTO x\r\n", "503 RNFR required first.\r\n");
    expect_exact(&f, "SIZE docs/a.txt\r\n", "213 5\r\n");
    expect_exact(&f, "SIZE docs\r\n", "550 Not a plain file.\r\n");
    expect_exact(&f, "MDTM docs/a.txt\r\n", "213 20231114221320\r\n");
    expect_exact(&f, "DELE docs/a.txt\r\n", "250 File deleted.\r\n");
    expect_exact(&f, "DELE docs/a.txt\r\n", "550 No such file or directory.\r\n");
    expect_exact(&f, "CWD /../../docs/../..\r\n", "250 Directory successfully changed.\r\n");
    expect_exact(&f, "PWD\r\n", "257 \"/\" is the current directory.\r\n");
    expect_exact(&f, "CWD hello\r\n", "550 No such file or directory.\r\n");
    expect_exact(&f, "CDUP\r\n", "250 Directory successfully changed.\r\n");
    expect_exact(&f, "OPTS MLST type;size;bogus;\r\n", "200 MLST OPTS type;size;\r\n");
    expect_exact(&f, "MLST docs\r\n", "250-Listing /docs\r\n type=dir; /docs\r\n250 End\r\n");
    expect_reply(&f, "STAT docs\r\n", "213-Status of /docs:\r\ndrwxr-xr-x");
    fake_ftp_free(&f);
}

/* MFMT (draft-somers-ftp-mfxx): FileZilla's, WinSCP's and lftp's "preserve timestamps". */
static void test_mfmt(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    expect_exact(&f, "MFMT 20200229120000 hello.txt\r\n", "530 Please login with USER and PASS.\r\n");
    login(&f);
    expect_exact(&f, "MFMT 20200229123456 hello.txt\r\n",
                 "213 Modify=20200229123456; hello.txt\r\n");
    assert_int_equal(fake_ftp_find(&f, "/hello.txt")->mtime, 1582979696);
    expect_exact(&f, "MDTM hello.txt\r\n", "213 20200229123456\r\n");
    expect_exact(&f, "MFMT 19991231235959.123 /docs/a.txt\r\n",
                 "213 Modify=19991231235959; /docs/a.txt\r\n");
    assert_int_equal(fake_ftp_find(&f, "/docs/a.txt")->mtime, 946684799);
    expect_exact(&f, "MFMT 20200229120000 nothere\r\n", "550 No such file or directory.\r\n");
    expect_exact(&f, "MFMT 20200229120000 docs\r\n", "550 Not a plain file.\r\n");
    expect_exact(&f, "MFMT 20190229120000 hello.txt\r\n",
                 "501 MFMT needs YYYYMMDDHHMMSS and a pathname.\r\n");
    expect_exact(&f, "MFMT hello.txt\r\n", "501 MFMT needs YYYYMMDDHHMMSS and a pathname.\r\n");
    fake_ftp_free(&f);
    fake_ftp_init(&f, false, false, "192.0.2.7");
    expect_reply(&f, "USER anonymous\r\n", "331 ");
    expect_reply(&f, "PASS guest@example.org\r\n", "230 ");
    expect_exact(&f, "MFMT 20200229120000 hello.txt\r\n", "550 Permission denied.\r\n");
    fake_ftp_free(&f);
}

static void test_misc(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    expect_exact(&f, "SYST\r\n", "215 UNIX Type: L8\r\n");
    expect_reply(&f, "FEAT\r\n", "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPRT\r\n");
    assert_non_null(strstr(str_cstr(&f.out), " MDTM\r\n MFMT\r\n MLST "));
    assert_non_null(strstr(str_cstr(&f.out), " REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n"
                                             "211 End\r\n"));
    expect_exact(&f, "OPTS UTF8 ON\r\n", "200 UTF8 set to on.\r\n");
    expect_exact(&f, "OPTS FOO\r\n", "501 Option not understood.\r\n");
    expect_reply(&f, "HELP\r\n", "214-The following commands are recognized:\r\n USER PASS");
    expect_exact(&f, "BOGUS\r\n", "500 Syntax error, command unrecognized.\r\n");
    expect_exact(&f, "PROT P\r\n", "503 PROT needs a protected control connection (AUTH TLS).\r\n");
    expect_exact(&f, "AUTH KERBEROS_V4\r\n", "504 Security mechanism not understood.\r\n");
    login(&f);
    expect_exact(&f, "TYPE E\r\n", "504 Command not implemented for that parameter.\r\n");
    expect_exact(&f, "TYPE Q\r\n", "501 Unrecognised TYPE command.\r\n");
    expect_exact(&f, "TYPE L 8\r\n", "200 Switching to Binary mode.\r\n");
    expect_exact(&f, "MODE S\r\n", "200 Mode set to S.\r\n");
    expect_exact(&f, "MODE B\r\n", "504 Command not implemented for that parameter.\r\n");
    expect_exact(&f, "STRU F\r\n", "200 Structure set to F.\r\n");
    expect_exact(&f, "STRU R\r\n", "504 Command not implemented for that parameter.\r\n");
    expect_exact(&f, "ALLO 100\r\n", "202 ALLO not needed at this site.\r\n");
    /* F5 (session 12): a 202 reads as success; SITE CHMOD changed nothing */
    expect_exact(&f, "SITE CHMOD 600 hello.txt\r\n", "502 SITE commands are not implemented.\r\n");
    expect_exact(&f, "USER alice\r\n", "530 Already logged in; cannot change user.\r\n");
    /* a command line longer than the limit */
    char big[FTP_LINE_MAX + 64];
    memset(big, 'a', sizeof big);
    memcpy(big, "RETR ", 5);
    memcpy(big + sizeof big - 3, "\r\n", 3);
    expect_exact(&f, big, "500 Command line too long.\r\n");
    expect_exact(&f, "NOOP\r\n", "200 NOOP ok.\r\n");
    fake_ftp_free(&f);
}

static void test_tls_prot(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, false, "192.0.2.7");
    expect_exact(&f, "AUTH TLS\r\n", "234 Proceed with negotiation.\r\n");
    expect_exact(&f, "AUTH TLS\r\n", "503 TLS is already active.\r\n");
    expect_exact(&f, "PROT P\r\n", "503 PBSZ must come before PROT.\r\n");
    expect_exact(&f, "PBSZ 0\r\n", "200 PBSZ=0\r\n");
    expect_exact(&f, "PROT S\r\n", "536 Protection level not supported with TLS.\r\n");
    expect_exact(&f, "PROT X\r\n", "504 Protection level not understood.\r\n");
    expect_exact(&f, "PROT P\r\n", "200 Protection level set to Private.\r\n");
    expect_exact(&f, "CCC\r\n", "534 The control connection stays protected.\r\n");
    login(&f);
    expect_reply(&f, "PASV\r\n", "227 ");
    expect_reply(&f, "RETR hello.txt\r\n", "150 ");
    assert_true(f.last.tls);
    fake_ftp_free(&f);
}

static void test_timeout_shutdown(void **state)
{
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    login(&f);
    f.hold = true;
    expect_reply(&f, "PASV\r\n", "227 ");
    fake_ftp_feeds(&f, "RETR hello.txt\r\n");
    ftp_session_timeout(f.s); /* a transfer has its own data timeout */
    assert_false(ftp_session_closing(f.s));
    ftp_session_shutdown(f.s);
    assert_non_null(strstr(str_cstr(&f.out), "426 Connection closed; transfer aborted.\r\n"
                                             "421 Service not available"));
    assert_true(ftp_session_closing(f.s));
    fake_ftp_free(&f);
    fake_ftp_init(&f, false, true, NULL);
    ftp_session_timeout(f.s);
    assert_non_null(strstr(str_cstr(&f.out), "421 Timeout"));
    assert_true(ftp_session_closing(f.s));
    fake_ftp_free(&f);
}

/* The session splits input at any byte (one octet at a time here). */
static void test_bytewise(void **state)
{
    const char *in = "USER bob\r\nPASS hungry\r\nCWD docs\r\nPWD\r\n";
    struct fake_ftp f;
    fake_ftp_init(&f, false, true, NULL);
    for (const char *p = in; *p; p++)
        assert_int_equal(fake_ftp_feed(&f, p, 1), 1);
    assert_non_null(strstr(str_cstr(&f.out), "257 \"/docs\" is the current directory.\r\n"));
    fake_ftp_free(&f);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textbook),        cmocka_unit_test(test_login_rules),
        cmocka_unit_test(test_anonymous_read_only), cmocka_unit_test(test_port_bounce),
        cmocka_unit_test(test_epsv),            cmocka_unit_test(test_transfer_rules),
        cmocka_unit_test(test_abor_and_held),   cmocka_unit_test(test_files),
        cmocka_unit_test(test_misc),            cmocka_unit_test(test_tls_prot),
        cmocka_unit_test(test_mfmt),
        cmocka_unit_test(test_timeout_shutdown), cmocka_unit_test(test_bytewise),
        cmocka_unit_test(test_anonymous_upload), cmocka_unit_test(test_upload_dir_is_anonymous_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
