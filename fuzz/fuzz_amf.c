
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the AMF0 reader of connect, publish and play
 * (ngx_rtmp_compliance_amf_stream_name, _amf_connect) with the message
 * body split into a chain of buffers, and the redaction of the token the
 * module does afterwards (ngx_rtmp_compliance_arg, _amf_redact), as
 * ngx_rtmp_compliance_publish() and _connect() do.
 *
 * Input:  OP [SIZE] [K LEN1 .. LENK] BODY
 *
 *   OP bit 0     0: publish/play (stream name), 1: connect
 *   OP bit 1     1: a small name buffer of SIZE bytes (0..255) instead
 *                   of the module's (NAME_MAX, 4 * NAME_MAX for connect)
 *   OP bits 2-3  how BODY is split into buffers:
 *                   0: K (0..15) buffers of LEN1..LENK bytes (0 gives an
 *                      empty buffer), then one with the rest
 *                   1: every 128 bytes (RTMP's default chunk size)
 *                   2: one byte per buffer
 *                   3: one buffer
 *
 * Every buffer is its own malloc() of its exact size, so a read past the
 * end of one buffer instead of moving on to the next is an ASan report.
 *
 * Checks beyond memory safety: a name that was read is the bytes of the
 * body at the place returned for it; the redaction turns exactly the
 * token's bytes of the body into 'x' and changes nothing else; the
 * "token" argument found is a real NAME=VALUE of the arguments.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_amf.h"
#include "ngx_rtmp_compliance_token.h"
#include "fuzz.h"


#define FUZZ_AMF_MAX_BODY  (2 * NGX_RTMP_COMPLIANCE_NAME_MAX + 64)


typedef struct {
    ngx_chain_t   *chain;
    ngx_chain_t   *links;
    ngx_buf_t     *bufs;
    u_char       **mem;
    size_t         n;
} fuzz_chain_t;


static ngx_str_t  fuzz_token_arg = ngx_string("token");


static void
fuzz_chain_add(fuzz_chain_t *c, const u_char *p, size_t len)
{
    u_char  *m;

    /* malloc(0) may give NULL; an empty buffer still needs a place */
    m = malloc(len ? len : 1);
    FUZZ_CHECK(m != NULL, "malloc");

    if (len) {
        memcpy(m, p, len);
    }

    c->mem[c->n] = m;
    c->bufs[c->n].start = m;
    c->bufs[c->n].pos = m;
    c->bufs[c->n].last = m + len;
    c->bufs[c->n].end = m + len;
    c->bufs[c->n].temporary = 1;
    c->links[c->n].buf = &c->bufs[c->n];
    c->links[c->n].next = NULL;

    if (c->n) {
        c->links[c->n - 1].next = &c->links[c->n];
    }

    c->n++;
}


static void
fuzz_chain_build(fuzz_chain_t *c, ngx_uint_t split, const u_char *lens,
    size_t nlens, const u_char *body, size_t len)
{
    size_t  i, n, max;

    max = len + nlens + 2;

    c->links = calloc(max, sizeof(ngx_chain_t));
    c->bufs = calloc(max, sizeof(ngx_buf_t));
    c->mem = calloc(max, sizeof(u_char *));
    c->n = 0;

    FUZZ_CHECK(c->links && c->bufs && c->mem, "calloc");

    switch (split) {

    case 0:
        for (i = 0; i < nlens; i++) {
            n = ngx_min((size_t) lens[i], len);
            fuzz_chain_add(c, body, n);
            body += n;
            len -= n;
        }

        fuzz_chain_add(c, body, len);
        break;

    case 1:
    case 2:
        n = (split == 1) ? 128 : 1;

        do {
            i = ngx_min(n, len);
            fuzz_chain_add(c, body, i);
            body += i;
            len -= i;
        } while (len);

        break;

    default:
        fuzz_chain_add(c, body, len);
    }

    c->chain = &c->links[0];
}


static void
fuzz_chain_free(fuzz_chain_t *c)
{
    size_t  i;

    for (i = 0; i < c->n; i++) {
        free(c->mem[i]);
    }

    free(c->mem);
    free(c->bufs);
    free(c->links);
}


/* the offset in the body of a place the reader returned */

static size_t
fuzz_chain_offset(fuzz_chain_t *c, ngx_rtmp_compliance_amf_t *at)
{
    size_t        off;
    ngx_chain_t  *cl;

    off = 0;

    for (cl = c->chain; cl; cl = cl->next) {
        if (cl == at->cl) {
            FUZZ_CHECK(at->pos >= cl->buf->pos && at->pos <= cl->buf->last,
                       "a place outside its buffer");
            return off + (at->pos - cl->buf->pos);
        }

        off += cl->buf->last - cl->buf->pos;
    }

    FUZZ_CHECK(0, "a place in no buffer of the chain");
    return 0;
}


static void
fuzz_chain_flatten(fuzz_chain_t *c, u_char *out, size_t len)
{
    size_t        n, total;
    ngx_chain_t  *cl;

    total = 0;

    for (cl = c->chain; cl; cl = cl->next) {
        n = cl->buf->last - cl->buf->pos;
        FUZZ_CHECK(total + n <= len, "the chain grew");
        memcpy(out + total, cl->buf->pos, n);
        total += n;
    }

    FUZZ_CHECK(total == len, "the chain shrank");
}


/* what ngx_rtmp_compliance_arg() found must be a real "token=VALUE" */

static void
fuzz_check_arg(ngx_str_t *args, ngx_str_t *value)
{
    u_char  *p, *start, *last;

    last = args->data + args->len;

    FUZZ_CHECK(value->data >= args->data + fuzz_token_arg.len + 1
               && value->data + value->len <= last,
               "the value is outside the arguments");

    p = value->data - 1;
    start = p - fuzz_token_arg.len;

    FUZZ_CHECK(*p == '=' && ngx_strncmp(start, "token", 5) == 0
               && (start == args->data || start[-1] == '&'),
               "the value is not after \"token=\" at an argument's start");

    FUZZ_CHECK(memchr(value->data, '&', value->len) == NULL
               && (value->data + value->len == last
                   || value->data[value->len] == '&'),
               "the value is not a whole argument");
}


/*
 * redacts the token of a string read at *at, as the module does, and
 * checks the message: exactly those bytes are now 'x'
 */

static void
fuzz_redact(fuzz_chain_t *c, u_char *expect, size_t len, ngx_str_t *s,
    ngx_rtmp_compliance_amf_t *at, ngx_str_t *args)
{
    size_t     off;
    ngx_str_t  token;

    if (ngx_rtmp_compliance_arg(args, &fuzz_token_arg, &token) == NULL) {
        return;
    }

    fuzz_check_arg(args, &token);

    off = fuzz_chain_offset(c, at) + (token.data - s->data);

    FUZZ_CHECK(off + token.len <= len, "the token is past the body");

    ngx_memset(expect + off, 'x', token.len);

    ngx_rtmp_compliance_amf_redact(at, token.data - s->data, token.len);
}


/* the query after the first '?' of s, or an empty string */

static void
fuzz_query(ngx_str_t *s, ngx_str_t *args)
{
    u_char  *q;

    ngx_str_null(args);

    q = ngx_strlchr(s->data, s->data + s->len, '?');

    if (q) {
        args->data = q + 1;
        args->len = s->data + s->len - args->data;
    }
}


static void
fuzz_check_read(fuzz_chain_t *c, const u_char *body, size_t len,
    ngx_str_t *s, u_char *buf, size_t size, ngx_rtmp_compliance_amf_t *at)
{
    size_t  off;

    FUZZ_CHECK(s->len <= size, "a name of %zu bytes in a buffer of %zu",
               s->len, size);
    FUZZ_CHECK(s->len == 0 || s->data == buf, "a name outside its buffer");

    off = fuzz_chain_offset(c, at);

    FUZZ_CHECK(off + s->len <= len
               && (s->len == 0 || memcmp(body + off, s->data, s->len) == 0),
               "the name is not the body's bytes at its place");
}


/*
 * publish, play: the stream name read from the chain c of body into buf
 * of bsize bytes, its token redacted; expect: the body as it must be
 * after the redaction
 */

static void
fuzz_stream_name(fuzz_chain_t *c, const u_char *body, size_t len,
    u_char *buf, size_t bsize, u_char *expect)
{
    ngx_int_t                  rc;
    ngx_str_t                  name, args;
    ngx_rtmp_compliance_amf_t  at;

    ngx_memzero(&at, sizeof(at));

    rc = ngx_rtmp_compliance_amf_stream_name(c->chain, buf, bsize, &name,
                                             &at);

    FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR,
               "stream_name returned %ld", (long) rc);

    if (rc != NGX_OK) {
        return;
    }

    fuzz_check_read(c, body, len, &name, buf, bsize, &at);

    fuzz_query(&name, &args);
    fuzz_redact(c, expect, len, &name, &at, &args);
}


