
/*
 * rtmp_proto.c -- the RTMP protocol of the project's own clients
 * (rtmp_proto.h says what is here and what is not).
 *
 * The reader follows the chunk stream rules of the RTMP specification:
 * a type 0 header carries timestamp, length, type and message stream id;
 * type 1 a timestamp delta, length and type; type 2 a delta; type 3
 * nothing, and when it starts a message the previous delta applies again.
 * A header other than type 3 in the middle of a message is an error.  A
 * timestamp field of 0xffffff means a 4-byte extended timestamp follows
 * the header, and it follows every type 3 chunk of that stream as well.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtmp_proto.h"


typedef struct {
    rtmp_amf_t             *pool;
    size_t                  npool;
    size_t                  used;
} rtmp_amf_ctx_t;


static void rtmp_buf_be(rtmp_buf_t *b, uint32_t v, size_t n);
static void rtmp_basic_header(rtmp_buf_t *b, unsigned fmt, uint32_t csid);
static rtmp_chunk_stream_t *rtmp_reader_stream(rtmp_chunk_reader_t *r,
    uint32_t csid);
static rtmp_chunk_stream_t *rtmp_reader_find(rtmp_chunk_reader_t *r,
    uint32_t csid);
static int rtmp_reader_error(rtmp_chunk_reader_t *r, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__ ((format (printf, 2, 3)))
#endif
    ;
static rtmp_amf_t *rtmp_amf_alloc(rtmp_amf_ctx_t *ctx, int type);
static int rtmp_amf_read_members(rtmp_amf_ctx_t *ctx, const uint8_t **pp,
    const uint8_t *end, int depth, rtmp_amf_t *parent);
static int rtmp_amf_read_string(const uint8_t **pp, const uint8_t *end,
    size_t size, rtmp_amf_t *n);
static rtmp_amf_t *rtmp_amf_read_value(rtmp_amf_ctx_t *ctx,
    const uint8_t **pp, const uint8_t *end, int depth);


/* the message header's size by chunk type */
static const size_t  rtmp_mh_size[4] = { 11, 7, 3, 0 };

/* the data of an empty message */
static const uint8_t  rtmp_empty[1];


uint32_t
rtmp_get_be16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}


uint32_t
rtmp_get_be24(const uint8_t *p)
{
    return ((uint32_t) p[0] << 16) | ((uint32_t) p[1] << 8) | p[2];
}


uint32_t
rtmp_get_be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


uint32_t
rtmp_get_le32(const uint8_t *p)
{
    return ((uint32_t) p[3] << 24) | ((uint32_t) p[2] << 16)
           | ((uint32_t) p[1] << 8) | p[0];
}


double
rtmp_get_double(const uint8_t *p)
{
    int       i;
    double    d;
    uint64_t  v;

    v = 0;
    for (i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }

    memcpy(&d, &v, sizeof(d));

    return d;
}


void
rtmp_set_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/* output buffers */

void
rtmp_buf_init(rtmp_buf_t *b, uint8_t *mem, size_t size)
{
    memset(b, 0, sizeof(rtmp_buf_t));

    if (mem) {
        b->data = mem;
        b->cap = size;
        b->fixed = 1;
    }
}


int
rtmp_buf_reserve(rtmp_buf_t *b, size_t n)
{
    size_t    cap;
    uint8_t  *p;

    if (b->failed) {
        return RTMP_ERROR;
    }

    if (n <= b->cap - b->len) {
        return RTMP_OK;
    }

    if (b->fixed || n > (size_t) -1 / 2 - b->len) {
        b->failed = 1;
        return RTMP_ERROR;
    }

    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) {
        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return RTMP_ERROR;
    }

    b->data = p;
    b->cap = cap;

    return RTMP_OK;
}


void
rtmp_buf_put(rtmp_buf_t *b, const void *p, size_t n)
{
    if (rtmp_buf_reserve(b, n) != RTMP_OK) {
        return;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
    }

    b->len += n;
}


void
rtmp_buf_byte(rtmp_buf_t *b, uint8_t c)
{
    rtmp_buf_put(b, &c, 1);
}


void
rtmp_buf_fill(rtmp_buf_t *b, uint8_t c, size_t n)
{
    if (rtmp_buf_reserve(b, n) != RTMP_OK) {
        return;
    }

    memset(b->data + b->len, c, n);
    b->len += n;
}


/* the n low bytes of v, most significant first */

