
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * An AMF0 reader for the raw connect, publish and play commands, and the
 * two changes the module makes to them in place, byte for byte: a token
 * is redacted, and strings are scrubbed for nginx-rtmp's log lines.
 *
 * nginx-rtmp copies stream names, their arguments, app, tcUrl, swfUrl
 * and pageUrl into 256-byte buffers; tokens are longer.  This reader
 * walks the message's chain without moving any buffer position, so
 * nginx-rtmp's own handler that runs after ours reads the same bytes.
 * Every length is checked against what is left in the message and
 * nesting is bounded.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_amf.h"
#include "ngx_rtmp_compliance_text.h"


#define NGX_RTMP_COMPLIANCE_AMF_DEPTH     16
#define NGX_RTMP_COMPLIANCE_AMF_WINDOW    256


static ngx_int_t ngx_rtmp_compliance_amf_get(ngx_rtmp_compliance_amf_t *a,
    u_char *dst, size_t n);
static ngx_int_t ngx_rtmp_compliance_amf_move(ngx_rtmp_compliance_amf_t *a,
    u_char *dst, u_char *src, size_t n);
static ngx_int_t ngx_rtmp_compliance_amf_uint(ngx_rtmp_compliance_amf_t *a,
    size_t len, size_t *n);
static ngx_int_t ngx_rtmp_compliance_amf_skip(ngx_rtmp_compliance_amf_t *a,
    ngx_uint_t depth, ngx_uint_t scrub);
static ngx_int_t ngx_rtmp_compliance_amf_skip_props(
    ngx_rtmp_compliance_amf_t *a, ngx_uint_t depth, ngx_uint_t scrub);
static ngx_int_t ngx_rtmp_compliance_amf_skip_string(
    ngx_rtmp_compliance_amf_t *a, size_t len, ngx_uint_t scrub);
static ngx_int_t ngx_rtmp_compliance_amf_scrub_string(
    ngx_rtmp_compliance_amf_t *a, size_t n);
static void ngx_rtmp_compliance_amf_scrub_rest(ngx_rtmp_compliance_amf_t *a);
static ngx_int_t ngx_rtmp_compliance_amf_string(ngx_rtmp_compliance_amf_t *a,
    u_char type, u_char *buf, size_t size, ngx_str_t *s,
    ngx_rtmp_compliance_amf_t *at);
static ngx_int_t ngx_rtmp_compliance_amf_start(ngx_rtmp_compliance_amf_t *a,
    ngx_chain_t *in);


#define NGX_RTMP_AMF0_NUMBER       0x00
#define NGX_RTMP_AMF0_BOOLEAN      0x01
#define NGX_RTMP_AMF0_STRING       0x02
#define NGX_RTMP_AMF0_OBJECT       0x03
#define NGX_RTMP_AMF0_NULL         0x05
#define NGX_RTMP_AMF0_UNDEFINED    0x06
#define NGX_RTMP_AMF0_REFERENCE    0x07
#define NGX_RTMP_AMF0_ECMA_ARRAY   0x08
#define NGX_RTMP_AMF0_OBJECT_END   0x09
#define NGX_RTMP_AMF0_STRICT_ARRAY 0x0a
#define NGX_RTMP_AMF0_DATE         0x0b
#define NGX_RTMP_AMF0_LONG_STRING  0x0c
#define NGX_RTMP_AMF0_XML_DOC      0x0f
#define NGX_RTMP_AMF0_TYPED_OBJECT 0x10


static ngx_int_t
ngx_rtmp_compliance_amf_get(ngx_rtmp_compliance_amf_t *a, u_char *dst,
    size_t n)
{
    return ngx_rtmp_compliance_amf_move(a, dst, NULL, n);
}


/*
 * the n bytes at a, which moves past them: copied to dst, or overwritten
 * with those of src, or (both NULL) skipped
 */

static ngx_int_t
ngx_rtmp_compliance_amf_move(ngx_rtmp_compliance_amf_t *a, u_char *dst,
    u_char *src, size_t n)
{
    size_t  size;

    while (n) {
        if (a->cl == NULL) {
            return NGX_ERROR;
        }

        size = a->cl->buf->last - a->pos;

        if (size == 0) {
            a->cl = a->cl->next;
            a->pos = a->cl ? a->cl->buf->pos : NULL;
            continue;
        }

        if (size > n) {
            size = n;
        }

        if (dst) {
            dst = ngx_cpymem(dst, a->pos, size);

        } else if (src) {
            ngx_memcpy(a->pos, src, size);
            src += size;
        }

        a->pos += size;
        n -= size;
    }

    return NGX_OK;
}


