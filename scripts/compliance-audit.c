
/*
 * compliance-audit: verify, query, prune and seal the hash-chained audit
 * log that ngx_rtmp_compliance writes (docs/audit.md).
 *
 * The files it reads may come from anywhere (a regulator may have been
 * handed them): every line is bounded (CA_LINE_MAX), every allocation is
 * checked, only regular files are opened, text from the log is escaped
 * before it reaches a terminal, and nothing is re-serialised: hashes are
 * computed over the bytes as they are on disk.
 *
 * Build:
 *   cc -O2 -g -Wall -Wextra -Werror -o build/compliance-audit \
 *       scripts/compliance-audit.c -ljansson -lcrypto
 *
 * fuzz/fuzz_audit.c links this file built with -DCOMPLIANCE_AUDIT_FUZZ,
 * which renames main() to compliance_audit_main() and changes nothing
 * else: the fuzzer runs the tool's commands as the shell does.
 */


#define _GNU_SOURCE             /* memmem() */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

/*
 * the format the module's writer and this tool agree on; by its path from
 * here, so that "cc scripts/compliance-audit.c" needs no -I
 */
#include "../module/ngx_rtmp_compliance_audit_format.h"
#include "cli.h"


#define CA_PROG             "compliance-audit"

#define CA_OK               0       /* intact, done */
#define CA_FAIL             1       /* the log is damaged, nothing found */
#define CA_USAGE            2       /* usage or I/O error */

#define CA_LINE_MAX         (1024 * 1024)
#define CA_READ_SIZE        (4 * 1024 * 1024)

#define CA_HEX_LEN          NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN
#define CA_TS_LEN           ((int) NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN)

/* what a writer that lost its chain's head once wrote as prev */
#define CA_NUL_PREV  ",\"prev\":\"\\u0000"

/* ,"hash":"<64 hex>"}  and  ,"prev":"<64 hex>"  at the end of a record */
#define CA_HASH_TAIL        NGX_RTMP_COMPLIANCE_AUDIT_HASH_TAIL
#define CA_PREV_TAIL        NGX_RTMP_COMPLIANCE_AUDIT_PREV_TAIL

/* the lengths of {"seq":  ,"prev":"  ,"hash":"  "} */
#define CA_SEQ_KEY_LEN      (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY) - 1)
#define CA_PREV_KEY_LEN     (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY) - 1)
#define CA_HASH_KEY_LEN     (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY) - 1)
#define CA_END_LEN          (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_END) - 1)

#define CA_MS_HOUR          3600000LL
#define CA_MS_DAY           86400000LL
#define CA_TIME_MIN         0LL                 /* 1970-01-01 */
#define CA_TIME_MAX         253402300800000LL   /* 10000-01-01 */

#define CA_RETENTION_MIN    NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN_DAYS
#define CA_RETENTION_MAX    36500

#define CA_PRUNE_LOG        NGX_RTMP_COMPLIANCE_AUDIT_PRUNE_LOG
#define CA_EXCERPT_FORMAT   NGX_RTMP_COMPLIANCE_AUDIT_EXCERPT

#define CA_FIELDS_MAX       64      /* fields of a record on the fast path */
#define CA_NODE_MAX         256     /* bytes of a node name compared */
#define CA_WITNESS_NODE     64      /* the writer's node=, at most */

#define CA_T_STRING         1
#define CA_T_INT            2
#define CA_T_TRUE           3
#define CA_T_FALSE          4
#define CA_T_NULL           5

/*
 * a message is built in a buffer of its own size and cut where a long
 * path would make it longer: GCC's -Wformat-truncation, which cannot see
 * that the paths of a log directory are short, is not an error here
 */
#define CA_WHY_LEN          1024

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#define CA_WHY_TORN         "truncated: the last line has no newline"
#define CA_SHOW_LEN         80      /* bytes of log text quoted in a message */
#define CA_QUOTE_LEN        (CA_SHOW_LEN * 4 + 8)
#define CA_TS_BUF           48

#define CA_TS_DIR           "timestamps"    /* DIR/timestamps/SEQ.tsr */
#define CA_EVIDENCE         "evidence"      /* an excerpt's line of it */
#define CA_TSR_MAX          (1024 * 1024)   /* bytes of a TSA's reply */
#define CA_HTTP_TIMEOUT     30              /* seconds, per read or write */


typedef struct {
    char               *name;       /* audit-YYYYMMDD[THH].jsonl */
    int64_t             start;      /* period start, ms since the epoch */
    int64_t             end;        /* period end (exclusive), ms */
} ca_segment_t;


typedef struct {
    char               *path;       /* as given, trailing slashes removed */
    ca_segment_t       *segs;
    size_t              nsegs;
    size_t              nalloc;
} ca_dir_t;


typedef struct {
    int                 fd;
    char               *path;
    u_char             *buf;
    size_t              pos;        /* first unread byte */
    size_t              scan;       /* bytes after pos known to hold no LF */
    size_t              last;       /* end of the data in buf */
    uint64_t            line;       /* number of the line last returned */
    off_t               size;       /* file size when opened */
    unsigned            eof:1;
} ca_reader_t;


typedef enum {
    CA_READ_LINE = 0,
    CA_READ_EOF,
    CA_READ_PARTIAL,                /* last bytes of the file, no LF */
    CA_READ_LONG,                   /* a line over CA_LINE_MAX */
    CA_READ_ERROR
} ca_read_e;


/* a field of a record in the writer's compact form, as bytes in the line */
typedef struct {
    const u_char       *key;
    const u_char       *val;        /* a string's bytes, without quotes */
    uint32_t            key_len;
    uint32_t            val_len;
    u_char              type;       /* CA_T_* */
    u_char              escaped;    /* a string with \ escapes */
} ca_field_t;


typedef struct {
    const u_char       *line;       /* in the reader's buffer */
    size_t              len;
    json_t             *json;       /* parsed when needed, owned */
    ca_field_t          fields[CA_FIELDS_MAX];
    size_t              nfields;    /* 0: the fields are in json only */
    int64_t             seq;
    int64_t             ts;         /* ms since the epoch */
    const u_char       *ts_text;    /* CA_TS_LEN bytes */
    const u_char       *event;
    size_t              event_len;
    const u_char       *node;
    size_t              node_len;
    const u_char       *prev;       /* CA_HEX_LEN bytes */
    const u_char       *hash;       /* CA_HEX_LEN bytes */
} ca_record_t;


typedef enum {
    CA_REC_OK = 0,
    CA_REC_TRUNCATED,
    CA_REC_NOT_JSON,
    CA_REC_MISSING,
    CA_REC_BAD,
    CA_REC_EDITED,
    CA_REC_NOMEM
} ca_rec_e;


/*
 * The lines of a directory's segments in name order (those whose period
 * overlaps [from, to)), or of one file: what every command reads through.
 * A line too long is skipped when the walk goes on.
 */
typedef struct {
    ca_dir_t           *dir;        /* NULL: the one file r is open on */
    int64_t             from;
    int64_t             to;
    size_t              next;       /* the next segment to look at */
    size_t              seg;        /* the one r reads */
    size_t              opened;     /* segments opened */
    size_t              empty;      /* of them, empty ones */
    size_t              first_empty;
    ca_reader_t         r;
    ca_read_e           rd;         /* how the last line ended */
    ca_rec_e            rr;         /* what it is as a record */
    u_char             *line;       /* in r's buffer, without its LF */
    size_t              len;
    ca_record_t         rec;        /* its fields, until the next line */
    unsigned            open:1;     /* r is open */
    unsigned            skip:1;     /* the last line was too long */
    unsigned            failed:1;   /* it ended in an I/O or memory error,
                                       said on stderr */
} ca_walk_t;


typedef enum {
    CA_WALK_RECORD = 0,             /* w->rec: a whole record */
    CA_WALK_DAMAGED,                /* w->rd, w->rr and why tell */
    CA_WALK_END                     /* no more, or w->failed */
} ca_walk_e;


typedef struct {
    unsigned            started:1;
    int64_t             seq;        /* last good record */
    u_char              hash[CA_HEX_LEN];
    size_t              seg;
    uint64_t            line;
} ca_chain_t;


typedef enum {
    CA_LINK_OK = 0,
    CA_LINK_ANCHOR,                 /* first record, seq > 1: pruned */
    CA_LINK_GENESIS,                /* first record with a bad prev */
    CA_LINK_AHEAD,                  /* seq jumps forward */
    CA_LINK_BEHIND,                 /* seq goes back or repeats */
    CA_LINK_PREV                    /* seq right, prev wrong */
} ca_link_e;


/* the commands, as the bits of an option's cmds */
#define CA_VERIFY           0x01
#define CA_QUERY            0x02
#define CA_PRUNE            0x04
#define CA_SEAL             0x08
#define CA_EXCERPT          0x10
#define CA_TIMESTAMP        0x20

#define CA_OPTS_MAX         24
#define CA_WITNESS_MAX      16      /* --witness DIR, at most */


typedef struct {
    unsigned char       seen[CA_OPTS_MAX];

    const char         *arg;        /* DIR or FILE */

    const char         *room;
    const char         *app;
    const char         *host;
    const char         *person;
    const char         *session;
    const char         *from;
    const char         *to;
    const char         *event;
    const char         *retention;
    const char         *now;
    const char         *out;
    const char         *tsa;
    const char         *tsa_ca;
    const char         *pubkey;
    const char         *witness[CA_WITNESS_MAX];   /* --witness, each */
    size_t              nwitness;

    unsigned char       quiet;
    unsigned char       recordings;
    unsigned char       json;
    unsigned char       dry_run;
    unsigned char       help;
} ca_opts_t;


/* what verify tells besides the verdict */
typedef struct {
    uint64_t            records;
    uint64_t            events[24];
    uint64_t            other_events;
    int64_t             first_seq;
    int64_t             first_ts;
    int64_t             last_ts;
    u_char              first_prev[CA_HEX_LEN];
    size_t              first_seg;
    size_t              empty;
    size_t              first_empty;
    uint64_t            outside;
    char                outside_at[CA_WHY_LEN];
    uint64_t            gaps;
    int64_t             lost;
    char                gap_at[CA_WHY_LEN];
    uint64_t            recoveries;
    int64_t             recovered;
    u_char              node[CA_NODE_MAX];  /* of the last record */
    size_t              node_len;
    char                node_change[CA_WHY_LEN];
} ca_stats_t;


/* a recording that a record.done names */
typedef struct {
    char               *path;
    int64_t             seq;
    int64_t             size;       /* -1: not in the record */
    u_char              sha256[CA_HEX_LEN];
    unsigned            has_sha:1;
} ca_recording_t;


/* a stored time-stamp reply, DIR/timestamps/SEQ.tsr */
typedef struct {
    int64_t             seq;
    u_char              hash[CA_HEX_LEN];   /* of the record seq */
    unsigned            found:1;
    unsigned            used:1;     /* an excerpt's reply of it read */
} ca_stamp_t;


/* what verify --recordings and --tsa-ca collect while it walks */
typedef struct {
    ca_recording_t     *recs;
    size_t              nrecs;
    size_t              nalloc;
    ca_stamp_t         *stamps;
    size_t              nstamps;
    size_t              nstamps_alloc;
    unsigned            recordings:1;
} ca_evidence_t;


/* what verify --pubkey collects: see ca_sign_note() */
typedef struct {
    EVP_PKEY           *pub;
    u_char              fp[33];     /* its fingerprint, hex */
    uint64_t            checkpoints;
    int64_t             signed_seq; /* by the last checkpoint */
    int64_t             ck_seq;     /* the last checkpoint's own seq */
    int64_t             interval;   /* its interval_ms */
    int64_t             ref_ts;     /* it, or an audit.start after it;
                                       -1: none yet */
    int64_t             last_ts;
    uint64_t            after;      /* records after it */
    u_char              ts_text[CA_TS_LEN + 1];
} ca_sign_t;


/* a witness record of another chain: (seq, hash) of the node signed */
typedef struct {
    int64_t             seq;
    u_char              hash[CA_HEX_LEN];
    u_char              node[CA_WITNESS_NODE];
    size_t              node_len;
    size_t              dir;        /* its --witness */
    char                seg[32];    /* where it is */
    uint64_t            line;
} ca_witness_t;


/* what verify --witness collects: see ca_witness_load() */
typedef struct {
    ca_witness_t       *w;          /* by seq */
    size_t              n;
    size_t              nalloc;
    size_t              next;       /* the first not yet compared */
    size_t              matched;
    size_t              pruned;     /* before the chain's first record */
    size_t              others;     /* witnesses of other keys */
    size_t              ignored;    /* bad signature or fields */
    int64_t             through;    /* the last seq matched */
    const char        **dirs;
    ca_sign_t          *sign;       /* --pubkey */
} ca_witnesses_t;


/* a checkpoint of an excerpt: what a witness of it must repeat */
typedef struct {
    int64_t             seq;        /* signed_seq: the checkpoint's - 1 */
    u_char              hash[CA_HEX_LEN];   /* signed_hash: its prev */
    u_char              sig[128];
    u_char              node[CA_WITNESS_NODE];
    size_t              node_len;
} ca_cover_t;


/* the checkpoints of an excerpt, by seq */
typedef struct {
    ca_cover_t         *ck;
    size_t              n;
    size_t              nalloc;
} ca_covers_t;


/* what a witness record says another node signed */
typedef struct {
    const u_char       *origin;
    size_t              origin_len;
    int64_t             seq;        /* signed_seq */
    const u_char       *hash;       /* signed_hash, CA_HEX_LEN */
    const u_char       *key;        /* 32 hex digits */
    const u_char       *sig;        /* 128 hex digits */
} ca_statement_t;


/* a sealed excerpt's header, as verify-excerpt reads it */
typedef struct {
    int64_t             from;       /* sealed_from .. sealed_to, [) */
    int64_t             to;
    int64_t             first_seq;
    int64_t             last_seq;
    int64_t             count;      /* records */
    int64_t             end_seq;    /* cover_seq, or last_seq */
    const char         *prev;
    const char         *last_hash;
    const char         *cover_hash; /* NULL: none */
    json_t             *stamps;     /* "timestamps": their seqs, or NULL */
    int64_t             witnesses;  /* "witnesses": how many */
} ca_excerpt_t;


/* verify-excerpt's state */
typedef struct {
    ca_opts_t           o;
    ca_sign_t           sg;         /* --pubkey */
    ca_walk_t           w;          /* the file */
    json_t             *h;          /* its header line */
    ca_excerpt_t        x;          /* what the header says */
    ca_chain_t          chain;
    uint64_t            records;    /* of the range, first .. last_seq */
    u_char              at_last[CA_HEX_LEN];
    ca_covers_t         cs;         /* its checkpoints */
    ca_evidence_t       ev;         /* the time stamps the header names */
    unsigned            more:1;     /* evidence lines follow the records */
} ca_xcheck_t;


/* seal's state; see ca_seal_pass() */
typedef struct {
    int64_t             from;
    int64_t             to;
    uint64_t            records;    /* first .. last, inclusive */
    int64_t             first_seq;
    int64_t             last_seq;
    u_char              prev[CA_HEX_LEN];
    u_char              last_hash[CA_HEX_LEN];
    char                error[CA_WHY_LEN * 2];  /* first damage seen */
    int64_t             cover_seq;  /* the first checkpoint after it */
    u_char              cover_hash[CA_HEX_LEN];
    int64_t             stamp_seq;  /* the first stamped record at or
                                       after last_seq */
    u_char              stamp_hash[CA_HEX_LEN];
    int64_t             end_seq;    /* the excerpt's last record */
    u_char              end_hash[CA_HEX_LEN];
    ca_evidence_t       ev;         /* DIR/timestamps/ */
    ca_covers_t         covers;     /* the checkpoints seen */
    char              **witnesses;  /* their evidence lines */
    const char        **wdirs;      /* --witness */
    size_t              nwitnesses;
    size_t              nwalloc;
    unsigned            started:1;
    unsigned            pending:1;  /* damage after the range's end */
    unsigned            covered:1;  /* cover_seq found */
    unsigned            stamped:1;  /* stamp_seq found */
    unsigned            signing:1;  /* a checkpoint seen: the log is
                                       signed */
} ca_seal_t;


/* a segment that prune takes away: what its scan found */

typedef struct {
    const char              *name;
    const char              *path;
    int64_t                  first_seq;
    int64_t                  last_seq;
    uint64_t                 records;
    uint64_t                 damaged;
    off_t                    bytes;
    u_char                   last_hash[CA_HEX_LEN];
    char                     end_ts[CA_TS_BUF];
} ca_pruned_t;


/* what a witness record's walk calls: see ca_witness_walk() */
typedef int (*ca_witness_pt)(void *data, ca_record_t *rec, size_t dir,
    const char *seg, uint64_t line, char *why);


static int ca_error(int rc, const char *fmt, ...);
#define ca_usage_error(...)  cli_usage_error(CA_PROG, __VA_ARGS__)
static void ca_help(FILE *out);

static int ca_parse_opts(const char *cmd, unsigned which, int argc,
    char **argv, ca_opts_t *o);
static int ca_option(void *opts, const char *cmd, int i);
static int ca_parse_time(const char *s, int64_t *start, int64_t *unit);
static int ca_parse_range(ca_opts_t *o, int64_t *from, int64_t *to);
static int ca_parse_retention(const char *s, int64_t *days);

static int64_t ca_days_from_civil(int64_t y, unsigned m, unsigned d);
static void ca_civil_from_days(int64_t z, int64_t *y, unsigned *m,
    unsigned *d);
static int ca_days_in_month(int64_t y, unsigned m);
static void ca_format_ts(int64_t ms, char *buf);
static int ca_digits(const u_char *p, size_t n, int64_t *out);
static int ca_parse_ts(const u_char *p, int64_t *ms);

static size_t ca_escape_char(const u_char *s, size_t len, char *out,
    size_t *width);
static void ca_quote(char *out, size_t size, const u_char *s, size_t len);
static size_t ca_put_text(FILE *f, const u_char *s, size_t len);
static void ca_pad(FILE *f, size_t width, size_t col);

static int ca_init(void);
static int ca_hash_record(const u_char *line, size_t len, u_char *hex);
static int ca_is_hex(const u_char *p, size_t n);

static int ca_segment_name(const char *name, int64_t *start, int64_t *end);
static int ca_segment_cmp(const void *a, const void *b);
static int ca_dir_open(const char *path, ca_dir_t *dir);
static int ca_dir_segments(const char *path, ca_dir_t *dir);
static void ca_dir_free(ca_dir_t *dir);
static char *ca_path(ca_dir_t *dir, size_t i);

static int ca_reader_open(ca_reader_t *r, const char *path);
static void ca_reader_close(ca_reader_t *r);
static ca_read_e ca_reader_next(ca_reader_t *r, u_char **line,
    size_t *len);
static ca_read_e ca_reader_skip(ca_reader_t *r);
static int ca_reader_fill(ca_reader_t *r);

static void ca_walk_dir(ca_walk_t *w, ca_dir_t *dir, int64_t from,
    int64_t to);
static int ca_walk_file(ca_walk_t *w, const char *path);
static ca_read_e ca_walk_line(ca_walk_t *w);
static ca_read_e ca_walk_skip(ca_walk_t *w);
static ca_walk_e ca_walk_record(ca_walk_t *w, char *why);
static int ca_walk_find_seq(ca_walk_t *w, int64_t want, size_t *seg,
    uint64_t *line);
static void ca_walk_close(ca_walk_t *w);

static const u_char *ca_skip_json_string(const u_char *p,
    const u_char *end);
static const u_char *ca_skip_member(const u_char *p, const u_char *end,
    const char *key);
static int ca_peek_seq(const u_char *line, size_t len, int64_t *seq);
static int64_t ca_peek_ts(const u_char *line, size_t len);
static ca_rec_e ca_parse_record(const u_char *line, size_t len,
    ca_record_t *rec, char *why);
static ca_rec_e ca_parse_fields(const u_char *line, size_t len,
    ca_record_t *rec, char *why);
static const u_char *ca_flat_value(const u_char *p, const u_char *end,
    ca_field_t *f);
static int ca_flat_unique(ca_field_t *fields, size_t n);
static int ca_flat_scan(const u_char *p, size_t len, ca_record_t *rec);
static const u_char *ca_flat_string(const u_char *p, const u_char *end,
    unsigned *escaped);
static int ca_flat_record(ca_record_t *rec);
static int ca_field_is(ca_field_t *f, const char *key, unsigned type);
static ca_rec_e ca_check_fields(ca_record_t *rec, char *why);
static ca_rec_e ca_check_layout(const u_char *line, size_t len,
    ca_record_t *rec, char *why);
static const u_char *ca_json_string(json_t *o, const char *key,
    size_t *len);
static void ca_record_free(ca_record_t *rec);

static ca_link_e ca_chain_link(ca_chain_t *c, ca_record_t *rec);
static void ca_chain_add(ca_chain_t *c, ca_record_t *rec, size_t seg,
    uint64_t line);
static void ca_link_why(ca_chain_t *c, ca_record_t *rec, ca_link_e lk,
    char *why);

static void ca_verify_note(ca_dir_t *dir, size_t seg, uint64_t line,
    ca_record_t *rec, ca_stats_t *st);
static void ca_verify_summary(ca_dir_t *dir, ca_chain_t *c,
    ca_stats_t *st, struct timespec *t0);
static void ca_anchor_note(ca_dir_t *dir, ca_stats_t *st);

static json_t *ca_rec_json(ca_record_t *rec);
static ca_field_t *ca_rec_field(ca_record_t *rec, const char *key);
static int ca_rec_str_eq(ca_record_t *rec, const char *key,
    const char *prefix, const char *want);
static int ca_rec_int(ca_record_t *rec, const char *key, int64_t *v);
static int ca_session_match(ca_record_t *rec, const char *want);
static int ca_span_is(const u_char *p, size_t n, const char *s);
static int ca_subject_match(ca_record_t *rec, const char *field,
    const char *prefix, const char *want);
static int ca_event_index(const u_char *event, size_t len);
static int ca_parse_events(const char *list, unsigned *mask, int *all);
static void ca_query_header(FILE *f);
static void ca_query_row(FILE *f, ca_record_t *rec);
static size_t ca_put_value(FILE *f, json_t *v);
static size_t ca_put_field(FILE *f, json_t *o, const char *key);
static void ca_put_extra(FILE *f, ca_record_t *rec, json_t *j);
static void ca_put_template(FILE *f, json_t *j, const char *text);

static int ca_scan_segment(const char *path, int64_t *first_seq,
    int64_t *last_seq, u_char *last_hash, uint64_t *records,
    uint64_t *damaged, off_t *bytes);
static int ca_append_line(const char *path, const char *line, size_t len);
static int ca_fsync_dir(const char *path);

static int ca_write_all(int fd, const void *buf, size_t len);

static int ca_cmd_verify(int argc, char **argv);
static int ca_verify_keys(ca_opts_t *o, ca_sign_t *sg, ca_witnesses_t *ws);
static int ca_verify_open(ca_opts_t *o, ca_evidence_t *ev, ca_dir_t *dir);
static int ca_verify_link(ca_walk_t *w, ca_walk_e wr, ca_dir_t *dir,
    ca_chain_t *chain, size_t seg, uint64_t line, ca_link_e *lk, char *why);
static int ca_ahead_why(ca_walk_t *w, ca_dir_t *dir, ca_chain_t *chain,
    size_t seg, uint64_t line, char *why);
static void ca_verify_add(ca_dir_t *dir, ca_chain_t *chain, ca_stats_t *st,
    ca_link_e lk, size_t seg, uint64_t line, ca_record_t *rec);
static int ca_verify_evidence(ca_opts_t *o, ca_sign_t *sg,
    ca_witnesses_t *ws, ca_chain_t *chain, ca_stats_t *st,
    ca_evidence_t *ev, const char *path);
static void ca_verify_bad(ca_dir_t *dir, size_t seg, uint64_t line,
    const char *why, ca_chain_t *chain, int quiet);
static int ca_query_events(const char *arg, unsigned *mask, int *all);
static int ca_query_damaged(ca_walk_t *w, ca_dir_t *dir, const char *why);
static int ca_query_match(ca_opts_t *o, ca_record_t *rec, unsigned mask,
    int all);
static int ca_cmd_query(int argc, char **argv);
static void ca_prune_said(const char *verb, ca_pruned_t *g);
static int ca_prune_segment(const char *logpath, const char *now_ts,
    int64_t days, ca_pruned_t *g);
static int ca_prune_retention(const char *arg, int64_t *days);
static int ca_cmd_prune(int argc, char **argv);
static int ca_cmd_seal(int argc, char **argv);
static int ca_seal_pass(ca_dir_t *dir, ca_seal_t *s, int out);
static int ca_seal_first(ca_seal_t *s, ca_chain_t *chain, ca_record_t *rec,
    char *why);
static int ca_seal_keep(ca_seal_t *s, ca_walk_t *w, int out, int in_range);
static int ca_seal_damage(ca_dir_t *dir, ca_seal_t *s, ca_walk_t *w,
    int out, int64_t ts, const char *why);
static int ca_cmd_verify_excerpt(int argc, char **argv);
static int ca_excerpt_open(ca_xcheck_t *v, char *why);
static int ca_excerpt_records(ca_xcheck_t *v, char *why);
static int ca_excerpt_header(json_t *h, ca_excerpt_t *x, char *why);
static int ca_excerpt_stamps(ca_excerpt_t *x, ca_evidence_t *ev, char *why);
static int ca_is_evidence(ca_walk_t *w);
static int ca_excerpt_evidence(ca_walk_t *w, ca_opts_t *o, ca_excerpt_t *x,
    ca_evidence_t *ev, ca_covers_t *cs, ca_sign_t *sg, int more);
static int ca_excerpt_stamp(json_t *j, ca_opts_t *o, ca_evidence_t *ev,
    const char *at, char *why);
static int ca_excerpt_witness(json_t *j, ca_opts_t *o, ca_covers_t *cs,
    ca_sign_t *sg, char *why);
static int ca_seal_note(ca_seal_t *s, ca_record_t *rec, int in_range);
static int ca_seal_witness(void *data, ca_record_t *rec, size_t dir,
    const char *seg, uint64_t line, char *why);
static int ca_seal_write(ca_dir_t *dir, ca_seal_t *s, const char *out,
    const char *header, size_t n);
static void ca_seal_end(ca_seal_t *s);
static char *ca_seal_header(ca_seal_t *s, size_t *len);
static int ca_seal_evidence(ca_seal_t *s, const char *dir, int fd);
static void ca_seal_free(ca_seal_t *s);
static int ca_grow(void **p, size_t *nalloc, size_t n, size_t size);
static int ca_covers_add(ca_covers_t *cs, ca_record_t *rec);
static ca_cover_t *ca_covers_find(ca_covers_t *cs, int64_t seq);
static int ca_statement(ca_record_t *rec, ca_statement_t *st);

static int ca_hex_value(u_char c);
static int ca_hex_decode(const u_char *hex, size_t n, u_char *out);
static const char *ca_ssl_why(const char *dflt);
static int ca_evidence_note(ca_evidence_t *ev, ca_record_t *rec);
static int ca_hash_file(const char *path, u_char *hex, int64_t *size);
static int ca_check_recordings(ca_evidence_t *ev, int quiet);
static int ca_seq_cmp(const void *a, const void *b);
static int ca_stamps_list(const char *dir, ca_evidence_t *ev, int optional);
static ca_stamp_t *ca_stamp_find(ca_evidence_t *ev, int64_t seq);
static int ca_stamp_verify(const char *name, const u_char *der, size_t len,
    ca_stamp_t *s, const char *ca, int quiet);
