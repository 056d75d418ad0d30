
/*
 * jws_sign.c -- JWS signing with OpenSSL EVP for the project's token tools
 * (jws_sign.h says what is here and what is not).
 *
 * Every algorithm signs through EVP_DigestSign* with the algorithm's
 * digest: HS with an EVP_PKEY_HMAC key made once from the secret, RS with
 * PKCS #1 v1.5 (EVP's default for RSA keys), ES with ECDSA, whose DER
 * output is cut into the fixed-size R || S that JWS (RFC 7518 3.4) wants;
 * EdDSA (RFC 8037) with Ed25519, one-shot EVP_DigestSign() without a
 * digest: the signature covers the signing input itself.
 */


#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "jws_sign.h"


static int jws_error(jws_err_t *err, int openssl, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;
static int jws_pem_no_password(char *buf, int size, int rwflag, void *u);
static int jws_ec_curve_nid(EVP_PKEY *pkey);
static void jws_append(char *out, size_t size, size_t *len, const char *s,
    size_t n);


static const jws_alg_t  jws_algs[] = {
    { "HS256", JWS_KIND_HMAC, EVP_sha256, NID_undef, 0 },
    { "HS384", JWS_KIND_HMAC, EVP_sha384, NID_undef, 0 },
    { "HS512", JWS_KIND_HMAC, EVP_sha512, NID_undef, 0 },
    { "RS256", JWS_KIND_RSA, EVP_sha256, NID_undef, 0 },
    { "RS384", JWS_KIND_RSA, EVP_sha384, NID_undef, 0 },
    { "RS512", JWS_KIND_RSA, EVP_sha512, NID_undef, 0 },
    { "ES256", JWS_KIND_EC, EVP_sha256, NID_X9_62_prime256v1, 32 },
    { "ES384", JWS_KIND_EC, EVP_sha384, NID_secp384r1, 48 },
    { "ES512", JWS_KIND_EC, EVP_sha512, NID_secp521r1, 66 },
    { "EdDSA", JWS_KIND_OKP, NULL, NID_undef, 0 },
    { "none", JWS_KIND_NONE, NULL, NID_undef, 0 },
    { NULL, JWS_KIND_NONE, NULL, NID_undef, 0 }
};


static const char  jws_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


const jws_alg_t *
jws_alg(const char *name)
{
    const jws_alg_t  *a;

    for (a = jws_algs; a->name != NULL; a++) {
        if (strcmp(a->name, name) == 0) {
            return a;
        }
    }

    return NULL;
}


static int
jws_error(jws_err_t *err, int openssl, const char *fmt, ...)
{
    va_list  args;

    err->openssl = openssl;

    va_start(args, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, args);
    va_end(args);

    return JWS_ERROR;
}


/* never prompt for a passphrase: encrypted keys are an error */

static int
jws_pem_no_password(char *buf, int size, int rwflag, void *u)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) u;

    return -1;
}


static int
jws_ec_curve_nid(EVP_PKEY *pkey)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    int     nid;
    char    name[80];
    size_t  len;

    if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) != 1) {
        return NID_undef;
    }

    nid = OBJ_sn2nid(name);

    if (nid == NID_undef) {
        nid = EC_curve_nist2nid(name);
    }

    return nid;
#else
    const EC_KEY  *ec;

    ec = EVP_PKEY_get0_EC_KEY(pkey);
    if (ec == NULL) {
        return NID_undef;
    }

    return EC_GROUP_get_curve_name(EC_KEY_get0_group(ec));
#endif
}


