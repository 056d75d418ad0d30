
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * A strict JSON reader for the two objects of a JWS: the header and the
 * claims.  It keeps the top-level members (names and scalar values
 * unescaped, nested values checked and kept as their text) in a fixed
 * array, without an allocation: a token is read on every admission, and
 * building jansson objects for it cost more than the rest of an HS256
 * admission.
 *
 * What it accepts is RFC 8259 JSON, as jansson reads it with
 * JSON_REJECT_DUPLICATES, with these limits: one object at the top, at
 * most NGX_RTMP_COMPLIANCE_JSON_MEMBERS members in it (names unique),
 * nesting at most NGX_RTMP_COMPLIANCE_JSON_DEPTH deep, numbers of at most
 * 64 characters, integers that fit in 64 bits, strings of UTF-8 (shortest
 * forms, no surrogates) without U+0000.  Nested objects are checked for
 * syntax but not for duplicated names: no member of them is read.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>
#include "ngx_rtmp_compliance_json.h"


#define NGX_RTMP_COMPLIANCE_JSON_DEPTH    2048
#define NGX_RTMP_COMPLIANCE_JSON_NUMBER   64


typedef struct {
    u_char                         *p;
    u_char                         *last;
    u_char                         *out;     /* unescaped strings */
} ngx_rtmp_compliance_jparse_t;


static void ngx_rtmp_compliance_json_ws(ngx_rtmp_compliance_jparse_t *ps);
static ngx_int_t ngx_rtmp_compliance_json_member(
    ngx_rtmp_compliance_jparse_t *ps, ngx_rtmp_compliance_jobject_t *obj);
static ngx_int_t ngx_rtmp_compliance_json_name(
    ngx_rtmp_compliance_jparse_t *ps, ngx_str_t *dst);
static ngx_int_t ngx_rtmp_compliance_json_string(
    ngx_rtmp_compliance_jparse_t *ps, ngx_str_t *dst);
static ngx_int_t ngx_rtmp_compliance_json_escape(u_char **pp, u_char *last,
    u_char **op);
static ngx_int_t ngx_rtmp_compliance_json_unicode(u_char **pp, u_char *last,
    uint32_t *cp);
static u_char *ngx_rtmp_compliance_json_put_utf8(u_char *o, uint32_t cp);
static ngx_int_t ngx_rtmp_compliance_json_hex4(u_char *p, uint32_t *cp);
static ngx_int_t ngx_rtmp_compliance_json_scalar(
    ngx_rtmp_compliance_jparse_t *ps, ngx_rtmp_compliance_jmember_t *m);
static ngx_int_t ngx_rtmp_compliance_json_literal(
    ngx_rtmp_compliance_jparse_t *ps, ngx_rtmp_compliance_jmember_t *m,
    const char *word, ngx_uint_t type);
static ngx_int_t ngx_rtmp_compliance_json_number(
    ngx_rtmp_compliance_jparse_t *ps, ngx_rtmp_compliance_jmember_t *m);
static ngx_int_t ngx_rtmp_compliance_json_integer(u_char *p, u_char *last,
    ngx_uint_t neg, ngx_rtmp_compliance_jmember_t *m);
static ngx_int_t ngx_rtmp_compliance_json_real(u_char *p, u_char *last,
    ngx_rtmp_compliance_jmember_t *m);
static ngx_int_t ngx_rtmp_compliance_json_skip(
    ngx_rtmp_compliance_jparse_t *ps);
static ngx_int_t ngx_rtmp_compliance_json_open(
    ngx_rtmp_compliance_jparse_t *ps, uint64_t *kind, ngx_uint_t depth);


/*
 * in: the JSON text; out: room for its strings unescaped (len bytes is
 * always enough).  NGX_OK: obj holds the members; NGX_ERROR: not such an
 * object
 */