static void
rtmp_buf_be(rtmp_buf_t *b, uint32_t v, size_t n)
{
    size_t   i;
    uint8_t  p[4];

    for (i = 0; i < n; i++) {
        p[i] = (uint8_t) (v >> (8 * (n - 1 - i)));
    }

    rtmp_buf_put(b, p, n);
}


void
rtmp_buf_be16(rtmp_buf_t *b, uint32_t v)
{
    rtmp_buf_be(b, v, 2);
}


void
rtmp_buf_be24(rtmp_buf_t *b, uint32_t v)
{
    rtmp_buf_be(b, v, 3);
}


void
rtmp_buf_be32(rtmp_buf_t *b, uint32_t v)
{
    rtmp_buf_be(b, v, 4);
}


void
rtmp_buf_le32(rtmp_buf_t *b, uint32_t v)
{
    uint8_t  p[4];

    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
    rtmp_buf_put(b, p, 4);
}


void
rtmp_buf_free(rtmp_buf_t *b)
{
    if (!b->fixed) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    }

    b->len = 0;
    b->failed = 0;
}


/* the handshake */

void
rtmp_handshake_c0c1(uint8_t *c0c1, uint32_t seed)
{
    size_t    i;
    uint32_t  x;

    c0c1[0] = RTMP_VERSION;
    memset(c0c1 + 1, 0, 8);

    /* xorshift32: any bytes do, the server echoes them in S2 */
    x = seed ? seed : 0x9e3779b9;

    for (i = 9; i < RTMP_C0C1_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c0c1[i] = (uint8_t) x;
    }
}


int
rtmp_handshake_s0s1s2(const uint8_t *p, size_t len, const uint8_t **s1)
{
    if (len < RTMP_S0S1S2_SIZE) {
        return RTMP_AGAIN;
    }

    if (p[0] != RTMP_VERSION) {
        return RTMP_ERROR;
    }

    *s1 = p + 1;

    return RTMP_OK;
}


/* chunk stream output */

static void
rtmp_basic_header(rtmp_buf_t *b, unsigned fmt, uint32_t csid)
{
    if (csid < 64) {
        rtmp_buf_byte(b, (uint8_t) ((fmt << 6) | csid));

    } else if (csid < 320) {
        rtmp_buf_byte(b, (uint8_t) (fmt << 6));
        rtmp_buf_byte(b, (uint8_t) (csid - 64));

    } else {
        rtmp_buf_byte(b, (uint8_t) ((fmt << 6) | 1));
        rtmp_buf_byte(b, (uint8_t) ((csid - 64) & 0xff));
        rtmp_buf_byte(b, (uint8_t) ((csid - 64) >> 8));
    }
}


int
rtmp_chunk_message(rtmp_buf_t *b, uint32_t chunk_size, uint32_t csid,
    uint8_t type, uint32_t msid, uint32_t ts, const uint8_t *data,
    size_t len)
{
    int     ext;
    size_t  off, n;

    if (len > RTMP_MAX_LENGTH || csid < RTMP_MIN_CSID
        || csid > RTMP_MAX_CSID || chunk_size == 0)
    {
        return RTMP_ERROR;
    }

    (void) rtmp_buf_reserve(b, len + (len / chunk_size + 1)
                               * (3 + 4) + RTMP_CHUNK_HEADER_MAX);

    ext = (ts >= 0xffffff);

    rtmp_basic_header(b, 0, csid);
    rtmp_buf_be24(b, ext ? 0xffffff : ts);
    rtmp_buf_be24(b, (uint32_t) len);
    rtmp_buf_byte(b, type);
    rtmp_buf_le32(b, msid);
    if (ext) {
        rtmp_buf_be32(b, ts);
    }

    off = 0;

    for ( ;; ) {
        n = len - off;
        if (n > chunk_size) {
            n = chunk_size;
        }

        rtmp_buf_put(b, data + off, n);
        off += n;

        if (off >= len) {
            break;
        }

        rtmp_basic_header(b, 3, csid);
        if (ext) {
            rtmp_buf_be32(b, ts);
        }
    }

    return RTMP_OK;
}


void
rtmp_control(rtmp_buf_t *b, uint32_t chunk_size, uint8_t type,
    uint32_t value)
{
    uint8_t  p[4];

    rtmp_set_be32(p, value);

    (void) rtmp_chunk_message(b, chunk_size, RTMP_CSID_CONTROL, type, 0, 0,
                              p, 4);
}


