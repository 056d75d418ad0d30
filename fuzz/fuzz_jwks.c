
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the JWKS reader of compliance_key (ngx_rtmp_compliance_key_jwks):
 * the input is the file's content, read into the keys of one level that
 * already holds a key with kid "pre" (as a compliance_key kid=pre line
 * before the JWKS would), in a fresh configuration pool that is destroyed
 * afterwards, so that every OpenSSL object a key keeps is freed by its
 * pool cleanup and a leak is a crash.
 *
 * Input:  the JWKS text, as the file holds it
 *
 * Checks beyond memory safety, for a JWKS that is accepted: every key it
 * added has a kid of 1..64 bytes without a control character, and no two
 * keys of the level have the same kid; a family, and an alg of that
 * family or none (EC: the alg of its curve; OKP: EdDSA); the OpenSSL
 * objects of its family (an RSA key of at least 2048 bits with a verify
 * context for each alg it may verify, an EC key with the one of its alg,
 * an Ed25519 key with its EdDSA context, an HMAC secret of at least 32
 * bytes with its MAC contexts); and no key verifies a signature of zeros
 * for any alg.  A JWKS that is refused says so with NGX_CONF_ERROR.
 *
 * At start-up, known answers: the keys of RFC 7515 A.1 (oct, HS256) and
 * A.3 (EC P-256, ES256) and RFC 8037 A.2 (Ed25519), read from a JWKS by
 * the module, verify the RFCs' signatures and refuse them changed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_key.h"
#include "fuzz.h"


#define FUZZ_JWKS_RFC                                                        \
    "{\"keys\":["                                                            \
    "{\"kty\":\"oct\",\"kid\":\"a1\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVM" \
    "koqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"},"          \
    "{\"kty\":\"EC\",\"kid\":\"a3\",\"crv\":\"P-256\","                     \
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","                \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"              \
    "{\"kty\":\"OKP\",\"kid\":\"8037\",\"crv\":\"Ed25519\",\"alg\":"       \
    "\"EdDSA\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"     \
    "]}"

/* the claims of RFC 7515 A.1 and A.3 */
#define FUZZ_JWS_CLAIMS                                                      \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl"  \
    "LmNvbS9pc19yb290Ijp0cnVlfQ"


typedef struct {
    const char                     *kid;
    ngx_uint_t                      alg;
    const char                     *input;
    const char                     *sig;
} fuzz_answer_t;


static fuzz_answer_t  fuzz_answers[] = {

    /* RFC 7515 A.1 */
    { "a1", NGX_RTMP_COMPLIANCE_HS256,
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." FUZZ_JWS_CLAIMS,
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" },

    /* RFC 7515 A.3 */
    { "a3", NGX_RTMP_COMPLIANCE_ES256,
      "eyJhbGciOiJFUzI1NiJ9." FUZZ_JWS_CLAIMS,
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQ"
      "xfKTUJqPP3-Kg6NU1Q" },

    /* RFC 8037 A.4 */
    { "8037", NGX_RTMP_COMPLIANCE_EDDSA,
      "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsP"
      "t9g7sVvpAr_MuM0KAg" },

    { NULL, 0, NULL, NULL }
};


static ngx_str_t  fuzz_file = ngx_string("/fuzz/keys.json");


static ngx_array_t *
fuzz_keys(ngx_conf_t *cf, ngx_pool_t *pool)
{
    ngx_array_t                *keys;
    ngx_rtmp_compliance_key_t  *pre;

    ngx_memzero(cf, sizeof(ngx_conf_t));
    cf->pool = pool;
    cf->cycle = (ngx_cycle_t *) ngx_cycle;
    cf->log = &ngx_rtmp_compliance_fuzz_log;

    keys = ngx_array_create(pool, 2, sizeof(ngx_rtmp_compliance_key_t));
    FUZZ_CHECK(keys != NULL, "ngx_array_create");

    /* a key of a compliance_key line before the JWKS: only its kid counts */

    pre = ngx_array_push(keys);
    FUZZ_CHECK(pre != NULL, "ngx_array_push");
    ngx_memzero(pre, sizeof(ngx_rtmp_compliance_key_t));
    ngx_str_set(&pre->kid, "pre");
    pre->family = NGX_RTMP_COMPLIANCE_HMAC;

    return keys;
}


static ngx_rtmp_compliance_key_t *
fuzz_find(ngx_array_t *keys, const char *kid)
{
    size_t                      len;
    ngx_uint_t                  i;
    ngx_rtmp_compliance_key_t  *k;

    len = strlen(kid);
    k = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        if (k[i].kid.len == len && ngx_memcmp(k[i].kid.data, kid, len) == 0) {
            return &k[i];
        }
    }

    return NULL;
}


static void
fuzz_known_answers(void)
{
    char                       *rv;
    u_char                     *sig, *input;
    size_t                      len;
    ngx_str_t                   src, dst;
    ngx_conf_t                  cf;
    ngx_pool_t                 *pool;
    ngx_array_t                *keys;
    fuzz_answer_t              *a;
    ngx_rtmp_compliance_key_t  *k;

    pool = ngx_rtmp_compliance_fuzz_pool();
    keys = fuzz_keys(&cf, pool);

    rv = ngx_rtmp_compliance_key_jwks(&cf, keys, &fuzz_file,
                                      (u_char *) FUZZ_JWKS_RFC,
                                      sizeof(FUZZ_JWKS_RFC) - 1);
    FUZZ_CHECK(rv == NGX_CONF_OK, "the RFC keys are refused");
    FUZZ_CHECK(keys->nelts == 4, "the RFC keys: %lu keys",
               (unsigned long) keys->nelts);

    for (a = fuzz_answers; a->kid; a++) {
        k = fuzz_find(keys, a->kid);
        FUZZ_CHECK(k != NULL, "no key %s", a->kid);

        src.data = (u_char *) a->sig;
        src.len = strlen(a->sig);
        sig = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len));
        FUZZ_CHECK(sig != NULL, "ngx_pnalloc");
        dst.data = sig;
        FUZZ_CHECK(ngx_decode_base64url(&dst, &src) == NGX_OK, "base64url");

        len = strlen(a->input);
        input = ngx_pnalloc(pool, len);
        FUZZ_CHECK(input != NULL, "ngx_pnalloc");
        ngx_memcpy(input, a->input, len);

        FUZZ_CHECK(ngx_rtmp_compliance_key_verify(k, a->alg, input, len,
                                                  sig, dst.len)
                   == NGX_OK, "the RFC signature of %s does not verify",
                   a->kid);

        input[len - 1] ^= 1;

        FUZZ_CHECK(ngx_rtmp_compliance_key_verify(k, a->alg, input, len,
                                                  sig, dst.len)
                   == NGX_DECLINED, "a changed input verifies with %s",
                   a->kid);

        input[len - 1] ^= 1;
        sig[dst.len - 1] ^= 1;

        FUZZ_CHECK(ngx_rtmp_compliance_key_verify(k, a->alg, input, len,
                                                  sig, dst.len)
                   == NGX_DECLINED, "a changed signature verifies with %s",
                   a->kid);
    }

    ngx_destroy_pool(pool);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_rtmp_compliance_fuzz_init();
    fuzz_known_answers();

    return 0;
}