static int ca_read_small(const char *path, u_char **data, size_t *len);
static void ca_gentime(TS_TST_INFO *tst, char *buf, size_t size);
static int ca_check_stamps(ca_evidence_t *ev, const char *dir,
    const char *ca, int quiet);
static void ca_evidence_free(ca_evidence_t *ev);
static int ca_parse_url(const char *url, char *host, size_t hsize,
    char *port, const char **path);
static int ca_http_connect(const char *host, const char *port);
static int ca_http_read(int fd, const char *url, u_char **out, size_t *olen);
static int ca_http_reply(u_char *buf, size_t n, const char *url,
    size_t *olen);
static int ca_http_post(const char *url, const u_char *body, size_t len,
    u_char **out, size_t *olen);
static TS_REQ *ca_ts_query(const u_char *hash);
static int ca_cmd_timestamp(int argc, char **argv);
static int ca_ts_newest(ca_dir_t *dir, ca_chain_t *chain);
static int ca_ts_answer(TS_REQ *req, const u_char *reply, size_t rlen,
    const char *tsa, TS_RESP **resp);
static int ca_ts_store(const char *tsdir, const char *tmp, const char *path,
    const u_char *reply, size_t rlen);
static int ca_sign_open(ca_sign_t *s, const char *path);
static void ca_hex_encode(const u_char *p, size_t n, u_char *out);
static const u_char *ca_rec_str(ca_record_t *rec, const char *key,
    size_t *len);
static int ca_sign_note(ca_sign_t *s, ca_record_t *rec, char *why);
static int ca_sign_done(ca_sign_t *s, int quiet);
static int ca_sign_check(ca_sign_t *s, const u_char *node, size_t node_len,
    int64_t sseq, const u_char *shash, const u_char *sig);
static int ca_witness_walk(const char *path, size_t i,
    ca_witness_pt handler, void *data);
static int ca_witness_load(ca_witnesses_t *ws, ca_sign_t *s,
    const char **dirs, size_t n);
static int ca_witness_add(void *data, ca_record_t *rec,
    size_t dir, const char *seg, uint64_t line, char *why);
static int ca_witness_note(ca_witnesses_t *ws, ca_record_t *rec, char *why);
static int ca_witness_done(ca_witnesses_t *ws, ca_chain_t *c,
    ca_stats_t *st, int quiet);

#ifdef COMPLIANCE_AUDIT_FUZZ
#define main  compliance_audit_main
int compliance_audit_main(int argc, char **argv);
#endif


/*
 * Every option: a value (a const char * of ca_opts_t) or a flag (an
 * unsigned char), and the commands that take it; a command's options are
 * given to getopt_long() in this order
 */

#define CA_ARG(field)   CLI_ARG(ca_opts_t, field)
#define CA_FLAG(field)  CLI_FLAG(ca_opts_t, field)

static const cli_opt_t  ca_options[CA_OPTS_MAX] = {
    { "room", CA_ARG(room), CA_QUERY },
    { "app", CA_ARG(app), CA_QUERY },
    { "host", CA_ARG(host), CA_QUERY },
    { "person", CA_ARG(person), CA_QUERY },
    { "session", CA_ARG(session), CA_QUERY },
    { "from", CA_ARG(from), CA_QUERY | CA_SEAL },
    { "to", CA_ARG(to), CA_QUERY | CA_SEAL },
    { "event", CA_ARG(event), CA_QUERY },
    { "json", CA_FLAG(json), CA_QUERY },
    { "quiet", CA_FLAG(quiet), CA_VERIFY | CA_EXCERPT },
    { "retention", CA_ARG(retention), CA_PRUNE },
    { "dry-run", CA_FLAG(dry_run), CA_PRUNE },
    { "now", CA_ARG(now), CA_PRUNE },
    { "out", CA_ARG(out), CA_SEAL },
    { "recordings", CA_FLAG(recordings), CA_VERIFY },
    { "tsa-ca", CA_ARG(tsa_ca), CA_VERIFY | CA_EXCERPT },
    { "pubkey", CA_ARG(pubkey), CA_VERIFY | CA_EXCERPT },
    { "witness", CA_ARG(witness), CA_VERIFY | CA_SEAL },
    { "tsa", CA_ARG(tsa), CA_TIMESTAMP },
    { "help", CA_FLAG(help), ~0u },
    { NULL, 0, 0, 0 }
};


/* the events of docs/audit.md, query's default set and the named ones */
static const struct {
    const char         *name;
    unsigned            dflt;
    unsigned            named;
} ca_events[] = {
#define CA_EVENT(id, query, named)                                            \
    { NGX_RTMP_COMPLIANCE_AUDIT_EV(id), query, named },
    NGX_RTMP_COMPLIANCE_AUDIT_EVENTS(CA_EVENT)
#undef CA_EVENT
    { NULL, 0, 0 }
};

/* " audit.start audit.gap ...": the named events, for a message */
#define CA_KNOWN(id, query, named)                                            \
    CA_KNOWN_ ## named(NGX_RTMP_COMPLIANCE_AUDIT_EV(id))
#define CA_KNOWN_0(name)
#define CA_KNOWN_1(name)  " " name


/*
 * bytes that stand for themselves inside a JSON string: ASCII but for
 * control characters, the quote and the backslash
 */
static u_char  ca_plain[256];

static const u_char  ca_zero_hash[CA_HEX_LEN] =
    NGX_RTMP_COMPLIANCE_AUDIT_ZERO_HASH;

static EVP_MD_CTX   *ca_md_ctx;
static EVP_MD       *ca_md;


static void
ca_fini(void)
{
    EVP_MD_CTX_free(ca_md_ctx);
    EVP_MD_free(ca_md);
}


static const cli_command_t  ca_commands[] = {
    { "verify", ca_cmd_verify },
    { "query", ca_cmd_query },
    { "prune", ca_cmd_prune },
    { "seal", ca_cmd_seal },
    { "verify-excerpt", ca_cmd_verify_excerpt },
    { "timestamp", ca_cmd_timestamp },
    { NULL, NULL }
};


int
main(int argc, char **argv)
{
    static const cli_t  cli = {
        CA_PROG, ca_commands, ca_help, ca_init, ca_fini
    };

    return cli_main(&cli, argc, argv);
}


static void
ca_help(FILE *out)
{
    fputs(
"usage:\n"
"  " CA_PROG " verify DIR [--quiet] [--recordings] [--tsa-ca CA.pem]\n"
"        [--pubkey PUB.pem [--witness DIR2 ...]]\n"
"  " CA_PROG " query DIR --room R [--app A] [--host H] [--person P]\n"
"        [--session S] [--from T1] [--to T2] [--event E[,E...]] [--json]\n"
"  " CA_PROG " prune DIR --retention 3y [--dry-run] [--now T]\n"
"  " CA_PROG " seal DIR --from T1 --to T2 --out FILE [--witness DIR2 ...]\n"
"  " CA_PROG " verify-excerpt FILE [--quiet] [--pubkey PUB.pem]\n"
"        [--tsa-ca CA.pem]\n"
"  " CA_PROG " timestamp DIR --tsa http://HOST[:PORT]/PATH\n"
"  " CA_PROG " --help\n"
"\n"
"DIR holds the segments audit-YYYYMMDD.jsonl or audit-YYYYMMDDTHH.jsonl\n"
"(UTC); other files are ignored. See docs/audit.md.\n"
"\n"
"verify          recompute the hash chain over every segment in name\n"
"                order. Whole: a summary, exit 0. Damaged: the first bad\n"
"                place as \"SEGMENT:LINE: why\" on stderr, exit 1; why is\n"
"                one of edited, deleted, reordered, chain broken,\n"
"                truncated, not JSON, missing fields, bad field.\n"
"                --recordings: also re-hash every file a record.done\n"
"                names (missing or changed: exit 1). --tsa-ca CA.pem:\n"
"                also check every DIR/timestamps/SEQ.tsr against the CA\n"
"                and the hash of record SEQ. --pubkey PUB.pem: also\n"
"                check every checkpoint's Ed25519 signature and that\n"
"                none is missing for over twice its interval.\n"
"                --witness DIR2 (with --pubkey): also check the witness\n"
"                records of this node in another node's chain: each\n"
"                signature, and that DIR holds every witnessed (seq,\n"
"                hash): truncated or rewritten otherwise. Repeatable.\n"
"query           records about a room (or --host, --person, --session;\n"
"                one at least), by default publish.accept play.accept\n"
"                session.end publish.reject play.reject; --event all for\n"
"                every event. Only segments whose period overlaps\n"
"                [T1, T2] are opened. --json prints the matching lines\n"
"                byte for byte. Subject filters also match orders whose\n"
"                target is room:R, host:H or person:P.\n"
"prune           delete the segments whose period ended more than the\n"
"                retention ago (Nd or Ny, y = 365d; at least 3y), never\n"
"                the newest one; each deletion is appended to\n"
"                DIR/" CA_PRUNE_LOG " before the file is removed.\n"
"seal            copy the records from the first one in [T1, T2] to the\n"
"                last one in it into FILE (\"-\": stdout), after a JSON\n"
"                header line that anchors the excerpt's chain; the range\n"
"                is verified first. FILE must not exist.\n"
"                A signed log's excerpt goes on to the checkpoint that\n"
"                signs it, a stamped one to the first stamped record at\n"
"                or after the range's end (cover_seq in the header); the\n"
"                time-stamp replies of DIR/timestamps/ of its records\n"
"                follow them, one line each, and with --witness DIR2\n"
"                (repeatable) DIR2's witness records of its checkpoints.\n"
"verify-excerpt  verify a sealed excerpt on its own; --pubkey PUB.pem:\n"
"                also its checkpoints, one of them signing its range,\n"
"                and the witnesses it carries; --tsa-ca CA.pem: also\n"
"                the time-stamp replies it carries.\n"
"timestamp       ask an RFC 3161 time-stamp authority (HTTP only) to\n"
"                stamp the newest record's hash; the reply is stored in\n"
"                DIR/timestamps/SEQ.tsr. For cron: exit 0 stamped (or\n"
"                already), 1 damaged chain or a bad or refused reply,\n"
"                2 usage, I/O or network error.\n"
"\n"
"Times T: epoch seconds (10 digits), or YYYY-MM-DD[THH[:MM[:SS[.mmm]]]][Z],\n"
"UTC. --to covers the whole unit it names: --to 2026-02-01 ends at\n"
"2026-02-01T23:59:59.999Z.\n"
"\n"
"Exit: 0 done and intact, 1 the log is damaged (or nothing to verify),\n"
"2 usage or I/O error.\n",
        out);
}


static int
ca_error(int rc, const char *fmt, ...)
{
    va_list  args;

    fputs(CA_PROG ": ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);

    return rc;
}


static int
ca_parse_opts(const char *cmd, unsigned which, int argc, char **argv,
    ca_opts_t *o)
{
    int  rc;

    memset(o, 0, sizeof(ca_opts_t));

    rc = cli_parse_options(CA_PROG, cmd, argc, argv, ca_options, which,
                           o->seen, ca_option, o);
    if (rc != CA_OK) {
        return rc;
    }

    if (o->help) {
        ca_help(stdout);
        return CA_OK;
    }

    if (optind >= argc) {
        return ca_usage_error("%s: missing %s", cmd,
                              strcmp(cmd, "verify-excerpt") == 0
                              ? "FILE" : "DIR");
    }

    if (optind + 1 < argc) {
        return ca_usage_error("%s: unexpected argument \"%s\"", cmd,
                              argv[optind + 1]);
    }

    o->arg = argv[optind];

    if (o->arg[0] == '\0') {
        return ca_usage_error("%s: empty path", cmd);
    }

    return -1;
}


/* an option's value into o (cli_parse_options()): --witness, each */

static int
ca_option(void *opts, const char *cmd, int i)
{
    ca_opts_t  *o;

    o = opts;

    if (ca_options[i].offset == offsetof(ca_opts_t, witness)) {
        /* the one option given more than once */
        o->seen[i] = 0;

        if (o->nwitness == CA_WITNESS_MAX) {
            return ca_usage_error("%s: at most %d --witness", cmd,
                                  CA_WITNESS_MAX);
        }

        o->witness[o->nwitness++] = optarg;
        return CA_OK;
    }

    cli_store(&ca_options[i], o);

    return CA_OK;
}


/*
 * epoch seconds, or YYYY-MM-DD[THH[:MM[:SS[.mmm]]]][Z]; *unit is the
 * length of the unit the text names (a day, an hour, ..., a millisecond)
 */

static int
ca_parse_time(const char *s, int64_t *start, int64_t *unit)
{
    size_t          len, at, i;
    int64_t         v, y, mo, d;
    const u_char   *p;

    /* after the date: THH, :MM, :SS, .mmm, each optional after the last */
    static const struct {
        u_char      sep;
        size_t      digits;
        int64_t     max;
        int64_t     unit;
    } parts[] = {
        { 'T', 2, 23, CA_MS_HOUR },
        { ':', 2, 59, 60000 },
        { ':', 2, 59, 1000 },
        { '.', 3, 999, 1 }
    };

    p = (const u_char *) s;
    len = strlen(s);

    /* epoch seconds have 10 digits from 2001 on: "20260201" is no epoch */

    if ((len == 10 || len == 11) && ca_digits(p, len, &v) == 0) {
        if (v * 1000 >= CA_TIME_MAX) {
            return -1;
        }

        *start = v * 1000;
        *unit = 1000;
        return 0;
    }

    if (len > 0 && p[len - 1] == 'Z') {
        len--;
    }

    if (len < 10
        || ca_digits(p, 4, &y) != 0 || p[4] != '-'
        || ca_digits(p + 5, 2, &mo) != 0 || p[7] != '-'
        || ca_digits(p + 8, 2, &d) != 0)
    {
        return -1;
    }

    if (y < 1970 || mo < 1 || mo > 12 || d < 1
        || d > ca_days_in_month(y, (unsigned) mo))
    {
        return -1;
    }

    *start = ca_days_from_civil(y, (unsigned) mo, (unsigned) d) * CA_MS_DAY;
    *unit = CA_MS_DAY;

    for (i = 0, at = 10; i < 4 && len > at; i++) {
        if (len < at + 1 + parts[i].digits || p[at] != parts[i].sep
            || ca_digits(p + at + 1, parts[i].digits, &v) != 0
            || v > parts[i].max)
        {
            return -1;
        }

        *start += v * parts[i].unit;
        *unit = parts[i].unit;
        at += 1 + parts[i].digits;
    }

    return len == at ? 0 : -1;
}


/* [from, to): --from's start and the end of --to's unit */

static int
ca_parse_range(ca_opts_t *o, int64_t *from, int64_t *to)
{
    int64_t  start, unit;

    *from = CA_TIME_MIN;
    *to = CA_TIME_MAX;

    if (o->from) {
        if (ca_parse_time(o->from, &start, &unit) != 0) {
            return ca_usage_error("invalid --from \"%s\" (epoch seconds or "
                                  "YYYY-MM-DD[THH:MM[:SS]][Z])", o->from);
        }

        *from = start;
    }

    if (o->to) {
        if (ca_parse_time(o->to, &start, &unit) != 0) {
            return ca_usage_error("invalid --to \"%s\" (epoch seconds or "
                                  "YYYY-MM-DD[THH:MM[:SS]][Z])", o->to);
        }

        *to = start + unit;
    }

    if (*from >= *to) {
        return ca_usage_error("--from is after --to");
    }

    return -1;
}


static int
ca_parse_retention(const char *s, int64_t *days)
{
    size_t   len;
    int64_t  v;

    len = strlen(s);

    if (len < 2 || len > 7
        || ca_digits((const u_char *) s, len - 1, &v) != 0)
    {
        return -1;
    }

    switch (s[len - 1]) {

    case 'd':
        break;

    case 'y':
        v *= 365;
        break;

    default:
        return -1;
    }

    *days = v;

    return 0;
}


/* proleptic Gregorian calendar, after H. Hinnant's "date" algorithms */

static int64_t
ca_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


static void
ca_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t   era;
    unsigned  doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned) (z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t) yoe + era * 400 + (*m <= 2);
}


static int
ca_days_in_month(int64_t y, unsigned m)
{
    static const int  days[] = { 31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31 };

    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        return 29;
    }

    return days[m - 1];
}


/* buf: CA_TS_BUF bytes */

static void
ca_format_ts(int64_t ms, char *buf)
{
    int64_t   days, rest, y;
    unsigned  m, d;

    if (ms < CA_TIME_MIN || ms >= CA_TIME_MAX) {
        snprintf(buf, CA_TS_BUF, "%s", ms < 0 ? "-" : "end of time");
        return;
    }

    days = ms / CA_MS_DAY;
    rest = ms % CA_MS_DAY;

    ca_civil_from_days(days, &y, &m, &d);

    snprintf(buf, CA_TS_BUF, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
             (int) y, m, d, (int) (rest / CA_MS_HOUR),
             (int) (rest / 60000 % 60), (int) (rest / 1000 % 60),
             (int) (rest % 1000));
}


static int
ca_digits(const u_char *p, size_t n, int64_t *out)
{
    size_t   i;
    int64_t  v;

    if (n == 0 || n > 18) {
        return -1;
    }

    v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (p[i] - '0');
    }

    *out = v;

    return 0;
}


/* exactly YYYY-MM-DDTHH:MM:SS.mmmZ */

static int
ca_parse_ts(const u_char *p, int64_t *ms)
{
    int64_t  y, mo, d, h, mi, s, f;

    if (ca_digits(p, 4, &y) != 0 || p[4] != '-'
        || ca_digits(p + 5, 2, &mo) != 0 || p[7] != '-'
        || ca_digits(p + 8, 2, &d) != 0 || p[10] != 'T'
        || ca_digits(p + 11, 2, &h) != 0 || p[13] != ':'
        || ca_digits(p + 14, 2, &mi) != 0 || p[16] != ':'
        || ca_digits(p + 17, 2, &s) != 0 || p[19] != '.'
        || ca_digits(p + 20, 3, &f) != 0 || p[23] != 'Z')
    {
        return -1;
    }

    if (y < 1970 || mo < 1 || mo > 12 || d < 1
        || d > ca_days_in_month(y, (unsigned) mo)
        || h > 23 || mi > 59 || s > 59)
    {
        return -1;
    }

    *ms = ca_days_from_civil(y, (unsigned) mo, (unsigned) d) * CA_MS_DAY
          + h * CA_MS_HOUR + mi * 60000 + s * 1000 + f;

    return 0;
}


/*
 * One character of log text made safe for a terminal: printable ASCII and
 * UTF-8 pass; control characters, C1 controls, bidirectional overrides and
 * invalid UTF-8 become \xNN or \uNNNN; a backslash is doubled. Returns the
 * input bytes consumed; out gets at most 11 bytes and a NUL.
 */

static size_t
ca_escape_char(const u_char *s, size_t len, char *out, size_t *width)
{
    size_t    n, i;
    uint32_t  c, cp;

    c = s[0];
    *width = 1;

    if (c >= 0x20 && c < 0x7f) {
        if (c == '\\') {
            memcpy(out, "\\\\", 3);
            *width = 2;
            return 1;
        }

        out[0] = (char) c;
        out[1] = '\0';
        return 1;
    }

    if (c < 0x80 || c < 0xc2 || c > 0xf4) {
        snprintf(out, 12, "\\x%02x", (unsigned) c);
        *width = 4;
        return 1;
    }

    n = c < 0xe0 ? 2 : (c < 0xf0 ? 3 : 4);
    cp = c & (n == 2 ? 0x1f : (n == 3 ? 0x0f : 0x07));

    if (n > len) {
        snprintf(out, 12, "\\x%02x", (unsigned) c);
        *width = 4;
        return 1;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            snprintf(out, 12, "\\x%02x", (unsigned) c);
            *width = 4;
            return 1;
        }

        cp = (cp << 6) | (s[i] & 0x3f);
    }

    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    {
        snprintf(out, 12, "\\x%02x", (unsigned) c);
        *width = 4;
        return 1;
    }

    if ((cp >= 0x80 && cp <= 0x9f)
        || cp == 0x200e || cp == 0x200f
        || (cp >= 0x202a && cp <= 0x202e)
        || (cp >= 0x2066 && cp <= 0x2069)
        || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
    {
        snprintf(out, 12, "\\u%04x", (unsigned) cp);
        *width = 6;
        return n;
    }

    memcpy(out, s, n);
    out[n] = '\0';

    /* East Asian wide characters take two terminal columns */
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf)
        || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff)
        || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60)
        || (cp >= 0xffe0 && cp <= 0xffe6)
        || (cp >= 0x20000 && cp <= 0x3fffd))
    {
        *width = 2;
    }

    return n;
}


/* log text for a message: escaped, at most CA_SHOW_LEN input bytes */

static void
ca_quote(char *out, size_t size, const u_char *s, size_t len)
{
    char    one[12];
    size_t  i, n, k, w, limit;

    limit = len > CA_SHOW_LEN ? CA_SHOW_LEN : len;
    k = 0;

    for (i = 0; i < limit; i += n) {
        n = ca_escape_char(s + i, len - i, one, &w);

        if (k + strlen(one) + sizeof("...") >= size) {
            break;
        }

        memcpy(out + k, one, strlen(one));
        k += strlen(one);
    }

    if (i < len && k + sizeof("...") <= size) {
        memcpy(out + k, "...", 3);
        k += 3;
    }

    out[k] = '\0';
}


static size_t
ca_put_text(FILE *f, const u_char *s, size_t len)
{
    char    one[12];
    size_t  i, n, w, width;

    width = 0;

    for (i = 0; i < len; i += n) {
        n = ca_escape_char(s + i, len - i, one, &w);
        fputs(one, f);
        width += w;
    }

    return width;
}


static void
ca_pad(FILE *f, size_t width, size_t col)
{
    do {
        putc(' ', f);
        width++;
    } while (width < col);
}


static int
ca_init(void)
{
    int  c;

    for (c = 0x20; c < 0x80; c++) {
        ca_plain[c] = (c != '"' && c != '\\');
    }

    ca_md = EVP_MD_fetch(NULL, NGX_RTMP_COMPLIANCE_AUDIT_DIGEST, NULL);
    ca_md_ctx = EVP_MD_CTX_new();

    if (ca_md == NULL || ca_md_ctx == NULL) {
        return ca_error(-1, "OpenSSL: SHA-256 is not available");
    }

    return 0;
}


/*
 * The record's hash: SHA-256 over its bytes up to, not including, the
 * ,"hash":"<64 hex>" before the final }, followed by the byte }.
 * The caller checked that len >= CA_HASH_TAIL.
 */

static int
ca_hash_record(const u_char *line, size_t len, u_char *hex)
{
    size_t         i;
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    static const char  digits[] = NGX_RTMP_COMPLIANCE_AUDIT_HEX_DIGITS;

    if (EVP_DigestInit_ex(ca_md_ctx, ca_md, NULL) != 1
        || EVP_DigestUpdate(ca_md_ctx, line, len - CA_HASH_TAIL) != 1
        || EVP_DigestUpdate(ca_md_ctx, NGX_RTMP_COMPLIANCE_AUDIT_HASH_CLOSE, 1)
           != 1
        || EVP_DigestFinal_ex(ca_md_ctx, md, &n) != 1
        || n != CA_HEX_LEN / 2)
    {
        ERR_clear_error();
        return -1;
    }

    for (i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0xf];
    }

    return 0;
}


