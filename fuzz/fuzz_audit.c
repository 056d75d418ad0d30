
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the audit log's verifier, "compliance-audit verify DIR"
 * (scripts/compliance-audit.c, linked as built with
 * -DCOMPLIANCE_AUDIT_FUZZ: its main() is compliance_audit_main()), on a
 * directory of segments written from the input.
 *
 * Input: the bytes of the segments.  A line that is a single form feed
 * ("\f\n", never part of a record) starts the next segment.  Without one
 * the input is one daily segment, audit-20260201.jsonl; with them, up to
 * 24 hourly ones, audit-20260201T00.jsonl .. T23 (the rest goes into the
 * last), so the chain runs across segment boundaries.  The directory is
 * private, made once per process (in /dev/shm when there is one, else
 * $TMPDIR or /tmp; removed at exit, left with the input's segments after
 * a crash).
 *
 * What the tool prints goes to /dev/null (FUZZ_LOG=1: to the terminal).
 *
 * Checks beyond memory safety, leaks and undefined behaviour:
 *   - the exit status is 0 (intact) or 1 (damaged), never 2 (usage or
 *     I/O error: the directory is sound);
 *   - when it says intact, the chain is whole by the definition of
 *     docs/audit.md, computed here independently: every line ends with
 *     ,"prev":"<64 hex>","hash":"<64 hex>"}, its hash is SHA-256 of the
 *     line without its last 75 bytes followed by "}", seq goes up by one
 *     and prev is the hash before it across segments, and the first
 *     record is seq 1 with a zero prev or an anchor (seq > 1, prev not
 *     zero); and every line is a record to jansson too (the tool reads
 *     most lines with its own fast parser, which must accept only what
 *     jansson does): a flat object without duplicate keys whose seq,
 *     prev and hash are the ones in its bytes;
 *   - then a record chained to the last one, computed here the same way,
 *     appended to the last segment still verifies, and the same record
 *     without its newline (a torn write) does not.
 */


#define FUZZ_STANDALONE

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fuzz.h"
#include "ngx_rtmp_compliance_audit_format.h"


#define FUZZ_AUDIT_SEGMENTS  24
#define FUZZ_AUDIT_RECORD    512
#define FUZZ_AUDIT_HEX       NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN
#define FUZZ_AUDIT_HASH_TAIL NGX_RTMP_COMPLIANCE_AUDIT_HASH_TAIL
#define FUZZ_AUDIT_PREV_TAIL NGX_RTMP_COMPLIANCE_AUDIT_PREV_TAIL

/* ,"prev":"  ,"hash":"  {"seq":  and "}: the bytes around the values */
#define FUZZ_AUDIT_PREV_KEY  (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY) - 1)
#define FUZZ_AUDIT_HASH_KEY  (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY) - 1)
#define FUZZ_AUDIT_SEQ_KEY   (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY) - 1)
#define FUZZ_AUDIT_END       (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_END) - 1)


typedef struct {
    const uint8_t   *data;
    size_t           len;
} fuzz_audit_seg_t;


int compliance_audit_main(int argc, char **argv);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_audit_cleanup(void);
static void fuzz_audit_unlink(void);
static char *fuzz_audit_name(size_t i, size_t nsegs);
static void fuzz_audit_write(size_t i, size_t nsegs, const uint8_t *data,
    size_t len, const uint8_t *extra, size_t extra_len);
static int fuzz_audit_verify(void);
static void fuzz_audit_hash(const uint8_t *line, size_t len, char *hex);
static int fuzz_audit_is_hex(const uint8_t *p);
static size_t fuzz_audit_chain(fuzz_audit_seg_t *segs, size_t nsegs,
    int64_t *last_seq, char *last_hash);
static void fuzz_audit_json(const uint8_t *line, size_t len, int64_t seq,
    const uint8_t *prev, const uint8_t *hash);
static size_t fuzz_audit_record(int64_t seq, const char *prev,
    uint8_t *buf);


