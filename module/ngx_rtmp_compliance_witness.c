
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fleet witnesses: the checkpoint another node published on the stream,
 * checked field by field before it goes into this node's chain.  Nothing
 * here trusts the entry: every field has one exact form, a field twice
 * or missing refuses the entry, and fields it does not know are ignored
 * (a newer node may add some).  The signature is not checked here: the
 * node's public key is the verifier's (compliance-audit verify --witness).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_witness.h"
#include "ngx_rtmp_compliance_text.h"
#include "ngx_rtmp_compliance_audit_format.h"


static ngx_int_t ngx_rtmp_compliance_witness_hex(ngx_str_t *v, size_t len);
static ngx_int_t ngx_rtmp_compliance_witness_seq(ngx_str_t *v,
    uint64_t *seq);
static ngx_int_t ngx_rtmp_compliance_witness_ts(ngx_str_t *v);
static ngx_int_t ngx_rtmp_compliance_witness_num(u_char *p, size_t n,
    ngx_uint_t min, ngx_uint_t max);


/* the fields, in the order of the XADD; a bit each */

#define NGX_RTMP_COMPLIANCE_WITNESS_OP_F      0x01
#define NGX_RTMP_COMPLIANCE_WITNESS_ORIGIN_F  0x02
#define NGX_RTMP_COMPLIANCE_WITNESS_SEQ_F     0x04
#define NGX_RTMP_COMPLIANCE_WITNESS_HASH_F    0x08
#define NGX_RTMP_COMPLIANCE_WITNESS_TS_F      0x10
#define NGX_RTMP_COMPLIANCE_WITNESS_KEY_F     0x20
#define NGX_RTMP_COMPLIANCE_WITNESS_SIG_F     0x40
#define NGX_RTMP_COMPLIANCE_WITNESS_ALL       0x7f


/* a field: its name, what a bad value is told as; hex: its length */

typedef struct {
    ngx_str_t                       name;
    const char                     *why;
    size_t                          hex;         /* 0: not hex */
    size_t                          offset;      /* of its u_char * */
} ngx_rtmp_compliance_witness_field_t;


#define NGX_RTMP_COMPLIANCE_WITNESS_AT(field)                                 \
    offsetof(ngx_rtmp_compliance_witness_t, field)

static ngx_rtmp_compliance_witness_field_t  ngx_rtmp_compliance_witness_f[] = {
    { ngx_string("op"), "op is not \"" NGX_RTMP_COMPLIANCE_WITNESS_OP "\"",
      0, 0 },
    { ngx_string("origin"), "origin is not a node's name (1 to 64 visible "
      "characters)", 0, 0 },
    { ngx_string("seq"), "seq is not a number from 1 to 2^63 - 1", 0, 0 },
    { ngx_string("hash"), "hash is not 64 lowercase hex digits",
      NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN,
      NGX_RTMP_COMPLIANCE_WITNESS_AT(hash) },
    { ngx_string("ts"), "ts is not YYYY-MM-DDTHH:MM:SS.mmmZ", 0, 0 },
    { ngx_string("key"), "key is not 32 lowercase hex digits",
      NGX_RTMP_COMPLIANCE_WITNESS_KEY_LEN,
      NGX_RTMP_COMPLIANCE_WITNESS_AT(key) },
    { ngx_string("sig"), "sig is not 128 lowercase hex digits",
      NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN,
      NGX_RTMP_COMPLIANCE_WITNESS_AT(sig) },
    { ngx_null_string, NULL, 0, 0 }
};


/*
 * kv: n pairs (field, value) of one stream entry.  NGX_OK: w points into
 * kv's values; NGX_DECLINED: *why says what is wrong
 */