void
rtmp_user_control(rtmp_buf_t *b, uint32_t chunk_size, uint16_t event,
    const uint8_t *data, size_t len)
{
    uint8_t  p[16];

    if (len > sizeof(p) - 2) {
        len = sizeof(p) - 2;
    }

    p[0] = (uint8_t) (event >> 8);
    p[1] = (uint8_t) event;
    if (len) {
        memcpy(p + 2, data, len);
    }

    (void) rtmp_chunk_message(b, chunk_size, RTMP_CSID_CONTROL,
                              RTMP_MSG_USER, 0, 0, p, len + 2);
}


/* chunk stream input */

void
rtmp_reader_init(rtmp_chunk_reader_t *r, uint32_t max_message,
    unsigned max_streams)
{
    memset(r, 0, sizeof(rtmp_chunk_reader_t));

    r->chunk_size = RTMP_DEFAULT_CHUNK;
    r->max_message = max_message;
    r->max_streams = max_streams;
}


/* a new connection: the streams are forgotten, their memory is kept */

void
rtmp_reader_reset(rtmp_chunk_reader_t *r)
{
    r->nstreams = 0;
    r->chunk_size = RTMP_DEFAULT_CHUNK;
    r->error[0] = '\0';
}


void
rtmp_reader_free(rtmp_chunk_reader_t *r)
{
    unsigned  i;

    for (i = 0; i < r->nalloc; i++) {
        free(r->streams[i].buf);
    }

    free(r->streams);
    r->streams = NULL;
    r->nalloc = 0;

    rtmp_reader_reset(r);
}


static rtmp_chunk_stream_t *
rtmp_reader_find(rtmp_chunk_reader_t *r, uint32_t csid)
{
    unsigned  i;

    for (i = 0; i < r->nstreams; i++) {
        if (r->streams[i].csid == csid) {
            return &r->streams[i];
        }
    }

    return NULL;
}


static rtmp_chunk_stream_t *
rtmp_reader_stream(rtmp_chunk_reader_t *r, uint32_t csid)
{
    size_t                cap;
    uint8_t              *buf;
    unsigned              n;
    rtmp_chunk_stream_t  *s;

    s = rtmp_reader_find(r, csid);
    if (s) {
        return s;
    }

    if (r->nstreams >= r->max_streams) {
        rtmp_reader_error(r, "too many chunk streams");
        return NULL;
    }

    if (r->nstreams == r->nalloc) {
        n = r->nalloc ? r->nalloc * 2 : 8;

        s = realloc(r->streams, n * sizeof(rtmp_chunk_stream_t));
        if (s == NULL) {
            rtmp_reader_error(r, "out of memory");
            return NULL;
        }

        /* a slot keeps its message buffer across resets */
        memset(s + r->nalloc, 0,
               (n - r->nalloc) * sizeof(rtmp_chunk_stream_t));

        r->streams = s;
        r->nalloc = n;
    }

    s = &r->streams[r->nstreams++];

    buf = s->buf;
    cap = s->cap;

    memset(s, 0, sizeof(rtmp_chunk_stream_t));
    s->csid = csid;
    s->buf = buf;
    s->cap = cap;

    return s;
}


static int
rtmp_reader_error(rtmp_chunk_reader_t *r, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, args);
    va_end(args);

    return RTMP_ERROR;
}