static int
ca_is_hex(const u_char *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


/* audit-YYYYMMDD.jsonl or audit-YYYYMMDDTHH.jsonl, a valid UTC period */

static int
ca_segment_name(const char *name, int64_t *start, int64_t *end)
{
    size_t          len;
    int64_t         y, m, d, h;
    unsigned        hourly;
    const u_char   *p, *date;

    p = (const u_char *) name;
    len = strlen(name);

    if (len == NGX_RTMP_COMPLIANCE_AUDIT_DAILY_LEN) {
        hourly = 0;

    } else if (len == NGX_RTMP_COMPLIANCE_AUDIT_HOURLY_LEN) {
        hourly = 1;

    } else {
        return -1;
    }

    date = p + NGX_RTMP_COMPLIANCE_AUDIT_PREFIX_LEN;

    if (memcmp(p, NGX_RTMP_COMPLIANCE_AUDIT_PREFIX,
               NGX_RTMP_COMPLIANCE_AUDIT_PREFIX_LEN) != 0
        || memcmp(p + len - NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX_LEN,
                  NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX,
                  NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX_LEN) != 0
        || ca_digits(date, 4, &y) != 0 || ca_digits(date + 4, 2, &m) != 0
        || ca_digits(date + 6, 2, &d) != 0)
    {
        return -1;
    }

    h = 0;

    if (hourly && (date[8] != NGX_RTMP_COMPLIANCE_AUDIT_HOUR[0]
                   || ca_digits(date + 9, 2, &h) != 0))
    {
        return -1;
    }

    if (y < 1970 || m < 1 || m > 12 || d < 1
        || d > ca_days_in_month(y, (unsigned) m) || h > 23)
    {
        return -1;
    }

    *start = ca_days_from_civil(y, (unsigned) m, (unsigned) d) * CA_MS_DAY
             + h * CA_MS_HOUR;
    *end = *start + (hourly ? CA_MS_HOUR : CA_MS_DAY);

    return 0;
}


static int
ca_segment_cmp(const void *a, const void *b)
{
    const ca_segment_t  *sa = a, *sb = b;

    return strcmp(sa->name, sb->name);
}


static int
ca_dir_open(const char *path, ca_dir_t *dir)
{
    DIR            *d;
    size_t          len;
    int64_t         start, end;
    ca_segment_t   *segs;
    struct dirent  *de;

    memset(dir, 0, sizeof(ca_dir_t));

    len = strlen(path);

    while (len > 1 && path[len - 1] == '/') {
        len--;
    }

    dir->path = strndup(path, len);

    if (dir->path == NULL) {
        return ca_error(CA_USAGE, "out of memory");
    }

    d = opendir(dir->path);

    if (d == NULL) {
        return ca_error(CA_USAGE, "cannot open directory \"%s\": %s",
                        dir->path, strerror(errno));
    }

    for ( ;; ) {
        errno = 0;
        de = readdir(d);

        if (de == NULL) {
            if (errno != 0) {
                closedir(d);
                return ca_error(CA_USAGE, "reading directory \"%s\": %s",
                                dir->path, strerror(errno));
            }

            break;
        }

        if (ca_segment_name(de->d_name, &start, &end) != 0) {
            continue;
        }

        if (dir->nsegs == dir->nalloc) {
            dir->nalloc = dir->nalloc ? dir->nalloc * 2 : 64;

            if (dir->nalloc > SIZE_MAX / sizeof(ca_segment_t)) {
                closedir(d);
                return ca_error(CA_USAGE, "too many segments");
            }

            segs = realloc(dir->segs, dir->nalloc * sizeof(ca_segment_t));

            if (segs == NULL) {
                closedir(d);
                return ca_error(CA_USAGE, "out of memory");
            }

            dir->segs = segs;
        }

        dir->segs[dir->nsegs].name = strdup(de->d_name);

        if (dir->segs[dir->nsegs].name == NULL) {
            closedir(d);
            return ca_error(CA_USAGE, "out of memory");
        }

        dir->segs[dir->nsegs].start = start;
        dir->segs[dir->nsegs].end = end;
        dir->nsegs++;
    }

    closedir(d);

    if (dir->nsegs > 1) {
        qsort(dir->segs, dir->nsegs, sizeof(ca_segment_t), ca_segment_cmp);
    }

    return 0;
}


/* ca_dir_open(), and at least one segment; else the exit code */

static int
ca_dir_segments(const char *path, ca_dir_t *dir)
{
    if (ca_dir_open(path, dir) != 0) {
        ca_dir_free(dir);
        return CA_USAGE;
    }

    if (dir->nsegs == 0) {
        ca_error(CA_FAIL, "no audit segments (audit-YYYYMMDD[THH].jsonl) "
                 "in \"%s\"", dir->path);
        ca_dir_free(dir);
        return CA_FAIL;
    }

    return 0;
}


static void
ca_dir_free(ca_dir_t *dir)
{
    size_t  i;

    for (i = 0; i < dir->nsegs; i++) {
        free(dir->segs[i].name);
    }

    free(dir->segs);
    free(dir->path);
}


/* DIR/NAME of segment i; a static buffer, valid until the next call */

static char *
ca_path(ca_dir_t *dir, size_t i)
{
    static char  path[PATH_MAX + 32];

    snprintf(path, sizeof(path), "%s/%s",
             strcmp(dir->path, "/") == 0 ? "" : dir->path,
             dir->segs[i].name);

    return path;
}


static int
ca_reader_open(ca_reader_t *r, const char *path)
{
    struct stat  st;

    memset(r, 0, sizeof(ca_reader_t));
    r->fd = -1;

    r->path = strdup(path);

    if (r->path == NULL) {
        return ca_error(CA_USAGE, "out of memory");
    }

    /* O_NONBLOCK: a FIFO named like a segment must not hang the tool */
    r->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    if (r->fd == -1) {
        return ca_error(CA_USAGE, "cannot open \"%s\": %s", path,
                        strerror(errno));
    }

    if (fstat(r->fd, &st) != 0) {
        return ca_error(CA_USAGE, "cannot stat \"%s\": %s", path,
                        strerror(errno));
    }

    if (!S_ISREG(st.st_mode)) {
        return ca_error(CA_USAGE, "\"%s\" is not a regular file", path);
    }

    r->size = st.st_size;

    r->buf = malloc(CA_READ_SIZE);

    if (r->buf == NULL) {
        return ca_error(CA_USAGE, "out of memory");
    }

    return 0;
}


static void
ca_reader_close(ca_reader_t *r)
{
    if (r->fd != -1) {
        close(r->fd);
    }

    free(r->buf);
    free(r->path);

    memset(r, 0, sizeof(ca_reader_t));
    r->fd = -1;
}


/* the next line without its LF; bounded by CA_LINE_MAX */

static ca_read_e
ca_reader_next(ca_reader_t *r, u_char **line, size_t *len)
{
    u_char  *nl;

    for ( ;; ) {
        nl = memchr(r->buf + r->pos + r->scan, '\n',
                    r->last - r->pos - r->scan);

        if (nl != NULL) {
            *line = r->buf + r->pos;
            *len = nl - *line;

            r->line++;

            if (*len > CA_LINE_MAX) {
                /* left where it is for ca_reader_skip() */
                return CA_READ_LONG;
            }

            r->pos += *len + 1;
            r->scan = 0;

            return CA_READ_LINE;
        }

        r->scan = r->last - r->pos;

        if (r->scan > CA_LINE_MAX) {
            r->line++;
            return CA_READ_LONG;
        }

        if (r->eof) {
            if (r->scan == 0) {
                return CA_READ_EOF;
            }

            *line = r->buf + r->pos;
            *len = r->scan;

            r->line++;
            r->pos = r->last;
            r->scan = 0;

            return CA_READ_PARTIAL;
        }

        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->last - r->pos);
            r->last -= r->pos;
            r->pos = 0;
        }

        if (ca_reader_fill(r) != 0) {
            return CA_READ_ERROR;
        }
    }
}


/* after CA_READ_LONG: drop that line, up to its LF */

static ca_read_e
ca_reader_skip(ca_reader_t *r)
{
    u_char  *nl;

    for ( ;; ) {
        nl = memchr(r->buf + r->pos, '\n', r->last - r->pos);

        if (nl != NULL) {
            r->pos = nl + 1 - r->buf;
            r->scan = 0;
            return CA_READ_LINE;
        }

        r->pos = 0;
        r->last = 0;
        r->scan = 0;

        if (r->eof) {
            return CA_READ_EOF;
        }

        if (ca_reader_fill(r) != 0) {
            return CA_READ_ERROR;
        }
    }
}


/* more of the file after r->last; -1 on a read error, said on stderr */

static int
ca_reader_fill(ca_reader_t *r)
{
    ssize_t  n;

    do {
        n = read(r->fd, r->buf + r->last, CA_READ_SIZE - r->last);
    } while (n == -1 && errno == EINTR);

    if (n == -1) {
        ca_error(CA_USAGE, "reading \"%s\": %s", r->path, strerror(errno));
        return -1;
    }

    if (n == 0) {
        r->eof = 1;
    }

    r->last += n;

    return 0;
}


static void
ca_walk_dir(ca_walk_t *w, ca_dir_t *dir, int64_t from, int64_t to)
{
    memset(w, 0, sizeof(ca_walk_t));
    w->r.fd = -1;

    w->dir = dir;
    w->from = from;
    w->to = to;
}


static int
ca_walk_file(ca_walk_t *w, const char *path)
{
    memset(w, 0, sizeof(ca_walk_t));
    w->open = 1;

    return ca_reader_open(&w->r, path);
}


/*
 * The next line: w->line and w->len, except at CA_READ_EOF (the end of
 * the last segment, or of the file) and CA_READ_ERROR
 */

static ca_read_e
ca_walk_line(ca_walk_t *w)
{
    ca_dir_t  *dir;

    dir = w->dir;

    for ( ;; ) {
        if (ca_walk_skip(w) == CA_READ_ERROR) {
            goto failed;
        }

        if (!w->open) {
            if (dir == NULL) {
                return w->rd = CA_READ_EOF;
            }

            while (w->next < dir->nsegs
                   && (dir->segs[w->next].end <= w->from
                       || dir->segs[w->next].start >= w->to))
            {
                w->next++;
            }

            if (w->next == dir->nsegs) {
                return w->rd = CA_READ_EOF;
            }

            w->seg = w->next++;
            w->opened++;
            w->open = 1;

            if (ca_reader_open(&w->r, ca_path(dir, w->seg)) != 0) {
                goto failed;
            }

            if (w->r.size == 0 && w->empty++ == 0) {
                w->first_empty = w->seg;
            }
        }

        w->rd = ca_reader_next(&w->r, &w->line, &w->len);

        if (w->rd == CA_READ_LONG) {
            w->skip = 1;
        }

        if (w->rd == CA_READ_ERROR) {
            goto failed;
        }

        if (w->rd != CA_READ_EOF || dir == NULL) {
            return w->rd;
        }

        /* the end of a segment: on to the next one */

        ca_reader_close(&w->r);
        w->open = 0;
    }

failed:

    w->failed = 1;

    return w->rd = CA_READ_ERROR;
}


/* after CA_READ_LONG: drop that line now (ca_walk_line() would later) */

static ca_read_e
ca_walk_skip(ca_walk_t *w)
{
    if (!w->skip) {
        return CA_READ_LINE;
    }

    w->skip = 0;

    return ca_reader_skip(&w->r);
}


/*
 * The next line as a record.  CA_WALK_DAMAGED: a line too long (why says
 * so), one that is not a record (w->rr, why says why), or the last one
 * without its LF (w->rd is CA_READ_PARTIAL, w->rr tells what it holds).
 * CA_WALK_END: after the last line, or an error if w->failed.
 */

static ca_walk_e
ca_walk_record(ca_walk_t *w, char *why)
{
    ca_record_free(&w->rec);

    switch (ca_walk_line(w)) {

    case CA_READ_EOF:
    case CA_READ_ERROR:
        return CA_WALK_END;

    case CA_READ_LONG:
        w->rr = CA_REC_NOT_JSON;
        snprintf(why, CA_WHY_LEN, "not JSON: a line longer than %d bytes",
                 CA_LINE_MAX);
        return CA_WALK_DAMAGED;

    default:
        break;
    }

    w->rr = ca_parse_record(w->line, w->len, &w->rec, why);

    if (w->rr == CA_REC_NOMEM) {
        ca_error(CA_USAGE, "%s", why);
        w->failed = 1;
        return CA_WALK_END;
    }

    if (w->rr != CA_REC_OK || w->rd == CA_READ_PARTIAL) {
        return CA_WALK_DAMAGED;
    }

    return CA_WALK_RECORD;
}


/*
 * After a forward jump: is the expected seq further on (the lines were
 * reordered) or nowhere (records were deleted)?  Reads on, by the seq at
 * the start of each line.  1: found, at *seg, *line; 0: not found; -1:
 * I/O error.
 */

static int
ca_walk_find_seq(ca_walk_t *w, int64_t want, size_t *seg, uint64_t *line)
{
    int64_t    seq;
    ca_read_e  rd;

    for ( ;; ) {
        rd = ca_walk_line(w);

        if (rd == CA_READ_EOF) {
            return 0;
        }

        if (rd == CA_READ_ERROR) {
            return -1;
        }

        if (rd != CA_READ_LONG
            && ca_peek_seq(w->line, w->len, &seq) == 0 && seq == want)
        {
            *seg = w->seg;
            *line = w->r.line;
            return 1;
        }
    }
}


static void
ca_walk_close(ca_walk_t *w)
{
    ca_record_free(&w->rec);

    if (w->open) {
        ca_reader_close(&w->r);
        w->open = 0;
    }
}


/* p at the opening quote of a JSON string; returns after its closing one */

static const u_char *
ca_skip_json_string(const u_char *p, const u_char *end)
{
    if (p >= end || *p != '"') {
        return NULL;
    }

    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }

        if (*p == '"') {
            return p + 1;
        }
    }

    return NULL;
}


/* p at ,"key":"value" (key: a _KEY of the format): returns after value */

static const u_char *
ca_skip_member(const u_char *p, const u_char *end, const char *key)
{
    size_t  n;

    n = strlen(key);

    if ((size_t) (end - p) < n || memcmp(p, key, n) != 0) {
        return NULL;
    }

    /* from the value's opening quote, the key's last byte */
    return ca_skip_json_string(p + n - 1, end);
}


/* the seq of a line that starts the writer's way, without parsing it */

static int
ca_peek_seq(const u_char *line, size_t len, int64_t *seq)
{
    size_t         n;
    const u_char  *p;

    if (len < CA_SEQ_KEY_LEN + 2
        || memcmp(line, NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY, CA_SEQ_KEY_LEN)
           != 0)
    {
        return -1;
    }

    p = line + CA_SEQ_KEY_LEN;
    len -= CA_SEQ_KEY_LEN;

    for (n = 0; n < len && n < 19; n++) {
        if (p[n] < '0' || p[n] > '9') {
            break;
        }
    }

    if (n == 0 || n > 18 || n >= len || p[n] != ',') {
        return -1;
    }

    return ca_digits(p, n, seq);
}


/* the ts of a line that starts the writer's way; -1 if there is none */

static int64_t
ca_peek_ts(const u_char *line, size_t len)
{
    int64_t  seq, ms;
    char     head[48];
    int      n;

    if (ca_peek_seq(line, len, &seq) != 0) {
        return -1;
    }

    n = snprintf(head, sizeof(head), NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY "%lld"
                 NGX_RTMP_COMPLIANCE_AUDIT_TS_KEY, (long long) seq);

    if (len < (size_t) n + CA_TS_LEN || memcmp(line, head, n) != 0
        || ca_parse_ts(line + n, &ms) != 0)
    {
        return -1;
    }

    return ms;
}


/*
 * Checks one line: its hash first when the line ends the writer's way
 * (any edit of the hashed bytes is "edited", whether or not it broke the
 * JSON), then its fields (ca_parse_fields). why gets the reason of an
 * error.
 */

static ca_rec_e
ca_parse_record(const u_char *line, size_t len, ca_record_t *rec, char *why)
{
    u_char  hex[CA_HEX_LEN];
    char    stored[CA_HEX_LEN + 1], computed[CA_HEX_LEN + 1];

    rec->json = NULL;
    rec->nfields = 0;

    if (len == 0) {
        snprintf(why, CA_WHY_LEN, "not JSON: empty line");
        return CA_REC_NOT_JSON;
    }

    if (len >= CA_HASH_TAIL
        && memcmp(line + len - CA_END_LEN, NGX_RTMP_COMPLIANCE_AUDIT_END,
                  CA_END_LEN) == 0
        && memcmp(line + len - CA_HASH_TAIL,
                  NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY, CA_HASH_KEY_LEN) == 0
        && ca_is_hex(line + len - CA_END_LEN - CA_HEX_LEN, CA_HEX_LEN))
    {
        if (ca_hash_record(line, len, hex) != 0) {
            snprintf(why, CA_WHY_LEN, "SHA-256 failed");
            return CA_REC_NOMEM;
        }

        if (memcmp(hex, line + len - CA_END_LEN - CA_HEX_LEN, CA_HEX_LEN)
            != 0)
        {
            memcpy(stored, line + len - CA_END_LEN - CA_HEX_LEN, CA_HEX_LEN);
            stored[CA_HEX_LEN] = '\0';
            memcpy(computed, hex, CA_HEX_LEN);
            computed[CA_HEX_LEN] = '\0';

            snprintf(why, CA_WHY_LEN, "edited: hash mismatch, the record "
                     "says %.16s..., its bytes hash to %.16s...",
                     stored, computed);
            return CA_REC_EDITED;
        }
    }

    return ca_parse_fields(line, len, rec, why);
}


/*
 * The fields of a line, whatever its hash. A line in the writer's compact
 * form takes the fast path (ca_flat_scan, no allocation); anything else
 * goes to jansson, which decides and explains. rec->json is then set.
 */

static ca_rec_e
ca_parse_fields(const u_char *line, size_t len, ca_record_t *rec, char *why)
{
    ca_rec_e      rc;
    json_t       *json;
    json_error_t  err;
    char          near[CA_QUOTE_LEN];

    rec->line = line;
    rec->len = len;
    rec->json = NULL;
    rec->nfields = 0;

    if (len == 0) {
        snprintf(why, CA_WHY_LEN, "not JSON: empty line");
        return CA_REC_NOT_JSON;
    }

    if (ca_flat_scan(line, len, rec) == 0 && ca_flat_record(rec) == 0) {
        return CA_REC_OK;
    }

    rec->nfields = 0;

    json = json_loadb((const char *) line, len, JSON_REJECT_DUPLICATES,
                      &err);

    if (json == NULL) {
        if (json_error_code(&err) == json_error_out_of_memory) {
            snprintf(why, CA_WHY_LEN, "out of memory");
            return CA_REC_NOMEM;
        }

        ca_quote(near, sizeof(near), (const u_char *) err.text,
                 strlen(err.text));

        if (json_error_code(&err) == json_error_premature_end_of_input
            && line[0] == '{' && memchr(line, '\0', len) == NULL)
        {
            snprintf(why, CA_WHY_LEN, "truncated: the JSON is cut short "
                     "after %zu bytes (%s)", len, near);
            return CA_REC_TRUNCATED;
        }

        snprintf(why, CA_WHY_LEN, "not JSON: %s, at byte %d%s", near,
                 err.position,
                 memmem(line, len, CA_NUL_PREV, sizeof(CA_NUL_PREV) - 1)
                 ? " (\"prev\" holds NUL bytes: the writer's fault, not a "
                   "broken link: a writer only links a record to a hash; "
                   "one that turned the log on by a reload could write "
                   "such a prev before the module refused that reload)"
                 : "");
        return CA_REC_NOT_JSON;
    }

    rec->json = json;

    if (!json_is_object(json)) {
        snprintf(why, CA_WHY_LEN, "not JSON: a JSON %s, not an object",
                 json_is_array(json) ? "array" : "scalar");
        return CA_REC_NOT_JSON;
    }

    rc = ca_check_fields(rec, why);

    if (rc != CA_REC_OK) {
        return rc;
    }

    return ca_check_layout(line, len, rec, why);
}


/*
 * The fast path: 0 if the line is a flat JSON object in the writer's
 * compact form: no whitespace, keys without escapes, values that are
 * strings (valid UTF-8, no control characters, no \u escapes), integers
 * of at most 18 digits, true, false or null, no key twice. It accepts
 * only what jansson accepts too; -1 sends the line to jansson.
 */

static int
ca_flat_scan(const u_char *p, size_t len, ca_record_t *rec)
{
    size_t          n;
    unsigned        escaped;
    ca_field_t     *f;
    const u_char   *end, *s;

    end = p + len;

    if (len < 3 || *p++ != '{') {
        return -1;
    }

    n = 0;

    for ( ;; ) {
        if (n == CA_FIELDS_MAX) {
            return -1;
        }

        f = &rec->fields[n++];

        if (p >= end || *p != '"') {
            return -1;
        }

        s = ++p;
        p = ca_flat_string(p, end, &escaped);

        if (p == NULL || escaped || end - p < 3 || p[1] != ':') {
            return -1;
        }

        f->key = s;
        f->key_len = p - s;

        p = ca_flat_value(p + 2, end, f);

        if (p == NULL || p >= end) {
            return -1;
        }

        if (*p == ',') {
            p++;
            continue;
        }

        if (*p == '}' && p + 1 == end) {
            break;
        }

        return -1;
    }

    if (ca_flat_unique(rec->fields, n) != 0) {
        return -1;
    }

    rec->nfields = n;

    return 0;
}


/* a field's value at p, in the fast path's forms; the end of it, or NULL */

static const u_char *
ca_flat_value(const u_char *p, const u_char *end, ca_field_t *f)
{
    size_t          i;
    unsigned        escaped;
    const u_char   *s;

    switch (*p) {

    case '"':
        s = ++p;
        p = ca_flat_string(p, end, &escaped);

        if (p == NULL) {
            return NULL;
        }

        f->type = CA_T_STRING;
        f->escaped = escaped;
        f->val = s;
        f->val_len = p - s;

        return p + 1;

    case 't':
    case 'f':
    case 'n':
        s = (u_char *) (*p == 't' ? "true" : (*p == 'f' ? "false" : "null"));
        i = strlen((const char *) s);

        if ((size_t) (end - p) < i || memcmp(p, s, i) != 0) {
            return NULL;
        }

        f->type = (*p == 't') ? CA_T_TRUE
                              : ((*p == 'f') ? CA_T_FALSE : CA_T_NULL);
        f->escaped = 0;
        f->val = p;
        f->val_len = i;

        return p + i;

    default:
        s = p;

        if (*p == '-') {
            p++;
        }

        if (p < end && *p == '0') {
            p++;

        } else if (p < end && *p >= '1' && *p <= '9') {
            while (p < end && *p >= '0' && *p <= '9') {
                p++;
            }

        } else {
            return NULL;
        }

        if (p - s > 18) {
            return NULL;
        }

        f->type = CA_T_INT;
        f->escaped = 0;
        f->val = s;
        f->val_len = p - s;

        return p;
    }
}


/* no key twice: keys are compared only when a cheap hash collides */

static int
ca_flat_unique(ca_field_t *fields, size_t n)
{
    size_t       i, j;
    uint64_t     seen, bit;
    ca_field_t  *f;

    seen = 0;

    for (i = 0; i < n; i++) {
        f = &fields[i];
        bit = (uint64_t) 1 << ((f->key_len * 7
                                + (f->key_len ? f->key[0] * 3
                                                + f->key[f->key_len - 1]
                                              : 0)) & 63);

        if (seen & bit) {
            for (j = 0; j < i; j++) {
                if (f->key_len == fields[j].key_len
                    && memcmp(f->key, fields[j].key, f->key_len) == 0)
                {
                    return -1;
                }
            }
        }

        seen |= bit;
    }

    return 0;
}


/*
 * p after the opening quote; returns the closing quote, or NULL for what
 * the fast path leaves to jansson
 */

static const u_char *
ca_flat_string(const u_char *p, const u_char *end, unsigned *escaped)
{
    u_char  c;

    *escaped = 0;

    while (p < end) {
        c = *p;

        if (ca_plain[c]) {
            p++;
            continue;
        }

        if (c == '"') {
            return p;
        }

        if (c == '\\') {
            if (end - p < 2 || strchr("\"\\/bfnrt", p[1]) == NULL
                || p[1] == '\0')
            {
                return NULL;
            }

            *escaped = 1;
            p += 2;
            continue;
        }

        if (c < 0x20) {
            return NULL;
        }

        /* UTF-8, strictly: no overlong forms, surrogates or > U+10FFFF */

        if (c >= 0xc2 && c <= 0xdf) {
            if (end - p < 2 || (p[1] & 0xc0) != 0x80) {
                return NULL;
            }

            p += 2;

        } else if (c >= 0xe0 && c <= 0xef) {
            if (end - p < 3 || (p[1] & 0xc0) != 0x80
                || (p[2] & 0xc0) != 0x80
                || (c == 0xe0 && p[1] < 0xa0)
                || (c == 0xed && p[1] > 0x9f))
            {
                return NULL;
            }

            p += 3;

        } else if (c >= 0xf0 && c <= 0xf4) {
            if (end - p < 4 || (p[1] & 0xc0) != 0x80
                || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80
                || (c == 0xf0 && p[1] < 0x90)
                || (c == 0xf4 && p[1] > 0x8f))
            {
                return NULL;
            }

            p += 4;

        } else {
            return NULL;
        }
    }

    return NULL;
}


/* a scanned line is a record: seq, ts, event, node first, prev, hash last */

static int
ca_flat_record(ca_record_t *rec)
{
    ca_field_t  *f, *prev, *hash;

    if (rec->nfields < 6) {
        return -1;
    }

    f = rec->fields;
    prev = &f[rec->nfields - 2];
    hash = &f[rec->nfields - 1];

    if (!ca_field_is(&f[0], NGX_RTMP_COMPLIANCE_AUDIT_SEQ, CA_T_INT)
        || !ca_field_is(&f[1], NGX_RTMP_COMPLIANCE_AUDIT_TS, CA_T_STRING)
        || !ca_field_is(&f[2], NGX_RTMP_COMPLIANCE_AUDIT_EVENT, CA_T_STRING)
        || !ca_field_is(&f[3], NGX_RTMP_COMPLIANCE_AUDIT_NODE, CA_T_STRING)
        || !ca_field_is(prev, NGX_RTMP_COMPLIANCE_AUDIT_PREV, CA_T_STRING)
        || !ca_field_is(hash, NGX_RTMP_COMPLIANCE_AUDIT_HASH, CA_T_STRING)
        || f[1].val_len != CA_TS_LEN || f[2].val_len == 0
        || f[2].escaped || f[3].escaped
        || prev->val_len != CA_HEX_LEN || hash->val_len != CA_HEX_LEN
        || !ca_is_hex(prev->val, CA_HEX_LEN)
        || !ca_is_hex(hash->val, CA_HEX_LEN)
        || f[0].val[0] == '-'
        || ca_digits(f[0].val, f[0].val_len, &rec->seq) != 0
        || rec->seq < 1
        || ca_parse_ts(f[1].val, &rec->ts) != 0)
    {
        return -1;
    }

    rec->ts_text = f[1].val;
    rec->event = f[2].val;
    rec->event_len = f[2].val_len;
    rec->node = f[3].val;
    rec->node_len = f[3].val_len;
    rec->prev = prev->val;
    rec->hash = hash->val;

    return 0;
}


static int
ca_field_is(ca_field_t *f, const char *key, unsigned type)
{
    size_t  n;

    n = strlen(key);

    return f->type == type && f->key_len == n && memcmp(f->key, key, n) == 0;
}


static ca_rec_e
ca_check_fields(ca_record_t *rec, char *why)
{
    size_t        i, k, n;
    json_t       *v;
    json_int_t    seq;
    const char   *key, *s;
    char          name[CA_QUOTE_LEN];

    static const char  *required[] = {
        NGX_RTMP_COMPLIANCE_AUDIT_SEQ, NGX_RTMP_COMPLIANCE_AUDIT_TS,
        NGX_RTMP_COMPLIANCE_AUDIT_EVENT, NGX_RTMP_COMPLIANCE_AUDIT_NODE,
        NGX_RTMP_COMPLIANCE_AUDIT_PREV, NGX_RTMP_COMPLIANCE_AUDIT_HASH, NULL
    };

    json_object_foreach(rec->json, key, v) {
        if (json_is_object(v) || json_is_array(v) || json_is_real(v)) {
            ca_quote(name, sizeof(name), (const u_char *) key, strlen(key));
            snprintf(why, CA_WHY_LEN, "bad field: \"%s\" holds %s (record "
                     "fields are strings, integers, booleans or null)",
                     name, json_is_object(v) ? "an object"
                           : json_is_array(v) ? "an array" : "a fraction");
            return CA_REC_BAD;
        }
    }

    k = snprintf(why, CA_WHY_LEN, "missing fields:");
    n = 0;

    for (i = 0; required[i]; i++) {
        if (json_object_get(rec->json, required[i]) == NULL) {
            k += snprintf(why + k, CA_WHY_LEN - k, "%s \"%s\"",
                          n ? "," : "", required[i]);
            n++;
        }
    }

    if (n) {
        return CA_REC_MISSING;
    }

    v = json_object_get(rec->json, NGX_RTMP_COMPLIANCE_AUDIT_SEQ);
    seq = json_is_integer(v) ? json_integer_value(v) : 0;

    if (seq < 1) {
        snprintf(why, CA_WHY_LEN, "bad field: \"seq\" must be an integer "
                 ">= 1");
        return CA_REC_BAD;
    }

    rec->seq = seq;

    s = json_string_value(json_object_get(rec->json,
                                          NGX_RTMP_COMPLIANCE_AUDIT_TS));

    if (s == NULL || strlen(s) != CA_TS_LEN
        || ca_parse_ts((const u_char *) s, &rec->ts) != 0)
    {
        snprintf(why, CA_WHY_LEN, "bad field: \"ts\" must be a string "
                 "YYYY-MM-DDTHH:MM:SS.mmmZ");
        return CA_REC_BAD;
    }

    rec->event = ca_json_string(rec->json, NGX_RTMP_COMPLIANCE_AUDIT_EVENT,
                                &rec->event_len);
    rec->node = ca_json_string(rec->json, NGX_RTMP_COMPLIANCE_AUDIT_NODE,
                               &rec->node_len);

    if (rec->event == NULL || rec->event_len == 0) {
        snprintf(why, CA_WHY_LEN, "bad field: \"event\" must be a "
                 "non-empty string");
        return CA_REC_BAD;
    }

    if (rec->node == NULL) {
        snprintf(why, CA_WHY_LEN, "bad field: \"node\" must be a string");
        return CA_REC_BAD;
    }

    for (i = 0; i < 2; i++) {
        key = i ? NGX_RTMP_COMPLIANCE_AUDIT_HASH
                : NGX_RTMP_COMPLIANCE_AUDIT_PREV;
        v = json_object_get(rec->json, key);
        s = json_string_value(v);

        if (s == NULL || json_string_length(v) != CA_HEX_LEN
            || !ca_is_hex((const u_char *) s, CA_HEX_LEN))
        {
            snprintf(why, CA_WHY_LEN, "bad field: \"%s\" must be 64 "
                     "lowercase hex digits%s", key,
                     i ? "" : " (the writer's fault, not a broken link: a "
                              "writer only links a record to a hash; one "
                              "that turned the log on by a reload could "
                              "write such a prev before the module "
                              "refused that reload)");
            return CA_REC_BAD;
        }
    }

    return CA_REC_OK;
}


