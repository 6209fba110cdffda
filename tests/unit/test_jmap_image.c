/* test_jmap_image — the remote-image proxy's rules (jmap/image.h): which URLs it fetches,
 * which answers are images, which addresses are not public. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jmap/image.h"
#include "net/acl.h"

#include <string.h>

static void test_urls(void **state)
{
    (void)state;
    assert_true(jmap_image_url_ok("http://example.org/a.png"));
    assert_true(jmap_image_url_ok("HTTPS://example.org/a.png?x=1"));
    assert_false(jmap_image_url_ok("ftp://example.org/a.png"));
    assert_false(jmap_image_url_ok("file:///etc/passwd"));
    assert_false(jmap_image_url_ok("http:///a.png"));
    assert_false(jmap_image_url_ok("http://"));
    assert_false(jmap_image_url_ok("http://exa mple.org/"));
    assert_false(jmap_image_url_ok("http://example.org/\r\nHost: evil"));
    assert_false(jmap_image_url_ok("//example.org/a.png"));
    char long_url[JMAP_IMAGE_URL_MAX + 32] = "http://example.org/";
    memset(long_url + 19, 'a', JMAP_IMAGE_URL_MAX);
    long_url[JMAP_IMAGE_URL_MAX + 10] = '\0';
    assert_false(jmap_image_url_ok(long_url));
}

static void test_types(void **state)
{
    (void)state;
    const unsigned char png[] = "\x89PNG\r\n\x1a\n....";
    const unsigned char gif[] = "GIF89a..";
    const unsigned char webp[] = "RIFF\x10\0\0\0WEBPVP8 ";
    const unsigned char html[] = "<svg onload=alert(1)>";
    assert_string_equal(jmap_image_type("image/png", png, sizeof png - 1), "image/png");
    assert_string_equal(jmap_image_type("IMAGE/PNG; charset=x", png, sizeof png - 1),
                        "image/png");
    assert_string_equal(jmap_image_type("image/gif", gif, sizeof gif - 1), "image/gif");
    assert_string_equal(jmap_image_type("image/webp", webp, sizeof webp - 1), "image/webp");
    assert_null(jmap_image_type("image/png", gif, sizeof gif - 1)); /* type and bytes differ */
    assert_null(jmap_image_type("image/png", html, sizeof html - 1));
    assert_null(jmap_image_type("image/svg+xml", html, sizeof html - 1));
    assert_null(jmap_image_type("text/html", png, sizeof png - 1));
    assert_null(jmap_image_type(NULL, png, sizeof png - 1));
    assert_null(jmap_image_type("image/png", png, 4)); /* too short to tell */
}

static void test_nonpublic(void **state)
{
    (void)state;
    struct net_acl acl;
    char bad[64];
    assert_int_equal(net_acl_parse(jmap_image_nonpublic, &acl, NULL, NULL, bad, sizeof bad), 0);
    const char *inside[] = {"127.0.0.1", "10.2.3.4", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                            "100.64.0.1", "0.0.0.0", "198.18.0.1", "224.0.0.1", "::1", "fe80::1",
                            "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1"};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++)
        assert_true(net_acl_match_text(&acl, inside[i]));
    const char *outside[] = {"93.184.216.34", "8.8.8.8", "2606:4700::1", "172.32.0.1"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
        assert_false(net_acl_match_text(&acl, outside[i]));
    net_acl_clear(&acl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_nonpublic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