int
rtmp_read_message(rtmp_chunk_reader_t *r, const uint8_t *p, size_t len,
    size_t *used, rtmp_message_t *m)
{
    size_t                avail, hlen, mhlen, need, size, pos;
    uint8_t               fmt, type, ext, *buf;
    uint32_t              csid, ts, length, msid, received;
    const uint8_t        *c, *h;
    rtmp_chunk_stream_t  *s;

    pos = 0;

    for ( ;; ) {
        *used = pos;

        c = p + pos;
        avail = len - pos;

        if (avail < 1) {
            return RTMP_AGAIN;
        }

        /* the basic header: 1, 2 or 3 bytes */

        fmt = c[0] >> 6;
        csid = c[0] & 0x3f;
        hlen = 1;

        if (csid == 0) {
            if (avail < 2) {
                return RTMP_AGAIN;
            }
            csid = 64 + c[1];
            hlen = 2;

        } else if (csid == 1) {
            if (avail < 3) {
                return RTMP_AGAIN;
            }
            csid = 64 + c[1] + ((uint32_t) c[2] << 8);
            hlen = 3;
        }

        mhlen = rtmp_mh_size[fmt];

        if (avail < hlen + mhlen) {
            return RTMP_AGAIN;
        }

        s = rtmp_reader_stream(r, csid);
        if (s == NULL) {
            return RTMP_ERROR;
        }

        /* the message header */

        h = c + hlen;
        ts = 0;
        length = s->length;
        type = s->type;
        msid = s->msid;

        if (fmt <= 2) {
            ts = rtmp_get_be24(h);
            ext = (ts == 0xffffff);
        } else {
            ext = s->ext;
        }

        if (fmt <= 1) {
            length = rtmp_get_be24(h + 3);
            type = h[6];
        }

        if (fmt == 0) {
            msid = rtmp_get_le32(h + 7);
        }

        need = hlen + mhlen + (ext ? 4 : 0);
        if (avail < need) {
            return RTMP_AGAIN;
        }

        if (ext) {
            ts = rtmp_get_be32(c + hlen + mhlen);
        }

        received = s->received;

        if (received && fmt != 3) {
            return rtmp_reader_error(r, "chunk type %u in the middle of "
                                     "a message", (unsigned) fmt);
        }

        if (length > r->max_message) {
            return rtmp_reader_error(r, "message too large (%u bytes)",
                                     (unsigned) length);
        }

        size = length - received;
        if (size > r->chunk_size) {
            size = r->chunk_size;
        }

        if (avail < need + size) {
            return RTMP_AGAIN;
        }

        /* the whole chunk is here: commit */

        if (received == 0) {
            switch (fmt) {
            case 0:
                s->timestamp = ts;
                s->delta = 0;
                break;
            case 1:
            case 2:
                s->delta = ts;
                s->timestamp += ts;
                break;
            default:
                s->timestamp += s->delta;
                break;
            }

            if (fmt <= 2) {
                s->ext = ext;
            }

            s->length = length;
            s->type = type;
            s->msid = msid;

            if (s->cap < length) {
                buf = realloc(s->buf, length);
                if (buf == NULL) {
                    return rtmp_reader_error(r, "out of memory (%u bytes)",
                                             (unsigned) length);
                }

                s->buf = buf;
                s->cap = length;
            }
        }

        if (size) {
            memcpy(s->buf + received, c + need, size);
        }

        s->received += (uint32_t) size;
        pos += need + size;

        if (s->received == s->length) {
            s->received = 0;

            m->csid = s->csid;
            m->msid = s->msid;
            m->timestamp = s->timestamp;
            m->type = s->type;
            m->data = s->length ? s->buf : rtmp_empty;
            m->len = s->length;

            *used = pos;

            return RTMP_OK;
        }
    }
}


int
rtmp_reader_control(rtmp_chunk_reader_t *r, const rtmp_message_t *m)
{
    uint32_t              v;
    rtmp_chunk_stream_t  *s;

    switch (m->type) {

    case RTMP_MSG_CHUNK_SIZE:
        if (m->len < 4) {
            return rtmp_reader_error(r, "short Set Chunk Size message");
        }

        v = rtmp_get_be32(m->data) & 0x7fffffff;
        if (v == 0) {
            return rtmp_reader_error(r, "server set chunk size 0");
        }

        r->chunk_size = v;
        return RTMP_OK;

    case RTMP_MSG_ABORT:
        if (m->len >= 4) {
            s = rtmp_reader_find(r, rtmp_get_be32(m->data));
            if (s) {
                s->received = 0;
            }
        }
        return RTMP_OK;

    default:
        return RTMP_OK;
    }
}


/* AMF0 encoding */

void
rtmp_amf_number(rtmp_buf_t *b, double d)
{
    int       i;
    uint8_t   p[9];
    uint64_t  v;

    memcpy(&v, &d, sizeof(v));

    p[0] = RTMP_AMF_NUMBER;
    for (i = 8; i >= 1; i--) {
        p[i] = (uint8_t) v;
        v >>= 8;
    }

    rtmp_buf_put(b, p, 9);
}


void
rtmp_amf_boolean(rtmp_buf_t *b, int v)
{
    rtmp_buf_byte(b, RTMP_AMF_BOOLEAN);
    rtmp_buf_byte(b, v ? 1 : 0);
}


void
rtmp_amf_null(rtmp_buf_t *b)
{
    rtmp_buf_byte(b, RTMP_AMF_NULL);
}