/*
 * The writer's byte layout: {"seq":N,"ts":"...","event":"...","node":"..."
 * first and ,"prev":"<hex>","hash":"<hex>"} last, no spaces: what the
 * hash is defined over.
 */

static ca_rec_e
ca_check_layout(const u_char *line, size_t len, ca_record_t *rec, char *why)
{
    int             n;
    char            digits[32];
    const u_char   *p, *end, *tail;

    end = line + len;
    p = line;

    n = snprintf(digits, sizeof(digits),
                 NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY "%lld"
                 NGX_RTMP_COMPLIANCE_AUDIT_TS_KEY, (long long) rec->seq);

    if (len < (size_t) n || memcmp(p, digits, n) != 0) {
        goto order;
    }

    p += n;

    if (end - p < CA_TS_LEN + 1 || p[CA_TS_LEN] != '"') {
        goto order;
    }

    rec->ts_text = p;
    p += CA_TS_LEN + 1;

    p = ca_skip_member(p, end, NGX_RTMP_COMPLIANCE_AUDIT_EVENT_KEY);

    if (p != NULL) {
        p = ca_skip_member(p, end, NGX_RTMP_COMPLIANCE_AUDIT_NODE_KEY);
    }

    if (p == NULL) {
        goto order;
    }

    if (len < CA_HASH_TAIL + CA_PREV_TAIL + (size_t) (p - line)) {
        goto order;
    }

    tail = end - CA_HASH_TAIL - CA_PREV_TAIL;

    if (memcmp(tail, NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY, CA_PREV_KEY_LEN)
        != 0
        || tail[CA_PREV_KEY_LEN + CA_HEX_LEN] != '"'
        || memcmp(tail + CA_PREV_TAIL, NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY,
                  CA_HASH_KEY_LEN) != 0
        || memcmp(end - CA_END_LEN, NGX_RTMP_COMPLIANCE_AUDIT_END,
                  CA_END_LEN) != 0)
    {
        goto order;
    }

    rec->prev = tail + CA_PREV_KEY_LEN;
    rec->hash = tail + CA_PREV_TAIL + CA_HASH_KEY_LEN;

    /* the bytes and the parsed values must agree */
    if (memcmp(rec->prev, json_string_value(json_object_get(rec->json,
                                            NGX_RTMP_COMPLIANCE_AUDIT_PREV)),
               CA_HEX_LEN) != 0
        || memcmp(rec->hash, json_string_value(json_object_get(rec->json,
                                            NGX_RTMP_COMPLIANCE_AUDIT_HASH)),
                  CA_HEX_LEN) != 0
        || memcmp(rec->ts_text, json_string_value(json_object_get(rec->json,
                                            NGX_RTMP_COMPLIANCE_AUDIT_TS)),
                  CA_TS_LEN) != 0)
    {
        goto order;
    }

    return CA_REC_OK;

order:

    snprintf(why, CA_WHY_LEN, "missing fields: not in the writer's layout "
             "(a record starts {\"seq\":N,\"ts\":..,\"event\":..,\"node\":.. "
             "and ends ,\"prev\":\"<64 hex>\",\"hash\":\"<64 hex>\"}, "
             "without spaces)");

    return CA_REC_MISSING;
}


/* a string member of o, NULL if there is none */

static const u_char *
ca_json_string(json_t *o, const char *key, size_t *len)
{
    json_t  *v;

    v = json_object_get(o, key);
    *len = json_string_length(v);

    return (const u_char *) json_string_value(v);
}


static void
ca_record_free(ca_record_t *rec)
{
    if (rec->json) {
        json_decref(rec->json);
        rec->json = NULL;
    }

    rec->nfields = 0;
}


static ca_link_e
ca_chain_link(ca_chain_t *c, ca_record_t *rec)
{
    int  zero;

    zero = (memcmp(rec->prev, ca_zero_hash, CA_HEX_LEN) == 0);

    if (!c->started) {
        if (rec->seq == 1) {
            return zero ? CA_LINK_OK : CA_LINK_GENESIS;
        }

        return zero ? CA_LINK_GENESIS : CA_LINK_ANCHOR;
    }

    if (c->seq == INT64_MAX || rec->seq <= c->seq) {
        return CA_LINK_BEHIND;
    }

    if (rec->seq > c->seq + 1) {
        return CA_LINK_AHEAD;
    }

    if (memcmp(rec->prev, c->hash, CA_HEX_LEN) != 0) {
        return CA_LINK_PREV;
    }

    return CA_LINK_OK;
}


static void
ca_chain_add(ca_chain_t *c, ca_record_t *rec, size_t seg, uint64_t line)
{
    c->started = 1;
    c->seq = rec->seq;
    memcpy(c->hash, rec->hash, CA_HEX_LEN);
    c->seg = seg;
    c->line = line;
}


/* why for a link error; CA_LINK_AHEAD is worded by the caller */

static void
ca_link_why(ca_chain_t *c, ca_record_t *rec, ca_link_e lk, char *why)
{
    switch (lk) {

    case CA_LINK_GENESIS:
        if (rec->seq == 1) {
            snprintf(why, CA_WHY_LEN, "chain broken: seq 1 must have "
                     "prev 000...0, has %.16s...", rec->prev);

        } else {
            snprintf(why, CA_WHY_LEN, "chain broken: seq %lld has a zero "
                     "prev, only seq 1 may (a restarted chain?)",
                     (long long) rec->seq);
        }

        break;

    case CA_LINK_BEHIND:
        snprintf(why, CA_WHY_LEN, "reordered: expected seq %lld, found "
                 "seq %lld, which comes earlier (a record moved or "
                 "replayed)", (long long) c->seq + 1, (long long) rec->seq);
        break;

    case CA_LINK_PREV:
        snprintf(why, CA_WHY_LEN, "chain broken: seq %lld has prev "
                 "%.16s..., the hash of seq %lld is %.16s... (a record "
                 "replaced, or another chain spliced in)",
                 (long long) rec->seq, rec->prev, (long long) c->seq,
                 c->hash);
        break;

    default:
        snprintf(why, CA_WHY_LEN, "chain broken");
        break;
    }
}


static int
ca_cmd_verify(int argc, char **argv)
{
    int              rc;
    char             why[CA_WHY_LEN];
    size_t           seg;
    uint64_t         line;
    ca_dir_t         dir;
    ca_opts_t        o;
    ca_link_e        lk;
    ca_walk_e        wr;
    ca_walk_t        w;
    ca_chain_t       chain;
    ca_stats_t       st;
    ca_record_t     *rec;
    ca_sign_t        sg;
    ca_evidence_t    ev;
    ca_witnesses_t   ws;
    struct timespec  t0;

    rc = ca_parse_opts("verify", CA_VERIFY, argc, argv, &o);

    if (rc != -1) {
        return rc;
    }

    rc = ca_verify_keys(&o, &sg, &ws);

    if (rc != CA_OK) {
        return rc;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);

    rc = ca_verify_open(&o, &ev, &dir);

    if (rc != CA_OK) {
        return rc;
    }

    memset(&chain, 0, sizeof(ca_chain_t));
    memset(&st, 0, sizeof(ca_stats_t));

    ca_walk_dir(&w, &dir, CA_TIME_MIN, CA_TIME_MAX);
    rec = &w.rec;

    rc = CA_OK;
    why[0] = '\0';

    while ((wr = ca_walk_record(&w, why)) != CA_WALK_END) {

        /* where the line is: the lookahead below moves the walk */
        seg = w.seg;
        line = w.r.line;

        rc = ca_verify_link(&w, wr, &dir, &chain, seg, line, &lk, why);

        if (rc == CA_USAGE) {
            goto done;
        }

        if (rc != CA_OK) {
            goto bad;
        }

        if (o.pubkey && ca_sign_note(&sg, rec, why) != 0) {
            goto bad;
        }

        if (o.nwitness && ca_witness_note(&ws, rec, why) != 0) {
            goto bad;
        }

        ca_verify_add(&dir, &chain, &st, lk, seg, line, rec);

        if (ca_evidence_note(&ev, rec) != 0) {
            rc = CA_USAGE;
            goto done;
        }
    }

    if (w.failed) {
        rc = CA_USAGE;
        goto done;
    }

    if (st.records == 0) {
        rc = ca_error(CA_FAIL, "no records in %zu segment(s) of \"%s\"",
                      dir.nsegs, dir.path);
        goto done;
    }

    if (!o.quiet) {
        st.empty = w.empty;
        st.first_empty = w.first_empty;

        ca_verify_summary(&dir, &chain, &st, &t0);
    }

    rc = ca_verify_evidence(&o, &sg, &ws, &chain, &st, &ev, dir.path);

    goto done;

bad:

    ca_verify_bad(&dir, seg, line, why, &chain, o.quiet);

    rc = CA_FAIL;

done:

    ca_walk_close(&w);
    ca_dir_free(&dir);
    ca_evidence_free(&ev);
    EVP_PKEY_free(sg.pub);
    free(ws.w);

    return rc;
}


/*
 * verify: the evidence files' list (with --tsa-ca) and the segments of
 * o->arg; CA_OK, or what failed, with nothing left to free
 */

static int
ca_verify_open(ca_opts_t *o, ca_evidence_t *ev, ca_dir_t *dir)
{
    int  rc;

    memset(ev, 0, sizeof(ca_evidence_t));
    ev->recordings = o->recordings;

    if (o->tsa_ca) {
        rc = ca_stamps_list(o->arg, ev, 0);

        if (rc != CA_OK) {
            ca_evidence_free(ev);
            return rc;
        }
    }

    rc = ca_dir_segments(o->arg, dir);

    if (rc != 0) {
        ca_evidence_free(ev);
        return rc;
    }

    return CA_OK;
}


/*
 * verify: the walk's line at SEG:LINE (wr) and how its record links to
 * the chain (*lk); CA_OK, CA_FAIL (why) where the chain is broken there,
 * or CA_USAGE
 */

static int
ca_verify_link(ca_walk_t *w, ca_walk_e wr, ca_dir_t *dir, ca_chain_t *chain,
    size_t seg, uint64_t line, ca_link_e *lk, char *why)
{
    if (wr == CA_WALK_DAMAGED) {
        if (w->rd == CA_READ_LONG) {
            snprintf(why, CA_WHY_LEN, "not JSON: a line longer than %d "
                     "bytes (no record is)", CA_LINE_MAX);

        } else if (w->rd == CA_READ_PARTIAL) {
            snprintf(why, CA_WHY_LEN, "truncated: the last line has no "
                     "newline (%zu bytes; %s): a torn write or a cut file",
                     w->len,
                     w->rr == CA_REC_OK ? "a whole record, not terminated"
                                        : "a partial record");
        }

        return CA_FAIL;
    }

    *lk = ca_chain_link(chain, &w->rec);

    if (*lk == CA_LINK_AHEAD) {
        if (ca_ahead_why(w, dir, chain, seg, line, why) != CA_OK) {
            return CA_USAGE;
        }

        return CA_FAIL;
    }

    if (*lk != CA_LINK_OK && *lk != CA_LINK_ANCHOR) {
        ca_link_why(chain, &w->rec, *lk, why);
        return CA_FAIL;
    }

    return CA_OK;
}


/*
 * why for CA_LINK_AHEAD, the record at SEG:LINE (w->rec) after the one
 * expected: moved further on (found by a lookahead, which moves the walk)
 * or deleted; CA_OK, or CA_USAGE where the lookahead could not read
 */

static int
ca_ahead_why(ca_walk_t *w, ca_dir_t *dir, ca_chain_t *chain, size_t seg,
    uint64_t line, char *why)
{
    int           found;
    size_t        fseg;
    uint64_t      fline;
    ca_record_t  *rec;

    rec = &w->rec;

    found = ca_walk_find_seq(w, chain->seq + 1, &fseg, &fline);

    if (found == -1) {
        return CA_USAGE;
    }

    if (found) {
        snprintf(why, CA_WHY_LEN, "reordered: expected seq %lld, found seq "
                 "%lld; seq %lld is further on, at %s:%llu",
                 (long long) chain->seq + 1, (long long) rec->seq,
                 (long long) chain->seq + 1, ca_path(dir, fseg),
                 (unsigned long long) fline);

    } else if (line == 1 && chain->seg != seg) {
        snprintf(why, CA_WHY_LEN, "deleted: expected seq %lld, found seq "
                 "%lld at the start of the segment; %s ends at seq %lld: "
                 "%lld record(s) missing between the segments (a whole "
                 "segment or records at the boundary removed)",
                 (long long) chain->seq + 1, (long long) rec->seq,
                 dir->segs[chain->seg].name, (long long) chain->seq,
                 (long long) (rec->seq - chain->seq - 1));

    } else {
        snprintf(why, CA_WHY_LEN, "deleted: expected seq %lld, found seq "
                 "%lld: %lld record(s) missing",
                 (long long) chain->seq + 1, (long long) rec->seq,
                 (long long) (rec->seq - chain->seq - 1));
    }

    return CA_OK;
}


/*
 * verify: a record that links, into the statistics (where the chain
 * starts, at its first record or an anchor, too) and onto the chain
 */

static void
ca_verify_add(ca_dir_t *dir, ca_chain_t *chain, ca_stats_t *st,
    ca_link_e lk, size_t seg, uint64_t line, ca_record_t *rec)
{
    if (lk == CA_LINK_ANCHOR || !chain->started) {
        st->first_seq = rec->seq;
        st->first_ts = rec->ts;
        st->first_seg = seg;
        memcpy(st->first_prev, rec->prev, CA_HEX_LEN);
    }

    ca_verify_note(dir, seg, line, rec, st);
    ca_chain_add(chain, rec, seg, line);
    st->last_ts = rec->ts;
    st->records++;
}


/*
 * verify: the evidence beyond the chain, once the chain is whole; the
 * worst of what each says
 */

static int
ca_verify_evidence(ca_opts_t *o, ca_sign_t *sg, ca_witnesses_t *ws,
    ca_chain_t *chain, ca_stats_t *st, ca_evidence_t *ev, const char *path)
{
    int  rc, found;

    rc = CA_OK;

    if (o->pubkey) {
        rc = ca_sign_done(sg, o->quiet);
    }

    if (o->nwitness) {
        found = ca_witness_done(ws, chain, st, o->quiet);
        rc = rc > found ? rc : found;
    }

    if (o->recordings) {
        found = ca_check_recordings(ev, o->quiet);
        rc = rc > found ? rc : found;
    }

    if (o->tsa_ca) {
        found = ca_check_stamps(ev, path, o->tsa_ca, o->quiet);
        rc = rc > found ? rc : found;
    }

    return rc;
}


/* verify: the first bad place, and how far the chain was whole */

static void
ca_verify_bad(ca_dir_t *dir, size_t seg, uint64_t line, const char *why,
    ca_chain_t *chain, int quiet)
{
    char  at[CA_WHY_LEN];

    fprintf(stderr, "%s:%llu: %s\n", ca_path(dir, seg),
            (unsigned long long) line, why);

    if (quiet) {
        return;
    }

    if (chain->started) {
        snprintf(at, sizeof(at), "%s:%llu", ca_path(dir, chain->seg),
                 (unsigned long long) chain->line);
        fprintf(stderr, CA_PROG ": the chain is whole up to seq %lld "
                "(%s, hash %.64s); nothing after the first bad place was "
                "checked\n", (long long) chain->seq, at, chain->hash);

    } else {
        fprintf(stderr, CA_PROG ": no record before it could be "
                "verified\n");
    }
}


/* verify --pubkey and --witness: the key, the witnesses; CA_OK or not */

static int
ca_verify_keys(ca_opts_t *o, ca_sign_t *sg, ca_witnesses_t *ws)
{
    int  rc;

    memset(sg, 0, sizeof(ca_sign_t));
    memset(ws, 0, sizeof(ca_witnesses_t));

    if (o->nwitness && o->pubkey == NULL) {
        return ca_usage_error("verify: --witness needs --pubkey (the public "
                              "key of DIR's node)");
    }

    if (o->pubkey && ca_sign_open(sg, o->pubkey) != CA_OK) {
        return CA_USAGE;
    }

    if (o->nwitness) {
        rc = ca_witness_load(ws, sg, o->witness, o->nwitness);

        if (rc != CA_OK) {
            EVP_PKEY_free(sg->pub);
            free(ws->w);
            return rc;
        }
    }

    return CA_OK;
}


static void
ca_verify_note(ca_dir_t *dir, size_t seg, uint64_t line, ca_record_t *rec,
    ca_stats_t *st)
{
    int      e;
    char     a[CA_QUOTE_LEN], b[CA_QUOTE_LEN];
    size_t   n;
    int64_t  v;

    e = ca_event_index(rec->event, rec->event_len);

    if (e >= 0) {
        st->events[e]++;

    } else {
        st->other_events++;
    }

    if (rec->ts < dir->segs[seg].start || rec->ts >= dir->segs[seg].end) {
        if (st->outside++ == 0) {
            snprintf(st->outside_at, CA_WHY_LEN, "%s:%llu",
                     dir->segs[seg].name, (unsigned long long) line);
        }
    }

    if (ca_span_is(rec->event, rec->event_len,
                   NGX_RTMP_COMPLIANCE_AUDIT_EV_GAP))
    {
        if (st->gaps++ == 0) {
            snprintf(st->gap_at, CA_WHY_LEN, "%s:%llu", dir->segs[seg].name,
                     (unsigned long long) line);
        }

        if (ca_rec_int(rec, "lost", &v) == 0 && v > 0
            && st->lost < INT64_MAX - v)
        {
            st->lost += v;
        }
    }

    if (ca_span_is(rec->event, rec->event_len,
                   NGX_RTMP_COMPLIANCE_AUDIT_EV_START)
        && ca_rec_int(rec, "recovered_bytes", &v) == 0 && v > 0)
    {
        st->recoveries++;

        if (st->recovered < INT64_MAX - v) {
            st->recovered += v;
        }
    }

    n = rec->node_len < CA_NODE_MAX ? rec->node_len : CA_NODE_MAX;

    if (st->records > 0
        && (st->node_len != rec->node_len || memcmp(st->node, rec->node, n)))
    {
        if (st->node_change[0] == '\0') {
            ca_quote(a, sizeof(a), st->node,
                     st->node_len < CA_NODE_MAX ? st->node_len
                                                : CA_NODE_MAX);
            ca_quote(b, sizeof(b), rec->node, n);
            snprintf(st->node_change, CA_WHY_LEN, "node changes from \"%s\" "
                     "to \"%s\" at %s:%llu", a, b, dir->segs[seg].name,
                     (unsigned long long) line);
        }

    } else if (st->records > 0) {
        return;
    }

    memcpy(st->node, rec->node, n);
    st->node_len = rec->node_len;
}


static void
ca_verify_summary(ca_dir_t *dir, ca_chain_t *c, ca_stats_t *st,
    struct timespec *t0)
{
    int              i, n;
    char             ts1[CA_TS_BUF], ts2[CA_TS_BUF], node[CA_QUOTE_LEN];
    double           secs;
    struct timespec  t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;

    ca_format_ts(st->first_ts, ts1);
    ca_format_ts(st->last_ts, ts2);

    printf("verified:   %s\n", dir->path);
    printf("segments:   %zu (%s .. %s)\n", dir->nsegs, dir->segs[0].name,
           dir->segs[dir->nsegs - 1].name);
    printf("records:    %llu (seq %lld .. %lld)\n",
           (unsigned long long) st->records, (long long) st->first_seq,
           (long long) c->seq);
    printf("first:      %s\n", ts1);
    printf("last:       %s\n", ts2);
    ca_quote(node, sizeof(node), st->node,
             st->node_len < CA_NODE_MAX ? st->node_len : CA_NODE_MAX);
    printf("node:       %s\n", node);
    printf("final hash: %.64s\n", c->hash);

    if (st->first_seq == 1) {
        printf("anchor:     the chain starts at seq 1 (prev 000...0)\n");

    } else {
        printf("anchor:     chain starts at seq %lld after pruned segments, "
               "prev %.64s\n", (long long) st->first_seq, st->first_prev);
        ca_anchor_note(dir, st);
    }

    printf("events:    ");

    for (i = 0, n = 0; ca_events[i].name; i++) {
        if (st->events[i]) {
            printf("%s %s %llu", n++ ? "," : "", ca_events[i].name,
                   (unsigned long long) st->events[i]);
        }
    }

    if (st->other_events) {
        printf("%s other %llu", n ? "," : "",
               (unsigned long long) st->other_events);
    }

    printf("\n");

    if (st->gaps) {
        printf("note:       %llu audit.gap record(s) (first at %s): %lld "
               "event(s) were not logged while the directory was "
               "unwritable\n", (unsigned long long) st->gaps, st->gap_at,
               (long long) st->lost);
    }

    if (st->recoveries) {
        printf("note:       %llu restart(s) cut a torn last record "
               "(recovered_bytes, %lld bytes in all)\n",
               (unsigned long long) st->recoveries,
               (long long) st->recovered);
    }

    if (st->empty) {
        printf("note:       %zu empty segment(s), the first %s\n",
               st->empty, dir->segs[st->first_empty].name);
    }

    if (st->outside) {
        printf("note:       %llu record(s) have a ts outside their "
               "segment's period (the first at %s); query by time may "
               "miss them\n", (unsigned long long) st->outside,
               st->outside_at);
    }

    if (st->node_change[0]) {
        printf("note:       %s\n", st->node_change);
    }

    printf("speed:      %llu records in %.3f s (%.0f records/s)\n",
           (unsigned long long) st->records, secs,
           secs > 0 ? st->records / secs : 0.0);
}


/* does DIR/prune.log record the pruning that the anchor implies? */

static void
ca_anchor_note(ca_dir_t *dir, ca_stats_t *st)
{
    int           found;
    char          path[PATH_MAX + 32];
    json_t       *j, *seq, *hash;
    ca_read_e     rd;
    ca_walk_t     w;
    struct stat   sb;

    snprintf(path, sizeof(path), "%s/" CA_PRUNE_LOG, dir->path);

    if (stat(path, &sb) != 0) {
        printf("warning:    there is no " CA_PRUNE_LOG " in the directory: "
               "if no segments were pruned, records 1 .. %lld are "
               "missing\n", (long long) st->first_seq - 1);
        return;
    }

    if (ca_walk_file(&w, path) != 0) {
        ca_walk_close(&w);
        return;
    }

    found = 0;

    for ( ;; ) {
        rd = ca_walk_line(&w);

        if (rd == CA_READ_LONG) {
            continue;
        }

        if (rd != CA_READ_LINE && rd != CA_READ_PARTIAL) {
            break;
        }

        j = json_loadb((const char *) w.line, w.len, 0, NULL);

        if (j == NULL) {
            continue;
        }

        seq = json_object_get(j, "last_seq");
        hash = json_object_get(j, "last_hash");

        if (json_is_integer(seq) && json_is_string(hash)
            && json_integer_value(seq) == st->first_seq - 1
            && json_string_length(hash) == CA_HEX_LEN
            && memcmp(json_string_value(hash), st->first_prev, CA_HEX_LEN)
               == 0)
        {
            found = 1;
        }

        json_decref(j);

        if (found || rd == CA_READ_PARTIAL) {
            break;
        }
    }

    ca_walk_close(&w);

    if (found) {
        printf("            (matches the last pruned record in "
               CA_PRUNE_LOG ")\n");

    } else {
        printf("warning:    " CA_PRUNE_LOG " has no pruned segment ending "
               "at seq %lld with that hash: the segments before were "
               "removed some other way\n", (long long) st->first_seq - 1);
    }
}


/* the parsed record; the fast path parses it only when it is shown */

static json_t *
ca_rec_json(ca_record_t *rec)
{
    if (rec->json == NULL) {
        rec->json = json_loadb((const char *) rec->line, rec->len,
                               JSON_REJECT_DUPLICATES, NULL);
    }

    return rec->json;
}


static ca_field_t *
ca_rec_field(ca_record_t *rec, const char *key)
{
    size_t  i, n;

    n = strlen(key);

    for (i = 0; i < rec->nfields; i++) {
        if (rec->fields[i].key_len == n
            && memcmp(rec->fields[i].key, key, n) == 0)
        {
            return &rec->fields[i];
        }
    }

    return NULL;
}


/* the string field key is [prefix:]want */

static int
ca_rec_str_eq(ca_record_t *rec, const char *key, const char *prefix,
    const char *want)
{
    size_t         pn, wn, n;
    json_t        *j, *v;
    ca_field_t    *f;
    const u_char  *p;

    pn = prefix ? strlen(prefix) + 1 : 0;
    wn = strlen(want);

    if (rec->nfields) {
        f = ca_rec_field(rec, key);

        if (f == NULL || f->type != CA_T_STRING) {
            return 0;
        }

        if (!f->escaped) {
            p = f->val;
            n = f->val_len;
            goto compare;
        }
    }

    j = ca_rec_json(rec);
    v = json_object_get(j, key);

    if (!json_is_string(v)) {
        return 0;
    }

    p = (const u_char *) json_string_value(v);
    n = json_string_length(v);

compare:

    return n == pn + wn
           && (pn == 0 || (memcmp(p, prefix, pn - 1) == 0
                           && p[pn - 1] == ':'))
           && memcmp(p + pn, want, wn) == 0;
}


static int
ca_rec_int(ca_record_t *rec, const char *key, int64_t *v)
{
    json_t      *j;
    ca_field_t  *f;

    if (rec->nfields) {
        f = ca_rec_field(rec, key);

        if (f == NULL || f->type != CA_T_INT) {
            return -1;
        }

        if (f->val[0] == '-') {
            if (ca_digits(f->val + 1, f->val_len - 1, v) != 0) {
                return -1;
            }

            *v = -*v;
            return 0;
        }

        return ca_digits(f->val, f->val_len, v);
    }

    j = json_object_get(ca_rec_json(rec), key);

    if (!json_is_integer(j)) {
        return -1;
    }

    *v = json_integer_value(j);

    return 0;
}


static int
ca_span_is(const u_char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}


/* field == want, or (for orders) target == prefix:want */

static int
ca_subject_match(ca_record_t *rec, const char *field, const char *prefix,
    const char *want)
{
    return ca_rec_str_eq(rec, field, NULL, want)
           || (prefix != NULL && ca_rec_str_eq(rec, "target", prefix, want));
}


/* the module writes session ids as integers, other writers as strings */

static int
ca_session_match(ca_record_t *rec, const char *want)
{
    char     *end;
    int64_t   v;
    long long n;

    if (ca_rec_str_eq(rec, "session", NULL, want)) {
        return 1;
    }

    errno = 0;
    n = strtoll(want, &end, 10);

    if (errno || end == want || *end != '\0') {
        return 0;
    }

    return ca_rec_int(rec, "session", &v) == 0 && v == (int64_t) n;
}


