/*
 * search_int — one run of SEARCH, SORT or THREAD over the selected mailbox, shared by
 * cmd_search.c (the chunked evaluation, SEARCH and ESEARCH replies, SEARCHRES) and
 * cmd_sort.c (SORT and THREAD keys, their replies). Not for use outside src/imap.
 */
#ifndef PIGEON_IMAP_SEARCH_INT_H
#define PIGEON_IMAP_SEARCH_INT_H

#include "imap/search_match.h"
#include "imap/session_int.h"
#include "imap/sortkey.h"
#include "msg/arena.h"

struct imap_search_run {
    struct imap_search search;
    bool need_headers; /* decoded header text from the cache for every message */
    size_t pos, end;   /* the chunk of view indices being searched */
    const char **blobs;
    size_t *hits; /* view indices of the matches, ascending */
    size_t nhits, cap;
    /* SORT and THREAD: the keys of each match (parallel to hits) */
    struct imap_sort_item *items;
    unsigned want;                                  /* enum imap_sort_want: which keys to compute */
    struct imap_sort_crit crit[IMAP_SORT_MAX_KEYS]; /* SORT */
    size_t ncrit;
    int algo; /* THREAD: enum imap_thread_algo */
    struct msg_arena arena;
    /* what runs for each match (with its header callback), and once every match is known */
    void (*collect)(struct imap_session *s, size_t hit, const struct imap_search_msg *m);
    void (*finish)(struct imap_session *s);
};

/* Frees a run (NULL: nothing). */
void imap_search_run_free(struct imap_search_run *r);
/* Starts the run s->cmd.search (parsed, with collect/finish set): prepares the sets and
 * evaluates the view chunk by chunk; finish runs at the end. */
void imap_search_run_start(struct imap_session *s);
/* Parses criteria for SEARCH/SORT/THREAD into a new run at s->cmd.search; false after it
 * answered (BAD, or NO [BADCHARSET]). */
bool imap_search_run_parse(struct imap_session *s, const struct imap_arg *args, size_t nargs,
                           unsigned flags);
/* The reply of SEARCH or SORT (verb): "* SEARCH 1 2", or the ESEARCH response (RFC 4731
 * §3.1, RFC 5267 for SORT) when RETURN was given; nums in reply order (ascending for SEARCH,
 * sorted for SORT), modseqs parallel to them (shown when the search used MODSEQ). */
void imap_search_reply(struct imap_session *s, const char *verb, const uint32_t *nums,
                       const uint64_t *modseqs, size_t n);
/* RETURN (SAVE): remembers the uids of the view indices idx[0..n) as "$" (RFC 5182). */
void imap_search_save(struct imap_session *s, const size_t *idx, size_t n);
/* cmd_sort.c: orders r->items[0..nhits) by the SORT criteria. */
void imap_sort_items(struct imap_search_run *r);
/* cmd_context.c: RETURN (UPDATE) (RFC 5267 §4.3): the finished run s->cmd.search becomes an
 * updating context of the command's tag (it takes the run: s->cmd.search is NULL after). */
void imap_context_keep(struct imap_session *s, bool sort);

#endif