ngx_int_t
ngx_rtmp_compliance_witness_parse(ngx_rtmp_compliance_witness_t *w,
    ngx_str_t *kv, ngx_uint_t n, const char **why)
{
    ngx_str_t                            *f, *v;
    ngx_int_t                             rc;
    ngx_uint_t                            i, k, seen, bit;
    ngx_rtmp_compliance_witness_field_t  *fd;

    ngx_memzero(w, sizeof(ngx_rtmp_compliance_witness_t));

    if (n > NGX_RTMP_COMPLIANCE_WITNESS_FIELDS) {
        *why = "too many fields";
        return NGX_DECLINED;
    }

    seen = 0;

    for (i = 0; i < n; i++) {
        f = &kv[2 * i];
        v = &kv[2 * i + 1];

        for (fd = ngx_rtmp_compliance_witness_f; fd->name.len; fd++) {
            if (f->len == fd->name.len
                && ngx_strncmp(f->data, fd->name.data, f->len) == 0)
            {
                break;
            }
        }

        if (fd->name.len == 0) {
            continue;
        }

        k = fd - ngx_rtmp_compliance_witness_f;

        bit = (ngx_uint_t) 1 << k;

        if (seen & bit) {
            *why = "a field given twice";
            return NGX_DECLINED;
        }

        seen |= bit;
        *why = fd->why;

        if (fd->hex) {
            rc = ngx_rtmp_compliance_witness_hex(v, fd->hex);
            *(u_char **) ((u_char *) w + fd->offset) = v->data;

            if (rc != NGX_OK) {
                return NGX_DECLINED;
            }

            continue;
        }

        switch (bit) {

        case NGX_RTMP_COMPLIANCE_WITNESS_OP_F:
            rc = (v->len == sizeof(NGX_RTMP_COMPLIANCE_WITNESS_OP) - 1
                  && ngx_strncmp(v->data, NGX_RTMP_COMPLIANCE_WITNESS_OP,
                                 v->len) == 0)
                 ? NGX_OK : NGX_DECLINED;
            break;

        case NGX_RTMP_COMPLIANCE_WITNESS_ORIGIN_F:
            rc = (v->len && v->len <= NGX_RTMP_COMPLIANCE_WITNESS_NODE_MAX
                  && ngx_rtmp_compliance_text_check(v->data, v->len,
                                           NGX_RTMP_COMPLIANCE_TEXT_NAME)
                     == NULL)
                 ? NGX_OK : NGX_DECLINED;
            w->origin = *v;
            break;

        case NGX_RTMP_COMPLIANCE_WITNESS_SEQ_F:
            rc = ngx_rtmp_compliance_witness_seq(v, &w->seq);
            break;

        default: /* NGX_RTMP_COMPLIANCE_WITNESS_TS_F */
            rc = ngx_rtmp_compliance_witness_ts(v);
            w->ts = v->data;
            break;
        }

        if (rc != NGX_OK) {
            return NGX_DECLINED;
        }
    }

    if (seen != NGX_RTMP_COMPLIANCE_WITNESS_ALL) {
        *why = "a field is missing (op, origin, seq, hash, ts, key, sig)";
        return NGX_DECLINED;
    }

    *why = NULL;

    return NGX_OK;
}


/* exactly len lowercase hex digits */

static ngx_int_t
ngx_rtmp_compliance_witness_hex(ngx_str_t *v, size_t len)
{
    size_t  i;

    if (v->len != len) {
        return NGX_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (!((v->data[i] >= '0' && v->data[i] <= '9')
              || (v->data[i] >= 'a' && v->data[i] <= 'f')))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* 1 .. INT64_MAX, digits only, no leading zero */

static ngx_int_t
ngx_rtmp_compliance_witness_seq(ngx_str_t *v, uint64_t *seq)
{
    size_t    i;
    uint64_t  n;

    if (v->len == 0 || v->len > NGX_INT64_LEN - 1 || v->data[0] == '0') {
        return NGX_DECLINED;
    }

    n = 0;

    for (i = 0; i < v->len; i++) {
        if (v->data[i] < '0' || v->data[i] > '9') {
            return NGX_DECLINED;
        }

        if (n > ((uint64_t) INT64_MAX - (v->data[i] - '0')) / 10) {
            return NGX_DECLINED;
        }

        n = n * 10 + (v->data[i] - '0');
    }

    *seq = n;

    return NGX_OK;
}


/* YYYY-MM-DDTHH:MM:SS.mmmZ, each number in its range */

static ngx_int_t
ngx_rtmp_compliance_witness_ts(ngx_str_t *v)
{
    u_char  *p;

    static const char  form[] = "dddd-dd-ddTdd:dd:dd.dddZ";

    if (v->len != NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN
        || sizeof(form) - 1 != NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN)
    {
        return NGX_DECLINED;
    }

    p = v->data;

    if (ngx_rtmp_compliance_witness_num(p, 4, 1970, 9999) != NGX_OK
        || ngx_rtmp_compliance_witness_num(p + 5, 2, 1, 12) != NGX_OK
        || ngx_rtmp_compliance_witness_num(p + 8, 2, 1, 31) != NGX_OK
        || ngx_rtmp_compliance_witness_num(p + 11, 2, 0, 23) != NGX_OK
        || ngx_rtmp_compliance_witness_num(p + 14, 2, 0, 59) != NGX_OK
        || ngx_rtmp_compliance_witness_num(p + 17, 2, 0, 60) != NGX_OK
        || ngx_rtmp_compliance_witness_num(p + 20, 3, 0, 999) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    for (p = v->data; p < v->data + v->len; p++) {
        if (form[p - v->data] != 'd' && *p != (u_char) form[p - v->data]) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_witness_num(u_char *p, size_t n, ngx_uint_t min,
    ngx_uint_t max)
{
    size_t      i;
    ngx_uint_t  v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return NGX_DECLINED;
        }

        v = v * 10 + (p[i] - '0');
    }

    return (v >= min && v <= max) ? NGX_OK : NGX_DECLINED;
}


/* the witness record's members (docs/audit.md), for the audit writer */

json_t *
ngx_rtmp_compliance_witness_json(ngx_rtmp_compliance_witness_t *w)
{
    return json_pack("{s:s%, s:I, s:s%, s:s%, s:s%, s:s%}",
                     "origin", (char *) w->origin.data, w->origin.len,
                     "signed_seq", (json_int_t) w->seq,
                     "signed_hash", (char *) w->hash,
                     (size_t) NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN,
                     "signed_ts", (char *) w->ts,
                     (size_t) NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN,
                     "key", (char *) w->key,
                     (size_t) NGX_RTMP_COMPLIANCE_WITNESS_KEY_LEN,
                     "sig", (char *) w->sig,
                     (size_t) NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN);
}