static int
ca_event_index(const u_char *event, size_t len)
{
    int  i;

    for (i = 0; ca_events[i].name; i++) {
        if (ca_events[i].named && ca_span_is(event, len, ca_events[i].name))
        {
            return i;
        }
    }

    return -1;
}


static int
ca_parse_events(const char *list, unsigned *mask, int *all)
{
    int          i;
    char         name[64];
    size_t       n;
    const char  *p, *comma;

    *mask = 0;
    *all = 0;

    for (p = list; ; p = comma + 1) {
        comma = strchr(p, ',');
        n = comma ? (size_t) (comma - p) : strlen(p);

        if (n == 0 || n >= sizeof(name)) {
            return ca_usage_error("query: invalid --event \"%s\"", list);
        }

        memcpy(name, p, n);
        name[n] = '\0';

        if (strcmp(name, "all") == 0) {
            *all = 1;

        } else {
            i = ca_event_index((u_char *) name, n);

            if (i < 0) {
                return ca_usage_error("query: unknown event \"%s\" (known:"
                               NGX_RTMP_COMPLIANCE_AUDIT_EVENTS(CA_KNOWN)
                               ", or all)", name);
            }

            *mask |= 1u << i;
        }

        if (comma == NULL) {
            break;
        }
    }

    return -1;
}


#define CA_COL_TS       26
#define CA_COL_EVENT    16
#define CA_COL_ROOM     22
#define CA_COL_HOST     14
#define CA_COL_PERSON   34
#define CA_COL_ADDR     23
#define CA_COL_SESSION  14


static void
ca_query_header(FILE *f)
{
    fprintf(f, "%-*s%-*s%-*s%-*s%-*s%-*s%-*s%s\n",
            CA_COL_TS, "TS", CA_COL_EVENT, "EVENT", CA_COL_ROOM, "APP/ROOM",
            CA_COL_HOST, "HOST", CA_COL_PERSON, "PERSON", CA_COL_ADDR,
            "ADDR", CA_COL_SESSION, "SESSION", "EXTRA");
}


static void
ca_query_row(FILE *f, ca_record_t *rec)
{
    size_t   w;
    json_t  *j;

    j = ca_rec_json(rec);

    w = ca_put_text(f, rec->ts_text, CA_TS_LEN);
    ca_pad(f, w, CA_COL_TS);

    w = ca_put_text(f, rec->event, rec->event_len);
    ca_pad(f, w, CA_COL_EVENT);

    w = ca_put_field(f, j, "app");
    putc('/', f);
    w += 1 + ca_put_field(f, j, "room");
    ca_pad(f, w, CA_COL_ROOM);

    w = ca_put_field(f, j, "host");
    ca_pad(f, w, CA_COL_HOST);

    w = ca_put_field(f, j, "person");
    ca_pad(f, w, CA_COL_PERSON);

    w = ca_put_field(f, j, "addr");
    ca_pad(f, w, CA_COL_ADDR);

    w = ca_put_field(f, j, "session");
    ca_pad(f, w, CA_COL_SESSION);

    ca_put_extra(f, rec, j);

    putc('\n', f);
}


static size_t
ca_put_value(FILE *f, json_t *v)
{
    int         n;
    const char *s;

    if (v == NULL || json_is_null(v)) {
        putc('-', f);
        return 1;
    }

    if (json_is_string(v)) {
        s = json_string_value(v);

        if (s[0] == '\0') {
            fputs("\"\"", f);
            return 2;
        }

        return ca_put_text(f, (const u_char *) s, json_string_length(v));
    }

    if (json_is_integer(v)) {
        n = fprintf(f, "%lld", (long long) json_integer_value(v));
        return n > 0 ? (size_t) n : 0;
    }

    if (json_is_true(v)) {
        fputs("true", f);
        return 4;
    }

    if (json_is_false(v)) {
        fputs("false", f);
        return 5;
    }

    putc('?', f);
    return 1;
}


static size_t
ca_put_field(FILE *f, json_t *o, const char *key)
{
    return ca_put_value(f, json_object_get(o, key));
}


/* reason for rejections, duration and why for ends, and so on */

static void
ca_put_extra(FILE *f, ca_record_t *rec, json_t *j)
{
    size_t           i, k, n;
    json_t          *v;
    json_int_t       ms;
    const u_char    *e;

    /* the other events' EXTRA: {name} stands for the field's value */
    static const struct {
        const char  *event;
        unsigned     prefix;    /* of the events' names, "order." */
        const char  *extra;
    } extras[] = {
        { NGX_RTMP_COMPLIANCE_AUDIT_EV_ORDER, 1,
          "{action} {target} order={order} until={until} reason={reason}" },
        { NGX_RTMP_COMPLIANCE_AUDIT_EV_WARN_SENT, 0, "order={order}" },
        { NGX_RTMP_COMPLIANCE_AUDIT_EV_SESSION_REFRESH, 0,
          "old_jti={old_jti} jti={jti} exp={exp}" },
        { NGX_RTMP_COMPLIANCE_AUDIT_EV_RECORD_DONE, 0, "{path} size={size}" },
        { NGX_RTMP_COMPLIANCE_AUDIT_EV_GAP, 0, "lost={lost}" },
        { NGX_RTMP_COMPLIANCE_AUDIT_EV_START, 0, "pid={pid}" },
        { NULL, 0, NULL }
    };

    e = rec->event;
    n = rec->event_len;

    if (ca_span_is(e, n, NGX_RTMP_COMPLIANCE_AUDIT_EV_PUBLISH_REJECT)
        || ca_span_is(e, n, NGX_RTMP_COMPLIANCE_AUDIT_EV_PLAY_REJECT))
    {
        ca_put_field(f, j, "reason");

        if (json_object_get(j, "detail")) {
            ca_put_template(f, j, ": {detail}");
        }

        return;
    }

    if (ca_span_is(e, n, NGX_RTMP_COMPLIANCE_AUDIT_EV_SESSION_END)) {
        ca_put_field(f, j, "kind");

        v = json_object_get(j, "duration_ms");

        if (json_is_integer(v)) {
            ms = json_integer_value(v);
            fprintf(f, " %lld.%03llds", (long long) (ms / 1000),
                    (long long) (ms < 0 ? -(ms % 1000) : ms % 1000));
        }

        ca_put_template(f, j, " {why} in={bytes_in} out={bytes_out}");
        return;
    }

    if (ca_span_is(e, n, NGX_RTMP_COMPLIANCE_AUDIT_EV_PUBLISH_ACCEPT)
        || ca_span_is(e, n, NGX_RTMP_COMPLIANCE_AUDIT_EV_PLAY_ACCEPT))
    {
        ca_put_template(f, j, "tier={tier}");

        if (json_is_true(json_object_get(j, "ai"))) {
            fputs(" ai", f);
        }

        return;
    }

    for (i = 0; extras[i].event; i++) {
        k = strlen(extras[i].event);

        if (extras[i].prefix ? (n > k && memcmp(e, extras[i].event, k) == 0)
                             : ca_span_is(e, n, extras[i].event))
        {
            ca_put_template(f, j, extras[i].extra);
            return;
        }
    }
}


/* text as it is, but {name}: the value of j's field name */

static void
ca_put_template(FILE *f, json_t *j, const char *text)
{
    char         key[32];
    size_t       n;
    const char  *p, *end;

    for (p = text; *p; p++) {
        end = (*p == '{') ? strchr(p, '}') : NULL;
        n = end ? (size_t) (end - p - 1) : 0;

        if (end == NULL || n >= sizeof(key)) {
            putc(*p, f);
            continue;
        }

        memcpy(key, p + 1, n);
        key[n] = '\0';

        ca_put_field(f, j, key);
        p = end;
    }
}


/* --event of query, or the events shown by default; -1: done */

static int
ca_query_events(const char *arg, unsigned *mask, int *all)
{
    size_t  i;

    *mask = 0;
    *all = 0;

    if (arg) {
        return ca_parse_events(arg, mask, all);
    }

    for (i = 0; ca_events[i].name; i++) {
        if (ca_events[i].dflt) {
            *mask |= 1u << i;
        }
    }

    return -1;
}


/*
 * a damaged line that query met, said on stderr; 1: an edited record that
 * still parses, shown as a warning
 */

static int
ca_query_damaged(ca_walk_t *w, ca_dir_t *dir, const char *why)
{
    char          scratch[CA_WHY_LEN];
    ca_record_t  *rec;

    rec = &w->rec;

    if (w->rd == CA_READ_LONG) {
        fprintf(stderr, "%s:%llu: skipped: a line longer than %d bytes\n",
                ca_path(dir, w->seg), (unsigned long long) w->r.line,
                CA_LINE_MAX);
        return 0;
    }

    if (w->rr == CA_REC_EDITED) {
        /* the hash failed; show the record if it still parses */
        if (ca_parse_fields(w->line, w->len, rec, scratch) != CA_REC_OK) {
            rec->ts_text = NULL;
        }
    }

    fprintf(stderr, "%s:%llu: %s: %s\n", ca_path(dir, w->seg),
            (unsigned long long) w->r.line,
            w->rr == CA_REC_EDITED ? "warning" : "skipped",
            w->rd == CA_READ_PARTIAL && w->rr == CA_REC_OK
            ? CA_WHY_TORN : why);

    return w->rr == CA_REC_EDITED && rec->ts_text != NULL;
}


/* a record of the range that query's event and subject options take */

static int
ca_query_match(ca_opts_t *o, ca_record_t *rec, unsigned mask, int all)
{
    int  e;

    e = ca_event_index(rec->event, rec->event_len);

    if (!all && (e < 0 || !(mask & (1u << e)))) {
        return 0;
    }

    return !((o->room && !ca_subject_match(rec, "room", "room", o->room))
             || (o->app && !ca_subject_match(rec, "app", NULL, o->app))
             || (o->host && !ca_subject_match(rec, "host", "host", o->host))
             || (o->person && !ca_subject_match(rec, "person", "person",
                                                o->person))
             || (o->session && !ca_session_match(rec, o->session)));
}


static int
ca_cmd_query(int argc, char **argv)
{
    int           rc, all;
    char          why[CA_WHY_LEN];
    int64_t       from, to;
    uint64_t      matched, damaged;
    unsigned      mask;
    ca_dir_t      dir;
    ca_opts_t     o;
    ca_walk_e     wr;
    ca_walk_t     w;
    ca_record_t  *rec;

    rc = ca_parse_opts("query", CA_QUERY, argc, argv, &o);

    if (rc != -1) {
        return rc;
    }

    if (o.room == NULL && o.host == NULL && o.person == NULL
        && o.session == NULL)
    {
        return ca_usage_error("query: --room R is required (or --host, "
                              "--person, --session)");
    }

    rc = ca_parse_range(&o, &from, &to);

    if (rc != -1) {
        return rc;
    }

    rc = ca_query_events(o.event, &mask, &all);

    if (rc != -1) {
        return rc;
    }

    rc = ca_dir_segments(o.arg, &dir);

    if (rc != 0) {
        return rc;
    }

    ca_walk_dir(&w, &dir, from, to);
    rec = &w.rec;

    rc = CA_OK;
    matched = 0;
    damaged = 0;

    if (!o.json) {
        ca_query_header(stdout);
    }

    while ((wr = ca_walk_record(&w, why)) != CA_WALK_END) {

        if (wr == CA_WALK_DAMAGED) {
            damaged++;

            if (!ca_query_damaged(&w, &dir, why)) {
                continue;
            }
        }

        if (rec->ts < from || rec->ts >= to
            || !ca_query_match(&o, rec, mask, all))
        {
            continue;
        }

        matched++;

        if (o.json) {
            fwrite(w.line, 1, w.len, stdout);
            putc('\n', stdout);

        } else {
            ca_query_row(stdout, rec);
        }
    }

    if (w.failed) {
        rc = CA_USAGE;
        goto done;
    }

    if (!o.json) {
        printf("%llu record(s); %zu of %zu segment(s) opened\n",
               (unsigned long long) matched, w.opened, dir.nsegs);
    }

    if (damaged) {
        ca_error(CA_FAIL, "%llu damaged line(s) in the segments read; run "
                 "\"" CA_PROG " verify\"", (unsigned long long) damaged);
        rc = CA_FAIL;
    }

done:

    ca_walk_close(&w);
    ca_dir_free(&dir);

    return rc;
}


/* first and last record of a segment, its size; -1 on I/O error */

static int
ca_scan_segment(const char *path, int64_t *first_seq, int64_t *last_seq,
    u_char *last_hash, uint64_t *records, uint64_t *damaged, off_t *bytes)
{
    char       why[CA_WHY_LEN];
    ca_walk_e  wr;
    ca_walk_t  w;

    *first_seq = 0;
    *last_seq = 0;
    *records = 0;
    *damaged = 0;
    memcpy(last_hash, ca_zero_hash, CA_HEX_LEN);

    if (ca_walk_file(&w, path) != 0) {
        ca_walk_close(&w);
        return -1;
    }

    *bytes = w.r.size;

    while ((wr = ca_walk_record(&w, why)) != CA_WALK_END) {

        if (wr == CA_WALK_DAMAGED) {
            (*damaged)++;
            continue;
        }

        if (*records == 0) {
            *first_seq = w.rec.seq;
        }

        *last_seq = w.rec.seq;
        memcpy(last_hash, w.rec.hash, CA_HEX_LEN);
        (*records)++;
    }

    ca_walk_close(&w);

    return w.failed ? -1 : 0;
}


static int
ca_write_all(int fd, const void *buf, size_t len)
{
    ssize_t        n;
    const u_char  *p;

    p = buf;

    while (len > 0) {
        n = write(fd, p, len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            return -1;
        }

        p += n;
        len -= n;
    }

    return 0;
}


/* appends one line to a log and makes it durable before returning */

static int
ca_append_line(const char *path, const char *line, size_t len)
{
    int  fd, err;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
              0640);

    if (fd == -1) {
        return -1;
    }

    if (ca_write_all(fd, line, len) != 0 || fsync(fd) != 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }

    return close(fd);
}


static int
ca_fsync_dir(const char *path)
{
    int  fd, rc;

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd == -1) {
        return -1;
    }

    rc = fsync(fd);
    close(fd);

    return rc;
}


/* what prune says of a segment it prunes or would */

static void
ca_prune_said(const char *verb, ca_pruned_t *g)
{
    printf("%s %s: seq %lld .. %lld, %llu record(s), last hash %.64s, "
           "period ended %s\n", verb, g->name, (long long) g->first_seq,
           (long long) g->last_seq, (unsigned long long) g->records,
           g->last_hash, g->end_ts);
}


/* a segment is pruned: on record in the prune log first, then deleted */

static int
ca_prune_segment(const char *logpath, const char *now_ts, int64_t days,
    ca_pruned_t *g)
{
    char    entry[1024];
    size_t  n;

    n = snprintf(entry, sizeof(entry),
                 "{\"pruned_at\":\"%s\",\"segment\":\"%s\","
                 "\"first_seq\":%lld,\"last_seq\":%lld,"
                 "\"records\":%llu,\"last_hash\":\"%.64s\","
                 "\"bytes\":%lld,\"damaged_lines\":%llu,"
                 "\"period_end\":\"%s\",\"retention_days\":%lld}\n",
                 now_ts, g->name, (long long) g->first_seq,
                 (long long) g->last_seq, (unsigned long long) g->records,
                 g->last_hash, (long long) g->bytes,
                 (unsigned long long) g->damaged, g->end_ts,
                 (long long) days);

    if (n >= sizeof(entry)) {
        return ca_error(CA_USAGE, "prune: internal error");
    }

    if (ca_append_line(logpath, entry, n) != 0) {
        return ca_error(CA_USAGE, "prune: cannot append to \"%s\": %s; "
                        "nothing deleted", logpath, strerror(errno));
    }

    if (unlink(g->path) != 0) {
        return ca_error(CA_USAGE, "prune: cannot delete \"%s\": %s",
                        g->path, strerror(errno));
    }

    ca_prune_said("pruned", g);

    if (g->damaged) {
        fprintf(stderr, CA_PROG ": prune: %s had %llu damaged line(s)\n",
                g->name, (unsigned long long) g->damaged);
    }

    return CA_OK;
}


/* --retention of prune: 3 years at the least, 100 at the most */

static int
ca_prune_retention(const char *arg, int64_t *days)
{
    if (arg == NULL) {
        return ca_usage_error("prune: --retention is required (3y at "
                              "least)");
    }

    if (ca_parse_retention(arg, days) != 0) {
        return ca_usage_error("prune: invalid --retention \"%s\" (Nd or "
                              "Ny, e.g. 3y or 1100d)", arg);
    }

    if (*days < CA_RETENTION_MIN) {
        return ca_error(CA_USAGE, "prune: refusing --retention %s: the "
                        "audit log must be kept at least 3 years (3y = %dd)",
                        arg, CA_RETENTION_MIN);
    }

    if (*days > CA_RETENTION_MAX) {
        return ca_usage_error("prune: --retention %s is over 100 years",
                              arg);
    }

    return CA_OK;
}