void
rtmp_amf_string(rtmp_buf_t *b, const char *s, size_t len, int force_long)
{
    if (len > 0xffff || force_long) {
        rtmp_buf_byte(b, RTMP_AMF_LONG_STRING);
        rtmp_buf_be32(b, (uint32_t) len);

    } else {
        rtmp_buf_byte(b, RTMP_AMF_STRING);
        rtmp_buf_be16(b, (uint32_t) len);
    }

    rtmp_buf_put(b, s, len);
}


void
rtmp_amf_str(rtmp_buf_t *b, const char *s)
{
    rtmp_amf_string(b, s, strlen(s), 0);
}


void
rtmp_amf_command(rtmp_buf_t *b, const char *name, double tid)
{
    rtmp_amf_str(b, name);
    rtmp_amf_number(b, tid);
    rtmp_amf_null(b);
}


void
rtmp_amf_key(rtmp_buf_t *b, const char *key, size_t len)
{
    if (len > 0xffff) {
        len = 0xffff;
    }

    rtmp_buf_be16(b, (uint32_t) len);
    rtmp_buf_put(b, key, len);
}


void
rtmp_amf_object(rtmp_buf_t *b)
{
    rtmp_buf_byte(b, RTMP_AMF_OBJECT);
}


void
rtmp_amf_ecma_array(rtmp_buf_t *b, uint32_t count)
{
    rtmp_buf_byte(b, RTMP_AMF_ECMA_ARRAY);
    rtmp_buf_be32(b, count);
}


void
rtmp_amf_object_end(rtmp_buf_t *b)
{
    rtmp_buf_be16(b, 0);
    rtmp_buf_byte(b, RTMP_AMF_OBJECT_END);
}


/* AMF0 decoding */

static rtmp_amf_t *
rtmp_amf_alloc(rtmp_amf_ctx_t *ctx, int type)
{
    rtmp_amf_t  *n;

    if (ctx->used >= ctx->npool) {
        return NULL;
    }

    n = &ctx->pool[ctx->used++];
    memset(n, 0, sizeof(rtmp_amf_t));
    n->type = type;

    return n;
}


static int
rtmp_amf_read_members(rtmp_amf_ctx_t *ctx, const uint8_t **pp,
    const uint8_t *end, int depth, rtmp_amf_t *parent)
{
    size_t          klen;
    rtmp_amf_t     *v, *last;
    const uint8_t  *p, *key;

    p = *pp;
    last = NULL;

    for ( ;; ) {

        if (end - p < 2) {
            /* unterminated object: accept what we have */
            p = end;
            break;
        }

        klen = rtmp_get_be16(p);

        if (klen == 0 && (end - p == 2 || p[2] == RTMP_AMF_OBJECT_END)) {
            p += (end - p == 2) ? 2 : 3;
            break;
        }

        p += 2;

        if ((size_t) (end - p) < klen) {
            return RTMP_ERROR;
        }

        key = p;
        p += klen;

        v = rtmp_amf_read_value(ctx, &p, end, depth + 1);
        if (v == NULL) {
            return RTMP_ERROR;
        }

        v->key = key;
        v->klen = klen;

        if (last) {
            last->next = v;
        } else {
            parent->child = v;
        }

        last = v;
    }

    *pp = p;

    return RTMP_OK;
}


/* a length of size (2 or 4) bytes and as many bytes of text */

static int
rtmp_amf_read_string(const uint8_t **pp, const uint8_t *end, size_t size,
    rtmp_amf_t *n)
{
    size_t          len;
    const uint8_t  *p;

    p = *pp;

    if ((size_t) (end - p) < size) {
        return RTMP_ERROR;
    }

    len = (size == 2) ? rtmp_get_be16(p) : rtmp_get_be32(p);
    p += size;

    if ((size_t) (end - p) < len) {
        return RTMP_ERROR;
    }

    n->str = p;
    n->len = len;
    *pp = p + len;

    return RTMP_OK;
}