ngx_int_t
ngx_rtmp_compliance_json_parse(u_char *in, size_t len, u_char *out,
    ngx_rtmp_compliance_jobject_t *obj)
{
    ngx_rtmp_compliance_jparse_t  ps;

    ps.p = in;
    ps.last = in + len;
    ps.out = out;

    obj->n = 0;

    ngx_rtmp_compliance_json_ws(&ps);

    if (ps.p == ps.last || *ps.p != '{') {
        return NGX_ERROR;
    }

    ps.p++;
    ngx_rtmp_compliance_json_ws(&ps);

    if (ps.p < ps.last && *ps.p == '}') {
        ps.p++;
        goto done;
    }

    for ( ;; ) {

        if (ngx_rtmp_compliance_json_member(&ps, obj) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_rtmp_compliance_json_ws(&ps);

        if (ps.p == ps.last) {
            return NGX_ERROR;
        }

        if (*ps.p == '}') {
            ps.p++;
            break;
        }

        if (*ps.p != ',') {
            return NGX_ERROR;
        }

        ps.p++;
        ngx_rtmp_compliance_json_ws(&ps);
    }

done:

    ngx_rtmp_compliance_json_ws(&ps);

    return ps.p == ps.last ? NGX_OK : NGX_ERROR;
}


/* a member of the top-level object, "name": value, kept in obj */

static ngx_int_t
ngx_rtmp_compliance_json_member(ngx_rtmp_compliance_jparse_t *ps,
    ngx_rtmp_compliance_jobject_t *obj)
{
    u_char                         *start;
    ngx_uint_t                      i;
    ngx_rtmp_compliance_jmember_t  *m;

    if (obj->n == NGX_RTMP_COMPLIANCE_JSON_MEMBERS) {
        return NGX_ERROR;
    }

    m = &obj->member[obj->n];

    if (ngx_rtmp_compliance_json_name(ps, &m->name) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < obj->n; i++) {
        if (obj->member[i].name.len == m->name.len
            && ngx_memcmp(obj->member[i].name.data, m->name.data,
                          m->name.len)
               == 0)
        {
            /* a duplicated name: which one counts is ambiguous */
            return NGX_ERROR;
        }
    }

    ngx_rtmp_compliance_json_ws(ps);

    if (ps->p == ps->last) {
        return NGX_ERROR;
    }

    if (*ps->p == '[' || *ps->p == '{') {
        m->type = (*ps->p == '[') ? NGX_RTMP_COMPLIANCE_JSON_ARRAY
                                  : NGX_RTMP_COMPLIANCE_JSON_OBJECT;
        start = ps->p;

        if (ngx_rtmp_compliance_json_skip(ps) != NGX_OK) {
            return NGX_ERROR;
        }

        m->str.data = start;
        m->str.len = ps->p - start;

    } else if (ngx_rtmp_compliance_json_scalar(ps, m) != NGX_OK) {
        return NGX_ERROR;
    }

    obj->n++;

    return NGX_OK;
}


ngx_rtmp_compliance_jmember_t *
ngx_rtmp_compliance_json_get(ngx_rtmp_compliance_jobject_t *obj,
    const char *name)
{
    size_t      len;
    ngx_uint_t  i;

    len = ngx_strlen(name);

    for (i = 0; i < obj->n; i++) {
        if (obj->member[i].name.len == len
            && ngx_memcmp(obj->member[i].name.data, name, len) == 0)
        {
            return &obj->member[i];
        }
    }

    return NULL;
}


/*
 * does an array member (its text, as the parser checked it) hold the
 * string value?  scratch: room for the array's strings unescaped
 */

ngx_uint_t
ngx_rtmp_compliance_json_array_has(ngx_str_t *array, ngx_str_t *value,
    u_char *scratch)
{
    ngx_str_t                     s;
    ngx_rtmp_compliance_jparse_t  ps;

    ps.p = array->data;
    ps.last = array->data + array->len;
    ps.out = scratch;

    if (ps.p == ps.last || *ps.p != '[') {
        return 0;
    }

    ps.p++;

    for ( ;; ) {
        ngx_rtmp_compliance_json_ws(&ps);

        if (ps.p == ps.last || *ps.p == ']') {
            return 0;
        }

        if (*ps.p == '"') {
            ps.out = scratch;

            if (ngx_rtmp_compliance_json_string(&ps, &s) != NGX_OK) {
                return 0;
            }

            if (s.len == value->len
                && ngx_memcmp(s.data, value->data, s.len) == 0)
            {
                return 1;
            }

        } else if (ngx_rtmp_compliance_json_skip(&ps) != NGX_OK) {
            return 0;
        }

        ngx_rtmp_compliance_json_ws(&ps);

        if (ps.p == ps.last || *ps.p != ',') {
            return 0;
        }

        ps.p++;
    }
}


/*
 * the length of the UTF-8 sequence at p (the shortest form of a scalar
 * value: no surrogates, nothing over U+10FFFF), 0 if it is not one; p < last
 */

size_t
ngx_rtmp_compliance_utf8(u_char *p, u_char *last)
{
    size_t    n, i;
    uint32_t  cp, min;

    if (*p < 0x80) {
        return 1;
    }

    if (*p >= 0xc2 && *p <= 0xdf) {
        n = 1; cp = *p & 0x1f; min = 0x80;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        n = 2; cp = *p & 0x0f; min = 0x800;

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        n = 3; cp = *p & 0x07; min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (last - p) <= n) {
        return 0;
    }

    for (i = 1; i <= n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n + 1;
}


static void
ngx_rtmp_compliance_json_ws(ngx_rtmp_compliance_jparse_t *ps)
{
    while (ps->p < ps->last
           && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n'
               || *ps->p == '\r'))
    {
        ps->p++;
    }
}


/*
 * a member's name and the ":" after it, at ps->p; dst: the name
 * unescaped at ps->out, or NULL
 */

static ngx_int_t
ngx_rtmp_compliance_json_name(ngx_rtmp_compliance_jparse_t *ps,
    ngx_str_t *dst)
{
    if (ngx_rtmp_compliance_json_string(ps, dst) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_rtmp_compliance_json_ws(ps);

    if (ps->p == ps->last || *ps->p != ':') {
        return NGX_ERROR;
    }

    ps->p++;

    return NGX_OK;
}


/* a string at ps->p; dst: its value unescaped at ps->out, or NULL */

static ngx_int_t
ngx_rtmp_compliance_json_string(ngx_rtmp_compliance_jparse_t *ps,
    ngx_str_t *dst)
{
    u_char  c, *p, *last, *o, *start;
    size_t  n;

    p = ps->p;
    last = ps->last;
    o = ps->out;
    start = o;

    if (p == last || *p != '"') {
        return NGX_ERROR;
    }

    p++;

    for ( ;; ) {

        if (p == last) {
            return NGX_ERROR;
        }

        c = *p;

        if (c == '"') {
            p++;
            break;
        }

        if (c < 0x20) {
            return NGX_ERROR;
        }

        if (c == '\\') {
            if (ngx_rtmp_compliance_json_escape(&p, last, &o) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (c < 0x80) {
            *o++ = c;
            p++;
            continue;
        }

        n = ngx_rtmp_compliance_utf8(p, last);

        if (n == 0) {
            return NGX_ERROR;
        }

        o = ngx_cpymem(o, p, n);
        p += n;
    }

    ps->p = p;

    if (dst) {
        dst->data = start;
        dst->len = o - start;
        ps->out = o;
    }

    return NGX_OK;
}


/* the escape at *pp (its "\"), unescaped at *op */

static ngx_int_t
ngx_rtmp_compliance_json_escape(u_char **pp, u_char *last, u_char **op)
{
    u_char    c, *p;
    uint32_t  cp;

    p = *pp;

    if (last - p < 2) {
        return NGX_ERROR;
    }

    c = p[1];
    p += 2;

    switch (c) {
    case '"': case '\\': case '/':
        break;
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;

    case 'u':
        if (ngx_rtmp_compliance_json_unicode(&p, last, &cp) != NGX_OK) {
            return NGX_ERROR;
        }

        /* as UTF-8: never longer than the escape it came from */

        *op = ngx_rtmp_compliance_json_put_utf8(*op, cp);
        *pp = p;
        return NGX_OK;

    default:
        return NGX_ERROR;
    }

    *(*op)++ = c;
    *pp = p;

    return NGX_OK;
}


/*
 * the four hex digits at *pp of a \u escape, with the low surrogate's
 * escape that must follow a high one: a code point other than U+0000
 */

static ngx_int_t
ngx_rtmp_compliance_json_unicode(u_char **pp, u_char *last, uint32_t *cp)
{
    u_char    *p;
    uint32_t   lo;

    p = *pp;

    if (last - p < 4 || ngx_rtmp_compliance_json_hex4(p, cp) != NGX_OK) {
        return NGX_ERROR;
    }

    p += 4;

    if (*cp >= 0xdc00 && *cp <= 0xdfff) {
        return NGX_ERROR;
    }

    if (*cp >= 0xd800 && *cp <= 0xdbff) {
        /* a high surrogate: its low one must follow */

        if (last - p < 6 || p[0] != '\\' || p[1] != 'u'
            || ngx_rtmp_compliance_json_hex4(p + 2, &lo) != NGX_OK
            || lo < 0xdc00 || lo > 0xdfff)
        {
            return NGX_ERROR;
        }

        p += 6;
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    }

    if (*cp == 0) {
        return NGX_ERROR;
    }

    *pp = p;

    return NGX_OK;
}


static u_char *
ngx_rtmp_compliance_json_put_utf8(u_char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (u_char) cp;

    } else if (cp < 0x800) {
        *o++ = (u_char) (0xc0 | (cp >> 6));
        *o++ = (u_char) (0x80 | (cp & 0x3f));

    } else if (cp < 0x10000) {
        *o++ = (u_char) (0xe0 | (cp >> 12));
        *o++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        *o++ = (u_char) (0x80 | (cp & 0x3f));

    } else {
        *o++ = (u_char) (0xf0 | (cp >> 18));
        *o++ = (u_char) (0x80 | ((cp >> 12) & 0x3f));
        *o++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        *o++ = (u_char) (0x80 | (cp & 0x3f));
    }

    return o;
}


static ngx_int_t
ngx_rtmp_compliance_json_hex4(u_char *p, uint32_t *cp)
{
    u_char      c;
    ngx_uint_t  i;

    *cp = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;

        } else {
            return NGX_ERROR;
        }

        *cp = (*cp << 4) | c;
    }

    return NGX_OK;
}


/* a string, number, true, false or null */

static ngx_int_t
ngx_rtmp_compliance_json_scalar(ngx_rtmp_compliance_jparse_t *ps,
    ngx_rtmp_compliance_jmember_t *m)
{
    size_t  left;

    left = ps->last - ps->p;

    if (left == 0) {
        return NGX_ERROR;
    }

    switch (*ps->p) {

    case '"':
        m->type = NGX_RTMP_COMPLIANCE_JSON_STRING;
        return ngx_rtmp_compliance_json_string(ps, &m->str);

    case 't':
        return ngx_rtmp_compliance_json_literal(ps, m, "true",
                                                NGX_RTMP_COMPLIANCE_JSON_TRUE);

    case 'f':
        return ngx_rtmp_compliance_json_literal(ps, m, "false",
                                               NGX_RTMP_COMPLIANCE_JSON_FALSE);

    case 'n':
        return ngx_rtmp_compliance_json_literal(ps, m, "null",
                                                NGX_RTMP_COMPLIANCE_JSON_NULL);

    default:
        return ngx_rtmp_compliance_json_number(ps, m);
    }
}


/* true, false or null: the word in full */

static ngx_int_t
ngx_rtmp_compliance_json_literal(ngx_rtmp_compliance_jparse_t *ps,
    ngx_rtmp_compliance_jmember_t *m, const char *word, ngx_uint_t type)
{
    size_t  len;

    len = ngx_strlen(word);

    if ((size_t) (ps->last - ps->p) < len
        || ngx_strncmp(ps->p, word, len) != 0)
    {
        return NGX_ERROR;
    }

    m->type = type;
    ps->p += len;

    return NGX_OK;
}


/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static ngx_int_t
ngx_rtmp_compliance_json_number(ngx_rtmp_compliance_jparse_t *ps,
    ngx_rtmp_compliance_jmember_t *m)
{
    u_char      *p, *last, *start;
    ngx_uint_t   neg, real;

    p = ps->p;
    last = ps->last;
    start = p;
    neg = 0;
    real = 0;

    if (p < last && *p == '-') {
        neg = 1;
        p++;
    }

    if (p == last || *p < '0' || *p > '9') {
        return NGX_ERROR;
    }

    if (*p == '0') {
        p++;

    } else {
        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && *p == '.') {
        real = 1;
        p++;

        if (p == last || *p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;

        if (p < last && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == last || *p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p - start > NGX_RTMP_COMPLIANCE_JSON_NUMBER) {
        return NGX_ERROR;
    }

    ps->p = p;

    if (m == NULL) {
        return NGX_OK;
    }

    if (!real) {
        return ngx_rtmp_compliance_json_integer(start + neg, p, neg, m);
    }

    return ngx_rtmp_compliance_json_real(start, p, m);
}


/* the digits p..last: an integer that fits in 64 bits, as json_int_t */

static ngx_int_t
ngx_rtmp_compliance_json_integer(u_char *p, u_char *last, ngx_uint_t neg,
    ngx_rtmp_compliance_jmember_t *m)
{
    uint64_t  u, limit;

    limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    u = 0;

    for ( /* void */ ; p < last; p++) {
        if (u > (limit - (*p - '0')) / 10) {
            return NGX_ERROR;
        }

        u = u * 10 + (*p - '0');
    }

    m->type = NGX_RTMP_COMPLIANCE_JSON_INTEGER;
    m->integer = neg ? (int64_t) (0 - u) : (int64_t) u;

    return NGX_OK;
}


/* p..last, checked by the caller, is a number with a fraction or exponent */

static ngx_int_t
ngx_rtmp_compliance_json_real(u_char *p, u_char *last,
    ngx_rtmp_compliance_jmember_t *m)
{
    double  d;
    u_char  text[NGX_RTMP_COMPLIANCE_JSON_NUMBER + 1];

    ngx_memcpy(text, p, last - p);
    text[last - p] = '\0';

    d = strtod((char *) text, NULL);

    if (d == HUGE_VAL || d == -HUGE_VAL) {
        return NGX_ERROR;
    }

    m->type = NGX_RTMP_COMPLIANCE_JSON_REAL;
    m->real = d;

    return NGX_OK;
}


/*
 * any value, checked and passed over; containers without recursion (a
 * bit per level says object or array)
 */

static ngx_int_t
ngx_rtmp_compliance_json_skip(ngx_rtmp_compliance_jparse_t *ps)
{
    ngx_uint_t                     depth, object, want_value;
    uint64_t                       kind[NGX_RTMP_COMPLIANCE_JSON_DEPTH / 64];
    ngx_rtmp_compliance_jmember_t  m;

    depth = 0;
    want_value = 1;

    for ( ;; ) {

        ngx_rtmp_compliance_json_ws(ps);

        if (ps->p == ps->last) {
            return NGX_ERROR;
        }

        if (want_value) {

            if (*ps->p != '[' && *ps->p != '{') {

                /* a string is unescaped past the kept ones, and left */

                if ((*ps->p == '"'
                     ? ngx_rtmp_compliance_json_string(ps, NULL)
                     : ngx_rtmp_compliance_json_scalar(ps, &m))
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }

                if (depth == 0) {
                    return NGX_OK;
                }

                want_value = 0;
                continue;
            }

            object = (*ps->p == '{');

            if (ngx_rtmp_compliance_json_open(ps, kind, depth) != NGX_OK) {
                return NGX_ERROR;
            }

            depth++;

            if (*ps->p == (object ? '}' : ']')) {
                /* empty: its end is taken below */
                want_value = 0;
                continue;
            }

            if (!object) {
                continue;
            }

        } else {

            /* after a value: ",", or the end of the container it is in */

            object = (kind[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;

            if (*ps->p == (object ? '}' : ']')) {
                ps->p++;

                if (--depth == 0) {
                    return NGX_OK;
                }

                continue;
            }

            if (*ps->p != ',') {
                return NGX_ERROR;
            }

            ps->p++;
            want_value = 1;

            if (!object) {
                continue;
            }

            ngx_rtmp_compliance_json_ws(ps);
        }

        /* a member of an object: "name": */

        if (ngx_rtmp_compliance_json_name(ps, NULL) != NGX_OK) {
            return NGX_ERROR;
        }

        want_value = 1;
    }
}


/*
 * opens the array or object at ps->p, at depth: its kind is noted in
 * kind, the whitespace after "[" or "{" passed; NGX_ERROR: too deep, or
 * the text ends
 */

static ngx_int_t
ngx_rtmp_compliance_json_open(ngx_rtmp_compliance_jparse_t *ps,
    uint64_t *kind, ngx_uint_t depth)
{
    uint64_t  bit;

    if (depth == NGX_RTMP_COMPLIANCE_JSON_DEPTH) {
        return NGX_ERROR;
    }

    bit = (uint64_t) 1 << (depth % 64);
    kind[depth / 64] = (*ps->p == '{') ? kind[depth / 64] | bit
                                       : kind[depth / 64] & ~bit;

    ps->p++;
    ngx_rtmp_compliance_json_ws(ps);

    return ps->p == ps->last ? NGX_ERROR : NGX_OK;
}