static char         fuzz_audit_dir[PATH_MAX - 64];
static int          fuzz_audit_verbose;
static FILE        *fuzz_audit_null;
static EVP_MD_CTX  *fuzz_audit_md;

static const char   fuzz_audit_zero[FUZZ_AUDIT_HEX + 1] =
    NGX_RTMP_COMPLIANCE_AUDIT_ZERO_HASH;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char  *tmp;

    fuzz_audit_verbose = getenv("FUZZ_LOG") != NULL;

    /* tmpfs if there is one */

    tmp = getenv("TMPDIR");

    if (access("/dev/shm", W_OK) == 0) {
        tmp = "/dev/shm";

    } else if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > PATH_MAX - 256) {
        tmp = "/tmp";
    }

    snprintf(fuzz_audit_dir, sizeof(fuzz_audit_dir), "%s/fuzz-audit.XXXXXX",
             tmp);
    FUZZ_CHECK(mkdtemp(fuzz_audit_dir) != NULL, "mkdtemp(\"%s\"): %s",
               fuzz_audit_dir, strerror(errno));

    atexit(fuzz_audit_cleanup);

    fuzz_audit_null = fopen("/dev/null", "w");
    FUZZ_CHECK(fuzz_audit_null != NULL, "fopen(\"/dev/null\")");

    fuzz_audit_md = EVP_MD_CTX_new();
    FUZZ_CHECK(fuzz_audit_md != NULL, "EVP_MD_CTX_new");

    return 0;
}


static void
fuzz_audit_cleanup(void)
{
    fuzz_audit_unlink();
    rmdir(fuzz_audit_dir);
}


/* the segments of the last input */

static void
fuzz_audit_unlink(void)
{
    size_t  i;

    unlink(fuzz_audit_name(0, 1));

    for (i = 0; i < FUZZ_AUDIT_SEGMENTS; i++) {
        unlink(fuzz_audit_name(i, FUZZ_AUDIT_SEGMENTS));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               rc;
    char              hash[FUZZ_AUDIT_HEX + 1];
    size_t            i, nsegs, n, len;
    int64_t           seq;
    uint8_t           rec[FUZZ_AUDIT_RECORD];
    const uint8_t    *p, *end, *nl;
    fuzz_audit_seg_t  segs[FUZZ_AUDIT_SEGMENTS];

    /* the segments: split at the "\f\n" lines */

    nsegs = 1;
    segs[0].data = data;
    end = data + size;

    for (p = data; p < end; p = nl + 1) {
        nl = memchr(p, '\n', end - p);

        if (nl == NULL) {
            break;
        }

        if (nl - p == 1 && p[0] == '\f' && nsegs < FUZZ_AUDIT_SEGMENTS) {
            segs[nsegs - 1].len = p - segs[nsegs - 1].data;
            segs[nsegs++].data = nl + 1;
        }
    }

    segs[nsegs - 1].len = end - segs[nsegs - 1].data;

    fuzz_audit_unlink();

    for (i = 0; i < nsegs; i++) {
        fuzz_audit_write(i, nsegs, segs[i].data, segs[i].len, NULL, 0);
    }

    rc = fuzz_audit_verify();

    FUZZ_CHECK(rc == 0 || rc == 1, "verify exited with %d", rc);

    if (fuzz_audit_verbose) {
        fprintf(stderr, "audit: %zu segment(s), verify: %d\n", nsegs, rc);
    }

    if (rc != 0) {
        return 0;
    }

    /* intact: the chain by docs/audit.md */

    n = fuzz_audit_chain(segs, nsegs, &seq, hash);

    FUZZ_CHECK(n > 0, "verified intact without a record");

    if (seq == INT64_MAX) {
        /* no record can follow */
        return 0;
    }

    /* the next record, appended; then torn */

    len = fuzz_audit_record(seq + 1, hash, rec);
    i = nsegs - 1;

    fuzz_audit_write(i, nsegs, segs[i].data, segs[i].len, rec, len);
    rc = fuzz_audit_verify();

    FUZZ_CHECK(rc == 0, "a record chained to an intact log is refused "
               "(%d): %.*s", rc, (int) len, rec);

    fuzz_audit_write(i, nsegs, segs[i].data, segs[i].len, rec, len - 1);
    rc = fuzz_audit_verify();

    FUZZ_CHECK(rc == 1, "a torn last record is not found (%d)", rc);

    return 0;
}


/* DIR/audit-20260201.jsonl, or DIR/audit-20260201THH.jsonl; static */

static char *
fuzz_audit_name(size_t i, size_t nsegs)
{
    static char  path[PATH_MAX];

    if (nsegs == 1) {
        snprintf(path, sizeof(path),
                 "%s/" NGX_RTMP_COMPLIANCE_AUDIT_DAILY_FMT, fuzz_audit_dir,
                 2026, 2, 1);

    } else {
        snprintf(path, sizeof(path),
                 "%s/" NGX_RTMP_COMPLIANCE_AUDIT_HOURLY_FMT, fuzz_audit_dir,
                 2026, 2, 1, (int) i);
    }

    return path;
}


static void
fuzz_audit_write(size_t i, size_t nsegs, const uint8_t *data, size_t len,
    const uint8_t *extra, size_t extra_len)
{
    int       fd, k;
    char     *path;
    ssize_t   n;

    path = fuzz_audit_name(i, nsegs);

    fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0600);
    FUZZ_CHECK(fd != -1, "open(\"%s\"): %s", path, strerror(errno));

    for (k = 0; k < 2; k++) {
        while (len) {
            n = write(fd, data, len);
            FUZZ_CHECK(n > 0, "write(\"%s\"): %s", path, strerror(errno));
            data += n;
            len -= n;
        }

        data = extra;
        len = extra_len;
    }

    FUZZ_CHECK(close(fd) == 0, "close(\"%s\")", path);
}