static rtmp_amf_t *
rtmp_amf_read_value(rtmp_amf_ctx_t *ctx, const uint8_t **pp,
    const uint8_t *end, int depth)
{
    size_t          size;
    uint32_t        count, i;
    rtmp_amf_t     *n, *v, *last;
    const uint8_t  *p;

    p = *pp;

    if (p >= end || depth > RTMP_AMF_MAX_DEPTH) {
        return NULL;
    }

    n = rtmp_amf_alloc(ctx, *p++);
    if (n == NULL) {
        return NULL;
    }

    switch (n->type) {

    case RTMP_AMF_NUMBER:
    case RTMP_AMF_DATE:
        /* a date is a number and a 2-byte time zone */
        size = (n->type == RTMP_AMF_DATE) ? 10 : 8;
        if ((size_t) (end - p) < size) {
            return NULL;
        }
        n->num = rtmp_get_double(p);
        p += size;
        break;

    case RTMP_AMF_BOOLEAN:
        if (end - p < 1) {
            return NULL;
        }
        n->num = (*p != 0);
        p++;
        break;

    case RTMP_AMF_STRING:
        if (rtmp_amf_read_string(&p, end, 2, n) != RTMP_OK) {
            return NULL;
        }
        break;

    case RTMP_AMF_LONG_STRING:
    case RTMP_AMF_XML_DOC:
        if (rtmp_amf_read_string(&p, end, 4, n) != RTMP_OK) {
            return NULL;
        }
        break;

    case RTMP_AMF_NULL:
    case RTMP_AMF_UNDEFINED:
        break;

    case RTMP_AMF_REFERENCE:
        if (end - p < 2) {
            return NULL;
        }
        p += 2;
        break;

    case RTMP_AMF_TYPED_OBJECT:
    case RTMP_AMF_ECMA_ARRAY:
    case RTMP_AMF_OBJECT:
        /* a typed object's class name; an ECMA array's count, unused */

        if (n->type == RTMP_AMF_TYPED_OBJECT
            && rtmp_amf_read_string(&p, end, 2, n) != RTMP_OK)
        {
            return NULL;
        }

        if (n->type == RTMP_AMF_ECMA_ARRAY) {
            if (end - p < 4) {
                return NULL;
            }
            p += 4;
        }

        if (rtmp_amf_read_members(ctx, &p, end, depth, n) != RTMP_OK) {
            return NULL;
        }
        break;

    case RTMP_AMF_STRICT_ARRAY:
        if (end - p < 4) {
            return NULL;
        }
        count = rtmp_get_be32(p);
        p += 4;
        if (count > (size_t) (end - p)) {
            return NULL;
        }
        last = NULL;
        for (i = 0; i < count; i++) {
            v = rtmp_amf_read_value(ctx, &p, end, depth + 1);
            if (v == NULL) {
                return NULL;
            }
            if (last) {
                last->next = v;
            } else {
                n->child = v;
            }
            last = v;
        }
        break;

    default:
        /* movieclip, unsupported, recordset, AMF3 switch, garbage */
        return NULL;
    }

    *pp = p;

    return n;
}


int
rtmp_amf_read(const uint8_t *p, size_t len, rtmp_amf_t *pool, size_t npool,
    rtmp_amf_t **vals, int max)
{
    int              n;
    const uint8_t   *end;
    rtmp_amf_ctx_t   ctx;

    ctx.pool = pool;
    ctx.npool = npool;
    ctx.used = 0;

    end = p + len;

    for (n = 0; n < max && p < end; n++) {
        vals[n] = rtmp_amf_read_value(&ctx, &p, end, 0);
        if (vals[n] == NULL) {
            break;
        }
    }

    return n;
}


int
rtmp_amf_is_string(const rtmp_amf_t *n)
{
    return n && (n->type == RTMP_AMF_STRING
                 || n->type == RTMP_AMF_LONG_STRING);
}


int
rtmp_amf_is_object(const rtmp_amf_t *n)
{
    return n && (n->type == RTMP_AMF_OBJECT
                 || n->type == RTMP_AMF_ECMA_ARRAY
                 || n->type == RTMP_AMF_TYPED_OBJECT);
}


int
rtmp_amf_str_eq(const rtmp_amf_t *n, const char *s)
{
    size_t  len;

    len = strlen(s);

    return rtmp_amf_is_string(n) && n->len == len
           && memcmp(n->str, s, len) == 0;
}


rtmp_amf_t *
rtmp_amf_member(const rtmp_amf_t *obj, const char *key)
{
    size_t       len;
    rtmp_amf_t  *n;

    if (!rtmp_amf_is_object(obj)) {
        return NULL;
    }

    len = strlen(key);

    for (n = obj->child; n; n = n->next) {
        if (n->klen == len && memcmp(n->key, key, len) == 0) {
            return n;
        }
    }

    return NULL;
}


int
rtmp_amf_copy(const rtmp_amf_t *n, char *out, size_t size)
{
    size_t  len;

    if (!rtmp_amf_is_string(n) || size == 0) {
        return RTMP_ERROR;
    }

    len = n->len < size - 1 ? n->len : size - 1;
    memcpy(out, n->str, len);
    out[len] = '\0';

    return RTMP_OK;
}