static int
ca_cmd_prune(int argc, char **argv)
{
    int           rc;
    char          now_ts[CA_TS_BUF], logpath[PATH_MAX + 32];
    size_t        i, pruned;
    int64_t       days, now, unit, retention_ms;
    off_t         total;
    ca_dir_t      dir;
    ca_opts_t     o;
    ca_pruned_t   g;
    struct stat   sb;

    rc = ca_parse_opts("prune", CA_PRUNE, argc, argv, &o);

    if (rc != -1) {
        return rc;
    }

    days = 0;
    rc = ca_prune_retention(o.retention, &days);

    if (rc != CA_OK) {
        return rc;
    }

    retention_ms = days * CA_MS_DAY;

    if (o.now) {
        if (ca_parse_time(o.now, &now, &unit) != 0) {
            return ca_usage_error("prune: invalid --now \"%s\"", o.now);
        }

    } else {
        now = (int64_t) time(NULL) * 1000;
    }

    ca_format_ts(now, now_ts);

    if (ca_dir_open(o.arg, &dir) != 0) {
        ca_dir_free(&dir);
        return CA_USAGE;
    }

    snprintf(logpath, sizeof(logpath), "%s/" CA_PRUNE_LOG, dir.path);

    rc = CA_OK;
    pruned = 0;
    total = 0;

    /* the newest segment stays: the writer continues the chain from it */

    for (i = 0; i + 1 < dir.nsegs; i++) {

        if (now - dir.segs[i].end <= retention_ms) {
            break;
        }

        g.path = ca_path(&dir, i);
        g.name = dir.segs[i].name;

        if (lstat(g.path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            fprintf(stderr, CA_PROG ": prune: skipping \"%s\": not a "
                    "regular file\n", g.path);
            continue;
        }

        if (ca_scan_segment(g.path, &g.first_seq, &g.last_seq, g.last_hash,
                            &g.records, &g.damaged, &g.bytes) != 0)
        {
            rc = CA_USAGE;
            break;
        }

        ca_format_ts(dir.segs[i].end, g.end_ts);

        if (o.dry_run) {
            ca_prune_said("would prune", &g);

        } else {
            rc = ca_prune_segment(logpath, now_ts, days, &g);

            if (rc != CA_OK) {
                break;
            }
        }

        pruned++;
        total += g.bytes;
    }

    if (pruned && !o.dry_run && ca_fsync_dir(dir.path) != 0) {
        rc = ca_error(CA_USAGE, "prune: fsync of \"%s\": %s", dir.path,
                      strerror(errno));
    }

    if (rc == CA_OK) {
        printf("%s %zu segment(s), %lld bytes; %zu kept (retention %lld "
               "days, now %s)\n", o.dry_run ? "would prune" : "pruned",
               pruned, (long long) total, dir.nsegs - pruned,
               (long long) days, now_ts);
    }

    ca_dir_free(&dir);

    return rc;
}


static int
ca_cmd_seal(int argc, char **argv)
{
    int          rc;
    char        *header;
    size_t       i, n;
    ca_dir_t     dir;
    ca_opts_t    o;
    ca_seal_t    s;

    rc = ca_parse_opts("seal", CA_SEAL, argc, argv, &o);

    if (rc != -1) {
        return rc;
    }

    if (o.from == NULL || o.to == NULL || o.out == NULL) {
        return ca_usage_error("seal: --from, --to and --out are required");
    }

    memset(&s, 0, sizeof(ca_seal_t));

    rc = ca_parse_range(&o, &s.from, &s.to);

    if (rc != -1) {
        return rc;
    }

    rc = ca_dir_segments(o.arg, &dir);

    if (rc != 0) {
        return rc;
    }

    header = NULL;

    rc = ca_stamps_list(dir.path, &s.ev, 1);

    if (rc == CA_OK) {
        rc = ca_seal_pass(&dir, &s, -1);
    }

    if (rc == CA_OK && !s.started) {
        rc = ca_error(CA_FAIL, "seal: no records between %s and %s",
                      o.from, o.to);
    }

    if (rc == CA_OK) {
        ca_seal_end(&s);
    }

    /* the excerpt's checkpoints, as the other nodes witnessed them */
    s.wdirs = o.witness;

    for (i = 0; rc == CA_OK && i < o.nwitness; i++) {
        rc = ca_witness_walk(o.witness[i], i, ca_seal_witness, &s);
    }

    if (rc == CA_OK && o.nwitness && s.nwitnesses == 0) {
        fprintf(stderr, CA_PROG ": seal: warning: no --witness chain holds a "
                "witness of the excerpt's checkpoints\n");
    }

    if (rc == CA_OK) {
        header = ca_seal_header(&s, &n);
        rc = header ? CA_OK : ca_error(CA_USAGE, "out of memory");
    }

    if (rc == CA_OK) {
        rc = ca_seal_write(&dir, &s, o.out, header, n);
    }

    free(header);
    ca_seal_free(&s);
    ca_dir_free(&dir);

    return rc;
}


/* seal's second pass: FILE (out), the header, the records, the evidence */

static int
ca_seal_write(ca_dir_t *dir, ca_seal_t *s, const char *out,
    const char *header, size_t n)
{
    int        rc, fd;
    ca_seal_t  check;

    if (strcmp(out, "-") == 0) {
        fflush(stdout);
        fd = STDOUT_FILENO;

    } else {
        fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

        if (fd == -1) {
            return ca_error(CA_USAGE, "seal: cannot create \"%s\": %s",
                            out, strerror(errno));
        }
    }

    if (ca_write_all(fd, header, n) != 0) {
        rc = ca_error(CA_USAGE, "seal: writing \"%s\": %s", out,
                      strerror(errno));
        goto failed;
    }

    check = *s;
    check.records = 0;
    check.started = 0;
    check.pending = 0;

    rc = ca_seal_pass(dir, &check, fd);

    if (rc != CA_OK) {
        goto failed;
    }

    if (check.records != s->records
        || memcmp(check.last_hash, s->last_hash, CA_HEX_LEN) != 0
        || memcmp(check.end_hash, s->end_hash, CA_HEX_LEN) != 0)
    {
        rc = ca_error(CA_FAIL, "seal: the segments changed while they were "
                      "read; try again");
        goto failed;
    }

    rc = ca_seal_evidence(s, dir->path, fd);

    if (rc != CA_OK) {
        goto failed;
    }

    if (fd != STDOUT_FILENO) {
        if (fsync(fd) != 0 || close(fd) != 0) {
            fd = -1;
            rc = ca_error(CA_USAGE, "seal: writing \"%s\": %s", out,
                          strerror(errno));
            goto failed;
        }

        fprintf(stderr, CA_PROG ": sealed %llu record(s), seq %lld .. %lld, "
                "last hash %.64s, into %s\n", (unsigned long long) s->records,
                (long long) s->first_seq, (long long) s->last_seq,
                s->last_hash, out);
    }

    return CA_OK;

failed:

    if (fd != STDOUT_FILENO) {
        if (fd != -1) {
            close(fd);
        }

        unlink(out);
    }

    return rc;
}


/*
 * after the first pass: where the excerpt ends, on to what signs and
 * stamps the range's end; what is missing is said
 */

static void
ca_seal_end(ca_seal_t *s)
{
    if (s->pending) {
        fprintf(stderr, CA_PROG ": seal: warning: damage after the sealed "
                "range: %s\n", s->error);
    }

    s->end_seq = s->last_seq;
    memcpy(s->end_hash, s->last_hash, CA_HEX_LEN);

    if (s->covered) {
        s->end_seq = s->cover_seq;
        memcpy(s->end_hash, s->cover_hash, CA_HEX_LEN);

    } else if (s->signing) {
        fprintf(stderr, CA_PROG ": seal: warning: no checkpoint after seq "
                "%lld yet: the excerpt's last records are not signed, "
                "verify-excerpt --pubkey will refuse it; seal again after "
                "the next checkpoint\n", (long long) s->last_seq);
    }

    if (s->stamped && s->stamp_seq > s->end_seq) {
        s->end_seq = s->stamp_seq;
        memcpy(s->end_hash, s->stamp_hash, CA_HEX_LEN);

    } else if (!s->stamped && s->ev.nstamps) {
        fprintf(stderr, CA_PROG ": seal: warning: no time stamp of seq "
                "%lld or after it in the segments of the range: the "
                "excerpt's end is not stamped; seal again after the next "
                "\"timestamp\"\n", (long long) s->last_seq);
    }
}


/*
 * the header line: the range, its anchor and its end, and what follows
 * the records (the time stamps, the witnesses); NULL: out of memory
 */

static char *
ca_seal_header(ca_seal_t *s, size_t *len)
{
    char        from_ts[CA_TS_BUF], to_ts[CA_TS_BUF], now_ts[CA_TS_BUF];
    char       *buf;
    FILE       *f;
    size_t      i, n;
    const char *sep;

    ca_format_ts(s->from, from_ts);
    ca_format_ts(s->to - 1, to_ts);
    ca_format_ts((int64_t) time(NULL) * 1000, now_ts);

    buf = NULL;
    f = open_memstream(&buf, len);

    if (f == NULL) {
        return NULL;
    }

    fprintf(f, "{\"sealed_from\":\"%s\",\"sealed_to\":\"%s\","
            "\"first_seq\":%lld,\"last_seq\":%lld,\"prev\":\"%.64s\","
            "\"last_hash\":\"%.64s\",\"records\":%llu",
            from_ts, to_ts, (long long) s->first_seq,
            (long long) s->last_seq, s->prev, s->last_hash,
            (unsigned long long) s->records);

    if (s->end_seq > s->last_seq) {
        fprintf(f, ",\"cover_seq\":%lld,\"cover_hash\":\"%.64s\"",
                (long long) s->end_seq, s->end_hash);
    }

    sep = ",\"timestamps\":[";
    n = 0;

    for (i = 0; i < s->ev.nstamps; i++) {
        if (s->ev.stamps[i].found && s->ev.stamps[i].seq >= s->first_seq
            && s->ev.stamps[i].seq <= s->end_seq)
        {
            fprintf(f, "%s%lld", sep, (long long) s->ev.stamps[i].seq);
            sep = ",";
            n++;
        }
    }

    if (n) {
        fputc(']', f);
    }

    if (s->nwitnesses) {
        fprintf(f, ",\"witnesses\":%zu", s->nwitnesses);
    }

    fprintf(f, ",\"sealed_at\":\"%s\",\"format\":\"" CA_EXCERPT_FORMAT
            "\"}\n", now_ts);

    if (ferror(f) | fclose(f)) {
        free(buf);
        return NULL;
    }

    return buf;
}


/*
 * after the records, one line each: the time-stamp replies of the
 * header's "timestamps" in base64, then the witness records
 */

static int
ca_seal_evidence(ca_seal_t *s, const char *dir, int fd)
{
    int          rc;
    char         path[PATH_MAX];
    size_t       i, len, n;
    u_char      *der, *line;
    ca_stamp_t  *st;

    rc = CA_OK;

    for (i = 0; rc == CA_OK && i < s->ev.nstamps; i++) {
        st = &s->ev.stamps[i];

        if (!st->found || st->seq < s->first_seq || st->seq > s->end_seq) {
            continue;
        }

        snprintf(path, sizeof(path), "%s/" CA_TS_DIR "/%lld.tsr", dir,
                 (long long) st->seq);

        if (ca_read_small(path, &der, &len) != 0) {
            return ca_error(CA_USAGE, "seal: %s: %s", path,
                            strerror(errno));
        }

        line = malloc(len / 3 * 4 + 96);

        if (line == NULL) {
            free(der);
            return ca_error(CA_USAGE, "out of memory");
        }

        n = snprintf((char *) line, 96, "{\"" CA_EVIDENCE "\":\"timestamp\","
                     "\"seq\":%lld,\"tsr\":\"", (long long) st->seq);
        n += EVP_EncodeBlock(line + n, der, len);
        memcpy(line + n, "\"}\n", 3);

        if (ca_write_all(fd, line, n + 3) != 0) {
            rc = ca_error(CA_USAGE, "seal: writing: %s", strerror(errno));
        }

        free(line);
        free(der);
    }

    for (i = 0; rc == CA_OK && i < s->nwitnesses; i++) {
        if (ca_write_all(fd, s->witnesses[i], strlen(s->witnesses[i])) != 0
            || ca_write_all(fd, "\n", 1) != 0)
        {
            rc = ca_error(CA_USAGE, "seal: writing: %s", strerror(errno));
        }
    }

    return rc;
}


/*
 * seal --witness: a witness record of DIR2 that repeats a checkpoint of
 * the excerpt (its node, signed seq and hash, and signature) is kept as
 * an evidence line, the record's bytes in a JSON string
 */

static int
ca_seal_witness(void *data, ca_record_t *rec, size_t dir, const char *seg,
    uint64_t line, char *why)
{
    char            at[64], *text;
    json_t         *j;
    ca_seal_t      *s;
    ca_cover_t     *ck;
    ca_statement_t  st;

    (void) why;

    s = data;

    if (ca_statement(rec, &st) != 0) {
        return CA_OK;
    }

    ck = ca_covers_find(&s->covers, st.seq);

    if (ck == NULL || ck->seq >= s->end_seq
        || ck->node_len != st.origin_len
        || memcmp(ck->node, st.origin, st.origin_len) != 0
        || memcmp(ck->hash, st.hash, CA_HEX_LEN) != 0
        || memcmp(ck->sig, st.sig, 128) != 0)
    {
        /* not of this excerpt, or not as the node signed it */
        return CA_OK;
    }

    snprintf(at, sizeof(at), "%s:%llu", seg, (unsigned long long) line);

    j = json_pack("{s:s,s:s,s:s%}", CA_EVIDENCE, "witness", "at", at,
                  "record", rec->line, rec->len);

    if (j == NULL) {
        return ca_error(CA_FAIL, "seal: --witness \"%s\": %s: the witness "
                        "record is not UTF-8", s->wdirs[dir], at);
    }

    text = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (text == NULL
        || ca_grow((void **) &s->witnesses, &s->nwalloc, s->nwitnesses,
                   sizeof(char *)) != 0)
    {
        free(text);
        return ca_error(CA_USAGE, "out of memory");
    }

    s->witnesses[s->nwitnesses++] = text;

    return CA_OK;
}


/* pass 1, a whole record from the range's first on */

static int
ca_seal_note(ca_seal_t *s, ca_record_t *rec, int in_range)
{
    ca_stamp_t  *st;

    if (ca_covers_add(&s->covers, rec) != 0
        || ca_evidence_note(&s->ev, rec) != 0)
    {
        return -1;
    }

    if (in_range && s->stamped && s->stamp_seq < rec->seq) {
        /* the range goes on: that stamp does not cover its end */
        s->stamped = 0;
    }

    st = ca_stamp_find(&s->ev, rec->seq);

    if (st && !s->stamped) {
        s->stamp_seq = rec->seq;
        memcpy(s->stamp_hash, rec->hash, CA_HEX_LEN);
        s->stamped = 1;
    }

    return 0;
}


static void
ca_seal_free(ca_seal_t *s)
{
    while (s->nwitnesses) {
        free(s->witnesses[--s->nwitnesses]);
    }

    free(s->witnesses);
    free(s->covers.ck);
    ca_evidence_free(&s->ev);
}


/* a checkpoint record, kept for the witnesses of it: 0, or -1 */

static int
ca_covers_add(ca_covers_t *cs, ca_record_t *rec)
{
    size_t        len;
    ca_cover_t   *ck;
    const u_char *sig;

    if (!ca_span_is(rec->event, rec->event_len,
                    NGX_RTMP_COMPLIANCE_AUDIT_EV_CHECKPOINT))
    {
        return 0;
    }

    sig = ca_rec_str(rec, "sig", &len);

    if (sig == NULL || len != 128 || rec->node_len > CA_WITNESS_NODE) {
        /* no witness can repeat it (and --pubkey refuses it) */
        return 0;
    }

    if (ca_grow((void **) &cs->ck, &cs->nalloc, cs->n, sizeof(ca_cover_t))
        != 0)
    {
        return ca_error(-1, "out of memory");
    }

    ck = &cs->ck[cs->n++];
    ck->seq = rec->seq - 1;
    memcpy(ck->hash, rec->prev, CA_HEX_LEN);
    memcpy(ck->sig, sig, 128);
    memcpy(ck->node, rec->node, rec->node_len);
    ck->node_len = rec->node_len;

    return 0;
}


/* the checkpoint that signs seq, or NULL (they are kept in seq order) */

static ca_cover_t *
ca_covers_find(ca_covers_t *cs, int64_t seq)
{
    if (cs->n == 0) {
        return NULL;
    }

    return bsearch(&seq, cs->ck, cs->n, sizeof(ca_cover_t), ca_seq_cmp);
}


/*
 * seal: two passes over the segments that overlap [from, to). The first
 * finds the first and the last record in the range and verifies the chain
 * between them; the second copies those lines after the header.
 *
 * out == -1: find the range and verify it; out >= 0: copy the lines of
 * seq s->first_seq .. s->last_seq (found before) to out, verifying again.
 */

static int
ca_seal_pass(ca_dir_t *dir, ca_seal_t *s, int out)
{
    int           rc, in_range;
    char          why[CA_WHY_LEN];
    int64_t       ts;
    ca_link_e     lk;
    ca_walk_e     wr;
    ca_walk_t     w;
    ca_chain_t    chain;
    ca_record_t  *rec;

    memset(&chain, 0, sizeof(ca_chain_t));

    ca_walk_dir(&w, dir, s->from, s->to);
    rec = &w.rec;

    rc = CA_OK;

    while ((wr = ca_walk_record(&w, why)) != CA_WALK_END) {

        ts = -1;

        if (wr == CA_WALK_DAMAGED) {
            if (w.rd == CA_READ_LONG) {
                if (ca_walk_skip(&w) == CA_READ_ERROR) {
                    rc = CA_USAGE;
                    goto done;
                }

            } else {
                if (w.rd == CA_READ_PARTIAL) {
                    snprintf(why, CA_WHY_LEN, "%s", CA_WHY_TORN);
                }

                ts = ca_peek_ts(w.line, w.len);
            }

            goto damaged;
        }

        if (out == -1) {
            in_range = (rec->ts >= s->from && rec->ts < s->to);

        } else {
            in_range = (rec->seq >= s->first_seq && rec->seq <= s->last_seq);
        }

        if (!s->started) {
            if (!in_range) {
                continue;
            }

            if (ca_seal_first(s, &chain, rec, why) != CA_OK) {
                goto damaged;
            }

        } else {
            if (out != -1 && rec->seq > s->end_seq) {
                goto done;
            }

            if (s->pending) {
                if (in_range) {
                    /* a record of the range after the damage */
                    rc = ca_error(CA_FAIL, "seal: the range is damaged, not "
                                  "sealed: %s", s->error);
                    goto done;
                }

                continue;
            }

            lk = ca_chain_link(&chain, rec);

            if (lk != CA_LINK_OK) {
                if (lk == CA_LINK_AHEAD) {
                    snprintf(why, CA_WHY_LEN, "deleted or reordered: "
                             "expected seq %lld, found seq %lld",
                             (long long) chain.seq + 1, (long long) rec->seq);

                } else {
                    ca_link_why(&chain, rec, lk, why);
                }

                ts = rec->ts;
                goto damaged;
            }
        }

        ca_chain_add(&chain, rec, w.seg, w.r.line);

        rc = ca_seal_keep(s, &w, out, in_range);

        if (rc != CA_OK) {
            goto done;
        }

        continue;

    damaged:

        rc = ca_seal_damage(dir, s, &w, out, ts, why);

        if (rc != CA_OK) {
            goto done;
        }
    }

    if (w.failed) {
        rc = CA_USAGE;
    }

done:

    ca_walk_close(&w);

    return rc;
}


/*
 * seal: the range's first record; CA_FAIL (why) where it cannot be the
 * first of a chain
 */

static int
ca_seal_first(ca_seal_t *s, ca_chain_t *chain, ca_record_t *rec, char *why)
{
    s->started = 1;
    s->first_seq = rec->seq;
    memcpy(s->prev, rec->prev, CA_HEX_LEN);

    if (rec->seq == 1 && memcmp(rec->prev, ca_zero_hash, CA_HEX_LEN) != 0) {
        ca_link_why(chain, rec, CA_LINK_GENESIS, why);
        return CA_FAIL;
    }

    return CA_OK;
}


/*
 * seal: a record of the chain from the range's first on: copied to out
 * (the second pass), or noted (the first: the range's end, and the
 * checkpoint after it that signs it); CA_OK or CA_USAGE
 */

static int
ca_seal_keep(ca_seal_t *s, ca_walk_t *w, int out, int in_range)
{
    ca_record_t  *rec;

    rec = &w->rec;

    if (out != -1) {
        if (ca_write_all(out, w->line, w->len) != 0
            || ca_write_all(out, "\n", 1) != 0)
        {
            return ca_error(CA_USAGE, "seal: writing: %s", strerror(errno));
        }

        if (rec->seq <= s->last_seq) {
            s->records++;
            memcpy(s->last_hash, rec->hash, CA_HEX_LEN);
        }

        memcpy(s->end_hash, rec->hash, CA_HEX_LEN);

    } else if (ca_seal_note(s, rec, in_range) != 0) {
        return CA_USAGE;

    } else if (in_range) {
        s->last_seq = rec->seq;
        s->records = (uint64_t) (rec->seq - s->first_seq + 1);
        memcpy(s->last_hash, rec->hash, CA_HEX_LEN);
        s->covered = 0;

    } else if (!s->covered
               && ca_span_is(rec->event, rec->event_len,
                             NGX_RTMP_COMPLIANCE_AUDIT_EV_CHECKPOINT))
    {
        /* after the range: the checkpoint that signs it */
        s->cover_seq = rec->seq;
        memcpy(s->cover_hash, rec->hash, CA_HEX_LEN);
        s->covered = 1;
    }

    if (ca_span_is(rec->event, rec->event_len,
                   NGX_RTMP_COMPLIANCE_AUDIT_EV_CHECKPOINT))
    {
        s->signing = 1;
    }

    return CA_OK;
}


/*
 * seal: damage at the walk's line (why; ts, the time of its record, or
 * -1 where it cannot be told), once the range has started: CA_FAIL if it
 * fails the seal, CA_OK if it is only reported
 */

static int
ca_seal_damage(ca_dir_t *dir, ca_seal_t *s, ca_walk_t *w, int out,
    int64_t ts, const char *why)
{
    if (!s->started || s->pending) {
        /* before the range, or after damage already seen */
        return CA_OK;
    }

    snprintf(s->error, sizeof(s->error), "%s:%llu: %s",
             ca_path(dir, w->seg), (unsigned long long) w->r.line, why);

    /*
     * damage inside the range, or where it cannot be told, fails the
     * seal; damage after the range is only reported, unless a record
     * of the range follows it
     */

    if (out != -1 || ts < s->to) {
        return ca_error(CA_FAIL, "seal: the range is damaged, not sealed: "
                        "%s", s->error);
    }

    s->pending = 1;

    return CA_OK;
}


static int
ca_cmd_verify_excerpt(int argc, char **argv)
{
    int           rc, found;
    char          why[CA_WHY_LEN];
    ca_xcheck_t   v;
    ca_excerpt_t *x;

    memset(&v, 0, sizeof(ca_xcheck_t));

    rc = ca_parse_opts("verify-excerpt", CA_EXCERPT, argc, argv, &v.o);

    if (rc != -1) {
        return rc;
    }

    if (v.o.pubkey && ca_sign_open(&v.sg, v.o.pubkey) != CA_OK) {
        return CA_USAGE;
    }

    x = &v.x;

    if (ca_walk_file(&v.w, v.o.arg) != 0) {
        rc = CA_USAGE;
        goto done;
    }

    rc = ca_excerpt_open(&v, why);

    if (rc == CA_OK) {
        rc = ca_excerpt_records(&v, why);
    }

    if (rc == CA_FAIL) {
        fprintf(stderr, "%s:%llu: %s\n", v.o.arg,
                (unsigned long long) v.w.r.line, why);
    }

    if (rc != CA_OK) {
        goto done;
    }

    if (!v.o.quiet) {
        printf("verified excerpt: %s\n", v.o.arg);
        printf("sealed:     %s .. %s\n",
               json_string_value(json_object_get(v.h, "sealed_from")),
               json_string_value(json_object_get(v.h, "sealed_to")));
        printf("records:    %llu (seq %lld .. %lld)\n",
               (unsigned long long) v.records, (long long) x->first_seq,
               (long long) x->last_seq);
        printf("prev:       %s\n", x->prev);
        printf("last hash:  %s\n", x->last_hash);

        if (x->cover_hash) {
            printf("cover:      to seq %lld (what signs or stamps the "
                   "range), hash %s\n", (long long) x->end_seq,
                   x->cover_hash);
        }

        if (!v.o.pubkey) {
            printf("compare the last hash (and prev) with the hashes the "
                   "platform keeps outside the log\n");
        }
    }

    if (v.o.pubkey) {
        rc = ca_sign_done(&v.sg, v.o.quiet);

        if (rc == CA_OK && v.sg.ck_seq < x->last_seq) {
            rc = ca_error(CA_FAIL, "--pubkey: the excerpt's records after "
                          "seq %lld are not signed: no checkpoint after them "
                          "in the excerpt (sealed before it was written?)",
                          (long long) v.sg.ck_seq);
        }
    }

    /* what follows the records: time stamps and witnesses */
    found = ca_excerpt_evidence(&v.w, &v.o, x, &v.ev, &v.cs, &v.sg, v.more);
    rc = rc > found ? rc : found;

done:

    if (v.h) {
        json_decref(v.h);
    }

    ca_walk_close(&v.w);
    EVP_PKEY_free(v.sg.pub);
    ca_evidence_free(&v.ev);
    free(v.cs.ck);

    return rc;
}


/*
 * verify-excerpt: the header line, and the chain set to hang from its
 * first_seq and prev.  CA_OK, CA_FAIL (why) or CA_USAGE
 */

static int
ca_excerpt_open(ca_xcheck_t *v, char *why)
{
    ca_read_e  rd;

    rd = ca_walk_line(&v->w);

    if (rd == CA_READ_ERROR) {
        return CA_USAGE;
    }

    if (rd != CA_READ_LINE) {
        snprintf(why, CA_WHY_LEN, "no header line: %s",
                 rd == CA_READ_EOF ? "the file is empty"
                                   : "the first line is not terminated or "
                                     "too long");
        v->w.r.line = 1;
        return CA_FAIL;
    }

    v->h = json_loadb((const char *) v->w.line, v->w.len,
                      JSON_REJECT_DUPLICATES, NULL);

    if (!json_is_object(v->h)) {
        snprintf(why, CA_WHY_LEN, "the header is not a JSON object");
        return CA_FAIL;
    }

    if (ca_excerpt_header(v->h, &v->x, why) != 0
        || ca_excerpt_stamps(&v->x, &v->ev, why) != 0)
    {
        return CA_FAIL;
    }

    if (v->x.first_seq > 1) {
        v->chain.started = 1;
        v->chain.seq = v->x.first_seq - 1;
        memcpy(v->chain.hash, v->x.prev, CA_HEX_LEN);

    } else if (memcmp(v->x.prev, ca_zero_hash, CA_HEX_LEN) != 0) {
        snprintf(why, CA_WHY_LEN, "the header says first_seq 1 with a "
                 "non-zero prev");
        return CA_FAIL;
    }

    return CA_OK;
}


/*
 * verify-excerpt: the records after the header, up to the first evidence
 * line (v->more) or the end, against the header.  CA_OK, CA_FAIL (why)
 * or CA_USAGE
 */

static int
ca_excerpt_records(ca_xcheck_t *v, char *why)
{
    ca_link_e      lk;
    ca_walk_e      wr;
    ca_walk_t     *w;
    ca_record_t   *rec;
    ca_excerpt_t  *x;

    w = &v->w;
    x = &v->x;
    rec = &w->rec;

    while ((wr = ca_walk_record(w, why)) != CA_WALK_END) {

        if (wr == CA_WALK_DAMAGED) {
            if (ca_is_evidence(w)) {
                /* the records end, what stamps and witnesses them follows */
                v->more = 1;
                break;
            }

            if (w->rd == CA_READ_PARTIAL) {
                snprintf(why, CA_WHY_LEN, "%s", CA_WHY_TORN);
            }

            return CA_FAIL;
        }

        lk = ca_chain_link(&v->chain, rec);

        if (lk == CA_LINK_AHEAD) {
            snprintf(why, CA_WHY_LEN, "deleted or reordered: expected seq "
                     "%lld, found seq %lld", (long long) v->chain.seq + 1,
                     (long long) rec->seq);
            return CA_FAIL;
        }

        if (lk != CA_LINK_OK) {
            ca_link_why(&v->chain, rec, lk, why);
            return CA_FAIL;
        }

        if (rec->seq > x->end_seq) {
            snprintf(why, CA_WHY_LEN, "seq %lld is past the header's "
                     "%s %lld", (long long) rec->seq,
                     x->cover_hash ? "cover_seq" : "last_seq",
                     (long long) x->end_seq);
            return CA_FAIL;
        }

        if (v->o.pubkey && ca_sign_note(&v->sg, rec, why) != 0) {
            return CA_FAIL;
        }

        if (ca_evidence_note(&v->ev, rec) != 0
            || ca_covers_add(&v->cs, rec) != 0)
        {
            return CA_USAGE;
        }

        if ((rec->seq == x->first_seq || rec->seq == x->last_seq)
            && (rec->ts < x->from || rec->ts >= x->to))
        {
            snprintf(why, CA_WHY_LEN, "seq %lld is outside the sealed "
                     "period", (long long) rec->seq);
            return CA_FAIL;
        }

        ca_chain_add(&v->chain, rec, 0, w->r.line);

        if (rec->seq <= x->last_seq) {
            v->records++;
            memcpy(v->at_last, rec->hash, CA_HEX_LEN);
        }
    }

    if (w->failed) {
        return CA_USAGE;
    }

    if (v->records != (uint64_t) x->count || v->chain.seq != x->end_seq
        || memcmp(v->at_last, x->last_hash, CA_HEX_LEN) != 0
        || (x->cover_hash
            && memcmp(v->chain.hash, x->cover_hash, CA_HEX_LEN) != 0))
    {
        w->r.line++;
        snprintf(why, CA_WHY_LEN, "the excerpt ends early or does not match "
                 "its header: %llu record(s) to seq %lld, the header says "
                 "%lld to seq %lld ending in %.16s...",
                 (unsigned long long) v->records, (long long) v->chain.seq,
                 (long long) x->count, (long long) x->last_seq,
                 x->last_hash);
        return CA_FAIL;
    }

    return CA_OK;
}


/* a sealed excerpt's header line: 0, or -1 with why */

static int
ca_excerpt_header(json_t *h, ca_excerpt_t *x, char *why)
{
    size_t       i;
    json_t      *v;
    int64_t      unit;
    const char  *s;

    static const char  *strings[] = { "sealed_from", "sealed_to", "prev",
                                      "last_hash", NULL };
    static const char  *integers[] = { "first_seq", "last_seq", "records",
                                       NULL };

    for (i = 0; strings[i]; i++) {
        if (!json_is_string(json_object_get(h, strings[i]))) {
            snprintf(why, CA_WHY_LEN, "the header lacks the string \"%s\"",
                     strings[i]);
            return -1;
        }
    }

    for (i = 0; integers[i]; i++) {
        v = json_object_get(h, integers[i]);

        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            snprintf(why, CA_WHY_LEN, "the header lacks the integer \"%s\"",
                     integers[i]);
            return -1;
        }
    }

    x->first_seq = json_integer_value(json_object_get(h, "first_seq"));
    x->last_seq = json_integer_value(json_object_get(h, "last_seq"));
    x->count = json_integer_value(json_object_get(h, "records"));
    x->prev = json_string_value(json_object_get(h, "prev"));
    x->last_hash = json_string_value(json_object_get(h, "last_hash"));

    if (strlen(x->prev) != CA_HEX_LEN
        || !ca_is_hex((u_char *) x->prev, CA_HEX_LEN)
        || strlen(x->last_hash) != CA_HEX_LEN
        || !ca_is_hex((u_char *) x->last_hash, CA_HEX_LEN)
        || x->last_seq < x->first_seq
        || x->count != x->last_seq - x->first_seq + 1)
    {
        snprintf(why, CA_WHY_LEN, "the header is inconsistent (hashes must "
                 "be 64 hex digits, records = last_seq - first_seq + 1)");
        return -1;
    }

    s = json_string_value(json_object_get(h, "sealed_from"));

    if (ca_parse_time(s, &x->from, &unit) != 0) {
        snprintf(why, CA_WHY_LEN, "the header's sealed_from is not a time");
        return -1;
    }

    s = json_string_value(json_object_get(h, "sealed_to"));

    if (ca_parse_time(s, &x->to, &unit) != 0) {
        snprintf(why, CA_WHY_LEN, "the header's sealed_to is not a time");
        return -1;
    }

    x->to += unit;

    /* a signed log's excerpt goes on to the checkpoint that signs it */
    x->end_seq = x->last_seq;
    x->cover_hash = NULL;
    v = json_object_get(h, "cover_seq");

    if (v || json_object_get(h, "cover_hash")) {
        x->cover_hash = json_string_value(json_object_get(h, "cover_hash"));

        if (!json_is_integer(v) || json_integer_value(v) <= x->last_seq
            || x->cover_hash == NULL || strlen(x->cover_hash) != CA_HEX_LEN
            || !ca_is_hex((u_char *) x->cover_hash, CA_HEX_LEN))
        {
            snprintf(why, CA_WHY_LEN, "the header's cover_seq and "
                     "cover_hash must be a seq after last_seq and 64 hex "
                     "digits");
            return -1;
        }

        x->end_seq = json_integer_value(v);
    }

    /* what follows the records */
    x->stamps = json_object_get(h, "timestamps");
    v = json_object_get(h, "witnesses");
    x->witnesses = json_is_integer(v) ? json_integer_value(v) : 0;

    if ((x->stamps && !json_is_array(x->stamps))
        || (v && (!json_is_integer(v) || x->witnesses < 0)))
    {
        snprintf(why, CA_WHY_LEN, "the header's timestamps must be an array "
                 "of seqs, its witnesses a count");
        return -1;
    }

    return 0;
}


/*
 * the header's "timestamps": the seqs of the excerpt's records whose
 * replies follow the records, in increasing order: 0, or -1 with why
 */

static int
ca_excerpt_stamps(ca_excerpt_t *x, ca_evidence_t *ev, char *why)
{
    size_t   i, n;
    int64_t  seq, last;
    json_t  *v;

    n = x->stamps ? json_array_size(x->stamps) : 0;

    if (n == 0) {
        return 0;
    }

    ev->stamps = calloc(n, sizeof(ca_stamp_t));

    if (ev->stamps == NULL) {
        snprintf(why, CA_WHY_LEN, "out of memory");
        return -1;
    }

    last = x->first_seq - 1;

    json_array_foreach(x->stamps, i, v) {
        seq = json_is_integer(v) ? json_integer_value(v) : 0;

        if (seq <= last || seq > x->end_seq) {
            snprintf(why, CA_WHY_LEN, "the header's timestamps must be "
                     "increasing seqs of the excerpt's records, %lld .. "
                     "%lld", (long long) x->first_seq,
                     (long long) x->end_seq);
            return -1;
        }

        ev->stamps[i].seq = seq;
        ev->nstamps++;
        last = seq;
    }

    return 0;
}


/* is the walk's line an evidence line, {"evidence":... */

static int
ca_is_evidence(ca_walk_t *w)
{
    static const char  key[] = "{\"" CA_EVIDENCE "\":";

    return w->rd == CA_READ_LINE && w->len >= sizeof(key) - 1
           && memcmp(w->line, key, sizeof(key) - 1) == 0;
}


/*
 * verify-excerpt: the lines after the records (more: the walk is on the
 * first of them), each a time stamp or a witness, and that they are the
 * ones the header says.  CA_OK, CA_FAIL (each failure said) or CA_USAGE
 */

