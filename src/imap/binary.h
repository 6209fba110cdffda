/*
 * binary — a part of a message with every content transfer encoding removed, as URLFETCH's
 * BINARY (RFC 5524 §3, applying RFC 3516's decoding to what a URL names) gives it: a leaf in
 * base64 or quoted-printable comes out decoded, its Content-Transfer-Encoding field saying
 * "binary"; a multipart or an encapsulated message keeps its headers, boundaries, prologue
 * and epilogue byte for byte, with each of its parts converted the same way (as Dovecot's
 * binary conversion does). Pure: no I/O.
 */
#ifndef PIGEON_IMAP_BINARY_H
#define PIGEON_IMAP_BINARY_H

#include "core/str.h"
#include "msg/mime.h"

#include <stdbool.h>

/*
 * Appends the content of part p of tree t (its body; for a message/rfc822 part the whole
 * encapsulated message; p NULL: the whole message, header included) without transfer
 * encodings to out. False when some part has an
 * encoding this server does not know (RFC 3516 §4.3: NO [UNKNOWN-CTE]); out is then partial.
 */
bool imap_binary_content(const struct mime_tree *t, const struct mime_part *p, struct str *out);

/*
 * Gives part p of tree t (NULL: the root) and every part inside it the body size and line
 * count (line feeds) of its converted form, so that a BODYSTRUCTURE written afterwards
 * describes the content imap_binary_content gives, as Dovecot answers URLFETCH's
 * BODYPARTSTRUCTURE asked together with BINARY (the Content-Transfer-Encoding strings stay
 * as written). Call it after every imap_binary_content on t: the tree's offsets then no
 * longer match its sizes. Parts with an unknown encoding keep their sizes.
 */
void imap_binary_resize(struct mime_tree *t, struct mime_part *p);

#endif