int
jws_key_load(jws_key_t *key, const jws_alg_t *alg, const uint8_t *data,
    size_t len, unsigned flags, const char *name, jws_err_t *err)
{
    int                   bits;
    BIO                  *bio;
    static const uint8_t  empty;

    memset(key, 0, sizeof(jws_key_t));
    key->alg = alg;

    switch (alg->kind) {

    case JWS_KIND_NONE:
        return JWS_OK;

    case JWS_KIND_HMAC:
        if (!(flags & JWS_RAW_SECRET)) {
            if (len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n') {
                len -= 2;

            } else if (len >= 1 && data[len - 1] == '\n') {
                len -= 1;
            }
        }

        key->secret = data;
        key->secret_len = len;

        /* an empty secret is allowed: tests forge such tokens */
        key->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, NULL,
                                                 len ? data : &empty, len);
        if (key->pkey == NULL) {
            return jws_error(err, 1, "cannot create the HMAC key");
        }

        return JWS_OK;

    default:
        break;
    }

    if (len > INT_MAX) {
        return jws_error(err, 0, "key file \"%s\" is too large", name);
    }

    bio = BIO_new_mem_buf(data, (int) len);
    if (bio == NULL) {
        return jws_error(err, 1, "BIO_new_mem_buf() failed");
    }

    key->pkey = PEM_read_bio_PrivateKey(bio, NULL, jws_pem_no_password, NULL);
    BIO_free(bio);

    if (key->pkey == NULL) {
        return jws_error(err, 1, "\"%s\" is not an unencrypted PEM private "
                         "key", name);
    }

    if (alg->kind == JWS_KIND_RSA) {
        if (EVP_PKEY_base_id(key->pkey) != EVP_PKEY_RSA) {
            return jws_error(err, 0, "%s needs an RSA private key, \"%s\" is "
                             "not one", alg->name, name);
        }

        return JWS_OK;
    }

    if (alg->kind == JWS_KIND_OKP) {
        if (EVP_PKEY_base_id(key->pkey) != EVP_PKEY_ED25519) {
            return jws_error(err, 0, "%s needs an Ed25519 private key, "
                             "\"%s\" is not one", alg->name, name);
        }

        return JWS_OK;
    }

    /* JWS_KIND_EC */

    if (EVP_PKEY_base_id(key->pkey) != EVP_PKEY_EC) {
        return jws_error(err, 0, "%s needs an EC private key, \"%s\" is not "
                         "one", alg->name, name);
    }

    key->curve_nid = jws_ec_curve_nid(key->pkey);
    bits = EVP_PKEY_bits(key->pkey);

    if (bits <= 0) {
        return jws_error(err, 1, "cannot get the size of the EC key \"%s\"",
                         name);
    }

    key->ec_half = ((size_t) bits + 7) / 8;

    return JWS_OK;
}


int
jws_key_check_curve(const jws_key_t *key, const char *name, jws_err_t *err)
{
    const jws_alg_t  *alg;

    alg = key->alg;

    if (alg->kind != JWS_KIND_EC || key->curve_nid == alg->curve_nid) {
        return JWS_OK;
    }

    return jws_error(err, 0, "%s needs a key on curve %s, \"%s\" is on %s",
                     alg->name, OBJ_nid2sn(alg->curve_nid), name,
                     key->curve_nid != NID_undef
                     ? OBJ_nid2sn(key->curve_nid) : "an unknown curve");
}


void
jws_key_free(jws_key_t *key)
{
    EVP_PKEY_free(key->pkey);
    key->pkey = NULL;
}


