
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * JWT verification: strict compact-form parsing, the signature checked
 * with the key the token's kid names (pinned to its algorithm), then the
 * time, issuer, audience, scope and identity claims.  The header and the
 * claims are read by ngx_rtmp_compliance_json.c (strict, no duplicated
 * names, no allocation); libjwt is not used here: version 1.10 re-parses
 * PEM keys on every call, accepts unsigned tokens when given no key, and
 * checks no time claims.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include "ngx_rtmp_compliance_token.h"
#include "ngx_rtmp_compliance_key.h"
#include "ngx_rtmp_compliance_json.h"
#include "ngx_rtmp_compliance_text.h"


#define NGX_RTMP_COMPLIANCE_TIME_MAX      ((int64_t) 1 << 40)


typedef struct {
    ngx_str_t                       *out;
    const char                      *name;
    ngx_uint_t                       reason;    /* when absent or empty */
} ngx_rtmp_compliance_claim_t;


static ngx_int_t ngx_rtmp_compliance_b64(ngx_str_t *src, u_char *buf,
    size_t size, ngx_str_t *dst);
static ngx_int_t ngx_rtmp_compliance_json(ngx_str_t *src, u_char *buf,
    u_char *out, ngx_rtmp_compliance_jobject_t *obj);
static ngx_int_t ngx_rtmp_compliance_claim_str(
    ngx_rtmp_compliance_jobject_t *obj, const char *name, ngx_pool_t *pool,
    ngx_str_t *out);
static ngx_int_t ngx_rtmp_compliance_claim_time(
    ngx_rtmp_compliance_jobject_t *obj, const char *name, time_t *out);