/* connect: app, tcUrl, swfUrl, pageUrl, the token in the query of each */

static void
fuzz_connect(fuzz_chain_t *c, const u_char *body, size_t len, u_char *buf,
    size_t bsize, u_char *expect)
{
    size_t                     part;
    ngx_int_t                  rc;
    ngx_str_t                  v[NGX_RTMP_COMPLIANCE_CONNECT_N], args;
    ngx_uint_t                 i;
    ngx_rtmp_compliance_amf_t  at[NGX_RTMP_COMPLIANCE_CONNECT_N];

    ngx_memzero(at, sizeof(at));

    rc = ngx_rtmp_compliance_amf_connect(c->chain, buf, bsize, v, at);

    FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR,
               "amf_connect returned %ld", (long) rc);

    if (rc != NGX_OK) {
        return;
    }

    part = bsize / NGX_RTMP_COMPLIANCE_CONNECT_N;

    for (i = 0; i < NGX_RTMP_COMPLIANCE_CONNECT_N; i++) {
        if (v[i].len) {
            fuzz_check_read(c, body, len, &v[i], buf + i * part, part,
                            &at[i]);
        }
    }

    /* the redactions could overlap only if they were wrong */

    for (i = 0; i < NGX_RTMP_COMPLIANCE_CONNECT_N; i++) {
        if (v[i].len) {
            fuzz_query(&v[i], &args);
            fuzz_redact(c, expect, len, &v[i], &at[i], &args);
        }
    }
}