int
jws_sign(const jws_key_t *key, const uint8_t *in, size_t len, uint8_t **sig,
    size_t *siglen, jws_err_t *err)
{
    int               rc;
    size_t            n;
    uint8_t          *der, *raw;
    EVP_MD_CTX       *ctx;
    const jws_alg_t  *alg;

    alg = key->alg;

    *sig = NULL;
    *siglen = 0;

    if (alg->kind == JWS_KIND_NONE) {
        *sig = malloc(1);
        if (*sig == NULL) {
            return jws_error(err, 0, "out of memory");
        }

        return JWS_OK;
    }

    rc = JWS_ERROR;
    der = NULL;
    raw = NULL;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        jws_error(err, 1, "EVP_MD_CTX_new() failed");
        goto done;
    }

    if (alg->kind == JWS_KIND_OKP) {

        /* one call: EdDSA cannot sign in parts */

        n = (size_t) EVP_PKEY_get_size(key->pkey);

        der = malloc(n ? n : 1);
        if (der == NULL) {
            jws_error(err, 0, "out of memory");
            goto done;
        }

        if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1
            || EVP_DigestSign(ctx, der, &n, in, len) != 1)
        {
            jws_error(err, 1, "%s signing failed", alg->name);
            goto done;
        }

        *sig = der;
        *siglen = n;
        der = NULL;
        rc = JWS_OK;
        goto done;
    }

    if (EVP_DigestSignInit(ctx, NULL, alg->md(), NULL, key->pkey) != 1
        || EVP_DigestSignUpdate(ctx, in, len) != 1
        || EVP_DigestSignFinal(ctx, NULL, &n) != 1)
    {
        jws_error(err, 1, "%s signing failed", alg->name);
        goto done;
    }

    der = malloc(n ? n : 1);
    if (der == NULL) {
        jws_error(err, 0, "out of memory");
        goto done;
    }

    if (EVP_DigestSignFinal(ctx, der, &n) != 1) {
        jws_error(err, 1, "%s signing failed", alg->name);
        goto done;
    }

    if (alg->kind != JWS_KIND_EC) {
        *sig = der;
        *siglen = n;
        der = NULL;
        rc = JWS_OK;
        goto done;
    }

    /* OpenSSL gives DER ECDSA-Sig-Value, JWS wants raw R || S */

    raw = malloc(2 * key->ec_half);
    if (raw == NULL) {
        jws_error(err, 0, "out of memory");
        goto done;
    }

    if (jws_ecdsa_der_to_raw(der, n, key->ec_half, raw, err) != JWS_OK) {
        goto done;
    }

    *sig = raw;
    *siglen = 2 * key->ec_half;
    raw = NULL;
    rc = JWS_OK;

done:

    free(raw);
    free(der);
    EVP_MD_CTX_free(ctx);

    return rc;
}


int
jws_ecdsa_der_to_raw(const uint8_t *der, size_t len, size_t half,
    uint8_t *raw, jws_err_t *err)
{
    int             rc;
    ECDSA_SIG      *es;
    const BIGNUM   *r, *s;
    const uint8_t  *p;

    if (len > LONG_MAX) {
        return jws_error(err, 0, "ECDSA signature too large");
    }

    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) len);
    if (es == NULL) {
        return jws_error(err, 1, "cannot parse the DER ECDSA signature");
    }

    ECDSA_SIG_get0(es, &r, &s);

    rc = JWS_ERROR;

    if ((size_t) BN_num_bytes(r) > half || (size_t) BN_num_bytes(s) > half) {
        jws_error(err, 0, "ECDSA signature does not fit %zu-byte R/S halves",
                  half);
        goto done;
    }

    if (BN_bn2binpad(r, raw, (int) half) != (int) half
        || BN_bn2binpad(s, raw + half, (int) half) != (int) half)
    {
        jws_error(err, 1, "BN_bn2binpad() failed");
        goto done;
    }

    rc = JWS_OK;

done:

    ECDSA_SIG_free(es);

    return rc;
}


int
jws_compact(const jws_key_t *key, const void *header, size_t hlen,
    const void *claims, size_t clen, char **token, size_t *len,
    jws_err_t *err)
{
    char     *t, *p;
    size_t    n, siglen;
    uint8_t  *sig;

    *token = NULL;

    if (hlen > (size_t) -1 / 8 || clen > (size_t) -1 / 8) {
        return jws_error(err, 0, "out of memory");
    }

    /* the signing input: b64url(header) "." b64url(claims) */

    n = JWS_B64URL_LEN(hlen) + 1 + JWS_B64URL_LEN(clen);

    t = malloc(n + 1);
    if (t == NULL) {
        return jws_error(err, 0, "out of memory");
    }

    p = t + jws_b64url_encode(t, header, hlen);
    *p++ = '.';
    p += jws_b64url_encode(p, claims, clen);

    if (jws_sign(key, (const uint8_t *) t, n, &sig, &siglen, err) != JWS_OK) {
        free(t);
        return JWS_ERROR;
    }

    p = realloc(t, n + 1 + JWS_B64URL_LEN(siglen) + 1);
    if (p == NULL) {
        free(sig);
        free(t);
        return jws_error(err, 0, "out of memory");
    }

    t = p;
    p = t + n;
    *p++ = '.';
    p += jws_b64url_encode(p, sig, siglen);
    *p = '\0';

    free(sig);

    *token = t;
    *len = (size_t) (p - t);

    return JWS_OK;
}


