
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Token keys: parsed once at configuration time, each pinned to its
 * algorithm family (HMAC secret, RSA, EC or Ed25519 public key), from a
 * PEM public key, an HMAC secret file or every key of a JWKS (RFC 7517),
 * and the signature check with the pre-parsed OpenSSL key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include "ngx_rtmp_compliance_key.h"
#include "ngx_rtmp_compliance_file.h"


#define NGX_RTMP_COMPLIANCE_HMAC_MIN      32
#define NGX_RTMP_COMPLIANCE_RSA_MIN_BITS  2048
#define NGX_RTMP_COMPLIANCE_KEY_FILE_MAX  65536
#define NGX_RTMP_COMPLIANCE_ED25519_LEN   32
#define NGX_RTMP_COMPLIANCE_EDDSA_SIG_LEN 64
#define NGX_RTMP_COMPLIANCE_JWK_SHOW      32     /* bytes of a bad value */


/* one key of a JWKS while it is read: for its messages */

typedef struct {
    ngx_conf_t                     *cf;
    ngx_str_t                      *file;
    ngx_uint_t                      index;
    json_t                         *obj;
    ngx_str_t                       kid;         /* once it is known good */
} ngx_rtmp_compliance_jwk_t;


static u_char *ngx_rtmp_compliance_key_open(ngx_conf_t *cf, ngx_str_t *file,
    ngx_str_t *alg, ngx_uint_t *pinned, size_t *sizep);
static ngx_rtmp_compliance_key_t *ngx_rtmp_compliance_key_find(
    ngx_array_t *keys, ngx_str_t *kid);
static ngx_uint_t ngx_rtmp_compliance_key_is_jwks(u_char *p, size_t size);
static char *ngx_rtmp_compliance_key_parse(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, u_char *p, size_t size, ngx_str_t *alg,
    ngx_uint_t pinned);
static char *ngx_rtmp_compliance_key_hmac(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, u_char *p, size_t size, ngx_str_t *alg,
    ngx_uint_t pinned);
static char *ngx_rtmp_compliance_key_macs(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_uint_t pinned);
static char *ngx_rtmp_compliance_key_pem(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, u_char *p, size_t size, ngx_str_t *alg,
    ngx_uint_t pinned);
static char *ngx_rtmp_compliance_key_ec(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_str_t *alg, ngx_uint_t pinned);
static char *ngx_rtmp_compliance_key_eddsa(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key);
static char *ngx_rtmp_compliance_jwk_kid(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_array_t *keys);
static char *ngx_rtmp_compliance_jwk_family(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_uint_t *familyp, ngx_uint_t *pinnedp);
static char *ngx_rtmp_compliance_jwk(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_array_t *keys);
static ngx_int_t ngx_rtmp_compliance_jwk_str(ngx_rtmp_compliance_jwk_t *jwk,
    const char *name, ngx_uint_t required, ngx_str_t *out);
static char *ngx_rtmp_compliance_jwk_oct(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key);
static ngx_int_t ngx_rtmp_compliance_jwk_b64(ngx_rtmp_compliance_jwk_t *jwk,
    const char *name, ngx_str_t *out);
static char *ngx_rtmp_compliance_jwk_rsa(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key);
static ngx_str_t ngx_rtmp_compliance_jwk_show(ngx_str_t *value);
static char *ngx_rtmp_compliance_jwk_ec(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key);
static char *ngx_rtmp_compliance_jwk_error(ngx_rtmp_compliance_jwk_t *jwk,
    const char *fmt, ...);
static char *ngx_rtmp_compliance_jwk_okp(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key);
static char *ngx_rtmp_compliance_jwk_pkey(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key, const char *type, OSSL_PARAM *params);
static void ngx_rtmp_compliance_key_md_ctx_cleanup(void *data);
static ngx_int_t ngx_rtmp_compliance_key_keep(ngx_conf_t *cf,
    ngx_pool_cleanup_pt handler, void *data);
static void ngx_rtmp_compliance_key_cleanup(void *data);
static void ngx_rtmp_compliance_key_mac_cleanup(void *data);
static char *ngx_rtmp_compliance_key_verifiers(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_uint_t pinned);
static void ngx_rtmp_compliance_key_pctx_cleanup(void *data);
static void ngx_rtmp_compliance_key_md_cleanup(void *data);
static ngx_int_t ngx_rtmp_compliance_key_ec_sig(u_char *sig, size_t half,
    u_char *der, size_t *len);
static EVP_MAC_CTX *ngx_rtmp_compliance_key_mac(
    ngx_rtmp_compliance_key_t *key, ngx_uint_t alg);
static void ngx_rtmp_compliance_sha256_cleanup(void *data);


ngx_rtmp_compliance_alg_t  ngx_rtmp_compliance_algs[] = {
    { ngx_string("none"), 0, 0 },
    { ngx_string("HS256"), NGX_RTMP_COMPLIANCE_HMAC, 0 },
    { ngx_string("HS384"), NGX_RTMP_COMPLIANCE_HMAC, 0 },
    { ngx_string("HS512"), NGX_RTMP_COMPLIANCE_HMAC, 0 },
    { ngx_string("RS256"), NGX_RTMP_COMPLIANCE_RSA, 0 },
    { ngx_string("RS384"), NGX_RTMP_COMPLIANCE_RSA, 0 },
    { ngx_string("RS512"), NGX_RTMP_COMPLIANCE_RSA, 0 },
    { ngx_string("ES256"), NGX_RTMP_COMPLIANCE_EC, 32 },
    { ngx_string("ES384"), NGX_RTMP_COMPLIANCE_EC, 48 },
    { ngx_string("ES512"), NGX_RTMP_COMPLIANCE_EC, 66 },
    { ngx_string("EdDSA"), NGX_RTMP_COMPLIANCE_OKP, 0 },
};


ngx_uint_t
ngx_rtmp_compliance_alg_by_name(u_char *name, size_t len)
{
    ngx_uint_t  i;

    for (i = 1; i < NGX_RTMP_COMPLIANCE_ALG_MAX; i++) {
        if (ngx_rtmp_compliance_algs[i].name.len == len
            && ngx_strncmp(ngx_rtmp_compliance_algs[i].name.data, name, len)
               == 0)
        {
            return i;
        }
    }

    return NGX_RTMP_COMPLIANCE_ALG_NONE;
}


