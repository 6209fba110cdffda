/*
 * torrent/bencode — BitTorrent's bencoding (BEP 3): a parser into a flat token array with
 * limits on depth, token count and string length, and writers appending to a struct str.
 *
 * The parser is strict where BEP 3 is (integers without leading zeros or "-0", lengths in
 * plain decimal, dictionary keys are strings) and keeps each value's raw span so the
 * info-hash can be taken over the exact bytes of the info dictionary. Tokens point into the
 * input, which must outlive the document. Performs no I/O; the token array is malloc'd and
 * freed with benc_doc_clear.
 */
#ifndef PIGEON_TORRENT_BENCODE_H
#define PIGEON_TORRENT_BENCODE_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum benc_type { BENC_INT, BENC_STR, BENC_LIST, BENC_DICT };

struct benc_tok {
    enum benc_type type;
    size_t start, end; /* raw span in the input: [start, end) */
    size_t next;       /* index of the token after this one's whole subtree */
    size_t count;      /* children of a list; keys + values of a dictionary */
    int64_t i;         /* BENC_INT */
    struct slice s;    /* BENC_STR: the string's bytes */
};

struct benc_doc {
    struct benc_tok *t; /* t[0] is the root */
    size_t n, cap;
};

struct benc_limits {
    unsigned max_depth;   /* nesting of lists and dictionaries */
    size_t max_tokens;    /* values in the whole document */
    size_t max_str;       /* longest string */
};

/* Limits for a .torrent file or a tracker/extension message (the caller may tighten them). */
void benc_limits_default(struct benc_limits *lim);

/*
 * Parses one bencoded value from p[0..n). With used_out NULL the value must fill the input;
 * otherwise *used_out is how many bytes it took (BEP 9 data messages carry bytes after it).
 * Returns 0, or ERR_PARSE / ERR_LIMIT with *why_out naming the problem (static text). The
 * document is emptied first and holds no tokens on failure; benc_doc_clear frees it
 * either way.
 */
int benc_parse(const char *p, size_t n, const struct benc_limits *lim, struct benc_doc *doc,
               size_t *used_out, const char **why_out);
void benc_doc_clear(struct benc_doc *doc);

/* The value of key in dictionary token dict, or -1 (also when dict is not a dictionary). */
long benc_dict_get(const struct benc_doc *doc, long dict, const char *key);
/* Typed look-ups: true and *out set when key exists with that type. */
bool benc_dict_int(const struct benc_doc *doc, long dict, const char *key, int64_t *out);
bool benc_dict_str(const struct benc_doc *doc, long dict, const char *key, struct slice *out);
/* The first child of a list or dictionary (a dictionary's first key), or -1 when empty;
 * the next sibling of a child is doc->t[i].next while it is below the parent's next. */
long benc_first(const struct benc_doc *doc, long parent);

/* Writers (append to out). */
void benc_put_int(struct str *out, int64_t v);
void benc_put_str(struct str *out, const void *p, size_t n);
void benc_put_cstr(struct str *out, const char *s);
static inline void benc_open_dict(struct str *out)
{
    str_appendc(out, 'd');
}
static inline void benc_open_list(struct str *out)
{
    str_appendc(out, 'l');
}
static inline void benc_close(struct str *out)
{
    str_appendc(out, 'e');
}

#endif