/* the set-up is the weak LLVMFuzzerInitialize() of stubs.c */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char         op, *buf, *expect, *got;
    size_t         bsize, nlens, len;
    fuzz_chain_t   c;
    const u_char  *lens, *body;

    if (size < 1) {
        return 0;
    }

    op = data[0];
    data++;
    size--;

    bsize = (op & 1) ? NGX_RTMP_COMPLIANCE_CONNECT_N
                       * NGX_RTMP_COMPLIANCE_NAME_MAX
                     : NGX_RTMP_COMPLIANCE_NAME_MAX;

    if (op & 2) {
        if (size < 1) {
            return 0;
        }

        bsize = data[0];
        data++;
        size--;
    }

    nlens = 0;
    lens = NULL;

    if (((op >> 2) & 3) == 0) {
        if (size < 1) {
            return 0;
        }

        nlens = data[0] & 0x0f;
        data++;
        size--;

        if (size < nlens) {
            return 0;
        }

        lens = data;
        data += nlens;
        size -= nlens;
    }

    body = data;
    len = size;

    if (len > FUZZ_AMF_MAX_BODY) {
        return 0;
    }

    fuzz_chain_build(&c, (op >> 2) & 3, lens, nlens, body, len);

    /* the name buffer: exactly bsize bytes, a real overrun is reported */
    buf = malloc(bsize ? bsize : 1);
    expect = malloc(len ? len : 1);
    got = malloc(len ? len : 1);
    FUZZ_CHECK(buf && expect && got, "malloc");

    memcpy(expect, body, len);

    if ((op & 1) == 0) {
        fuzz_stream_name(&c, body, len, buf, bsize, expect);

    } else {
        fuzz_connect(&c, body, len, buf, bsize, expect);
    }

    fuzz_chain_flatten(&c, got, len);

    FUZZ_CHECK(len == 0 || memcmp(got, expect, len) == 0,
               "the message is not the body with the token(s) redacted");

    free(got);
    free(expect);
    free(buf);
    fuzz_chain_free(&c);

    return 0;
}
