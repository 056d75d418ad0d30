
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Token keys: parsed once at configuration time, each pinned to its
 * algorithm family (HMAC secret, RSA or EC public key), and the
 * signature check with the pre-parsed OpenSSL key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include "ngx_rtmp_compliance_key.h"


#define NGX_RTMP_COMPLIANCE_HMAC_MIN      32
#define NGX_RTMP_COMPLIANCE_RSA_MIN_BITS  2048
#define NGX_RTMP_COMPLIANCE_KEY_FILE_MAX  65536


static u_char *ngx_rtmp_compliance_key_read(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, size_t *sizep);
static char *ngx_rtmp_compliance_key_hmac(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, u_char *p, size_t size, ngx_str_t *alg,
    ngx_uint_t pinned);
static char *ngx_rtmp_compliance_key_pem(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, u_char *p, size_t size, ngx_str_t *alg,
    ngx_uint_t pinned);
static char *ngx_rtmp_compliance_key_ec(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_str_t *alg, ngx_uint_t pinned);
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


char *
ngx_rtmp_compliance_key_load(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    ngx_str_t *alg)
{
    size_t      size;
    u_char     *p;
    ngx_uint_t  pinned;

    if (ngx_conf_full_name(cf->cycle, &key->file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    pinned = NGX_RTMP_COMPLIANCE_ALG_NONE;

    if (alg->len) {
        pinned = ngx_rtmp_compliance_alg_by_name(alg->data, alg->len);

        if (pinned == NGX_RTMP_COMPLIANCE_ALG_NONE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown algorithm \"%V\" of key \"%V\", "
                               "use HS256, HS384, HS512, RS256, RS384, "
                               "RS512, ES256, ES384 or ES512",
                               alg, &key->file);
            return NGX_CONF_ERROR;
        }
    }

    p = ngx_rtmp_compliance_key_read(cf, key, &size);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_strnstr(p, "-----BEGIN", size) == NULL) {
        return ngx_rtmp_compliance_key_hmac(cf, key, p, size, alg, pinned);
    }

    return ngx_rtmp_compliance_key_pem(cf, key, p, size, alg, pinned);
}


/* the whole key file, read into the configuration pool */

static u_char *
ngx_rtmp_compliance_key_read(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    size_t *sizep)
{
    size_t           size;
    u_char          *p;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    fd = ngx_open_file(key->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &key->file);
        return NULL;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &key->file);
        ngx_close_file(fd);
        return NULL;
    }

    size = ngx_file_size(&fi);

    if (size == 0 || size > NGX_RTMP_COMPLIANCE_KEY_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%V\" is %s", &key->file,
                           size ? "too large" : "empty");
        ngx_close_file(fd);
        return NULL;
    }

    p = ngx_pnalloc(cf->pool, size);
    if (p == NULL) {
        ngx_close_file(fd);
        return NULL;
    }

    n = ngx_read_fd(fd, p, size);

    if (n == -1 || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &key->file);
        ngx_close_file(fd);
        return NULL;
    }

    ngx_close_file(fd);

    *sizep = size;

    return p;
}


/* an HMAC secret: the file's bytes, less one final LF or CRLF */

static char *
ngx_rtmp_compliance_key_hmac(ngx_conf_t *cf, ngx_rtmp_compliance_key_t *key,
    u_char *p, size_t size, ngx_str_t *alg, ngx_uint_t pinned)
{
    u_char              *last;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

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

    /*
     * the HMAC contexts, made once here and freed with the cycle (the
     * key itself may still move: it is an element of an array)
     */

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

    default:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is neither an RSA nor an EC public key",
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
    EVP_MAC_CTX                *ctx;
    u_char                      mac[EVP_MAX_MD_SIZE];
    u_char                      digest[EVP_MAX_MD_SIZE];
    ngx_rtmp_compliance_alg_t  *a;

    a = &ngx_rtmp_compliance_algs[alg];

    if (key->family == NGX_RTMP_COMPLIANCE_HMAC) {

        ctx = ngx_rtmp_compliance_key_mac(key, alg);

        if (ctx == NULL
            || EVP_MAC_init(ctx, NULL, 0, NULL) != 1
            || EVP_MAC_update(ctx, input, len) != 1
            || EVP_MAC_final(ctx, mac, &mlen, sizeof(mac)) != 1)
        {
            ERR_clear_error();
            return NGX_ERROR;
        }

        if (siglen != mlen || CRYPTO_memcmp(mac, sig, mlen) != 0) {
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