/*
 * the work of one "compliance_key PATH [kid=] [alg=]" on the keys of its
 * level: a JWKS adds each of its keys, any other file one key
 */

char *
ngx_rtmp_compliance_key_add(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *file, ngx_str_t *kid, ngx_str_t *alg)
{
    size_t                      size;
    u_char                     *p;
    ngx_uint_t                  pinned;
    ngx_rtmp_compliance_key_t  *key;

    if (kid->len && ngx_rtmp_compliance_key_find(keys, kid) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate key kid \"%V\"", kid);
        return NGX_CONF_ERROR;
    }

    p = ngx_rtmp_compliance_key_open(cf, file, alg, &pinned, &size);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_rtmp_compliance_key_is_jwks(p, size)) {

        if (kid->len || alg->len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is a JWKS: each of its keys has its "
                               "own \"kid\" and \"alg\", give it without "
                               "kid= and alg=", file);
            return NGX_CONF_ERROR;
        }

        return ngx_rtmp_compliance_key_jwks(cf, keys, file, p, size);
    }

    if (kid->len == 0 && ngx_rtmp_compliance_key_find(keys, kid) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than one \"compliance_key\" "
                           "without kid=, give each a kid=");
        return NGX_CONF_ERROR;
    }

    key = ngx_array_push(keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_rtmp_compliance_key_t));

    key->kid = *kid;
    key->file = *file;

    return ngx_rtmp_compliance_key_parse(cf, key, p, size, alg, pinned);
}


/* one key of a PEM or HMAC file, into a key the caller made */

char *
ngx_rtmp_compliance_key_load(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    ngx_str_t *alg)
{
    size_t      size;
    u_char     *p;
    ngx_uint_t  pinned;

    p = ngx_rtmp_compliance_key_open(cf, &key->file, alg, &pinned, &size);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_rtmp_compliance_key_is_jwks(p, size)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is a JWKS, not one key", &key->file);
        return NGX_CONF_ERROR;
    }

    return ngx_rtmp_compliance_key_parse(cf, key, p, size, alg, pinned);
}


/*
 * the file made absolute, the alg= it is pinned to, its bytes; NULL:
 * said why
 */

static u_char *
ngx_rtmp_compliance_key_open(ngx_conf_t *cf, ngx_str_t *file, ngx_str_t *alg,
    ngx_uint_t *pinned, size_t *sizep)
{
    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NULL;
    }

    *pinned = NGX_RTMP_COMPLIANCE_ALG_NONE;

    if (alg->len) {
        *pinned = ngx_rtmp_compliance_alg_by_name(alg->data, alg->len);

        if (*pinned == NGX_RTMP_COMPLIANCE_ALG_NONE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown algorithm \"%V\" of key \"%V\", "
                               "use HS256, HS384, HS512, RS256, RS384, "
                               "RS512, ES256, ES384, ES512 or EdDSA",
                               alg, file);
            return NULL;
        }
    }

    return ngx_rtmp_compliance_file_read(cf, file,
                                         NGX_RTMP_COMPLIANCE_KEY_FILE_MAX,
                                         "key", sizep);
}


/* the key of that kid ("": the one without a kid), or NULL */

static ngx_rtmp_compliance_key_t *
ngx_rtmp_compliance_key_find(ngx_array_t *keys, ngx_str_t *kid)
{
    ngx_uint_t                  i;
    ngx_rtmp_compliance_key_t  *k;

    k = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        if (k[i].kid.len == kid->len
            && ngx_memcmp(k[i].kid.data, kid->data, kid->len) == 0)
        {
            return &k[i];
        }
    }

    return NULL;
}


/*
 * a JWKS is told by its content: a JSON object.  No PEM file and no
 * secret of compliance-keygen starts with "{"
 */

static ngx_uint_t
ngx_rtmp_compliance_key_is_jwks(u_char *p, size_t size)
{
    u_char  *last;

    for (last = p + size; p < last; p++) {
        if (*p != ' ' && *p != '\t' && *p != CR && *p != LF) {
            return *p == '{';
        }
    }

    return 0;
}


/* a PEM public key or an HMAC secret */

static char *
ngx_rtmp_compliance_key_parse(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    u_char *p, size_t size, ngx_str_t *alg, ngx_uint_t pinned)
{
    if (ngx_strnstr(p, "-----BEGIN", size) == NULL) {
        return ngx_rtmp_compliance_key_hmac(cf, key, p, size, alg, pinned);
    }

    return ngx_rtmp_compliance_key_pem(cf, key, p, size, alg, pinned);
}


/* an HMAC secret: the file's bytes, less one final LF or CRLF */

static char *
ngx_rtmp_compliance_key_hmac(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    u_char *p, size_t size, ngx_str_t *alg, ngx_uint_t pinned)
{
    u_char  *last;

    last = p + size;

    if (last[-1] == LF) {
        last--;

        if (last > p && last[-1] == CR) {
            last--;
        }
    }

    if (last - p < NGX_RTMP_COMPLIANCE_HMAC_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "HMAC secret in \"%V\" is %uz bytes, "
                           "at least %d are required",
                           &key->file, (size_t) (last - p),
                           NGX_RTMP_COMPLIANCE_HMAC_MIN);
        return NGX_CONF_ERROR;
    }

    if (pinned && ngx_rtmp_compliance_algs[pinned].family
                  != NGX_RTMP_COMPLIANCE_HMAC)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key \"%V\" is an HMAC secret, "
                           "not a key for \"%V\"", &key->file, alg);
        return NGX_CONF_ERROR;
    }

    key->family = NGX_RTMP_COMPLIANCE_HMAC;
    key->alg = pinned;
    key->secret.data = p;
    key->secret.len = last - p;

    return ngx_rtmp_compliance_key_macs(cf, key, pinned);
}


/*
 * the HMAC contexts of a secret, made once here and freed with the cycle
 * (the key itself may still move: it is an element of an array)
 */

