/*
 * dhcp/packet — DHCPv4 messages (RFC 2131 §2, RFC 2132) from bytes to a struct and back.
 *
 * Hand-written: Debian has no maintained DHCPv4 wire library (ISC's and Kea's codecs live
 * inside their servers), and the format is a fixed 236-byte BOOTP header, the magic cookie and
 * a TLV option list. Every length is checked against the datagram; an option that appears
 * several times is concatenated (RFC 3396); option 52 (RFC 2132 §9.3) continues the list in
 * the `file` and then the `sname` field. Performs no I/O; the parsed struct points into
 * nothing (values are copied into its own buffer), so the datagram may be freed at once.
 */
#ifndef PIGEON_DHCP_PACKET_H
#define PIGEON_DHCP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_HDR_LEN 236         /* op .. file */
#define DHCP_MIN_LEN 240         /* header + magic cookie */
#define DHCP_MIN_REPLY 300       /* BOOTP-sized replies (RFC 1542 §2.1): padded to this */
#define DHCP_MAX_LEN 1500        /* the largest message read or written */
#define DHCP_MIN_MAX_SIZE 576    /* RFC 2132 §9.10: the smallest option 57 allowed */
#define DHCP_IPUDP_LEN 28        /* option 57 counts the IP and UDP headers too */
#define DHCP_OPT_DATA_MAX 1200   /* all option values of one message, concatenated */

enum dhcp_op { DHCP_BOOTREQUEST = 1, DHCP_BOOTREPLY = 2 };

enum dhcp_msg_type {
    DHCP_DISCOVER = 1,
    DHCP_OFFER = 2,
    DHCP_REQUEST = 3,
    DHCP_DECLINE = 4,
    DHCP_ACK = 5,
    DHCP_NAK = 6,
    DHCP_RELEASE = 7,
    DHCP_INFORM = 8,
};

enum dhcp_opt {
    DHCP_OPT_PAD = 0,
    DHCP_OPT_SUBNET_MASK = 1,
    DHCP_OPT_ROUTER = 3,
    DHCP_OPT_DNS = 6,
    DHCP_OPT_HOSTNAME = 12,
    DHCP_OPT_DOMAIN = 15,
    DHCP_OPT_BROADCAST = 28,
    DHCP_OPT_NTP = 42,
    DHCP_OPT_VENDOR = 43,
    DHCP_OPT_REQUESTED_ADDR = 50,
    DHCP_OPT_LEASE_TIME = 51,
    DHCP_OPT_OVERLOAD = 52,
    DHCP_OPT_MSG_TYPE = 53,
    DHCP_OPT_SERVER_ID = 54,
    DHCP_OPT_PARAM_LIST = 55,
    DHCP_OPT_MESSAGE = 56,
    DHCP_OPT_MAX_SIZE = 57,
    DHCP_OPT_T1 = 58,
    DHCP_OPT_T2 = 59,
    DHCP_OPT_CLIENT_ID = 61,
    DHCP_OPT_FQDN = 81,
    DHCP_OPT_RELAY_INFO = 82,
    DHCP_OPT_SEARCH = 119,
    DHCP_OPT_CLASSLESS_ROUTES = 121,
    DHCP_OPT_END = 255,
};

/* A parsed message. Addresses are in network byte order as on the wire (uint32_t copied with
 * memcpy); opt_len[c] is the length of option c's value (all instances joined), present when
 * opt_has[c]. */
struct dhcp_packet {
    uint8_t op, htype, hlen, hops;
    uint32_t xid;       /* host order */
    uint16_t secs;      /* host order */
    uint16_t flags;     /* host order; 0x8000 is the broadcast flag */
    uint32_t ciaddr, yiaddr, siaddr, giaddr; /* network order */
    uint8_t chaddr[16];
    uint8_t sname[64];
    uint8_t file[128];
    bool opt_has[256];
    uint16_t opt_off[256];
    uint16_t opt_len[256];
    uint8_t opt_data[DHCP_OPT_DATA_MAX];
    size_t opt_used;
    uint8_t overload;   /* option 52's value (0: none) */
};

#define DHCP_FLAG_BROADCAST 0x8000

/* Why a datagram was not a DHCP message (for the log line). */
enum dhcp_parse_err {
    DHCP_PARSE_OK = 0,
    DHCP_PARSE_SHORT = -1,      /* under 240 bytes */
    DHCP_PARSE_COOKIE = -2,     /* not 99.130.83.99 */
    DHCP_PARSE_HLEN = -3,       /* hlen over 16, or 0 for Ethernet */
    DHCP_PARSE_OPTION = -4,     /* an option's length runs past its field */
    DHCP_PARSE_TOO_MUCH = -5,   /* option values over DHCP_OPT_DATA_MAX */
    DHCP_PARSE_OVERLOAD = -6,   /* option 52 with a bad length or value */
};

/* Parses pkt[0..len) into *out. DHCP_PARSE_OK or a negative enum dhcp_parse_err. */
int dhcp_packet_parse(const uint8_t *pkt, size_t len, struct dhcp_packet *out);
/* Static text for a parse error. */
const char *dhcp_parse_err_str(int err);

/* Option c's value (its length in *len_out), or NULL when absent. Into p. */
const uint8_t *dhcp_packet_opt(const struct dhcp_packet *p, uint8_t c, size_t *len_out);
/* Option 53's value, or 0 when absent or malformed (a BOOTP request). */
int dhcp_packet_msg_type(const struct dhcp_packet *p);
/* A 4-byte address option (50, 54) into *addr_out (network order): true when present and
 * exactly 4 bytes long. */
bool dhcp_packet_opt_addr(const struct dhcp_packet *p, uint8_t c, uint32_t *addr_out);
/* The largest reply the client accepts, as DHCP payload bytes (option 57 less the IP and UDP
 * headers; 548 without it), within [548, DHCP_MAX_LEN]. */
size_t dhcp_packet_max_reply(const struct dhcp_packet *p);

/*
 * Writing. A reply is built as a header plus an option list (dhcp_writer_opt), then laid out
 * by dhcp_writer_finish into at most `max` bytes: options go into the options field while
 * they fit, then into `file` and `sname` with option 52 (RFC 2132 §9.3); a value over 255
 * bytes is split into several instances (RFC 3396). Too much for all three fields, or a
 * malformed value, sets err.
 */
struct dhcp_writer {
    struct dhcp_packet hdr;     /* op .. file from here; its option fields are unused */
    struct {
        uint8_t code;
        uint16_t off, len;
    } opts[64];
    unsigned nopts;
    uint8_t data[DHCP_OPT_DATA_MAX];
    size_t used;
    bool err;
};

void dhcp_writer_init(struct dhcp_writer *w);
/* Appends option c with value v[0..len) (copied). Sets w->err when full. */
void dhcp_writer_opt(struct dhcp_writer *w, uint8_t c, const void *v, size_t len);
void dhcp_writer_opt_u8(struct dhcp_writer *w, uint8_t c, uint8_t v);
void dhcp_writer_opt_u32(struct dhcp_writer *w, uint8_t c, uint32_t host_order);
/* True when option c is already in the list. */
bool dhcp_writer_has(const struct dhcp_writer *w, uint8_t c);
/* Lays the message out into out[0..max) (max >= DHCP_MIN_REPLY): its length, or 0 when it
 * does not fit or w->err is set. Pads to DHCP_MIN_REPLY. */
size_t dhcp_writer_finish(struct dhcp_writer *w, uint8_t *out, size_t max);

#endif