static void
jws_append(char *out, size_t size, size_t *len, const char *s, size_t n)
{
    size_t  room;

    if (*len < size) {
        room = size - *len;
        memcpy(out + *len, s, n < room ? n : room);
    }

    *len += n;
}


size_t
jws_header(char *out, size_t size, const char *alg, const char *kid)
{
    char                  esc[8];
    size_t                len;
    const unsigned char  *p;

    len = 0;

    jws_append(out, size, &len, "{\"alg\":\"", 8);
    jws_append(out, size, &len, alg, strlen(alg));
    jws_append(out, size, &len, "\",\"typ\":\"JWT\"", 13);

    if (kid) {
        jws_append(out, size, &len, ",\"kid\":\"", 8);

        /* a JSON string: '"', '\\' and control characters escaped */

        for (p = (const unsigned char *) kid; *p; p++) {

            if (*p == '"' || *p == '\\') {
                esc[0] = '\\';
                esc[1] = (char) *p;
                jws_append(out, size, &len, esc, 2);

            } else if (*p < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", *p);
                jws_append(out, size, &len, esc, 6);

            } else {
                jws_append(out, size, &len, (const char *) p, 1);
            }
        }

        jws_append(out, size, &len, "\"", 1);
    }

    jws_append(out, size, &len, "}", 1);

    if (size) {
        out[len < size ? len : size - 1] = '\0';
    }

    return len;
}


size_t
jws_b64url_encode(char *out, const uint8_t *in, size_t n)
{
    size_t         i;
    char          *d;
    unsigned long  v;

    d = out;

    for (i = 0; i + 2 < n; i += 3) {
        v = ((unsigned long) in[i] << 16) | ((unsigned long) in[i + 1] << 8)
            | in[i + 2];
        *d++ = jws_b64url_alphabet[(v >> 18) & 0x3f];
        *d++ = jws_b64url_alphabet[(v >> 12) & 0x3f];
        *d++ = jws_b64url_alphabet[(v >> 6) & 0x3f];
        *d++ = jws_b64url_alphabet[v & 0x3f];
    }

    if (n - i == 1) {
        v = (unsigned long) in[i] << 16;
        *d++ = jws_b64url_alphabet[(v >> 18) & 0x3f];
        *d++ = jws_b64url_alphabet[(v >> 12) & 0x3f];

    } else if (n - i == 2) {
        v = ((unsigned long) in[i] << 16) | ((unsigned long) in[i + 1] << 8);
        *d++ = jws_b64url_alphabet[(v >> 18) & 0x3f];
        *d++ = jws_b64url_alphabet[(v >> 12) & 0x3f];
        *d++ = jws_b64url_alphabet[(v >> 6) & 0x3f];
    }

    return (size_t) (d - out);
}


int
jws_b64url_value(int c)
{
    const char  *pos;

    pos = (c != '\0') ? strchr(jws_b64url_alphabet, c) : NULL;

    return pos ? (int) (pos - jws_b64url_alphabet) : -1;
}


const char *
jws_b64url_decode(uint8_t *out, size_t *outlen, const char *in, size_t len)
{
    int            c;
    size_t         i, o;
    unsigned long  v;
    unsigned int   n;

    if (len % 4 == 1) {
        return "impossible base64url length";
    }

    v = 0;
    n = 0;
    o = 0;

    for (i = 0; i < len; i++) {

        if (in[i] == '=') {
            return "base64url padding \"=\" is not allowed in JWS";
        }

        c = jws_b64url_value((unsigned char) in[i]);
        if (c < 0) {
            return "byte outside the base64url alphabet";
        }

        v = (v << 6) | (unsigned long) c;
        n++;

        if (n == 4) {
            out[o++] = (uint8_t) (v >> 16);
            out[o++] = (uint8_t) (v >> 8);
            out[o++] = (uint8_t) v;
            v = 0;
            n = 0;
        }
    }

    if (n == 2) {
        out[o++] = (uint8_t) (v >> 4);

    } else if (n == 3) {
        out[o++] = (uint8_t) (v >> 10);
        out[o++] = (uint8_t) (v >> 2);
    }

    *outlen = o;

    return NULL;
}