static int
ca_excerpt_evidence(ca_walk_t *w, ca_opts_t *o, ca_excerpt_t *x,
    ca_evidence_t *ev, ca_covers_t *cs, ca_sign_t *sg, int more)
{
    int          rc, bad;
    char         why[CA_WHY_LEN], at[PATH_MAX + 32];
    size_t       i;
    json_t      *j;
    int64_t      nw;
    ca_read_e    rd;
    const char  *kind;

    bad = 0;
    nw = 0;

    while (more) {
        snprintf(at, sizeof(at), "%s:%llu", o->arg,
                 (unsigned long long) w->r.line);

        if (!ca_is_evidence(w)) {
            fprintf(stderr, "%s: not an evidence line: after the records "
                    "only time stamps and witnesses follow\n", at);
            return CA_FAIL;
        }

        j = json_loadb((const char *) w->line, w->len,
                       JSON_REJECT_DUPLICATES, NULL);
        kind = json_string_value(json_object_get(j, CA_EVIDENCE));
        why[0] = '\0';

        if (kind && strcmp(kind, "timestamp") == 0) {
            rc = ca_excerpt_stamp(j, o, ev, at, why);

        } else if (kind && strcmp(kind, "witness") == 0) {
            nw++;
            rc = ca_excerpt_witness(j, o, cs, sg, why);

        } else {
            snprintf(why, CA_WHY_LEN, "not an evidence line: its "
                     "\"evidence\" is neither timestamp nor witness");
            rc = CA_FAIL;
        }

        json_decref(j);

        if (rc == CA_USAGE) {
            return rc;
        }

        if (rc != CA_OK) {
            if (why[0]) {
                fprintf(stderr, "%s: %s\n", at, why);
            }

            bad++;
        }

        rd = ca_walk_line(w);

        if (rd == CA_READ_EOF) {
            break;
        }

        if (rd != CA_READ_LINE) {
            if (rd == CA_READ_ERROR) {
                return CA_USAGE;
            }

            fprintf(stderr, "%s:%llu: %s\n", o->arg,
                    (unsigned long long) w->r.line,
                    rd == CA_READ_PARTIAL ? CA_WHY_TORN : "a line too long");
            return CA_FAIL;
        }
    }

    for (i = 0; i < ev->nstamps; i++) {
        if (!ev->stamps[i].used) {
            fprintf(stderr, "%s: the header's time stamp of seq %lld is "
                    "not in the excerpt\n", o->arg,
                    (long long) ev->stamps[i].seq);
            bad++;
        }
    }

    if (nw != x->witnesses) {
        fprintf(stderr, "%s: the header says %lld witness(es), the excerpt "
                "holds %lld\n", o->arg, (long long) x->witnesses,
                (long long) nw);
        bad++;
    }

    if (bad) {
        return ca_error(CA_FAIL, "evidence: %d failed", bad);
    }

    if (!o->quiet && ev->nstamps && o->tsa_ca == NULL) {
        printf("timestamps: %zu reply(ies) in the excerpt, not checked: "
               "give --tsa-ca CA.pem\n", ev->nstamps);
    }

    if (!o->quiet && nw && o->pubkey == NULL) {
        printf("witnesses:  %lld in the excerpt, not checked: give --pubkey "
               "PUB.pem\n", (long long) nw);
    }

    return CA_OK;
}


/* an excerpt's time-stamp line: CA_OK, CA_FAIL (said, or why) or CA_USAGE */

static int
ca_excerpt_stamp(json_t *j, ca_opts_t *o, ca_evidence_t *ev, const char *at,
    char *why)
{
    int          rc, n;
    char         name[PATH_MAX + 64];
    size_t       len;
    json_t      *v, *tsr;
    u_char      *der;
    int64_t      seq;
    ca_stamp_t  *st;
    const char  *b64;

    v = json_object_get(j, "seq");
    tsr = json_object_get(j, "tsr");
    seq = json_is_integer(v) ? json_integer_value(v) : 0;
    st = ca_stamp_find(ev, seq);

    if (!json_is_string(tsr) || st == NULL || st->used) {
        snprintf(why, CA_WHY_LEN, "a time stamp needs a seq that the "
                 "header's timestamps name (once) and a tsr");
        return CA_FAIL;
    }

    st->used = 1;

    if (!st->found) {
        snprintf(why, CA_WHY_LEN, "time stamp of seq %lld: the excerpt "
                 "holds no record with that seq", (long long) seq);
        return CA_FAIL;
    }

    if (o->tsa_ca == NULL) {
        return CA_OK;
    }

    b64 = json_string_value(tsr);
    len = json_string_length(tsr);

    if (len % 4 != 0 || len > CA_TSR_MAX * 2) {
        snprintf(why, CA_WHY_LEN, "time stamp of seq %lld: tsr is not "
                 "base64", (long long) seq);
        return CA_FAIL;
    }

    der = malloc(len / 4 * 3 + 1);

    if (der == NULL) {
        return ca_error(CA_USAGE, "out of memory");
    }

    n = EVP_DecodeBlock(der, (const u_char *) b64, len);

    if (n < 0) {
        free(der);
        snprintf(why, CA_WHY_LEN, "time stamp of seq %lld: tsr is not "
                 "base64", (long long) seq);
        return CA_FAIL;
    }

    /* EVP_DecodeBlock() counts the padding as bytes */
    n -= (len > 0 && b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');

    snprintf(name, sizeof(name), "%s: time stamp of seq %lld", at,
             (long long) seq);
    rc = ca_stamp_verify(name, der, n, st, o->tsa_ca, o->quiet);
    free(der);

    return rc;
}


/*
 * an excerpt's witness line: another node's record of a checkpoint of
 * the excerpt, its signature with --pubkey.  CA_OK, CA_FAIL (why) or
 * CA_USAGE
 */

static int
ca_excerpt_witness(json_t *j, ca_opts_t *o, ca_covers_t *cs, ca_sign_t *sg,
    char *why)
{
    int             rc;
    char            node[CA_QUOTE_LEN], inner[CA_WHY_LEN];
    json_t         *r;
    ca_rec_e        rr;
    ca_cover_t     *ck;
    ca_record_t     rec;
    ca_statement_t  st;

    r = json_object_get(j, "record");

    if (!json_is_string(r)) {
        snprintf(why, CA_WHY_LEN, "a witness needs its record");
        return CA_FAIL;
    }

    memset(&rec, 0, sizeof(ca_record_t));
    rr = ca_parse_record((const u_char *) json_string_value(r),
                         json_string_length(r), &rec, inner);

    if (rr == CA_REC_NOMEM) {
        ca_record_free(&rec);
        return ca_error(CA_USAGE, "%s", inner);
    }

    rc = CA_FAIL;

    if (rr != CA_REC_OK) {
        snprintf(why, CA_WHY_LEN, "witness: %s", inner);
        goto done;
    }

    ca_quote(node, sizeof(node), rec.node, rec.node_len);

    if (!ca_span_is(rec.event, rec.event_len,
                    NGX_RTMP_COMPLIANCE_AUDIT_EV_WITNESS)
        || ca_statement(&rec, &st) != 0)
    {
        snprintf(why, CA_WHY_LEN, "witness: not a witness record (origin, "
                 "signed_seq, signed_hash, key, sig)");
        goto done;
    }

    ck = ca_covers_find(cs, st.seq);

    if (ck == NULL || ck->node_len != st.origin_len
        || memcmp(ck->node, st.origin, st.origin_len) != 0
        || memcmp(ck->hash, st.hash, CA_HEX_LEN) != 0)
    {
        snprintf(why, CA_WHY_LEN, "witnessed by %s: seq %lld, hash %.64s: "
                 "no checkpoint of the excerpt signs that", node,
                 (long long) st.seq, st.hash);
        goto done;
    }

    if (o->pubkey == NULL) {
        rc = CA_OK;
        goto done;
    }

    if (memcmp(st.key, sg->fp, 32) != 0) {
        ca_quote(inner, sizeof(inner), st.key, 32);
        snprintf(why, CA_WHY_LEN, "witnessed by %s: seq %lld: signed with "
                 "key %s, --pubkey is key %s", node, (long long) st.seq,
                 inner, sg->fp);
        goto done;
    }

    if (ca_sign_check(sg, st.origin, st.origin_len, st.seq, st.hash, st.sig)
        != 0)
    {
        snprintf(why, CA_WHY_LEN, "witnessed by %s: seq %lld: bad "
                 "signature: not what key %s signed", node,
                 (long long) st.seq, sg->fp);
        goto done;
    }

    if (!o->quiet) {
        printf("witnessed by %s: seq %lld\n", node, (long long) st.seq);
    }

    rc = CA_OK;

done:

    ca_record_free(&rec);

    return rc;
}


/*
 * Evidence beyond the chain: the recordings that record.done names, and
 * RFC 3161 time-stamps of the chain's hashes (DIR/timestamps/SEQ.tsr).
 */

static int
ca_hex_decode(const u_char *hex, size_t n, u_char *out)
{
    size_t  i;
    int     hi, lo;

    for (i = 0; i < n / 2; i++) {
        hi = ca_hex_value(hex[2 * i]);
        lo = ca_hex_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[i] = (u_char) (hi << 4 | lo);
    }

    return 0;
}


static int
ca_hex_value(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* the reason of OpenSSL's last error, or dflt; clears the queue */

static const char *
ca_ssl_why(const char *dflt)
{
    unsigned long  e;
    const char    *s;

    e = ERR_peek_last_error();
    s = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();

    return s ? s : dflt;
}


/* called for every record verify accepts */

static int
ca_evidence_note(ca_evidence_t *ev, ca_record_t *rec)
{
    json_t         *j, *path, *size, *sha;
    ca_stamp_t     *st;
    ca_recording_t *r;

    st = ca_stamp_find(ev, rec->seq);

    if (st) {
        memcpy(st->hash, rec->hash, CA_HEX_LEN);
        st->found = 1;
    }

    if (!ev->recordings
        || !ca_span_is(rec->event, rec->event_len,
                       NGX_RTMP_COMPLIANCE_AUDIT_EV_RECORD_DONE))
    {
        return 0;
    }

    if (ev->nrecs == ev->nalloc) {
        ev->nalloc = ev->nalloc ? ev->nalloc * 2 : 64;
        r = realloc(ev->recs, ev->nalloc * sizeof(ca_recording_t));

        if (r == NULL) {
            return ca_error(-1, "out of memory");
        }

        ev->recs = r;
    }

    r = &ev->recs[ev->nrecs];
    memset(r, 0, sizeof(ca_recording_t));
    r->seq = rec->seq;
    r->size = -1;

    j = ca_rec_json(rec);

    if (j == NULL) {
        return ca_error(-1, "seq %lld: record.done is not JSON",
                        (long long) rec->seq);
    }

    path = json_object_get(j, "path");
    size = json_object_get(j, "size");
    sha = json_object_get(j, "sha256");

    if (json_is_string(path) && json_string_length(path) > 0) {
        r->path = strdup(json_string_value(path));

        if (r->path == NULL) {
            return ca_error(-1, "out of memory");
        }
    }

    if (json_is_integer(size)) {
        r->size = json_integer_value(size);
    }

    if (json_is_string(sha) && json_string_length(sha) == CA_HEX_LEN
        && ca_is_hex((const u_char *) json_string_value(sha), CA_HEX_LEN))
    {
        memcpy(r->sha256, json_string_value(sha), CA_HEX_LEN);
        r->has_sha = 1;
    }

    ev->nrecs++;

    return 0;
}


/* SHA-256 of a regular file, in lowercase hex; -1 and errno on error */

static int
ca_hash_file(const char *path, u_char *hex, int64_t *size)
{
    int            fd, err;
    size_t         i;
    ssize_t        n;
    unsigned int   len;
    struct stat    sb;
    unsigned char  md[EVP_MAX_MD_SIZE];
    static u_char  buf[64 * 1024];

    static const char  digits[] = NGX_RTMP_COMPLIANCE_AUDIT_HEX_DIGITS;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd == -1) {
        return -1;
    }

    if (fstat(fd, &sb) == -1) {
        goto failed;
    }

    if (!S_ISREG(sb.st_mode)) {
        errno = EINVAL;
        goto failed;
    }

    *size = 0;

    if (EVP_DigestInit_ex(ca_md_ctx, ca_md, NULL) != 1) {
        errno = ENOMEM;
        goto failed;
    }

    for ( ;; ) {
        n = read(fd, buf, sizeof(buf));

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            goto failed;
        }

        if (n == 0) {
            break;
        }

        *size += n;

        if (EVP_DigestUpdate(ca_md_ctx, buf, n) != 1) {
            errno = ENOMEM;
            goto failed;
        }
    }

    close(fd);

    if (EVP_DigestFinal_ex(ca_md_ctx, md, &len) != 1
        || len != CA_HEX_LEN / 2)
    {
        ERR_clear_error();
        errno = EINVAL;
        return -1;
    }

    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0xf];
    }

    return 0;

failed:

    err = errno;
    close(fd);
    ERR_clear_error();
    errno = err;

    return -1;
}


static int
ca_check_recordings(ca_evidence_t *ev, int quiet)
{
    char            p[CA_QUOTE_LEN];
    size_t          i, bad;
    u_char          hex[CA_HEX_LEN];
    int64_t         size;
    ca_recording_t *r;

    bad = 0;

    for (i = 0; i < ev->nrecs; i++) {
        r = &ev->recs[i];

        if (r->path == NULL || r->size < 0 || !r->has_sha) {
            fprintf(stderr, CA_PROG ": recording of seq %lld: the "
                    "record.done has no path, size or sha256\n",
                    (long long) r->seq);
            bad++;
            continue;
        }

        ca_quote(p, sizeof(p), (const u_char *) r->path, strlen(r->path));

        if (ca_hash_file(r->path, hex, &size) != 0) {
            fprintf(stderr, CA_PROG ": recording %s (record.done seq %lld): "
                    "%s: %s\n", p, (long long) r->seq,
                    errno == ENOENT ? "missing" : "unreadable",
                    strerror(errno));
            bad++;
            continue;
        }

        if (size != r->size) {
            fprintf(stderr, CA_PROG ": recording %s (record.done seq %lld): "
                    "changed: %lld bytes, recorded %lld\n", p,
                    (long long) r->seq, (long long) size,
                    (long long) r->size);
            bad++;
            continue;
        }

        if (memcmp(hex, r->sha256, CA_HEX_LEN) != 0) {
            fprintf(stderr, CA_PROG ": recording %s (record.done seq %lld): "
                    "changed: sha256 %.64s, recorded %.64s\n", p,
                    (long long) r->seq, hex, r->sha256);
            bad++;
        }
    }

    if (bad) {
        fprintf(stderr, CA_PROG ": recordings: %zu of %zu missing or "
                "changed\n", bad, ev->nrecs);
        return CA_FAIL;
    }

    if (!quiet) {
        printf("recordings: %zu checked (record.done), all present and "
               "unaltered (size and sha256)\n", ev->nrecs);
    }

    return CA_OK;
}


/* qsort() by seq, the first member of ca_stamp_t and ca_witness_t */

static int
ca_seq_cmp(const void *a, const void *b)
{
    int64_t  x, y;

    memcpy(&x, a, sizeof(int64_t));
    memcpy(&y, b, sizeof(int64_t));

    return (x > y) - (x < y);
}


/* the replies in DIR/timestamps/: every NUMBER.tsr; optional: none is
   no error */

static int
ca_stamps_list(const char *dir, ca_evidence_t *ev, int optional)
{
    DIR            *d;
    char           *end, path[PATH_MAX];
    size_t          n;
    ca_stamp_t     *s;
    long long       seq;
    struct dirent  *de;

    if (snprintf(path, sizeof(path), "%s/" CA_TS_DIR, dir)
        >= (int) sizeof(path))
    {
        return ca_error(CA_USAGE, "path too long");
    }

    d = opendir(path);

    if (d == NULL && optional && errno == ENOENT) {
        return CA_OK;
    }

    if (d == NULL) {
        return ca_error(errno == ENOENT ? CA_FAIL : CA_USAGE,
                        "%s: %s", path, strerror(errno));
    }

    while ((de = readdir(d)) != NULL) {
        n = strlen(de->d_name);

        if (n < 5 || strcmp(de->d_name + n - 4, ".tsr") != 0) {
            continue;
        }

        errno = 0;
        seq = strtoll(de->d_name, &end, 10);

        if (end != de->d_name + n - 4 || de->d_name[0] < '1'
            || de->d_name[0] > '9' || errno != 0)
        {
            closedir(d);
            return ca_error(CA_FAIL, "%s/%s: not named SEQ.tsr", path,
                            de->d_name);
        }

        if (ev->nstamps == ev->nstamps_alloc) {
            ev->nstamps_alloc = ev->nstamps_alloc ? ev->nstamps_alloc * 2
                                                  : 16;
            s = realloc(ev->stamps, ev->nstamps_alloc * sizeof(ca_stamp_t));

            if (s == NULL) {
                closedir(d);
                return ca_error(CA_USAGE, "out of memory");
            }

            ev->stamps = s;
        }

        memset(&ev->stamps[ev->nstamps], 0, sizeof(ca_stamp_t));
        ev->stamps[ev->nstamps++].seq = seq;
    }

    closedir(d);

    if (ev->nstamps == 0) {
        return optional ? CA_OK
                        : ca_error(CA_FAIL, "%s: no SEQ.tsr time-stamp "
                                   "replies", path);
    }

    qsort(ev->stamps, ev->nstamps, sizeof(ca_stamp_t), ca_seq_cmp);

    return CA_OK;
}


/* the reply of record seq, or NULL */

static ca_stamp_t *
ca_stamp_find(ca_evidence_t *ev, int64_t seq)
{
    if (ev->nstamps == 0) {
        return NULL;
    }

    return bsearch(&seq, ev->stamps, ev->nstamps, sizeof(ca_stamp_t),
                   ca_seq_cmp);
}


/* a whole small file into memory */

static int
ca_read_small(const char *path, u_char **data, size_t *len)
{
    int          fd;
    u_char      *p;
    ssize_t      n;
    struct stat  sb;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd == -1) {
        return -1;
    }

    if (fstat(fd, &sb) == -1) {
        close(fd);
        return -1;
    }

    if (!S_ISREG(sb.st_mode) || sb.st_size > CA_TSR_MAX) {
        close(fd);
        errno = S_ISREG(sb.st_mode) ? EFBIG : EINVAL;
        return -1;
    }

    p = malloc(sb.st_size + 1);

    if (p == NULL) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }

    *len = 0;

    while (*len < (size_t) sb.st_size) {
        n = read(fd, p + *len, sb.st_size - *len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        *len += n;
    }

    close(fd);
    *data = p;

    return 0;
}


static void
ca_gentime(TS_TST_INFO *tst, char *buf, size_t size)
{
    int                         n;
    struct tm                   tm;
    const ASN1_GENERALIZEDTIME *t;

    t = TS_TST_INFO_get_time(tst);

    if (t && ASN1_TIME_to_tm(t, &tm) == 1
        && strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
    {
        return;
    }

    n = t ? ASN1_STRING_length(t) : 0;
    snprintf(buf, size, "%.*s", n > 0 ? n : 1,
             t ? (const char *) ASN1_STRING_get0_data(t) : "?");
}


static int
ca_check_stamps(ca_evidence_t *ev, const char *dir, const char *ca,
    int quiet)
{
    int          rc, bad;
    char         path[PATH_MAX];
    size_t       i, len;
    u_char      *data;
    ca_stamp_t  *s;

    bad = 0;

    for (i = 0; i < ev->nstamps; i++) {
        s = &ev->stamps[i];
        snprintf(path, sizeof(path), "%s/" CA_TS_DIR "/%lld.tsr", dir,
                 (long long) s->seq);

        if (!s->found) {
            fprintf(stderr, "%s: failed: the log holds no record with seq "
                    "%lld\n", path, (long long) s->seq);
            bad++;
            continue;
        }

        if (ca_read_small(path, &data, &len) != 0) {
            fprintf(stderr, "%s: failed: %s\n", path, strerror(errno));
            bad++;
            continue;
        }

        rc = ca_stamp_verify(path, data, len, s, ca, quiet);
        free(data);

        if (rc == CA_USAGE) {
            return rc;
        }

        bad += (rc != CA_OK);
    }

    if (bad) {
        fprintf(stderr, CA_PROG ": timestamps: %d of %zu failed\n", bad,
                ev->nstamps);
        return CA_FAIL;
    }

    return CA_OK;
}


/*
 * a time-stamp reply (DER) of record s->seq, whose hash s->hash is: its
 * signature up to a CA of the file ca, its imprint that hash.  CA_OK
 * ("timestamped: seq N at GENTIME"), CA_FAIL ("NAME: failed: why") or
 * CA_USAGE (said)
 */

static int
ca_stamp_verify(const char *name, const u_char *der, size_t len,
    ca_stamp_t *s, const char *ca, int quiet)
{
    int             rc;
    char            when[CA_TS_BUF];
    u_char         *imprint;
    TS_RESP        *resp;
    X509_STORE     *store;
    TS_VERIFY_CTX  *ctx;
    const u_char   *p;

    p = der;
    resp = d2i_TS_RESP(NULL, &p, len);

    if (resp == NULL || p != der + len) {
        fprintf(stderr, "%s: failed: not a DER time-stamp reply "
                "(RFC 3161 TimeStampResp)\n", name);
        TS_RESP_free(resp);
        ERR_clear_error();
        return CA_FAIL;
    }

    ctx = TS_VERIFY_CTX_new();
    store = X509_STORE_new();
    imprint = OPENSSL_malloc(CA_HEX_LEN / 2);

    if (ctx == NULL || store == NULL || imprint == NULL) {
        TS_VERIFY_CTX_free(ctx);
        X509_STORE_free(store);
        OPENSSL_free(imprint);
        TS_RESP_free(resp);
        return ca_error(CA_USAGE, "out of memory");
    }

    /* the context owns the store and the imprint from here */
    TS_VERIFY_CTX_set_store(ctx, store);
    ca_hex_decode(s->hash, CA_HEX_LEN, imprint);
    TS_VERIFY_CTX_set_imprint(ctx, imprint, CA_HEX_LEN / 2);
    TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE
                                 | TS_VFY_IMPRINT);

    rc = CA_OK;

    if (X509_STORE_load_file(store, ca) != 1) {
        fprintf(stderr, CA_PROG ": %s: cannot load the CA "
                "certificate(s): %s\n", ca, ca_ssl_why("error"));
        rc = CA_USAGE;

    } else if (TS_RESP_verify_response(ctx, resp) != 1) {
        fprintf(stderr, "%s: failed: %s (seq %lld, hash %.64s)\n",
                name, ca_ssl_why("does not verify"), (long long) s->seq,
                s->hash);
        rc = CA_FAIL;

    } else if (!quiet) {
        ca_gentime(TS_RESP_get_tst_info(resp), when, sizeof(when));
        printf("timestamped: seq %lld at %s\n", (long long) s->seq, when);
    }

    TS_VERIFY_CTX_free(ctx);
    TS_RESP_free(resp);

    return rc;
}


static void
ca_evidence_free(ca_evidence_t *ev)
{
    while (ev->nrecs) {
        free(ev->recs[--ev->nrecs].path);
    }

    free(ev->recs);
    free(ev->stamps);
}


/* http://HOST[:PORT]/PATH */

static int
ca_parse_url(const char *url, char *host, size_t hsize, char *port,
    const char **path)
{
    size_t       n;
    const char  *p, *h, *c, *s;

    if (strncasecmp(url, "http://", 7) != 0) {
        return ca_usage_error("timestamp: --tsa \"%s\": only http:// URLs "
                              "(an RFC 3161 reply is signed: TLS adds "
                              "nothing to its proof)", url);
    }

    h = url + 7;
    s = strchr(h, '/');
    p = s ? s : h + strlen(h);

    if (*h == '[') {
        c = memchr(h, ']', p - h);

        if (c == NULL) {
            goto bad;
        }

        n = c - h - 1;
        h++;
        c = (c + 1 < p && c[1] == ':') ? c + 1 : NULL;

    } else {
        c = memchr(h, ':', p - h);
        n = (c ? c : p) - h;
    }

    if (n == 0 || n >= hsize) {
        goto bad;
    }

    memcpy(host, h, n);
    host[n] = '\0';

    if (c) {
        n = p - c - 1;

        if (n == 0 || n > 5 || strspn(c + 1, "0123456789") < n) {
            goto bad;
        }

        memcpy(port, c + 1, n);
        port[n] = '\0';

    } else {
        strcpy(port, "80");
    }

    *path = s ? s : "/";

    return 0;

bad:

    return ca_usage_error("timestamp: bad --tsa URL \"%s\"", url);
}


/* a TCP connection to host:port, with the HTTP timeouts; -1: said why */

static int
ca_http_connect(const char *host, const char *port)
{
    int              fd, e;
    struct timeval   tv;
    struct addrinfo  hints, *ai, *a;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;

    e = getaddrinfo(host, port, &hints, &ai);

    if (e != 0) {
        ca_error(CA_USAGE, "timestamp: %s: %s", host, gai_strerror(e));
        return -1;
    }

    fd = -1;
    e = 0;

    for (a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                    a->ai_protocol);

        if (fd == -1) {
            e = errno;
            continue;
        }

        tv.tv_sec = CA_HTTP_TIMEOUT;
        tv.tv_usec = 0;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            break;
        }

        e = errno;
        close(fd);
        fd = -1;
    }

    freeaddrinfo(ai);

    if (fd == -1) {
        ca_error(CA_USAGE, "timestamp: connecting to %s port %s: %s",
                 host, port, strerror(e));
    }

    return fd;
}


/*
 * all that fd sends until it closes, NUL-terminated, into *out (*olen
 * bytes), at most CA_TSR_MAX + 16384; fd is closed
 */

static int
ca_http_read(int fd, const char *url, u_char **out, size_t *olen)
{
    int       e;
    size_t    n, size;
    u_char   *buf, *nb;
    ssize_t   r;

    size = 16384;
    n = 0;
    buf = malloc(size + 1);

    if (buf == NULL) {
        close(fd);
        return ca_error(CA_USAGE, "out of memory");
    }

    for ( ;; ) {
        if (n == size) {
            if (size >= CA_TSR_MAX + 16384) {
                free(buf);
                close(fd);
                return ca_error(CA_FAIL, "timestamp: %s: the reply is "
                                "larger than %d bytes", url,
                                CA_TSR_MAX + 16384);
            }

            size *= 2;
            nb = realloc(buf, size + 1);

            if (nb == NULL) {
                free(buf);
                close(fd);
                return ca_error(CA_USAGE, "out of memory");
            }

            buf = nb;
        }

        r = read(fd, buf + n, size - n);

        if (r == -1 && errno == EINTR) {
            continue;
        }

        if (r == -1) {
            e = errno;
            free(buf);
            close(fd);
            return ca_error(CA_USAGE, "timestamp: reading from %s: %s", url,
                            strerror(e == EAGAIN ? ETIMEDOUT : e));
        }

        if (r == 0) {
            break;
        }

        n += r;
    }

    close(fd);
    buf[n] = '\0';

    *out = buf;
    *olen = n;

    return CA_OK;
}


/*
 * an HTTP reply of n bytes in buf (NUL-terminated): its body moved to the
 * start of buf, *olen bytes, when it is a 200 with the time-stamp reply
 * type; buf is freed otherwise
 */

static int
ca_http_reply(u_char *buf, size_t n, const char *url, size_t *olen)
{
    int      rc;
    char    *p, *q, *end;
    size_t   hl;

    p = (char *) buf;
    end = memmem(p, n, "\r\n\r\n", 4);

    if (n < 12 || strncmp(p, "HTTP/1.", 7) != 0 || end == NULL) {
        free(buf);
        return ca_error(CA_FAIL, "timestamp: %s: not an HTTP response", url);
    }

    *end = '\0';
    rc = atoi(p + 9);

    if (rc != 200) {
        q = strstr(p, "\r\n");
        ca_error(CA_FAIL, "timestamp: %s: HTTP %.*s", url,
                 (int) (q ? q - p - 9 : 3), p + 9);
        free(buf);
        return CA_FAIL;
    }

    q = strcasestr(p, "\r\nContent-Type:");

    if (q == NULL
        || strncasecmp(q + 15 + strspn(q + 15, " \t"),
                       "application/timestamp-reply", 27) != 0)
    {
        free(buf);
        return ca_error(CA_FAIL, "timestamp: %s: the reply is not "
                        "application/timestamp-reply", url);
    }

    hl = end + 4 - (char *) buf;
    memmove(buf, buf + hl, n - hl);
    *olen = n - hl;

    return CA_OK;
}


/*
 * POST body to url with HTTP/1.0, the reply's body in *out; CA_USAGE on a
 * network error, CA_FAIL on an HTTP error
 */