/* a big-endian unsigned integer of len bytes: 2 (a length) or 4 */

static ngx_int_t
ngx_rtmp_compliance_amf_uint(ngx_rtmp_compliance_amf_t *a, size_t len,
    size_t *n)
{
    size_t  i;
    u_char  b[4];

    if (ngx_rtmp_compliance_amf_get(a, b, len) != NGX_OK) {
        return NGX_ERROR;
    }

    *n = 0;

    for (i = 0; i < len; i++) {
        *n = (*n << 8) | b[i];
    }

    return NGX_OK;
}


/*
 * skips a value; scrub: its strings (not the names of properties) are
 * made fit for a log line in place as they are passed
 */

static ngx_int_t
ngx_rtmp_compliance_amf_skip(ngx_rtmp_compliance_amf_t *a, ngx_uint_t depth,
    ngx_uint_t scrub)
{
    u_char  type;
    size_t  n;

    if (depth > NGX_RTMP_COMPLIANCE_AMF_DEPTH) {
        return NGX_ERROR;
    }

    if (ngx_rtmp_compliance_amf_get(a, &type, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (type) {

    case NGX_RTMP_AMF0_NUMBER:
        return ngx_rtmp_compliance_amf_get(a, NULL, 8);

    case NGX_RTMP_AMF0_BOOLEAN:
        return ngx_rtmp_compliance_amf_get(a, NULL, 1);

    case NGX_RTMP_AMF0_STRING:
        return ngx_rtmp_compliance_amf_skip_string(a, 2, scrub);

    case NGX_RTMP_AMF0_LONG_STRING:
    case NGX_RTMP_AMF0_XML_DOC:
        return ngx_rtmp_compliance_amf_skip_string(a, 4, scrub);

    case NGX_RTMP_AMF0_NULL:
    case NGX_RTMP_AMF0_UNDEFINED:
        return NGX_OK;

    case NGX_RTMP_AMF0_REFERENCE:
        return ngx_rtmp_compliance_amf_get(a, NULL, 2);

    case NGX_RTMP_AMF0_DATE:
        return ngx_rtmp_compliance_amf_get(a, NULL, 10);

    case NGX_RTMP_AMF0_ECMA_ARRAY:
        if (ngx_rtmp_compliance_amf_get(a, NULL, 4) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_rtmp_compliance_amf_skip_props(a, depth, scrub);

    case NGX_RTMP_AMF0_TYPED_OBJECT:
        if (ngx_rtmp_compliance_amf_uint(a, 2, &n) != NGX_OK
            || ngx_rtmp_compliance_amf_get(a, NULL, n) != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* fall through */

    case NGX_RTMP_AMF0_OBJECT:
        return ngx_rtmp_compliance_amf_skip_props(a, depth, scrub);

    case NGX_RTMP_AMF0_STRICT_ARRAY:
        if (ngx_rtmp_compliance_amf_uint(a, 4, &n) != NGX_OK) {
            return NGX_ERROR;
        }

        while (n--) {
            if (ngx_rtmp_compliance_amf_skip(a, depth + 1, scrub)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_rtmp_compliance_amf_skip_props(ngx_rtmp_compliance_amf_t *a,
    ngx_uint_t depth, ngx_uint_t scrub)
{
    u_char  end;
    size_t  n;

    for ( ;; ) {
        if (ngx_rtmp_compliance_amf_uint(a, 2, &n) != NGX_OK) {
            return NGX_ERROR;
        }

        if (n == 0) {
            if (ngx_rtmp_compliance_amf_get(a, &end, 1) != NGX_OK
                || end != NGX_RTMP_AMF0_OBJECT_END)
            {
                return NGX_ERROR;
            }

            return NGX_OK;
        }

        if (ngx_rtmp_compliance_amf_get(a, NULL, n) != NGX_OK
            || ngx_rtmp_compliance_amf_skip(a, depth + 1, scrub) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }
}


/* a string's bytes after its length of len bytes (2 or 4) */

static ngx_int_t
ngx_rtmp_compliance_amf_skip_string(ngx_rtmp_compliance_amf_t *a, size_t len,
    ngx_uint_t scrub)
{
    size_t  n;

    if (ngx_rtmp_compliance_amf_uint(a, len, &n) != NGX_OK) {
        return NGX_ERROR;
    }

    return scrub ? ngx_rtmp_compliance_amf_scrub_string(a, n)
                 : ngx_rtmp_compliance_amf_get(a, NULL, n);
}


/*
 * the n bytes of a string at a through ngx_rtmp_compliance_text_scrub(),
 * a window at a time: a character cut by the end of a window goes on in
 * the next
 */

static ngx_int_t
ngx_rtmp_compliance_amf_scrub_string(ngx_rtmp_compliance_amf_t *a, size_t n)
{
    size_t                     len, keep, done;
    ngx_rtmp_compliance_amf_t  back;
    u_char                     buf[NGX_RTMP_COMPLIANCE_AMF_WINDOW];

    back = *a;
    keep = 0;

    do {
        len = ngx_min(n, sizeof(buf) - keep);

        if (ngx_rtmp_compliance_amf_get(a, buf + keep, len) != NGX_OK) {
            return NGX_ERROR;
        }

        n -= len;
        len += keep;

        done = ngx_rtmp_compliance_text_scrub(buf, len, n == 0);

        /* what was looked at goes back where it came from */
        (void) ngx_rtmp_compliance_amf_move(&back, NULL, buf, done);

        keep = len - done;
        ngx_memmove(buf, buf + done, keep);

    } while (n);

    return NGX_OK;
}


/*
 * past what the walk could follow, the bytes of the message that are not
 * printable ASCII become '_': nginx-rtmp then reads no string from there
 * that could break a log line, if it reads one at all
 */

static void
ngx_rtmp_compliance_amf_scrub_rest(ngx_rtmp_compliance_amf_t *a)
{
    u_char  *p, *last;

    for ( /* void */ ; a->cl; a->cl = a->cl->next) {
        p = a->pos ? a->pos : a->cl->buf->pos;
        last = a->cl->buf->last;
        a->pos = NULL;

        for ( /* void */ ; p < last; p++) {
            if (*p < 0x20 || *p >= 0x7f) {
                *p = '_';
            }
        }
    }
}


/*
 * reads a string value whose type byte was already read;
 * NGX_DECLINED: longer than the buffer
 */

static ngx_int_t
ngx_rtmp_compliance_amf_string(ngx_rtmp_compliance_amf_t *a, u_char type,
    u_char *buf, size_t size, ngx_str_t *s, ngx_rtmp_compliance_amf_t *at)
{
    size_t     n;
    ngx_int_t  rc;

    if (type == NGX_RTMP_AMF0_STRING) {
        rc = ngx_rtmp_compliance_amf_uint(a, 2, &n);

    } else if (type == NGX_RTMP_AMF0_LONG_STRING) {
        rc = ngx_rtmp_compliance_amf_uint(a, 4, &n);

    } else {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (n > size) {
        return NGX_DECLINED;
    }

    *at = *a;

    if (ngx_rtmp_compliance_amf_get(a, buf, n) != NGX_OK) {
        return NGX_ERROR;
    }

    s->data = buf;
    s->len = n;

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_amf_start(ngx_rtmp_compliance_amf_t *a, ngx_chain_t *in)
{
    u_char  type;

    a->cl = in;
    a->pos = in ? in->buf->pos : NULL;

    /* transaction id */

    if (ngx_rtmp_compliance_amf_get(a, &type, 1) != NGX_OK
        || type != NGX_RTMP_AMF0_NUMBER
        || ngx_rtmp_compliance_amf_get(a, NULL, 8) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * publish and play: transaction id, command object (null), stream name
 * with its arguments
 */

ngx_int_t
ngx_rtmp_compliance_amf_stream_name(ngx_chain_t *in, u_char *buf,
    size_t size, ngx_str_t *name, ngx_rtmp_compliance_amf_t *at)
{
    u_char                     type;
    ngx_rtmp_compliance_amf_t  a;

    if (ngx_rtmp_compliance_amf_start(&a, in) != NGX_OK
        || ngx_rtmp_compliance_amf_skip(&a, 0, 0) != NGX_OK
        || ngx_rtmp_compliance_amf_get(&a, &type, 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_rtmp_compliance_amf_string(&a, type, buf, size, name, at);
}


/*
 * connect: transaction id, command object; its strings app, tcUrl,
 * swfUrl and pageUrl (NGX_RTMP_COMPLIANCE_CONNECT_*) are taken into v[],
 * each into its part of buf (size / NGX_RTMP_COMPLIANCE_CONNECT_N
 * bytes), their places in the message into at[].  app and tcUrl must be
 * strings; a swfUrl or pageUrl of another type is passed over.
 */

ngx_int_t
ngx_rtmp_compliance_amf_connect(ngx_chain_t *in, u_char *buf, size_t size,
    ngx_str_t *v, ngx_rtmp_compliance_amf_t *at)
{
    u_char                     type, name[8];
    size_t                     n, part;
    ngx_int_t                  rc;
    ngx_uint_t                 i;
    ngx_rtmp_compliance_amf_t  a, value;

    static ngx_str_t           names[NGX_RTMP_COMPLIANCE_CONNECT_N] = {
        ngx_string("app"),
        ngx_string("tcUrl"),
        ngx_string("swfUrl"),
        ngx_string("pageUrl")
    };

    for (i = 0; i < NGX_RTMP_COMPLIANCE_CONNECT_N; i++) {
        ngx_str_null(&v[i]);
    }

    part = size / NGX_RTMP_COMPLIANCE_CONNECT_N;

    if (ngx_rtmp_compliance_amf_start(&a, in) != NGX_OK
        || ngx_rtmp_compliance_amf_get(&a, &type, 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (type != NGX_RTMP_AMF0_OBJECT && type != NGX_RTMP_AMF0_ECMA_ARRAY) {
        return NGX_ERROR;
    }

    if (type == NGX_RTMP_AMF0_ECMA_ARRAY
        && ngx_rtmp_compliance_amf_get(&a, NULL, 4) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for ( ;; ) {
        if (ngx_rtmp_compliance_amf_uint(&a, 2, &n) != NGX_OK) {
            return NGX_ERROR;
        }

        if (n == 0) {
            return NGX_OK;
        }

        i = NGX_RTMP_COMPLIANCE_CONNECT_N;

        if (n <= sizeof(name)) {
            if (ngx_rtmp_compliance_amf_get(&a, name, n) != NGX_OK) {
                return NGX_ERROR;
            }

            for (i = 0; i < NGX_RTMP_COMPLIANCE_CONNECT_N; i++) {
                if (n == names[i].len
                    && ngx_strncmp(name, names[i].data, n) == 0)
                {
                    break;
                }
            }

        } else if (ngx_rtmp_compliance_amf_get(&a, NULL, n) != NGX_OK) {
            return NGX_ERROR;
        }

        value = a;

        if (i < NGX_RTMP_COMPLIANCE_CONNECT_N
            && ngx_rtmp_compliance_amf_get(&value, &type, 1) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (i < NGX_RTMP_COMPLIANCE_CONNECT_N
            && type != NGX_RTMP_AMF0_STRING
            && type != NGX_RTMP_AMF0_LONG_STRING)
        {
            if (i <= NGX_RTMP_COMPLIANCE_CONNECT_TC_URL) {
                return NGX_ERROR;
            }

            i = NGX_RTMP_COMPLIANCE_CONNECT_N;
        }

        if (i == NGX_RTMP_COMPLIANCE_CONNECT_N) {
            if (ngx_rtmp_compliance_amf_skip(&a, 1, 0) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        a = value;

        rc = ngx_rtmp_compliance_amf_string(&a, type, buf + i * part, part,
                                            &v[i], &at[i]);
        if (rc != NGX_OK) {
            return rc;
        }
    }
}


/*
 * every string of a command (nested ones too) made fit for a log line in
 * place, before nginx-rtmp reads it: its cmd module logs connect's app,
 * flashVer, swfUrl, tcUrl and pageUrl, and the name, arguments and type
 * of publish and play as they are
 */

void
ngx_rtmp_compliance_amf_scrub(ngx_chain_t *in)
{
    ngx_rtmp_compliance_amf_t  a;

    a.cl = in;
    a.pos = in ? in->buf->pos : NULL;

    while (ngx_rtmp_compliance_amf_skip(&a, 0, 1) == NGX_OK) {
        /* void */
    }

    /* at the end a.cl is NULL; else the walk could not go on */
    ngx_rtmp_compliance_amf_scrub_rest(&a);
}


/*
 * overwrites len bytes, off bytes after the place a string was read from:
 * tokens are credentials, and nginx-rtmp logs names and arguments
 */

void
ngx_rtmp_compliance_amf_redact(ngx_rtmp_compliance_amf_t *at, size_t off,
    size_t len)
{
    size_t                     n;
    ngx_rtmp_compliance_amf_t  a;

    a = *at;

    if (ngx_rtmp_compliance_amf_get(&a, NULL, off) != NGX_OK) {
        return;
    }

    while (len && a.cl) {
        n = ngx_min((size_t) (a.cl->buf->last - a.pos), len);

        ngx_memset(a.pos, 'x', n);
        len -= n;

        a.cl = a.cl->next;
        a.pos = a.cl ? a.cl->buf->pos : NULL;
    }
}