static char *
ngx_rtmp_compliance_key_macs(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    ngx_uint_t pinned)
{
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    for (i = NGX_RTMP_COMPLIANCE_HS256; i <= NGX_RTMP_COMPLIANCE_HS512; i++) {

        if (pinned && pinned != i) {
            continue;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->data = ngx_rtmp_compliance_key_mac(key, i);

        if (cln->data == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "cannot make an HMAC context for \"%V\"",
                               &key->file);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_rtmp_compliance_key_mac_cleanup;
    }

    return NGX_CONF_OK;
}


/* a PEM public key: RSA of enough bits, or EC on a JWS curve */

static char *
ngx_rtmp_compliance_key_pem(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    u_char *p, size_t size, ngx_str_t *alg, ngx_uint_t pinned)
{
    int        bits;
    BIO       *bio;
    EVP_PKEY  *pkey;

    if (ngx_strnstr(p, "PRIVATE KEY-----", size) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" holds a private key; configure the "
                           "public key (openssl pkey -pubout)", &key->file);
        return NGX_CONF_ERROR;
    }

    bio = BIO_new_mem_buf(p, (int) size);
    if (bio == NULL) {
        return NGX_CONF_ERROR;
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (pkey == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a PEM public key "
                           "(BEGIN PUBLIC KEY) nor an HMAC secret",
                           &key->file);
        return NGX_CONF_ERROR;
    }

    if (ngx_rtmp_compliance_key_keep(cf, ngx_rtmp_compliance_key_cleanup,
                                     pkey)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    key->pkey = pkey;
    key->alg = pinned;

    switch (EVP_PKEY_base_id(pkey)) {

    case EVP_PKEY_RSA:
        key->family = NGX_RTMP_COMPLIANCE_RSA;
        bits = EVP_PKEY_get_bits(pkey);

        if (bits < NGX_RTMP_COMPLIANCE_RSA_MIN_BITS) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "RSA key \"%V\" has %d bits, at least %d "
                               "are required", &key->file, bits,
                               NGX_RTMP_COMPLIANCE_RSA_MIN_BITS);
            return NGX_CONF_ERROR;
        }

        break;

    case EVP_PKEY_EC:
        key->family = NGX_RTMP_COMPLIANCE_EC;
        return ngx_rtmp_compliance_key_ec(cf, key, alg, pinned);

    case EVP_PKEY_ED25519:
        key->family = NGX_RTMP_COMPLIANCE_OKP;

        if (pinned && pinned != NGX_RTMP_COMPLIANCE_EDDSA) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "Ed25519 key \"%V\" cannot be used with "
                               "\"%V\"", &key->file, alg);
            return NGX_CONF_ERROR;
        }

        key->alg = NGX_RTMP_COMPLIANCE_EDDSA;
        return ngx_rtmp_compliance_key_eddsa(cf, key);

    default:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not an RSA, EC or Ed25519 public key",
                           &key->file);
        return NGX_CONF_ERROR;
    }

    if (pinned && ngx_rtmp_compliance_algs[pinned].family != key->family) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "RSA key \"%V\" cannot be used with \"%V\"",
                           &key->file, alg);
        return NGX_CONF_ERROR;
    }

    return ngx_rtmp_compliance_key_verifiers(cf, key, pinned);
}


/* an EC key's curve names its one algorithm */

static char *
ngx_rtmp_compliance_key_ec(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    ngx_str_t *alg, ngx_uint_t pinned)
{
    int   nid;
    char  curve[32];

    if (EVP_PKEY_get_utf8_string_param(key->pkey, "group", curve,
                                       sizeof(curve), NULL)
        != 1)
    {
        curve[0] = '\0';
    }

    nid = OBJ_sn2nid(curve);
    if (nid == NID_undef) {
        nid = EC_curve_nist2nid(curve);
    }

    switch (nid) {
    case NID_X9_62_prime256v1:
        key->alg = NGX_RTMP_COMPLIANCE_ES256;
        break;
    case NID_secp384r1:
        key->alg = NGX_RTMP_COMPLIANCE_ES384;
        break;
    case NID_secp521r1:
        key->alg = NGX_RTMP_COMPLIANCE_ES512;
        break;
    default:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "EC key \"%V\" is on curve \"%s\"; "
                           "P-256, P-384 or P-521 is required",
                           &key->file, curve);
        return NGX_CONF_ERROR;
    }

    if (pinned && pinned != key->alg) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "EC key \"%V\" is for \"%V\", not \"%V\"",
                           &key->file,
                           &ngx_rtmp_compliance_algs[key->alg].name,
                           alg);
        return NGX_CONF_ERROR;
    }

    return ngx_rtmp_compliance_key_verifiers(cf, key, key->alg);
}


/*
 * an Ed25519 key's one context, initialised here for EdDSA (no digest:
 * the signature covers the message itself), and a second one that each
 * token's check copies it into: EVP_DigestVerify() is one-shot, and a
 * copy (0.15 us) is what every OpenSSL 3 release lets it run on again
 */

static char *
ngx_rtmp_compliance_key_eddsa(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key)
{
    ngx_int_t    rc;
    EVP_MD_CTX  *ctx, *copy;

    copy = NULL;
    ctx = EVP_MD_CTX_new();

    rc = ngx_rtmp_compliance_key_keep(cf,
                                      ngx_rtmp_compliance_key_md_ctx_cleanup,
                                      ctx);

    if (rc == NGX_OK) {
        copy = EVP_MD_CTX_new();

        rc = ngx_rtmp_compliance_key_keep(cf,
                                       ngx_rtmp_compliance_key_md_ctx_cleanup,
                                       copy);
    }

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_DECLINED
        || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) != 1)
    {
        ERR_clear_error();

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot make the verification contexts of \"%V\"",
                           &key->file);

        return NGX_CONF_ERROR;
    }

    key->eddsa = ctx;
    key->eddsa_copy = copy;

    return NGX_CONF_OK;
}


/*
 * every key of a JWKS (RFC 7517: {"keys":[JWK, ...]}), each with its
 * "kid", appended to keys; a bad key fails the whole file, named with
 * its index in "keys"
 */

