/*
 * jmap/image — what the webmail's remote-image proxy lets through (jmap/service/image.c does
 * the fetching): which URLs may be fetched (http and https only, no control characters or
 * spaces, bounded length), which answers are images (a raster type, named by the origin AND
 * found in the first octets, so an HTML page or an SVG with script never comes back from this
 * origin as an "image"), and which addresses are not public (loopback, private, link-local,
 * CGNAT, documentation, multicast...: never fetched unless the configuration allows them).
 *
 * Pure: no I/O, no allocation, no globals.
 */
#ifndef PIGEON_JMAP_IMAGE_H
#define PIGEON_JMAP_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#define JMAP_IMAGE_URL_MAX 2048

/* Whether url (NUL-terminated) is an absolute http: or https: URL the proxy may ask for. */
bool jmap_image_url_ok(const char *url);

/* The media type of an image answer: content_type as the origin sent it (parameters
 * ignored; NULL: none) must be one of image/png, jpeg, gif, webp, avif, and data[0..n) must
 * start as that type does. The canonical type, or NULL when it is no such image. */
const char *jmap_image_type(const char *content_type, const unsigned char *data, size_t n);

/* The prefixes of addresses that are not public (space-separated, for net/acl.h). */
extern const char jmap_image_nonpublic[];

#endif