/* the algs key may verify: first .. last, of its family and its pin */

static void
fuzz_key_algs(ngx_rtmp_compliance_key_t *k, ngx_uint_t *first,
    ngx_uint_t *last)
{
    switch (k->family) {

    case NGX_RTMP_COMPLIANCE_HMAC:
        *first = NGX_RTMP_COMPLIANCE_HS256;
        *last = NGX_RTMP_COMPLIANCE_HS512;
        break;

    case NGX_RTMP_COMPLIANCE_RSA:
        *first = NGX_RTMP_COMPLIANCE_RS256;
        *last = NGX_RTMP_COMPLIANCE_RS512;
        break;

    case NGX_RTMP_COMPLIANCE_EC:
        *first = NGX_RTMP_COMPLIANCE_ES256;
        *last = NGX_RTMP_COMPLIANCE_ES512;
        break;

    default:
        *first = NGX_RTMP_COMPLIANCE_EDDSA;
        *last = NGX_RTMP_COMPLIANCE_EDDSA;
    }

    if (k->alg) {
        FUZZ_CHECK(k->alg >= *first && k->alg <= *last,
                   "a key of family %lu pinned to alg %lu",
                   (unsigned long) k->family, (unsigned long) k->alg);
        *first = k->alg;
        *last = k->alg;
    }
}