char *
ngx_rtmp_compliance_key_jwks(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *file, u_char *p, size_t size)
{
    char                       *rv;
    json_t                     *root, *list;
    size_t                      i, n;
    json_error_t                err;
    ngx_rtmp_compliance_jwk_t   jwk;

    root = json_loadb((char *) p, size, JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\" is not JSON: %s (line %d, "
                           "column %d)", file, err.text, err.line,
                           err.column);
        return NGX_CONF_ERROR;
    }

    list = json_object_get(root, "keys");

    if (!json_is_array(list)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\" has no \"keys\" array%s", file,
                           json_object_get(root, "kty")
                           ? " (a single JWK: put it in {\"keys\":[...]})"
                           : "");
        json_decref(root);
        return NGX_CONF_ERROR;
    }

    n = json_array_size(list);

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\" has no keys", file);
        json_decref(root);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_OK;

    jwk.cf = cf;
    jwk.file = file;

    for (i = 0; i < n && rv == NGX_CONF_OK; i++) {
        jwk.index = i;
        jwk.obj = json_array_get(list, i);
        ngx_str_null(&jwk.kid);

        rv = ngx_rtmp_compliance_jwk(&jwk, keys);
    }

    json_decref(root);

    return rv;
}


/* one JWK: the members every kty has, then its own */