static ngx_uint_t ngx_rtmp_compliance_header(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_jobject_t *hdr,
    ngx_pool_t *pool, ngx_rtmp_compliance_claims_t *cl,
    ngx_rtmp_compliance_key_t **key, u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_claims(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_jobject_t *pl,
    ngx_str_t *scope, ngx_pool_t *pool, ngx_rtmp_compliance_claims_t *cl,
    u_char *detail, size_t size, u_char *scratch);
static ngx_uint_t ngx_rtmp_compliance_claims_time(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_jobject_t *pl,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_claims_issuer(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_jobject_t *pl,
    ngx_pool_t *pool, u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_claims_audience(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_jobject_t *pl,
    u_char *detail, size_t size, u_char *scratch);
static ngx_uint_t ngx_rtmp_compliance_claims_subjects(
    ngx_rtmp_compliance_jobject_t *pl, ngx_pool_t *pool,
    ngx_rtmp_compliance_claims_t *cl, ngx_uint_t publish, u_char *detail,
    size_t size);


/* the value of NAME in "a=1&NAME=value&b=2", no unescaping */

ngx_str_t *
ngx_rtmp_compliance_arg(ngx_str_t *args, ngx_str_t *name, ngx_str_t *value)
{
    u_char  *p, *last, *amp;

    if (args->len == 0) {
        return NULL;
    }

    p = args->data;
    last = p + args->len;

    while (p < last) {
        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        if ((size_t) (amp - p) > name->len
            && p[name->len] == '='
            && ngx_strncmp(p, name->data, name->len) == 0)
        {
            value->data = p + name->len + 1;
            value->len = amp - value->data;
            return value;
        }

        p = amp + 1;
    }

    return NULL;
}


void
ngx_rtmp_compliance_token_hash(ngx_str_t *token, u_char *out)
{
    u_char  md[EVP_MAX_MD_SIZE];

    if (ngx_rtmp_compliance_digest(ngx_rtmp_compliance_sha256(), token->data,
                                   token->len, md, NULL)
        != NGX_OK)
    {
        ngx_memset(md, 0, NGX_RTMP_COMPLIANCE_HASH_LEN / 2);
    }

    ngx_hex_dump(out, md, NGX_RTMP_COMPLIANCE_HASH_LEN / 2);
    out[NGX_RTMP_COMPLIANCE_HASH_LEN] = '\0';
}


/* strict base64url: its alphabet only, no padding */

static ngx_int_t
ngx_rtmp_compliance_b64(ngx_str_t *src, u_char *buf, size_t size,
    ngx_str_t *dst)
{
    u_char  *p, *last, c;

    if (src->len % 4 == 1 || ngx_base64_decoded_length(src->len) > size) {
        return NGX_ERROR;
    }

    last = src->data + src->len;

    for (p = src->data; p < last; p++) {
        c = *p;

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return NGX_ERROR;
        }
    }

    /* canonical: the unused low bits of the last character are zero */

    if (src->len % 4) {
        c = last[-1];
        c = (c >= 'A' && c <= 'Z') ? c - 'A'
            : (c >= 'a' && c <= 'z') ? c - 'a' + 26
            : (c >= '0' && c <= '9') ? c - '0' + 52
            : (c == '-') ? 62 : 63;

        if (c & (src->len % 4 == 2 ? 0x0f : 0x03)) {
            return NGX_ERROR;
        }
    }

    dst->data = buf;

    return ngx_decode_base64url(dst, src);
}


/*
 * a base64url part of the token as a JSON object: buf takes the JSON,
 * out its strings (NGX_RTMP_COMPLIANCE_TOKEN_MAX bytes each)
 */

static ngx_int_t
ngx_rtmp_compliance_json(ngx_str_t *src, u_char *buf, u_char *out,
    ngx_rtmp_compliance_jobject_t *obj)
{
    ngx_str_t  s;

    if (src->len == 0
        || ngx_rtmp_compliance_b64(src, buf, NGX_RTMP_COMPLIANCE_TOKEN_MAX,
                                   &s)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_rtmp_compliance_json_parse(s.data, s.len, out, obj);
}


/*
 * NGX_OK: a string of 1..256 printable bytes (no character that
 * ngx_rtmp_compliance_text_check() refuses in a name), copied;
 * NGX_DECLINED: absent or empty; NGX_ERROR: anything else;
 * NGX_ABORT: no memory
 */

static ngx_int_t
ngx_rtmp_compliance_claim_str(ngx_rtmp_compliance_jobject_t *obj,
    const char *name, ngx_pool_t *pool, ngx_str_t *out)
{
    size_t                          len;
    u_char                         *s;
    ngx_rtmp_compliance_jmember_t  *v;

    ngx_str_null(out);

    v = ngx_rtmp_compliance_json_get(obj, name);

    if (v == NULL) {
        return NGX_DECLINED;
    }

    if (v->type != NGX_RTMP_COMPLIANCE_JSON_STRING) {
        return NGX_ERROR;
    }

    s = v->str.data;
    len = v->str.len;

    if (len == 0) {
        return NGX_DECLINED;
    }

    if (len > NGX_RTMP_COMPLIANCE_CLAIM_MAX) {
        return NGX_ERROR;
    }

    /* names a moderator reads: nothing hidden, nothing reordered */

    if (ngx_rtmp_compliance_text_check(s, len, NGX_RTMP_COMPLIANCE_TEXT_NAME)
        != NULL)
    {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ABORT;
    }

    ngx_memcpy(out->data, s, len);
    out->len = len;

    return NGX_OK;
}


/* NumericDate; NGX_DECLINED: absent, NGX_ERROR: not a sane number */

static ngx_int_t
ngx_rtmp_compliance_claim_time(ngx_rtmp_compliance_jobject_t *obj,
    const char *name, time_t *out)
{
    double                          d;
    int64_t                         n;
    ngx_rtmp_compliance_jmember_t  *v;

    *out = 0;

    v = ngx_rtmp_compliance_json_get(obj, name);

    if (v == NULL) {
        return NGX_DECLINED;
    }

    if (v->type == NGX_RTMP_COMPLIANCE_JSON_INTEGER) {
        n = v->integer;

    } else if (v->type == NGX_RTMP_COMPLIANCE_JSON_REAL) {
        d = v->real;

        if (!(d >= 0 && d < (double) NGX_RTMP_COMPLIANCE_TIME_MAX)) {
            return NGX_ERROR;
        }

        n = (int64_t) d;

    } else {
        return NGX_ERROR;
    }

    if (n < 0 || n >= NGX_RTMP_COMPLIANCE_TIME_MAX) {
        return NGX_ERROR;
    }

    *out = (time_t) n;

    return NGX_OK;
}


static ngx_uint_t
ngx_rtmp_compliance_header(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_rtmp_compliance_jobject_t *hdr, ngx_pool_t *pool,
    ngx_rtmp_compliance_claims_t *cl, ngx_rtmp_compliance_key_t **key,
    u_char *detail, size_t size)
{
    ngx_int_t                       rc;
    ngx_str_t                       name;
    ngx_uint_t                      i, alg;
    ngx_rtmp_compliance_key_t      *k;
    ngx_rtmp_compliance_jmember_t  *v;

    if (ngx_rtmp_compliance_json_get(hdr, "crit") != NULL) {
        ngx_snprintf(detail, size, "token header has \"crit\"%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    v = ngx_rtmp_compliance_json_get(hdr, "alg");

    if (v == NULL || v->type != NGX_RTMP_COMPLIANCE_JSON_STRING) {
        ngx_snprintf(detail, size, "token header has no \"alg\"%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    name = v->str;

    alg = ngx_rtmp_compliance_alg_by_name(name.data, name.len);

    if (alg == NGX_RTMP_COMPLIANCE_ALG_NONE) {
        ngx_snprintf(detail, size, "algorithm \"%*s\" is not accepted%Z",
                     ngx_min(name.len, 16), name.data);
        return NGX_RTMP_COMPLIANCE_TOKEN_ALGORITHM;
    }

    cl->alg = alg;

    rc = ngx_rtmp_compliance_claim_str(hdr, "kid", pool, &cl->kid);

    if (rc == NGX_ABORT) {
        return NGX_RTMP_COMPLIANCE_INTERNAL_ERROR;
    }

    if (rc == NGX_ERROR || cl->kid.len > NGX_RTMP_COMPLIANCE_KID_MAX) {
        ngx_str_null(&cl->kid);
        ngx_snprintf(detail, size, "token header has a bad \"kid\"%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    k = cacf->keys->elts;

    for (i = 0; i < cacf->keys->nelts; i++) {
        if (k[i].kid.len == cl->kid.len
            && (cl->kid.len == 0
                || ngx_strncmp(k[i].kid.data, cl->kid.data, cl->kid.len)
                   == 0))
        {
            break;
        }
    }

    if (i == cacf->keys->nelts) {
        if (cl->kid.len) {
            ngx_snprintf(detail, size, "no key with kid \"%V\"%Z",
                         &cl->kid);

        } else {
            ngx_snprintf(detail, size, "token has no kid and every key "
                         "has one%Z");
        }

        return NGX_RTMP_COMPLIANCE_TOKEN_KEY_UNKNOWN;
    }

    k = &k[i];

    if (ngx_rtmp_compliance_algs[alg].family != k->family
        || (k->alg && k->alg != alg))
    {
        ngx_snprintf(detail, size, "algorithm %V does not match the key%Z",
                     &ngx_rtmp_compliance_algs[alg].name);
        return NGX_RTMP_COMPLIANCE_TOKEN_ALGORITHM;
    }

    *key = k;

    return NGX_RTMP_COMPLIANCE_OK;
}


ngx_uint_t
ngx_rtmp_compliance_token_verify(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_str_t *token, ngx_str_t *scope, ngx_pool_t *pool,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size)
{
    u_char                         *dot1, *dot2, *last;
    ngx_int_t                       rc;
    ngx_str_t                       h, p, s, sig;
    ngx_uint_t                      reason;
    ngx_rtmp_compliance_key_t      *key;
    ngx_rtmp_compliance_jobject_t   obj;
    u_char                          buf[NGX_RTMP_COMPLIANCE_TOKEN_MAX];
    u_char                          out[NGX_RTMP_COMPLIANCE_TOKEN_MAX];
    u_char                          aud[NGX_RTMP_COMPLIANCE_TOKEN_MAX];

    ngx_memzero(cl, sizeof(ngx_rtmp_compliance_claims_t));

    key = NULL;

    ngx_rtmp_compliance_token_hash(token, cl->hash);

    if (token->len > NGX_RTMP_COMPLIANCE_TOKEN_MAX) {
        ngx_snprintf(detail, size, "token is longer than %d bytes%Z",
                     NGX_RTMP_COMPLIANCE_TOKEN_MAX);
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    last = token->data + token->len;

    dot1 = ngx_strlchr(token->data, last, '.');
    dot2 = dot1 ? ngx_strlchr(dot1 + 1, last, '.') : NULL;

    if (dot2 == NULL || ngx_strlchr(dot2 + 1, last, '.') != NULL) {
        ngx_snprintf(detail, size, "token is not a compact JWS%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    h.data = token->data;
    h.len = dot1 - token->data;
    p.data = dot1 + 1;
    p.len = dot2 - p.data;
    s.data = dot2 + 1;
    s.len = last - s.data;

    if (ngx_rtmp_compliance_json(&h, buf, out, &obj) != NGX_OK) {
        ngx_snprintf(detail, size, "token header is not base64url JSON%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    reason = ngx_rtmp_compliance_header(cacf, &obj, pool, cl, &key, detail,
                                        size);

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    if (s.len == 0) {
        ngx_snprintf(detail, size, "token has no signature%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_SIGNATURE;
    }

    if (ngx_rtmp_compliance_b64(&s, buf, sizeof(buf), &sig) != NGX_OK) {
        ngx_snprintf(detail, size, "token signature is not base64url%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    rc = ngx_rtmp_compliance_key_verify(key, cl->alg, token->data,
                                        dot2 - token->data, sig.data,
                                        sig.len);
    if (rc == NGX_ERROR) {
        ngx_snprintf(detail, size, "signature check failed%Z");
        return NGX_RTMP_COMPLIANCE_INTERNAL_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_snprintf(detail, size, "token signature does not verify%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_SIGNATURE;
    }

    if (ngx_rtmp_compliance_json(&p, buf, out, &obj) != NGX_OK) {
        ngx_snprintf(detail, size, "token claims are not a JSON object%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    return ngx_rtmp_compliance_claims(cacf, &obj, scope, pool, cl, detail,
                                      size, aud);
}


static ngx_uint_t
ngx_rtmp_compliance_claims(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_rtmp_compliance_jobject_t *pl, ngx_str_t *scope, ngx_pool_t *pool,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size,
    u_char *scratch)
{
    ngx_int_t   rc;
    ngx_uint_t  reason, jti_bad;

    /* the jti first: it is logged with any refusal that follows */

    rc = ngx_rtmp_compliance_claim_str(pl, "jti", pool, &cl->jti);

    if (rc == NGX_ABORT) {
        return NGX_RTMP_COMPLIANCE_INTERNAL_ERROR;
    }

    jti_bad = (rc == NGX_ERROR);

    reason = ngx_rtmp_compliance_claims_time(cacf, pl, cl, detail, size);

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    reason = ngx_rtmp_compliance_claims_issuer(cacf, pl, pool, detail, size);

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    reason = ngx_rtmp_compliance_claims_audience(cacf, pl, detail, size,
                                                 scratch);

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    /* scope */

    rc = ngx_rtmp_compliance_claim_str(pl, "scope", pool, &cl->scope);

    if (rc == NGX_ABORT) {
        return NGX_RTMP_COMPLIANCE_INTERNAL_ERROR;
    }

    if (rc != NGX_OK
        || cl->scope.len != scope->len
        || ngx_strncmp(cl->scope.data, scope->data, scope->len) != 0)
    {
        ngx_snprintf(detail, size, "token scope is not \"%V\"%Z", scope);
        return NGX_RTMP_COMPLIANCE_TOKEN_SCOPE;
    }

    /* subjects */

    if (jti_bad) {
        ngx_snprintf(detail, size, "claim \"jti\" is not a string of "
                     "1 to %d printable bytes%Z",
                     NGX_RTMP_COMPLIANCE_CLAIM_MAX);
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    return ngx_rtmp_compliance_claims_subjects(pl, pool, cl,
                                         scope->len == sizeof("publish") - 1,
                                         detail, size);
}


/* exp, nbf and iat: NumericDates, a window that holds now */

static ngx_uint_t
ngx_rtmp_compliance_claims_time(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_rtmp_compliance_jobject_t *pl, ngx_rtmp_compliance_claims_t *cl,
    u_char *detail, size_t size)
{
    time_t     now;
    ngx_int_t  rc;

    now = ngx_time();

    rc = ngx_rtmp_compliance_claim_time(pl, "exp", &cl->exp);

    if (rc != NGX_OK) {
        ngx_snprintf(detail, size, "claim \"exp\" is %s%Z",
                     rc == NGX_DECLINED ? "missing" : "not a NumericDate");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    if (ngx_rtmp_compliance_claim_time(pl, "nbf", &cl->nbf) == NGX_ERROR
        || ngx_rtmp_compliance_claim_time(pl, "iat", &cl->iat) == NGX_ERROR)
    {
        ngx_snprintf(detail, size, "claim \"nbf\" or \"iat\" is not "
                     "a NumericDate%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    if (cl->exp + cacf->leeway <= now) {
        ngx_snprintf(detail, size, "token expired %T s ago%Z",
                     now - cl->exp);
        return NGX_RTMP_COMPLIANCE_TOKEN_EXPIRED;
    }

    if (cl->nbf > now + cacf->leeway) {
        ngx_snprintf(detail, size, "token is valid in %T s%Z",
                     cl->nbf - now);
        return NGX_RTMP_COMPLIANCE_TOKEN_NOT_YET_VALID;
    }

    if (cl->iat > now + cacf->leeway) {
        ngx_snprintf(detail, size, "token is issued %T s in the future%Z",
                     cl->iat - now);
        return NGX_RTMP_COMPLIANCE_TOKEN_NOT_YET_VALID;
    }

    return NGX_RTMP_COMPLIANCE_OK;
}


/* iss, when the application names an issuer */

static ngx_uint_t
ngx_rtmp_compliance_claims_issuer(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_rtmp_compliance_jobject_t *pl, ngx_pool_t *pool, u_char *detail,
    size_t size)
{
    ngx_int_t  rc;
    ngx_str_t  iss;

    if (cacf->issuer.len == 0) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    rc = ngx_rtmp_compliance_claim_str(pl, "iss", pool, &iss);

    if (rc == NGX_ABORT) {
        return NGX_RTMP_COMPLIANCE_INTERNAL_ERROR;
    }

    if (rc != NGX_OK
        || iss.len != cacf->issuer.len
        || ngx_strncmp(iss.data, cacf->issuer.data, iss.len) != 0)
    {
        ngx_snprintf(detail, size, "issuer is not \"%V\"%Z", &cacf->issuer);
        return NGX_RTMP_COMPLIANCE_TOKEN_ISSUER;
    }

    return NGX_RTMP_COMPLIANCE_OK;
}


/*
 * aud, a string or an array of them, when the application names an
 * audience; scratch: room for the array's strings unescaped
 */

static ngx_uint_t
ngx_rtmp_compliance_claims_audience(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_rtmp_compliance_jobject_t *pl, u_char *detail, size_t size,
    u_char *scratch)
{
    ngx_uint_t                      aud;
    ngx_rtmp_compliance_jmember_t  *v;

    if (cacf->audience.len == 0) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    v = ngx_rtmp_compliance_json_get(pl, "aud");
    aud = 0;

    if (v == NULL) {
        /* no audience */

    } else if (v->type == NGX_RTMP_COMPLIANCE_JSON_ARRAY) {
        aud = ngx_rtmp_compliance_json_array_has(&v->str, &cacf->audience,
                                                 scratch);

    } else if (v->type == NGX_RTMP_COMPLIANCE_JSON_STRING) {
        aud = v->str.len == cacf->audience.len
              && ngx_memcmp(v->str.data, cacf->audience.data, v->str.len)
                 == 0;
    }

    if (!aud) {
        ngx_snprintf(detail, size, "audience is not \"%V\"%Z",
                     &cacf->audience);
        return NGX_RTMP_COMPLIANCE_TOKEN_AUDIENCE;
    }

    return NGX_RTMP_COMPLIANCE_OK;
}


/*
 * the room and the identity (required of a publish token), the mcn and
 * the ai flag
 */

static ngx_uint_t
ngx_rtmp_compliance_claims_subjects(ngx_rtmp_compliance_jobject_t *pl,
    ngx_pool_t *pool, ngx_rtmp_compliance_claims_t *cl, ngx_uint_t publish,
    u_char *detail, size_t size)
{
    ngx_int_t                       rc;
    ngx_rtmp_compliance_claim_t    *c;
    ngx_rtmp_compliance_jmember_t  *v;

    ngx_rtmp_compliance_claim_t  claims[] = {
        { &cl->room, "room", NGX_RTMP_COMPLIANCE_ROOM_MISMATCH },
        { &cl->sub,  "sub",  NGX_RTMP_COMPLIANCE_IDENTITY_UNVERIFIED },
        { &cl->pid,  "pid",  NGX_RTMP_COMPLIANCE_IDENTITY_UNVERIFIED },
        { &cl->op,   "op",   NGX_RTMP_COMPLIANCE_IDENTITY_UNVERIFIED },
        { &cl->idv,  "idv",  NGX_RTMP_COMPLIANCE_IDENTITY_UNVERIFIED },
        { &cl->tier, "tier", NGX_RTMP_COMPLIANCE_TIER_UNKNOWN },
        { &cl->mcn,  "mcn",  0 },
        { NULL, NULL, 0 }
    };

    for (c = claims; c->name; c++) {

        rc = ngx_rtmp_compliance_claim_str(pl, c->name, pool, c->out);

        if (rc == NGX_ABORT) {
            return NGX_RTMP_COMPLIANCE_INTERNAL_ERROR;
        }

        if (rc == NGX_ERROR) {
            ngx_snprintf(detail, size, "claim \"%s\" is not a string of "
                         "1 to %d printable bytes%Z", c->name,
                         NGX_RTMP_COMPLIANCE_CLAIM_MAX);
            return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
        }

        if (rc == NGX_DECLINED && c->reason
            && (publish || c->reason == NGX_RTMP_COMPLIANCE_ROOM_MISMATCH))
        {
            ngx_snprintf(detail, size, "token has no \"%s\" claim%Z",
                         c->name);
            return c->reason;
        }
    }

    v = ngx_rtmp_compliance_json_get(pl, "ai");

    if (v != NULL) {
        if (v->type != NGX_RTMP_COMPLIANCE_JSON_TRUE
            && v->type != NGX_RTMP_COMPLIANCE_JSON_FALSE)
        {
            ngx_snprintf(detail, size, "claim \"ai\" is not a boolean%Z");
            return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
        }

        cl->ai = (v->type == NGX_RTMP_COMPLIANCE_JSON_TRUE);
    }

    return NGX_RTMP_COMPLIANCE_OK;
}