static void
fuzz_check_key(ngx_rtmp_compliance_key_t *k)
{
    size_t      i, lens[3];
    ngx_uint_t  alg, first, last, base;
    u_char      zeros[2048];

    FUZZ_CHECK(k->kid.len >= 1 && k->kid.len <= NGX_RTMP_COMPLIANCE_KID_MAX,
               "a kid of %zu bytes", k->kid.len);

    for (i = 0; i < k->kid.len; i++) {
        FUZZ_CHECK(k->kid.data[i] >= 0x20 && k->kid.data[i] != 0x7f,
                   "a kid with a control character");
    }

    FUZZ_CHECK(k->file.len == fuzz_file.len
               && ngx_memcmp(k->file.data, fuzz_file.data, fuzz_file.len)
                  == 0, "a key of another file");

    fuzz_key_algs(k, &first, &last);

    switch (k->family) {

    case NGX_RTMP_COMPLIANCE_HMAC:
        FUZZ_CHECK(k->secret.len >= 32 && k->pkey == NULL,
                   "an HMAC secret of %zu bytes", k->secret.len);
        break;

    case NGX_RTMP_COMPLIANCE_RSA:
        FUZZ_CHECK(k->pkey != NULL && EVP_PKEY_get_bits(k->pkey) >= 2048,
                   "an RSA key of %d bits",
                   k->pkey ? EVP_PKEY_get_bits(k->pkey) : 0);
        break;

    case NGX_RTMP_COMPLIANCE_EC:
        FUZZ_CHECK(k->pkey != NULL && k->alg != 0, "an EC key without alg");
        break;

    case NGX_RTMP_COMPLIANCE_OKP:
        FUZZ_CHECK(k->pkey != NULL && k->alg == NGX_RTMP_COMPLIANCE_EDDSA
                   && k->eddsa != NULL && k->eddsa_copy != NULL,
                   "an Ed25519 key without its contexts");
        break;

    default:
        FUZZ_CHECK(0, "a key of family %lu", (unsigned long) k->family);
    }

    /* no key verifies zeros, of any length it could take */

    ngx_memzero(zeros, sizeof(zeros));

    lens[0] = 64;
    lens[1] = k->pkey ? (size_t) EVP_PKEY_get_size(k->pkey) : 32;
    lens[2] = 2 * ngx_rtmp_compliance_algs[first].ec_half;

    base = k->family == NGX_RTMP_COMPLIANCE_RSA ? NGX_RTMP_COMPLIANCE_RS256
                                                : NGX_RTMP_COMPLIANCE_ES256;

    for (alg = first; alg <= last; alg++) {

        if (k->family == NGX_RTMP_COMPLIANCE_HMAC) {
            FUZZ_CHECK(k->mac[alg - NGX_RTMP_COMPLIANCE_HS256] != NULL,
                       "an HMAC key without its context");

        } else if (k->family != NGX_RTMP_COMPLIANCE_OKP) {
            FUZZ_CHECK(k->verify[alg - base] != NULL
                       && k->vmd[alg - base] != NULL,
                       "a key without the context of alg %lu",
                       (unsigned long) alg);
        }

        for (i = 0; i < 3; i++) {
            FUZZ_CHECK(lens[i] <= sizeof(zeros), "a signature of %zu bytes",
                       lens[i]);
            FUZZ_CHECK(ngx_rtmp_compliance_key_verify(k, alg, zeros, 64,
                                                      zeros, lens[i])
                       != NGX_OK, "zeros verify (alg %lu, %zu bytes)",
                       (unsigned long) alg, lens[i]);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                       *rv;
    u_char                     *copy;
    ngx_uint_t                  i, j;
    ngx_conf_t                  cf;
    ngx_pool_t                 *pool;
    ngx_array_t                *keys;
    ngx_rtmp_compliance_key_t  *k;

    pool = ngx_rtmp_compliance_fuzz_pool();
    keys = fuzz_keys(&cf, pool);

    /* the file's bytes, as the module reads them into its pool */

    copy = ngx_pnalloc(pool, size ? size : 1);
    FUZZ_CHECK(copy != NULL, "ngx_pnalloc");
    ngx_memcpy(copy, data, size);

    rv = ngx_rtmp_compliance_key_jwks(&cf, keys, &fuzz_file, copy, size);

    FUZZ_TRACE("jwks: %s, %lu keys", rv == NGX_CONF_OK ? "accepted"
               : "refused", (unsigned long) keys->nelts - 1);

    if (rv == NGX_CONF_OK) {
        FUZZ_CHECK(keys->nelts > 1, "a JWKS accepted without a key");

        k = keys->elts;

        for (i = 1; i < keys->nelts; i++) {
            fuzz_check_key(&k[i]);

            for (j = 0; j < i; j++) {
                FUZZ_CHECK(k[i].kid.len != k[j].kid.len
                           || ngx_memcmp(k[i].kid.data, k[j].kid.data,
                                         k[i].kid.len) != 0,
                           "two keys of kid \"%.*s\"", (int) k[i].kid.len,
                           k[i].kid.data);
            }
        }

    } else {
        FUZZ_CHECK(rv == NGX_CONF_ERROR, "an unknown result");
    }

    ngx_destroy_pool(pool);

    return 0;
}