static char *
ngx_rtmp_compliance_jwk(ngx_rtmp_compliance_jwk_t *jwk, ngx_array_t *keys)
{
    ngx_str_t                   use, show;
    ngx_uint_t                  family, pinned;
    ngx_rtmp_compliance_key_t  *key;

    if (!json_is_object(jwk->obj)) {
        return ngx_rtmp_compliance_jwk_error(jwk, "is not a JSON object");
    }

    /* the kid first: the messages after it name it */

    if (ngx_rtmp_compliance_jwk_kid(jwk, keys) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_rtmp_compliance_jwk_str(jwk, "use", 0, &use) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (use.data && (use.len != 3 || ngx_strncmp(use.data, "sig", 3) != 0)) {
        show = ngx_rtmp_compliance_jwk_show(&use);
        return ngx_rtmp_compliance_jwk_error(jwk, "\"use\" is \"%V\", "
                                             "not \"sig\"", &show);
    }

    family = 0;
    pinned = NGX_RTMP_COMPLIANCE_ALG_NONE;

    if (ngx_rtmp_compliance_jwk_family(jwk, &family, &pinned)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (family != NGX_RTMP_COMPLIANCE_HMAC
        && json_object_get(jwk->obj, "d") != NULL)
    {
        return ngx_rtmp_compliance_jwk_error(jwk, "holds a private key "
                                             "(\"d\"); the JWKS must have "
                                             "the public keys only");
    }

    key = ngx_array_push(keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_rtmp_compliance_key_t));

    key->kid = jwk->kid;
    key->file = *jwk->file;
    key->family = family;
    key->alg = pinned;

    switch (family) {

    case NGX_RTMP_COMPLIANCE_HMAC:
        return ngx_rtmp_compliance_jwk_oct(jwk, key);

    case NGX_RTMP_COMPLIANCE_RSA:
        return ngx_rtmp_compliance_jwk_rsa(jwk, key);

    case NGX_RTMP_COMPLIANCE_EC:
        return ngx_rtmp_compliance_jwk_ec(jwk, key);

    default: /* NGX_RTMP_COMPLIANCE_OKP */
        return ngx_rtmp_compliance_jwk_okp(jwk, key);
    }
}


/* "kid": required, 1 to 64 bytes, unique among the level's keys */

static char *
ngx_rtmp_compliance_jwk_kid(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_array_t *keys)
{
    size_t     i;
    ngx_str_t  kid;

    if (ngx_rtmp_compliance_jwk_str(jwk, "kid", 1, &kid) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (kid.len == 0 || kid.len > NGX_RTMP_COMPLIANCE_KID_MAX) {
        return ngx_rtmp_compliance_jwk_error(jwk, "\"kid\" must be 1 to %d "
                                             "bytes",
                                             NGX_RTMP_COMPLIANCE_KID_MAX);
    }

    for (i = 0; i < kid.len; i++) {
        if (kid.data[i] < 0x20 || kid.data[i] == 0x7f) {
            return ngx_rtmp_compliance_jwk_error(jwk, "\"kid\" has a "
                                                 "control character");
        }
    }

    if (ngx_rtmp_compliance_key_find(keys, &kid) != NULL) {
        return ngx_rtmp_compliance_jwk_error(jwk, "duplicate kid \"%V\"",
                                             &kid);
    }

    jwk->kid.data = ngx_pnalloc(jwk->cf->pool, kid.len);
    if (jwk->kid.data == NULL) {
        return NGX_CONF_ERROR;
    }

    jwk->kid.len = kid.len;
    ngx_memcpy(jwk->kid.data, kid.data, kid.len);

    return NGX_CONF_OK;
}


/* "kty" gives the family, "alg", where there is one, pins the key */

static char *
ngx_rtmp_compliance_jwk_family(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_uint_t *familyp, ngx_uint_t *pinnedp)
{
    ngx_str_t   kty, alg, show;
    ngx_uint_t  family, pinned;

    if (ngx_rtmp_compliance_jwk_str(jwk, "kty", 1, &kty) != NGX_OK
        || ngx_rtmp_compliance_jwk_str(jwk, "alg", 0, &alg) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (kty.len == 3 && ngx_strncmp(kty.data, "RSA", 3) == 0) {
        family = NGX_RTMP_COMPLIANCE_RSA;

    } else if (kty.len == 2 && ngx_strncmp(kty.data, "EC", 2) == 0) {
        family = NGX_RTMP_COMPLIANCE_EC;

    } else if (kty.len == 3 && ngx_strncmp(kty.data, "OKP", 3) == 0) {
        family = NGX_RTMP_COMPLIANCE_OKP;

    } else if (kty.len == 3 && ngx_strncmp(kty.data, "oct", 3) == 0) {
        family = NGX_RTMP_COMPLIANCE_HMAC;

    } else {
        show = ngx_rtmp_compliance_jwk_show(&kty);
        return ngx_rtmp_compliance_jwk_error(jwk, "unknown \"kty\" \"%V\", "
                                             "use RSA, EC, OKP or oct",
                                             &show);
    }

    pinned = NGX_RTMP_COMPLIANCE_ALG_NONE;

    if (alg.data) {
        pinned = ngx_rtmp_compliance_alg_by_name(alg.data, alg.len);
        show = ngx_rtmp_compliance_jwk_show(&alg);

        if (pinned == NGX_RTMP_COMPLIANCE_ALG_NONE) {
            return ngx_rtmp_compliance_jwk_error(jwk, "unknown \"alg\" "
                                                 "\"%V\"", &show);
        }

        if (ngx_rtmp_compliance_algs[pinned].family != family) {
            return ngx_rtmp_compliance_jwk_error(jwk, "\"alg\" \"%V\" is "
                                                 "not for kty \"%V\"",
                                                 &show, &kty);
        }
    }

    *familyp = family;
    *pinnedp = pinned;

    return NGX_CONF_OK;
}


/* an HMAC secret: "k", of as many bytes as a secret file needs */

static char *
ngx_rtmp_compliance_jwk_oct(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key)
{
    if (ngx_rtmp_compliance_jwk_b64(jwk, "k", &key->secret) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (key->secret.len < NGX_RTMP_COMPLIANCE_HMAC_MIN) {
        return ngx_rtmp_compliance_jwk_error(jwk, "the oct key \"k\" is %uz "
                                             "bytes, at least %d are "
                                             "required", key->secret.len,
                                             NGX_RTMP_COMPLIANCE_HMAC_MIN);
    }

    return ngx_rtmp_compliance_key_macs(jwk->cf, key, key->alg);
}


/* "n" of at least 2048 bits and "e", both unsigned big-endian integers */

static char *
ngx_rtmp_compliance_jwk_rsa(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key)
{
    int              bits;
    char            *rv;
    BIGNUM          *n, *e;
    ngx_str_t        nb, eb;
    OSSL_PARAM      *params;
    OSSL_PARAM_BLD  *bld;

    if (ngx_rtmp_compliance_jwk_b64(jwk, "n", &nb) != NGX_OK
        || ngx_rtmp_compliance_jwk_b64(jwk, "e", &eb) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (nb.len > 2048 || eb.len > 8) {
        return ngx_rtmp_compliance_jwk_error(jwk, "the RSA key is too large "
                                             "(\"n\" of 16384 bits and "
                                             "\"e\" of 64 at most)");
    }

    n = BN_bin2bn(nb.data, (int) nb.len, NULL);
    e = BN_bin2bn(eb.data, (int) eb.len, NULL);

    bits = n ? BN_num_bits(n) : 0;

    if (n && e && bits < NGX_RTMP_COMPLIANCE_RSA_MIN_BITS) {
        BN_free(n);
        BN_free(e);
        return ngx_rtmp_compliance_jwk_error(jwk, "the RSA key has %d bits, "
                                             "at least %d are required",
                                             bits,
                                             NGX_RTMP_COMPLIANCE_RSA_MIN_BITS);
    }

    /* what OpenSSL's own check (a prime test of n) would refuse first */

    if (n && e && (!BN_is_odd(n) || !BN_is_odd(e) || BN_is_one(e))) {
        BN_free(n);
        BN_free(e);
        return ngx_rtmp_compliance_jwk_error(jwk, "is not a valid RSA public "
                                             "key (\"n\" and \"e\" odd, "
                                             "\"e\" more than 1)");
    }

    params = NULL;
    bld = OSSL_PARAM_BLD_new();

    if (bld && n && e
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1)
    {
        params = OSSL_PARAM_BLD_to_param(bld);
    }

    BN_free(n);
    BN_free(e);
    OSSL_PARAM_BLD_free(bld);

    if (params == NULL) {
        return ngx_rtmp_compliance_jwk_error(jwk, "cannot make the RSA key");
    }

    rv = ngx_rtmp_compliance_jwk_pkey(jwk, key, "RSA", params);
    OSSL_PARAM_free(params);

    return rv;
}


/* "crv" names the curve and the one algorithm; "x" and "y" its point */

static char *
ngx_rtmp_compliance_jwk_ec(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key)
{
    char        *group;
    size_t       half;
    ngx_str_t    crv, x, y, show;
    ngx_uint_t   alg;
    OSSL_PARAM   params[3];
    u_char       point[1 + 2 * 66];

    if (ngx_rtmp_compliance_jwk_str(jwk, "crv", 1, &crv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (crv.len == 5 && ngx_strncmp(crv.data, "P-256", 5) == 0) {
        alg = NGX_RTMP_COMPLIANCE_ES256;
        group = "prime256v1";

    } else if (crv.len == 5 && ngx_strncmp(crv.data, "P-384", 5) == 0) {
        alg = NGX_RTMP_COMPLIANCE_ES384;
        group = "secp384r1";

    } else if (crv.len == 5 && ngx_strncmp(crv.data, "P-521", 5) == 0) {
        alg = NGX_RTMP_COMPLIANCE_ES512;
        group = "secp521r1";

    } else {
        show = ngx_rtmp_compliance_jwk_show(&crv);
        return ngx_rtmp_compliance_jwk_error(jwk, "the EC key is on curve "
                                             "\"%V\"; P-256, P-384 or P-521 "
                                             "is required", &show);
    }

    if (key->alg && key->alg != alg) {
        return ngx_rtmp_compliance_jwk_error(jwk, "the EC key on %V is for "
                                             "\"%V\", not \"%V\"", &crv,
                                         &ngx_rtmp_compliance_algs[alg].name,
                                    &ngx_rtmp_compliance_algs[key->alg].name);
    }

    key->alg = alg;
    half = ngx_rtmp_compliance_algs[alg].ec_half;

    if (ngx_rtmp_compliance_jwk_b64(jwk, "x", &x) != NGX_OK
        || ngx_rtmp_compliance_jwk_b64(jwk, "y", &y) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (x.len != half || y.len != half) {
        return ngx_rtmp_compliance_jwk_error(jwk, "\"x\" and \"y\" of a %V "
                                             "key are %uz bytes each", &crv,
                                             half);
    }

    /* the uncompressed point: 04 || x || y */

    point[0] = 0x04;
    ngx_memcpy(point + 1, x.data, half);
    ngx_memcpy(point + 1 + half, y.data, half);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, 1 + 2 * half);
    params[2] = OSSL_PARAM_construct_end();

    return ngx_rtmp_compliance_jwk_pkey(jwk, key, "EC", params);
}


/* "crv" Ed25519 and its 32-byte public key "x" (RFC 8037) */

static char *
ngx_rtmp_compliance_jwk_okp(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key)
{
    ngx_str_t    crv, x, show;
    OSSL_PARAM   params[2];

    if (ngx_rtmp_compliance_jwk_str(jwk, "crv", 1, &crv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (crv.len != 7 || ngx_strncmp(crv.data, "Ed25519", 7) != 0) {
        show = ngx_rtmp_compliance_jwk_show(&crv);
        return ngx_rtmp_compliance_jwk_error(jwk, "the OKP key is on curve "
                                             "\"%V\"; Ed25519 is required",
                                             &show);
    }

    if (ngx_rtmp_compliance_jwk_b64(jwk, "x", &x) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (x.len != NGX_RTMP_COMPLIANCE_ED25519_LEN) {
        return ngx_rtmp_compliance_jwk_error(jwk, "\"x\" of an Ed25519 key "
                                             "is %d bytes",
                                             NGX_RTMP_COMPLIANCE_ED25519_LEN);
    }

    params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  x.data, x.len);
    params[1] = OSSL_PARAM_construct_end();

    key->alg = NGX_RTMP_COMPLIANCE_EDDSA;

    return ngx_rtmp_compliance_jwk_pkey(jwk, key, "ED25519", params);
}


/*
 * the public key of params (EVP_PKEY_fromdata), kept with the
 * configuration, after OpenSSL's own check of it (an EC point on its
 * curve; not for RSA, where it is a prime test of n), and its
 * verification contexts
 */

static char *
ngx_rtmp_compliance_jwk_pkey(ngx_rtmp_compliance_jwk_t *jwk,
    ngx_rtmp_compliance_key_t *key, const char *type, OSSL_PARAM *params)
{
    int            ok;
    EVP_PKEY      *pkey;
    ngx_int_t      rc;
    EVP_PKEY_CTX  *ctx;

    pkey = NULL;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);

    if (ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        EVP_PKEY_CTX_free(ctx);
        return ngx_rtmp_compliance_jwk_error(jwk, "is not a valid %s public "
                                             "key", type);
    }

    EVP_PKEY_CTX_free(ctx);

    rc = ngx_rtmp_compliance_key_keep(jwk->cf,
                                      ngx_rtmp_compliance_key_cleanup, pkey);
    if (rc != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    key->pkey = pkey;

    if (key->family != NGX_RTMP_COMPLIANCE_RSA) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
        EVP_PKEY_CTX_free(ctx);

        if (!ok) {
            return ngx_rtmp_compliance_jwk_error(jwk, "is not a valid %s "
                                                 "public key", type);
        }
    }

    if (key->family == NGX_RTMP_COMPLIANCE_OKP) {
        return ngx_rtmp_compliance_key_eddsa(jwk->cf, key);
    }

    return ngx_rtmp_compliance_key_verifiers(jwk->cf, key, key->alg);
}


/*
 * the string member name: NGX_OK with out set, or out {0, NULL} when it
 * is absent and not required; else NGX_ERROR, said
 */

static ngx_int_t
ngx_rtmp_compliance_jwk_str(ngx_rtmp_compliance_jwk_t *jwk, const char *name,
    ngx_uint_t required, ngx_str_t *out)
{
    json_t  *v;

    ngx_str_null(out);

    v = json_object_get(jwk->obj, name);

    if (v == NULL) {
        if (required) {
            ngx_rtmp_compliance_jwk_error(jwk, "has no \"%s\"", name);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (!json_is_string(v)) {
        ngx_rtmp_compliance_jwk_error(jwk, "\"%s\" is not a string", name);
        return NGX_ERROR;
    }

    out->data = (u_char *) json_string_value(v);
    out->len = json_string_length(v);

    return NGX_OK;
}


/*
 * the bytes of the base64url member name (unpadded, canonical: what it
 * decodes to encodes back to it), in the configuration pool
 */

static ngx_int_t
ngx_rtmp_compliance_jwk_b64(ngx_rtmp_compliance_jwk_t *jwk, const char *name,
    ngx_str_t *out)
{
    ngx_str_t  src, again;

    if (ngx_rtmp_compliance_jwk_str(jwk, name, 1, &src) != NGX_OK) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(jwk->cf->pool,
                            ngx_base64_decoded_length(src.len) + 1);
    again.data = ngx_pnalloc(jwk->cf->pool, src.len + 4);

    if (out->data == NULL || again.data == NULL) {
        return NGX_ERROR;
    }

    if (src.len == 0
        || ngx_decode_base64url(out, &src) != NGX_OK
        || (ngx_encode_base64url(&again, out), again.len != src.len)
        || ngx_memcmp(again.data, src.data, src.len) != 0)
    {
        ngx_rtmp_compliance_jwk_error(jwk, "\"%s\" is not base64url", name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a member's value as a message may quote it: short and printable */

static ngx_str_t
ngx_rtmp_compliance_jwk_show(ngx_str_t *value)
{
    size_t     i;
    ngx_str_t  show;

    show = *value;

    if (show.len > NGX_RTMP_COMPLIANCE_JWK_SHOW) {
        show.len = NGX_RTMP_COMPLIANCE_JWK_SHOW;
    }

    for (i = 0; i < show.len; i++) {
        if (show.data[i] < 0x20 || show.data[i] >= 0x7f
            || show.data[i] == '"' || show.data[i] == '\\')
        {
            ngx_str_set(&show, "...");
            break;
        }
    }

    return show;
}


/* "JWKS "FILE" keys[I] (kid "K"): what is wrong" */

static char *
ngx_rtmp_compliance_jwk_error(ngx_rtmp_compliance_jwk_t *jwk,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    text[NGX_MAX_CONF_ERRSTR];

    last = text + sizeof(text);

    p = ngx_slprintf(text, last, "JWKS \"%V\" keys[%ui]", jwk->file,
                     jwk->index);

    if (jwk->kid.len) {
        p = ngx_slprintf(p, last, " (kid \"%V\")", &jwk->kid);
    }

    p = ngx_slprintf(p, last, ": ");

    va_start(args, fmt);
    p = ngx_vslprintf(p, last, fmt, args);
    va_end(args);

    ERR_clear_error();

    ngx_conf_log_error(NGX_LOG_EMERG, jwk->cf, 0, "%*s", (size_t) (p - text),
                       text);

    return NGX_CONF_ERROR;
}


/*
 * an OpenSSL object freed with the configuration's pool; freed at once
 * when the cleanup cannot be added (NGX_ERROR).  NGX_DECLINED: there is
 * no object, its making failed
 */

static ngx_int_t
ngx_rtmp_compliance_key_keep(ngx_conf_t *cf, ngx_pool_cleanup_pt handler,
    void *data)
{
    ngx_pool_cleanup_t  *cln;

    if (data == NULL) {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        handler(data);
        return NGX_ERROR;
    }

    cln->handler = handler;
    cln->data = data;

    return NGX_OK;
}


/*
 * an RSA or EC key's verification contexts, one per algorithm it may
 * verify, made here once: a token then costs a digest and
 * EVP_PKEY_verify(), without a context, a key context and an algorithm
 * fetch of its own
 */

static char *
ngx_rtmp_compliance_key_verifiers(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_uint_t pinned)
{
    EVP_MD             *md;
    ngx_int_t           rc;
    ngx_uint_t          i, first;
    EVP_PKEY_CTX       *pctx;

    static const char  *digests[] = { "SHA256", "SHA384", "SHA512" };

    first = key->family == NGX_RTMP_COMPLIANCE_RSA
            ? NGX_RTMP_COMPLIANCE_RS256 : NGX_RTMP_COMPLIANCE_ES256;

    for (i = 0; i < 3; i++) {

        if (pinned && pinned != first + i) {
            continue;
        }

        pctx = NULL;
        md = EVP_MD_fetch(NULL, digests[i], NULL);

        rc = ngx_rtmp_compliance_key_keep(cf,
                                          ngx_rtmp_compliance_key_md_cleanup,
                                          md);

        if (rc == NGX_OK) {
            pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);

            rc = ngx_rtmp_compliance_key_keep(cf,
                                         ngx_rtmp_compliance_key_pctx_cleanup,
                                         pctx);
        }

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        key->vmd[i] = md;
        key->verify[i] = pctx;

        if (rc == NGX_DECLINED
            || EVP_PKEY_verify_init(pctx) != 1
            || EVP_PKEY_CTX_set_signature_md(pctx, md) != 1
            || (key->family == NGX_RTMP_COMPLIANCE_RSA
                && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING)
                   != 1))
        {
            goto failed;
        }
    }

    return NGX_CONF_OK;

failed:

    ERR_clear_error();

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "cannot make the verification contexts of \"%V\"",
                       &key->file);

    return NGX_CONF_ERROR;
}


static void
ngx_rtmp_compliance_key_pctx_cleanup(void *data)
{
    EVP_PKEY_CTX_free(data);
}


static void
ngx_rtmp_compliance_key_md_cleanup(void *data)
{
    EVP_MD_free(data);
}


static void
ngx_rtmp_compliance_key_cleanup(void *data)
{
    EVP_PKEY_free(data);
}


static void
ngx_rtmp_compliance_key_mac_cleanup(void *data)
{
    EVP_MAC_CTX_free(data);
}


static void
ngx_rtmp_compliance_key_md_ctx_cleanup(void *data)
{
    EVP_MD_CTX_free(data);
}


/*
 * JWS carries an ECDSA signature as R || S of fixed width;
 * OpenSSL verifies DER
 */

static ngx_int_t
ngx_rtmp_compliance_key_ec_sig(u_char *sig, size_t half, u_char *der,
    size_t *len)
{
    int         n;
    BIGNUM     *r, *s;
    ECDSA_SIG  *es;

    es = ECDSA_SIG_new();
    if (es == NULL) {
        return NGX_ERROR;
    }

    r = BN_bin2bn(sig, (int) half, NULL);
    s = BN_bin2bn(sig + half, (int) half, NULL);

    if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NGX_ERROR;
    }

    n = i2d_ECDSA_SIG(es, NULL);

    if (n <= 0 || (size_t) n > *len) {
        ECDSA_SIG_free(es);
        return NGX_ERROR;
    }

    n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);

    if (n <= 0) {
        return NGX_ERROR;
    }

    *len = n;

    return NGX_OK;
}


/*
 * the key's HMAC context for alg, made once in each worker: OpenSSL 3
 * fetches the algorithms by name on every one-shot HMAC() call
 */

static EVP_MAC_CTX *
ngx_rtmp_compliance_key_mac(ngx_rtmp_compliance_key_t *key, ngx_uint_t alg)
{
    ngx_uint_t    i;
    EVP_MAC      *mac;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    static const char  *digests[] = { "SHA256", "SHA384", "SHA512" };

    i = alg - NGX_RTMP_COMPLIANCE_HS256;

    if (i > 2) {
        return NULL;
    }

    if (key->mac[i]) {
        return key->mac[i];
    }

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        return NULL;
    }

    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) digests[i], 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key->secret.data, key->secret.len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    key->mac[i] = ctx;

    return ctx;
}


/*
 * SHA-256, fetched once (not per call, as EVP_sha256() with EVP_Digest()
 * would), and one digest context per process.  Every cycle holds a
 * reference: a reload that fails frees its own, the old cycle's end does
 * not take them from the new one, and the last cycle's end frees them
 */

typedef struct {
    EVP_MD                     *md;
    EVP_MD_CTX                 *ctx;
    ngx_uint_t                  refs;
} ngx_rtmp_compliance_sha256_t;


static ngx_rtmp_compliance_sha256_t  ngx_rtmp_compliance_sha;


static void
ngx_rtmp_compliance_sha256_cleanup(void *data)
{
    ngx_rtmp_compliance_sha256_t  *sha = &ngx_rtmp_compliance_sha;

    if (sha->refs == 0 || --sha->refs) {
        return;
    }

    EVP_MD_free(sha->md);
    EVP_MD_CTX_free(sha->ctx);

    sha->md = NULL;
    sha->ctx = NULL;
}


ngx_int_t
ngx_rtmp_compliance_sha256_init(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t            *cln;
    ngx_rtmp_compliance_sha256_t  *sha;

    sha = &ngx_rtmp_compliance_sha;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    if (sha->refs == 0) {
        sha->md = EVP_MD_fetch(NULL, "SHA256", NULL);
        sha->ctx = EVP_MD_CTX_new();

        if (sha->md == NULL || sha->ctx == NULL) {
            EVP_MD_free(sha->md);
            EVP_MD_CTX_free(sha->ctx);
            sha->md = NULL;
            sha->ctx = NULL;

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "OpenSSL has no SHA-256 (EVP_MD_fetch() "
                               "failed)");
            return NGX_ERROR;
        }
    }

    sha->refs++;
    cln->handler = ngx_rtmp_compliance_sha256_cleanup;

    return NGX_OK;
}


const EVP_MD *
ngx_rtmp_compliance_sha256(void)
{
    return ngx_rtmp_compliance_sha.md ? ngx_rtmp_compliance_sha.md
                                      : EVP_sha256();
}


/* a digest context for one hash at a time; NULL before configuration */

EVP_MD_CTX *
ngx_rtmp_compliance_sha256_ctx(void)
{
    return ngx_rtmp_compliance_sha.ctx;
}


/*
 * one digest of data with the context made at configuration; outside
 * nginx (the fuzz targets, which configure no cycle) a one-shot digest
 */

ngx_int_t
ngx_rtmp_compliance_digest(const EVP_MD *md, u_char *data, size_t len,
    u_char *out, unsigned int *outlen)
{
    EVP_MD_CTX  *ctx;

    ctx = ngx_rtmp_compliance_sha.ctx;

    if (ctx == NULL) {
        return EVP_Digest(data, len, out, outlen, md, NULL) == 1
               ? NGX_OK : NGX_ERROR;
    }

    return EVP_DigestInit_ex(ctx, md, NULL) == 1
           && EVP_DigestUpdate(ctx, data, len) == 1
           && EVP_DigestFinal_ex(ctx, out, outlen) == 1
           ? NGX_OK : NGX_ERROR;
}


/*
 * the HMAC of input with an HMAC key (mac: EVP_MAX_MD_SIZE bytes, *mlen
 * set); the token verifier's, and the HLS session parameter's
 */

ngx_int_t
ngx_rtmp_compliance_key_digest(ngx_rtmp_compliance_key_t *key,
    ngx_uint_t alg, u_char *input, size_t len, u_char *mac, size_t *mlen)
{
    EVP_MAC_CTX  *ctx;

    ctx = ngx_rtmp_compliance_key_mac(key, alg);

    if (ctx == NULL
        || EVP_MAC_init(ctx, NULL, 0, NULL) != 1
        || EVP_MAC_update(ctx, input, len) != 1
        || EVP_MAC_final(ctx, mac, mlen, EVP_MAX_MD_SIZE) != 1)
    {
        ERR_clear_error();
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* NGX_OK: the signature is good; NGX_DECLINED: it is not */

ngx_int_t
ngx_rtmp_compliance_key_verify(ngx_rtmp_compliance_key_t *key,
    ngx_uint_t alg, u_char *input, size_t len, u_char *sig, size_t siglen)
{
    int                         rc;
    size_t                      dlen, mlen;
    ngx_uint_t                  i;
    unsigned int                dlen2;
    u_char                      der[160];
    u_char                      mac[EVP_MAX_MD_SIZE];
    u_char                      digest[EVP_MAX_MD_SIZE];
    ngx_rtmp_compliance_alg_t  *a;

    a = &ngx_rtmp_compliance_algs[alg];

    if (key->family == NGX_RTMP_COMPLIANCE_HMAC) {

        if (ngx_rtmp_compliance_key_digest(key, alg, input, len, mac, &mlen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (siglen != mlen || CRYPTO_memcmp(mac, sig, mlen) != 0) {
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (key->family == NGX_RTMP_COMPLIANCE_OKP) {

        if (alg != NGX_RTMP_COMPLIANCE_EDDSA
            || siglen != NGX_RTMP_COMPLIANCE_EDDSA_SIG_LEN)
        {
            return NGX_DECLINED;
        }

        /* EdDSA signs the input itself: one call, on a fresh copy */

        if (EVP_MD_CTX_copy_ex(key->eddsa_copy, key->eddsa) != 1) {
            ERR_clear_error();
            return NGX_ERROR;
        }

        if (EVP_DigestVerify(key->eddsa_copy, sig, siglen, input, len) != 1) {
            ERR_clear_error();
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (key->family == NGX_RTMP_COMPLIANCE_EC) {

        if (siglen != 2 * a->ec_half) {
            return NGX_DECLINED;
        }

        dlen = sizeof(der);

        if (ngx_rtmp_compliance_key_ec_sig(sig, a->ec_half, der, &dlen)
            != NGX_OK)
        {
            ERR_clear_error();
            return NGX_DECLINED;
        }

        sig = der;
        siglen = dlen;
    }

    /* the contexts made with the key, for each algorithm it may verify */

    i = alg - (key->family == NGX_RTMP_COMPLIANCE_RSA
               ? NGX_RTMP_COMPLIANCE_RS256 : NGX_RTMP_COMPLIANCE_ES256);

    if (i >= 3 || key->verify[i] == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_rtmp_compliance_digest(key->vmd[i], input, len, digest, &dlen2)
         == NGX_OK
         ? EVP_PKEY_verify(key->verify[i], sig, siglen, digest, dlen2)
         : -1;

    if (rc != 1) {
        /* leave no error behind for the SSL code of this worker */
        ERR_clear_error();
        return NGX_DECLINED;
    }

    return NGX_OK;
}