static int
ca_http_post(const char *url, const u_char *body, size_t len, u_char **out,
    size_t *olen)
{
    int          fd, rc, e;
    char         host[256], port[8], head[1024 + 512];
    size_t       n, hl;
    u_char      *buf;
    const char  *path;

    path = NULL;
    buf = NULL;
    n = 0;

    if (ca_parse_url(url, host, sizeof(host), port, &path) != 0) {
        return CA_USAGE;
    }

    if (strlen(path) > 1024) {
        return ca_usage_error("timestamp: --tsa URL too long");
    }

    fd = ca_http_connect(host, port);

    if (fd == -1) {
        return CA_USAGE;
    }

    hl = snprintf(head, sizeof(head),
                  "POST %s HTTP/1.0\r\n"
                  "Host: %s%s%s\r\n"
                  "User-Agent: " CA_PROG "\r\n"
                  "Content-Type: application/timestamp-query\r\n"
                  "Accept: application/timestamp-reply\r\n"
                  "Content-Length: %zu\r\n"
                  "Connection: close\r\n"
                  "\r\n",
                  path, host, strcmp(port, "80") ? ":" : "",
                  strcmp(port, "80") ? port : "", len);

    if (ca_write_all(fd, head, hl) != 0 || ca_write_all(fd, body, len) != 0)
    {
        e = errno;
        close(fd);
        return ca_error(CA_USAGE, "timestamp: sending to %s: %s", url,
                        strerror(e == EAGAIN ? ETIMEDOUT : e));
    }

    rc = ca_http_read(fd, url, &buf, &n);

    if (rc != CA_OK) {
        return rc;
    }

    rc = ca_http_reply(buf, n, url, olen);

    if (rc == CA_OK) {
        *out = buf;
    }

    return rc;
}


/* the query for the 32 bytes of hash, with a random nonce and certReq */

static TS_REQ *
ca_ts_query(const u_char *hash)
{
    u_char            md[CA_HEX_LEN / 2], rnd[8];
    BIGNUM           *bn;
    TS_REQ           *req;
    X509_ALGOR       *alg;
    ASN1_INTEGER     *nonce;
    TS_MSG_IMPRINT   *imp;

    req = TS_REQ_new();
    imp = TS_MSG_IMPRINT_new();
    alg = X509_ALGOR_new();
    bn = NULL;
    nonce = NULL;

    if (req == NULL || imp == NULL || alg == NULL
        || ca_hex_decode(hash, CA_HEX_LEN, md) != 0
        || RAND_bytes(rnd, sizeof(rnd)) != 1
        || (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL
        || (nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL
        || X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL)
           != 1
        || TS_MSG_IMPRINT_set_algo(imp, alg) != 1
        || TS_MSG_IMPRINT_set_msg(imp, md, sizeof(md)) != 1
        || TS_REQ_set_version(req, 1) != 1
        || TS_REQ_set_msg_imprint(req, imp) != 1
        || TS_REQ_set_nonce(req, nonce) != 1
        || TS_REQ_set_cert_req(req, 1) != 1)
    {
        TS_REQ_free(req);
        req = NULL;
    }

    BN_free(bn);
    ASN1_INTEGER_free(nonce);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(imp);

    return req;
}


static int
ca_cmd_timestamp(int argc, char **argv)
{
    int              rc;
    char             tsdir[PATH_MAX], path[PATH_MAX + 32];
    char             tmp[PATH_MAX + 64];
    char             when[CA_TS_BUF];
    size_t           qlen, rlen;
    u_char          *q, *reply, hash[CA_HEX_LEN];
    int64_t          seq;
    TS_REQ          *req;
    TS_RESP         *resp;
    ca_dir_t         dir;
    ca_opts_t        o;
    ca_chain_t       chain;
    struct stat      sb;

    rc = ca_parse_opts("timestamp", CA_TIMESTAMP, argc, argv, &o);

    if (rc != -1) {
        return rc;
    }

    if (o.tsa == NULL) {
        return ca_usage_error("timestamp: missing --tsa URL");
    }

    if (strlen(o.arg) > PATH_MAX - 64) {
        return ca_usage_error("timestamp: DIR too long");
    }

    rc = ca_dir_segments(o.arg, &dir);

    if (rc != 0) {
        return rc;
    }

    reply = NULL;
    rlen = 0;

    rc = ca_ts_newest(&dir, &chain);

    seq = chain.seq;
    memcpy(hash, chain.hash, CA_HEX_LEN);

    snprintf(tsdir, sizeof(tsdir), "%s/" CA_TS_DIR, dir.path);
    snprintf(path, sizeof(path), "%s/%lld.tsr", tsdir, (long long) seq);
    snprintf(tmp, sizeof(tmp), "%s/.%lld.tsr.%ld", tsdir, (long long) seq,
             (long) getpid());

    ca_dir_free(&dir);

    if (rc != CA_OK) {
        return rc;
    }

    if (lstat(path, &sb) == 0) {
        printf("already timestamped: seq %lld (%s); no newer record\n",
               (long long) seq, path);
        return CA_OK;
    }

    req = ca_ts_query(hash);

    if (req == NULL) {
        return ca_error(CA_USAGE, "timestamp: making the query: %s",
                        ca_ssl_why("error"));
    }

    q = NULL;
    qlen = i2d_TS_REQ(req, &q);

    if ((int) qlen <= 0) {
        TS_REQ_free(req);
        return ca_error(CA_USAGE, "timestamp: encoding the query: %s",
                        ca_ssl_why("error"));
    }

    rc = ca_http_post(o.tsa, q, qlen, &reply, &rlen);
    OPENSSL_free(q);

    if (rc != CA_OK) {
        TS_REQ_free(req);
        return rc;
    }

    resp = NULL;

    rc = ca_ts_answer(req, reply, rlen, o.tsa, &resp);

    if (rc != CA_OK) {
        goto done;
    }

    rc = ca_ts_store(tsdir, tmp, path, reply, rlen);

    if (rc != CA_OK) {
        goto done;
    }

    ca_gentime(TS_RESP_get_tst_info(resp), when, sizeof(when));
    printf("timestamped: seq %lld at %s (hash %.64s, %s, %zu bytes)\n",
           (long long) seq, when, hash, path, rlen);

done:

    TS_RESP_free(resp);
    TS_REQ_free(req);
    free(reply);

    return rc;
}


/* timestamp: the newest record of a whole chain into chain; CA_OK or not */

static int
ca_ts_newest(ca_dir_t *dir, ca_chain_t *chain)
{
    int         rc;
    char        why[CA_WHY_LEN];
    ca_walk_e   wr;
    ca_walk_t   w;
    ca_link_e   lk;

    memset(chain, 0, sizeof(ca_chain_t));
    ca_walk_dir(&w, dir, CA_TIME_MIN, CA_TIME_MAX);
    why[0] = '\0';
    rc = CA_OK;

    while ((wr = ca_walk_record(&w, why)) != CA_WALK_END) {
        lk = wr == CA_WALK_RECORD ? ca_chain_link(chain, &w.rec)
                                  : CA_LINK_PREV;

        if (lk != CA_LINK_OK && lk != CA_LINK_ANCHOR) {
            ca_error(CA_FAIL, "timestamp: %s:%llu: the chain is damaged: "
                     "run \"" CA_PROG " verify %s\"; nothing stamped",
                     ca_path(dir, w.seg), (unsigned long long) w.r.line,
                     dir->path);
            rc = CA_FAIL;
            break;
        }

        ca_chain_add(chain, &w.rec, w.seg, w.r.line);
    }

    if (w.failed) {
        rc = CA_USAGE;
    }

    ca_walk_close(&w);

    if (rc == CA_OK && !chain->started) {
        rc = ca_error(CA_FAIL, "timestamp: no records in \"%s\"", dir->path);
    }

    return rc;
}


/*
 * timestamp: the TSA's reply, which must answer the query req: status,
 * version, imprint, nonce (the signature is verify --tsa-ca's: the CA is
 * not known here); CA_OK with *resp (to free in any case), or not
 */

static int
ca_ts_answer(TS_REQ *req, const u_char *reply, size_t rlen, const char *tsa,
    TS_RESP **resp)
{
    int             rc;
    const u_char   *p;
    TS_VERIFY_CTX  *ctx;

    p = reply;
    *resp = d2i_TS_RESP(NULL, &p, rlen);

    if (*resp == NULL || p != reply + rlen) {
        return ca_error(CA_FAIL, "timestamp: %s: not a DER time-stamp reply",
                        tsa);
    }

    ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);

    if (ctx == NULL) {
        return ca_error(CA_USAGE, "out of memory");
    }

    TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_IMPRINT
                                 | TS_VFY_NONCE);

    rc = CA_OK;

    if (TS_RESP_verify_response(ctx, *resp) != 1) {
        rc = ca_error(CA_FAIL, "timestamp: %s: the reply does not answer "
                      "the query: %s", tsa, ca_ssl_why("refused"));
    }

    TS_VERIFY_CTX_free(ctx);

    return rc;
}


/*
 * timestamp: the reply stored as path in tsdir, by way of tmp: written,
 * synced, then linked, so that it never replaces a stored reply; CA_OK or
 * CA_USAGE
 */

static int
ca_ts_store(const char *tsdir, const char *tmp, const char *path,
    const u_char *reply, size_t rlen)
{
    int  fd, e;

    if (mkdir(tsdir, 0755) == -1 && errno != EEXIST) {
        return ca_error(CA_USAGE, "timestamp: %s: %s", tsdir,
                        strerror(errno));
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

    if (fd == -1) {
        return ca_error(CA_USAGE, "timestamp: %s: %s", tmp, strerror(errno));
    }

    if (ca_write_all(fd, reply, rlen) != 0 || fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        return ca_error(CA_USAGE, "timestamp: %s: %s", tmp, strerror(e));
    }

    close(fd);

    if (link(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return ca_error(CA_USAGE, "timestamp: %s: %s", path, strerror(e));
    }

    unlink(tmp);

    if (ca_fsync_dir(tsdir) != 0) {
        return ca_error(CA_USAGE, "timestamp: %s: %s", tsdir,
                        strerror(errno));
    }

    return CA_OK;
}


/*
 * verify --pubkey: the checkpoints.  Each one must sign, with the key of
 * PUB.pem, "NODE\nSEQ\nHASH" of the record just before it in the chain
 * verify walks (a chain rewritten after a checkpoint no longer has the
 * hash it signed), and none may be further than twice its interval_ms
 * from the one before (or from the node's audit.start after it), nor the
 * last record from the last one: cut checkpoints.
 */

static int
ca_sign_open(ca_sign_t *s, const char *path)
{
    BIO      *bio;
    size_t    len;
    u_char    raw[32], md[32];

    memset(s, 0, sizeof(ca_sign_t));
    s->ref_ts = -1;

    bio = BIO_new_file(path, "r");
    s->pub = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);

    if (s->pub == NULL) {
        return ca_error(CA_USAGE, "--pubkey \"%s\": %s", path,
                        ca_ssl_why("not a PEM public key"));
    }

    len = sizeof(raw);

    if (EVP_PKEY_get_base_id(s->pub) != EVP_PKEY_ED25519
        || EVP_PKEY_get_raw_public_key(s->pub, raw, &len) != 1
        || len != sizeof(raw)
        || EVP_Digest(raw, len, md, NULL, EVP_sha256(), NULL) != 1)
    {
        EVP_PKEY_free(s->pub);
        s->pub = NULL;
        return ca_error(CA_USAGE, "--pubkey \"%s\": not an Ed25519 public "
                        "key", path);
    }

    ca_hex_encode(md, 16, s->fp);

    return CA_OK;
}


static void
ca_hex_encode(const u_char *p, size_t n, u_char *out)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[2 * i] = NGX_RTMP_COMPLIANCE_AUDIT_HEX_DIGITS[p[i] >> 4];
        out[2 * i + 1] = NGX_RTMP_COMPLIANCE_AUDIT_HEX_DIGITS[p[i] & 0xf];
    }

    out[2 * n] = '\0';
}


/* a string field's bytes, unescaped */

static const u_char *
ca_rec_str(ca_record_t *rec, const char *key, size_t *len)
{
    ca_field_t  *f;

    if (rec->nfields) {
        f = ca_rec_field(rec, key);

        if (f == NULL || f->type != CA_T_STRING) {
            return NULL;
        }

        if (!f->escaped) {
            *len = f->val_len;
            return f->val;
        }
    }

    return ca_json_string(ca_rec_json(rec), key, len);
}


/* a record of the walk: 0, or -1 with why */

static int
ca_sign_note(ca_sign_t *s, ca_record_t *rec, char *why)
{
    size_t          klen, hlen, slen;
    int64_t         sseq, interval;
    const u_char   *key, *shash, *sig;
    u_char          raw[64];

    if (!ca_span_is(rec->event, rec->event_len,
                    NGX_RTMP_COMPLIANCE_AUDIT_EV_CHECKPOINT))
    {
        if (s->ref_ts >= 0
            && ca_span_is(rec->event, rec->event_len,
                          NGX_RTMP_COMPLIANCE_AUDIT_EV_START))
        {
            /* a restart: the node was down, nothing was cut */
            s->ref_ts = rec->ts;
        }

        s->last_ts = rec->ts;
        s->after++;
        return 0;
    }

    key = ca_rec_str(rec, "key", &klen);
    shash = ca_rec_str(rec, "signed_hash", &hlen);
    sig = ca_rec_str(rec, "sig", &slen);

    if (ca_rec_int(rec, "signed_seq", &sseq) != 0
        || ca_rec_int(rec, "interval_ms", &interval) != 0 || interval <= 0
        || key == NULL || shash == NULL || hlen != CA_HEX_LEN
        || sig == NULL || slen != 128
        || ca_hex_decode(sig, slen, raw) != 0
        || rec->node_len > CA_NODE_MAX)
    {
        snprintf(why, CA_WHY_LEN, "checkpoint seq %lld: bad field (it needs "
                 "signed_seq, signed_hash, key, interval_ms and a 64-byte "
                 "sig in hex)", (long long) rec->seq);
        return -1;
    }

    if (sseq != rec->seq - 1 || memcmp(shash, rec->prev, CA_HEX_LEN) != 0) {
        snprintf(why, CA_WHY_LEN, "checkpoint seq %lld: rewritten: it signed "
                 "seq %lld with hash %.64s, the chain has %.64s there: the "
                 "records up to it were changed and the chain recomputed "
                 "after it was signed", (long long) rec->seq,
                 (long long) sseq, shash, rec->prev);
        return -1;
    }

    if (klen != 32 || memcmp(key, s->fp, 32) != 0) {
        snprintf(why, CA_WHY_LEN, "checkpoint seq %lld: wrong key: signed "
                 "with key %.*s, --pubkey is key %s", (long long) rec->seq,
                 (int) (klen < 64 ? klen : 64), key, s->fp);
        return -1;
    }

    if (ca_sign_check(s, rec->node, rec->node_len, sseq, shash, sig) != 0) {
        snprintf(why, CA_WHY_LEN, "checkpoint seq %lld: bad signature over "
                 "seq %lld, hash %.64s (key %s)", (long long) rec->seq,
                 (long long) sseq, shash, s->fp);
        return -1;
    }

    if (s->ref_ts >= 0 && rec->ts - s->ref_ts > 2 * interval) {
        snprintf(why, CA_WHY_LEN, "checkpoint seq %lld: no checkpoint for "
                 "%lld ms before it, more than twice its interval_ms %lld: "
                 "checkpoints were cut", (long long) rec->seq,
                 (long long) (rec->ts - s->ref_ts), (long long) interval);
        return -1;
    }

    s->checkpoints++;
    s->signed_seq = sseq;
    s->ck_seq = rec->seq;
    s->ref_ts = rec->ts;
    s->last_ts = rec->ts;
    s->interval = interval;
    s->after = 0;
    memcpy(s->ts_text, rec->ts_text, CA_TS_LEN);
    s->ts_text[CA_TS_LEN] = '\0';

    return 0;
}


/* once the chain is whole: CA_OK or CA_FAIL, said */

static int
ca_sign_done(ca_sign_t *s, int quiet)
{
    if (s->checkpoints == 0) {
        return ca_error(CA_FAIL, "--pubkey: no checkpoint record: nothing "
                        "is signed");
    }

    if (s->last_ts - s->ref_ts > 2 * s->interval) {
        return ca_error(CA_FAIL, "--pubkey: the last checkpoint is seq %lld "
                        "(%s), and %llu record(s) after it run %lld ms on, "
                        "more than twice its interval_ms %lld: checkpoints "
                        "were cut", (long long) s->ck_seq, s->ts_text,
                        (unsigned long long) s->after,
                        (long long) (s->last_ts - s->ref_ts),
                        (long long) s->interval);
    }

    if (!quiet) {
        printf("signed:     %llu checkpoint(s), key %s\n",
               (unsigned long long) s->checkpoints, s->fp);
        printf("signed through seq %lld (%s); %llu record(s) follow the "
               "last checkpoint\n", (long long) s->signed_seq, s->ts_text,
               (unsigned long long) s->after);
    }

    return CA_OK;
}


/*
 * the signature sig (128 hex digits) of "NODE\nSEQ\nHASH" with the
 * --pubkey key: 0 good, -1 not (docs/audit.md)
 */

static int
ca_sign_check(ca_sign_t *s, const u_char *node, size_t node_len,
    int64_t sseq, const u_char *shash, const u_char *sig)
{
    int          ok;
    size_t       mlen;
    EVP_MD_CTX  *ctx;
    u_char       raw[64], msg[CA_NODE_MAX + 96];

    if (node_len > CA_NODE_MAX || ca_hex_decode(sig, 128, raw) != 0) {
        return -1;
    }

    memcpy(msg, node, node_len);
    mlen = node_len;
    mlen += snprintf((char *) msg + mlen, sizeof(msg) - mlen, "\n%lld\n",
                     (long long) sseq);
    memcpy(msg + mlen, shash, CA_HEX_LEN);
    mlen += CA_HEX_LEN;

    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL
         && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, s->pub) == 1
         && EVP_DigestVerify(ctx, raw, 64, msg, mlen) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();

    return ok ? 0 : -1;
}


/*
 * verify --witness DIR2: the witness records of the other nodes' chains,
 * those signed with the --pubkey key (this node's checkpoints), each
 * signature checked; then sorted by seq for the walk of DIR.  A witness
 * chain must itself be whole.  CA_OK, CA_FAIL (said) or CA_USAGE
 */

static int
ca_witness_load(ca_witnesses_t *ws, ca_sign_t *s, const char **dirs,
    size_t n)
{
    int     rc;
    size_t  i;

    ws->dirs = dirs;
    ws->sign = s;

    for (i = 0; i < n; i++) {
        rc = ca_witness_walk(dirs[i], i, ca_witness_add, ws);

        if (rc != CA_OK) {
            return rc;
        }
    }

    if (ws->n) {
        qsort(ws->w, ws->n, sizeof(ca_witness_t), ca_seq_cmp);
    }

    return CA_OK;
}


/*
 * the chain of DIR2 (the i-th --witness), which must be whole: handler
 * is called for each of its witness records.  CA_OK, CA_FAIL (said) or
 * CA_USAGE
 */

static int
ca_witness_walk(const char *path, size_t i, ca_witness_pt handler,
    void *data)
{
    int          rc;
    char         why[CA_WHY_LEN];
    ca_dir_t     dir;
    ca_walk_t    w;
    ca_walk_e    wr;
    ca_link_e    lk;
    ca_chain_t   chain;

    rc = ca_dir_segments(path, &dir);

    if (rc != 0) {
        return rc;
    }

    memset(&chain, 0, sizeof(ca_chain_t));
    ca_walk_dir(&w, &dir, CA_TIME_MIN, CA_TIME_MAX);
    rc = CA_OK;
    why[0] = '\0';

    while ((wr = ca_walk_record(&w, why)) != CA_WALK_END) {
        lk = (wr == CA_WALK_DAMAGED) ? CA_LINK_PREV
                                     : ca_chain_link(&chain, &w.rec);

        if (lk != CA_LINK_OK && lk != CA_LINK_ANCHOR) {
            if (wr != CA_WALK_DAMAGED) {
                ca_link_why(&chain, &w.rec, lk, why);

            } else if (why[0] == '\0') {
                snprintf(why, CA_WHY_LEN, "not a whole record");
            }

            rc = ca_error(CA_FAIL, "--witness \"%s\": %s:%llu: %s: the "
                          "witness chain is damaged (verify it on its own)",
                          path, ca_path(&dir, w.seg),
                          (unsigned long long) w.r.line, why);
            break;
        }

        ca_chain_add(&chain, &w.rec, w.seg, w.r.line);

        if (ca_span_is(w.rec.event, w.rec.event_len,
                       NGX_RTMP_COMPLIANCE_AUDIT_EV_WITNESS))
        {
            rc = handler(data, &w.rec, i, dir.segs[w.seg].name, w.r.line,
                         why);

            if (rc != CA_OK) {
                break;
            }
        }
    }

    if (rc == CA_OK && w.failed) {
        rc = CA_USAGE;
    }

    ca_walk_close(&w);
    ca_dir_free(&dir);

    return rc;
}


/* the fields of a witness record: 0, or -1 with why */

static int
ca_statement(ca_record_t *rec, ca_statement_t *st)
{
    size_t  klen, hlen, slen;

    st->origin = ca_rec_str(rec, "origin", &st->origin_len);
    st->key = ca_rec_str(rec, "key", &klen);
    st->hash = ca_rec_str(rec, "signed_hash", &hlen);
    st->sig = ca_rec_str(rec, "sig", &slen);

    if (st->origin == NULL || st->origin_len == 0
        || st->origin_len > CA_WITNESS_NODE
        || ca_rec_int(rec, "signed_seq", &st->seq) != 0 || st->seq < 1
        || st->key == NULL || klen != 32 || st->hash == NULL
        || hlen != CA_HEX_LEN || !ca_is_hex(st->hash, CA_HEX_LEN)
        || st->sig == NULL || slen != 128)
    {
        return -1;
    }

    return 0;
}


/* one witness record: kept if of the --pubkey key, its signature good */

static int
ca_witness_add(void *data, ca_record_t *rec, size_t dir, const char *seg,
    uint64_t line, char *why)
{
    ca_sign_t       *s;
    ca_witness_t    *w;
    ca_statement_t   st;
    ca_witnesses_t  *ws;

    ws = data;
    s = ws->sign;

    if (ca_statement(rec, &st) != 0) {
        snprintf(why, CA_WHY_LEN, "witness seq %lld: bad field (it needs "
                 "origin, signed_seq, signed_hash, key and sig)",
                 (long long) rec->seq);
        goto ignored;
    }

    if (memcmp(st.key, s->fp, 32) != 0) {
        /* another node's key */
        ws->others++;
        return CA_OK;
    }

    if (ca_sign_check(s, st.origin, st.origin_len, st.seq, st.hash, st.sig)
        != 0)
    {
        snprintf(why, CA_WHY_LEN, "witness seq %lld: bad signature: what it "
                 "says node \"%.*s\" signed (seq %lld, hash %.64s) is not "
                 "signed by key %s", (long long) rec->seq,
                 (int) st.origin_len, st.origin, (long long) st.seq,
                 st.hash, s->fp);
        goto ignored;
    }

    if (ca_grow((void **) &ws->w, &ws->nalloc, ws->n, sizeof(ca_witness_t))
        != 0)
    {
        return ca_error(CA_USAGE, "out of memory");
    }

    w = &ws->w[ws->n++];

    w->seq = st.seq;
    memcpy(w->hash, st.hash, CA_HEX_LEN);
    memcpy(w->node, st.origin, st.origin_len);
    w->node_len = st.origin_len;
    w->dir = dir;
    snprintf(w->seg, sizeof(w->seg), "%s", seg);
    w->line = line;

    return CA_OK;

ignored:

    /*
     * not a statement of the node's: it says nothing about DIR (an entry
     * someone else wrote on the stream, or the witness chain edited)
     */

    fprintf(stderr, CA_PROG ": --witness \"%s\": %s/%s:%llu: warning: %s: "
            "not this node's statement, ignored\n", ws->dirs[dir],
            ws->dirs[dir], seg, (unsigned long long) line, why);
    ws->ignored++;

    return CA_OK;
}


/* room for one more element of *p, which holds n of nalloc: 0 or -1 */

static int
ca_grow(void **p, size_t *nalloc, size_t n, size_t size)
{
    void    *q;
    size_t   m;

    if (n < *nalloc) {
        return 0;
    }

    m = *nalloc ? 2 * *nalloc : 64;
    q = realloc(*p, m * size);

    if (q == NULL) {
        return -1;
    }

    *p = q;
    *nalloc = m;

    return 0;
}



/* a record of DIR against what was witnessed of it: 0, or -1 with why */

static int
ca_witness_note(ca_witnesses_t *ws, ca_record_t *rec, char *why)
{
    ca_witness_t  *w;

    for ( ;; ) {
        if (ws->next == ws->n || ws->w[ws->next].seq > rec->seq) {
            return 0;
        }

        w = &ws->w[ws->next];

        if (w->seq < rec->seq) {
            /* before the chain's first record: pruned */
            ws->pruned++;
            ws->next++;
            continue;
        }

        if (w->node_len != rec->node_len
            || memcmp(w->node, rec->node, w->node_len) != 0)
        {
            /* signed with the same key for another node's name */
            ws->others++;
            ws->next++;
            continue;
        }

        if (memcmp(w->hash, rec->hash, CA_HEX_LEN) != 0) {
            snprintf(why, CA_WHY_LEN, "seq %lld: rewritten: %s/%s:%llu "
                     "witnessed it with hash %.64s, signed by this node; "
                     "the chain has %.64s", (long long) rec->seq,
                     ws->dirs[w->dir], w->seg, (unsigned long long) w->line,
                     w->hash, rec->hash);
            return -1;
        }

        ws->matched++;
        ws->through = w->seq;
        ws->next++;
    }
}


/* once the chain is whole: what was witnessed past its end, said */

static int
ca_witness_done(ca_witnesses_t *ws, ca_chain_t *c, ca_stats_t *st,
    int quiet)
{
    size_t         i, late;
    ca_witness_t  *w;

    late = 0;

    for (i = ws->next; i < ws->n; i++) {
        w = &ws->w[i];

        if (w->node_len != st->node_len
            || memcmp(w->node, st->node, w->node_len) != 0)
        {
            ws->others++;
            continue;
        }

        if (late++ == 0) {
            ca_error(CA_FAIL, "truncated: %s/%s:%llu witnessed seq %lld "
                     "(hash %.64s) of node \"%.*s\", signed by it; the "
                     "chain ends at seq %lld: records were cut",
                     ws->dirs[w->dir], w->seg, (unsigned long long) w->line,
                     (long long) w->seq, w->hash, (int) w->node_len,
                     w->node, (long long) c->seq);
        }
    }

    if (late) {
        return CA_FAIL;
    }

    if (!quiet) {
        printf("witnessed:  %zu checkpoint(s) of this node held as "
               "witnessed", ws->matched);

        if (ws->matched) {
            printf(", through seq %lld", (long long) ws->through);
        }

        printf("; %zu before the first record (pruned), %zu of other "
               "nodes", ws->pruned, ws->others);

        if (ws->ignored) {
            printf(", %zu ignored (bad signature or fields)", ws->ignored);
        }

        printf("\n");
    }

    return CA_OK;
}