/* compliance-audit verify DIR; what it prints goes to /dev/null */

static int
fuzz_audit_verify(void)
{
    int    rc;
    FILE  *out, *err;
    char  *argv[4];

    argv[0] = "compliance-audit";
    argv[1] = "verify";
    argv[2] = fuzz_audit_dir;
    argv[3] = NULL;

    out = stdout;
    err = stderr;

    if (!fuzz_audit_verbose) {
        stdout = fuzz_audit_null;
        stderr = fuzz_audit_null;
    }

    rc = compliance_audit_main(3, argv);

    stdout = out;
    stderr = err;

    return rc;
}


/* SHA-256 of the line without its last 75 bytes, then "}": 64 hex */

static void
fuzz_audit_hash(const uint8_t *line, size_t len, char *hex)
{
    size_t         i;
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    FUZZ_CHECK(EVP_DigestInit_ex(fuzz_audit_md, EVP_sha256(), NULL) == 1
               && EVP_DigestUpdate(fuzz_audit_md, line,
                                   len - FUZZ_AUDIT_HASH_TAIL) == 1
               && EVP_DigestUpdate(fuzz_audit_md,
                                   NGX_RTMP_COMPLIANCE_AUDIT_HASH_CLOSE, 1)
                  == 1
               && EVP_DigestFinal_ex(fuzz_audit_md, md, &n) == 1
               && n == FUZZ_AUDIT_HEX / 2, "SHA-256");

    /* not the tool's way of writing hex: the tool's is what is checked */
    for (i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
}


/* FUZZ_AUDIT_HEX lowercase hex digits */

static int
fuzz_audit_is_hex(const uint8_t *p)
{
    char  hex[FUZZ_AUDIT_HEX + 1];

    memcpy(hex, p, FUZZ_AUDIT_HEX);
    hex[FUZZ_AUDIT_HEX] = '\0';

    return strspn(hex, NGX_RTMP_COMPLIANCE_AUDIT_HEX_DIGITS) == FUZZ_AUDIT_HEX;
}


/*
 * the chain of segments the tool found intact, checked as docs/audit.md
 * defines it; returns the number of records, the last seq and hash
 */

static size_t
fuzz_audit_chain(fuzz_audit_seg_t *segs, size_t nsegs, int64_t *last_seq,
    char *last_hash)
{
    char            hash[FUZZ_AUDIT_HEX + 1];
    size_t          i, n, len, d;
    int64_t         seq;
    const uint8_t  *p, *end, *nl, *tail, *prev;

    n = 0;
    *last_seq = 0;

    for (i = 0; i < nsegs; i++) {
        p = segs[i].data;
        end = p + segs[i].len;

        FUZZ_CHECK(p == end || end[-1] == '\n',
                   "segment %zu is intact but ends without a newline", i);

        for ( /* void */ ; p < end; p = nl + 1) {
            nl = memchr(p, '\n', end - p);
            len = nl - p;

            FUZZ_CHECK(len >= FUZZ_AUDIT_HASH_TAIL + FUZZ_AUDIT_PREV_TAIL
                                + sizeof("{\"seq\":1,") - 1,
                       "segment %zu: an intact line of %zu bytes", i, len);

            /* ...,"prev":"<hex>","hash":"<hex>"} */

            tail = p + len - FUZZ_AUDIT_HASH_TAIL + FUZZ_AUDIT_HASH_KEY;
            prev = p + len - FUZZ_AUDIT_HASH_TAIL - FUZZ_AUDIT_PREV_TAIL
                   + FUZZ_AUDIT_PREV_KEY;

            FUZZ_CHECK(memcmp(tail - FUZZ_AUDIT_HASH_KEY,
                              NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY,
                              FUZZ_AUDIT_HASH_KEY) == 0
                       && fuzz_audit_is_hex(tail)
                       && memcmp(p + len - FUZZ_AUDIT_END,
                                 NGX_RTMP_COMPLIANCE_AUDIT_END,
                                 FUZZ_AUDIT_END) == 0,
                       "segment %zu: an intact line without its hash: "
                       "%.*s", i, (int) len, p);

            FUZZ_CHECK(memcmp(prev - FUZZ_AUDIT_PREV_KEY,
                              NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY,
                              FUZZ_AUDIT_PREV_KEY) == 0
                       && fuzz_audit_is_hex(prev)
                       && prev[FUZZ_AUDIT_HEX] == '"',
                       "segment %zu: an intact line without its prev: "
                       "%.*s", i, (int) len, p);

            fuzz_audit_hash(p, len, hash);

            FUZZ_CHECK(memcmp(hash, tail, FUZZ_AUDIT_HEX) == 0,
                       "segment %zu: an intact line whose bytes hash to "
                       "%s: %.*s", i, hash, (int) len, p);

            /* {"seq":N, */

            d = FUZZ_AUDIT_SEQ_KEY;

            FUZZ_CHECK(memcmp(p, NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY, d) == 0
                       && p[d] >= '1' && p[d] <= '9',
                       "segment %zu: no seq first: %.*s", i, (int) len, p);

            seq = 0;

            for ( /* void */ ; p[d] >= '0' && p[d] <= '9'; d++) {
                FUZZ_CHECK(seq <= (INT64_MAX - (p[d] - '0')) / 10,
                           "segment %zu: seq out of range: %.*s", i,
                           (int) len, p);
                seq = seq * 10 + (p[d] - '0');
            }

            FUZZ_CHECK(p[d] == ',', "segment %zu: seq not followed by a "
                       "comma: %.*s", i, (int) len, p);

            fuzz_audit_json(p, len, seq, prev, tail);

            if (n == 0) {
                FUZZ_CHECK((seq == 1)
                           == (memcmp(prev, fuzz_audit_zero,
                                      FUZZ_AUDIT_HEX) == 0),
                           "the first record, seq %lld, has prev %.64s",
                           (long long) seq, prev);

            } else {
                FUZZ_CHECK(seq == *last_seq + 1
                           && memcmp(prev, last_hash, FUZZ_AUDIT_HEX) == 0,
                           "segment %zu: seq %lld, prev %.64s after seq "
                           "%lld, hash %s", i, (long long) seq, prev,
                           (long long) *last_seq, last_hash);
            }

            *last_seq = seq;
            memcpy(last_hash, hash, FUZZ_AUDIT_HEX + 1);
            n++;
        }
    }

    return n;
}


/* an intact line as jansson reads it */

static void
fuzz_audit_json(const uint8_t *line, size_t len, int64_t seq,
    const uint8_t *prev, const uint8_t *hash)
{
    json_t        *j, *v;
    const char    *key;
    json_error_t   err;

    j = json_loadb((const char *) line, len, JSON_REJECT_DUPLICATES, &err);

    FUZZ_CHECK(j != NULL && json_is_object(j), "an intact line is not a "
               "JSON object to jansson (%s): %.*s", j ? "" : err.text,
               (int) len, line);

    json_object_foreach(j, key, v) {
        FUZZ_CHECK(!json_is_object(v) && !json_is_array(v)
                   && !json_is_real(v), "an intact record holds \"%s\" of "
                   "type %d: %.*s", key, json_typeof(v), (int) len, line);
    }

    v = json_object_get(j, NGX_RTMP_COMPLIANCE_AUDIT_SEQ);
    FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == seq,
               "an intact record's seq is not %lld to jansson: %.*s",
               (long long) seq, (int) len, line);

    v = json_object_get(j, NGX_RTMP_COMPLIANCE_AUDIT_PREV);
    FUZZ_CHECK(json_is_string(v) && json_string_length(v) == FUZZ_AUDIT_HEX
               && memcmp(json_string_value(v), prev, FUZZ_AUDIT_HEX) == 0,
               "an intact record's prev is not its bytes: %.*s", (int) len,
               line);

    v = json_object_get(j, NGX_RTMP_COMPLIANCE_AUDIT_HASH);
    FUZZ_CHECK(json_is_string(v) && json_string_length(v) == FUZZ_AUDIT_HEX
               && memcmp(json_string_value(v), hash, FUZZ_AUDIT_HEX) == 0,
               "an intact record's hash is not its bytes: %.*s", (int) len,
               line);

    json_decref(j);
}


/* a record, as the module writes it, chained to prev; with its newline */

static size_t
fuzz_audit_record(int64_t seq, const char *prev, uint8_t *buf)
{
    int   n;
    char  hash[FUZZ_AUDIT_HEX + 1];

    n = snprintf((char *) buf, FUZZ_AUDIT_RECORD,
                 NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY "%lld"
                 NGX_RTMP_COMPLIANCE_AUDIT_TS_KEY "2026-02-01T23:59:59.999Z\""
                 NGX_RTMP_COMPLIANCE_AUDIT_EVENT_KEY
                 NGX_RTMP_COMPLIANCE_AUDIT_EV_GAP "\""
                 NGX_RTMP_COMPLIANCE_AUDIT_NODE_KEY "fuzz\",\"lost\":1"
                 NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY "%.64s\"}",
                 (long long) seq, prev);

    /* the hashed bytes are the record without ,"hash":"..." */

    memcpy(buf + n - 1, NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY,
           FUZZ_AUDIT_HASH_KEY);
    n += FUZZ_AUDIT_HASH_TAIL - 1;
    memcpy(buf + n - FUZZ_AUDIT_END, NGX_RTMP_COMPLIANCE_AUDIT_END,
           FUZZ_AUDIT_END);
    fuzz_audit_hash(buf, n, hash);
    memcpy(buf + n - FUZZ_AUDIT_HASH_TAIL + FUZZ_AUDIT_HASH_KEY, hash,
           FUZZ_AUDIT_HEX);

    buf[n++] = '\n';

    return n;
}
