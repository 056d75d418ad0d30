
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the JWT verification (ngx_rtmp_compliance_token_verify) and the
 * query argument lookup (ngx_rtmp_compliance_arg).
 *
 * The keys are loaded at start-up with the module's own loader
 * (ngx_rtmp_compliance_key_load) from files written to a temporary
 * directory: two HMAC secrets, an RSA 2048 public key (twice: unpinned
 * and pinned to RS512) and EC public keys on P-256, P-384 and P-521, so
 * that every alg/kid/family path of the header check is reachable.  Two
 * application configurations: A has a key without kid (HS256 pinned)
 * and no issuer or audience; B has kids on every key, an issuer and an
 * audience.
 *
 * Input:  OP REST
 *
 *   OP bits 0-1  0: REST is the token, as sent
 *                1: REST is the claims JSON; the harness makes a valid
 *                   HMAC-signed token of it with header OP bits 4-5:
 *                     0 {"alg":"HS256","typ":"JWT"}  (the kid-less key)
 *                     1 {"alg":"HS256","kid":"hs","typ":"JWT"}
 *                     2 {"alg":"HS384","kid":"hs"}
 *                     3 {"alg":"HS512","kid":"hs"}
 *                   so the claims parser behind the signature is reached
 *                2: REST is HEADER NUL CLAIMS (both JSON text), signed
 *                   with HMAC-SHA256/384/512/256 (OP bits 4-5) and the
 *                   kid-less key's secret or "hs"'s (OP bit 6)
 *                3: REST is NAME NUL ARGS, or ARGS alone with the name
 *                   "token": ngx_rtmp_compliance_arg(), checked against
 *                   a plain reading of "a=1&NAME=value&b=2"
 *   OP bit 2     scope: 0 "publish", 1 "play"
 *   OP bit 3     application configuration: 0 A, 1 B
 *
 * Checks beyond memory safety: the reason is a known one; a rejection
 * leaves a NUL-terminated detail (the module logs it with %s); the hash
 * is 12 hex digits; an accepted token has the scope asked for, a room,
 * for publish every identity claim, a time window that holds now, claims
 * of 1..256 printable bytes, and a key whose family is the alg's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/hmac.h>
#include "ngx_rtmp_compliance_token.h"
#include "ngx_rtmp_compliance_key.h"
#include "fuzz.h"


#define FUZZ_SECRET_NOKID  "fuzz-hs256-secret-0123456789abcdef"
#define FUZZ_SECRET_HS     "fuzz-hs-secret-for-kid-hs-0123456789abcdefghijklmn"


static const char  fuzz_rsa_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtE100u5v5vmacg4UKEKp\n"
    "GdltrFEua1y7U5aMwBvc5vuRawU4Wy+aeW/+NCSK7LtO1QSinre0RYcPx3EAcnjL\n"
    "oRATuteKoepDBgensbGm3b6GATmZmftoxuKgYtBuWCa5N8hUPe6/wP3cqDchtA6y\n"
    "CpGZYDWJr5G13pXqjh5MV3msRx1hnvLiFwUvjTNQBfqgoFniKtbJaHsHMdA2CFIM\n"
    "EuKXvpXM8r/L/2PjMNsXzWmqqIxTanUH/JgfObWnYEmFImv5E3GVSRlYL9Gq314A\n"
    "lw6n1W5mbMf2oSu5jid8+oXrUKru4+ZxHrmiAM5P+GgDCbvl/dN4/GgQVF94nhoa\n"
    "2QIDAQAB\n"
    "-----END PUBLIC KEY-----\n"
    ;

static const char  fuzz_ec256_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaTnAtnopcKZI1PjLHQq4ATGzQ+yK\n"
    "t2/ni91ahQ2yyF1+7tjfLbOq4AeMSHIW18PjKgzUbsd5oIO2Df1s/JxZtA==\n"
    "-----END PUBLIC KEY-----\n"
    ;

static const char  fuzz_ec384_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEYFeSUtnK4K/YhFr3txbYmlqWUFkTofc/\n"
    "+Op//1X2Mhy28iCMDDX7wHNJmHHikgMDUEMKc7GOx5GEx4lMM10npPd1xVT5zA2d\n"
    "phfY3bQQcjeyYUjhBeUlSeb+fydbTWvD\n"
    "-----END PUBLIC KEY-----\n"
    ;

static const char  fuzz_ec521_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAfOPr18MarT3GKk3nK1djAsYAiwhr\n"
    "Vh35A1kFe3FmXlcxyFzu3RcE5hjmgzvJ+cxmNDQUBjZ5Wfc1fmODR4PSR94Ab2dz\n"
    "IwhGVMZwPuJnHiYX/dps1ETz4a8pJaiu+MefLo05FCrMHIhsfZWaVZlM6CirRx3K\n"
    "FhLdLpsqO9HX3oNl80k=\n"
    "-----END PUBLIC KEY-----\n"
    ;


typedef struct {
    const char                     *kid;
    const char                     *text;
    const char                     *alg;
} fuzz_key_t;


static fuzz_key_t  fuzz_keys_a[] = {
    { "",      FUZZ_SECRET_NOKID "\n", "HS256" },
    { "hs",    FUZZ_SECRET_HS "\r\n",  "" },
    { "rsa",   fuzz_rsa_pub,           "" },
    { "rs512", fuzz_rsa_pub,           "RS512" },
    { "ec256", fuzz_ec256_pub,         "" },
    { "ec384", fuzz_ec384_pub,         "ES384" },
    { "ec521", fuzz_ec521_pub,         "" },
    { NULL, NULL, NULL }
};


static fuzz_key_t  fuzz_keys_b[] = {
    { "hs",    FUZZ_SECRET_HS,         "" },
    { "rsa",   fuzz_rsa_pub,           "RS256" },
    { "ec256", fuzz_ec256_pub,         "" },
    { NULL, NULL, NULL }
};


static const char  *fuzz_headers[] = {
    "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
    "{\"alg\":\"HS256\",\"kid\":\"hs\",\"typ\":\"JWT\"}",
    "{\"alg\":\"HS384\",\"kid\":\"hs\"}",
    "{\"alg\":\"HS512\",\"kid\":\"hs\"}"
};


static ngx_rtmp_compliance_app_conf_t  fuzz_conf[2];
static ngx_pool_t                     *fuzz_conf_pool;
static ngx_str_t                       fuzz_scopes[] = {
    ngx_string("publish"),
    ngx_string("play")
};


static void
fuzz_load_keys(ngx_rtmp_compliance_app_conf_t *cacf, fuzz_key_t *keys,
    const char *dir)
{
    int                         fd;
    char                       *rv;
    size_t                      len;
    ngx_str_t                   alg;
    ngx_conf_t                  cf;
    ngx_uint_t                  i;
    ngx_rtmp_compliance_key_t  *key;
    char                        path[256];

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = fuzz_conf_pool;
    cf.cycle = (ngx_cycle_t *) ngx_cycle;
    cf.log = &ngx_rtmp_compliance_fuzz_log;

    cacf->keys = ngx_array_create(fuzz_conf_pool, 2,
                                  sizeof(ngx_rtmp_compliance_key_t));
    FUZZ_CHECK(cacf->keys != NULL, "ngx_array_create");

    for (i = 0; keys[i].kid; i++) {
        snprintf(path, sizeof(path), "%s/key%p-%u", dir, (void *) cacf,
                 (unsigned) i);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        len = strlen(keys[i].text);
        FUZZ_CHECK(fd != -1 && write(fd, keys[i].text, len) == (ssize_t) len
                   && close(fd) == 0, "writing %s", path);

        key = ngx_array_push(cacf->keys);
        FUZZ_CHECK(key != NULL, "ngx_array_push");
        ngx_memzero(key, sizeof(ngx_rtmp_compliance_key_t));

        /* as the kid= parameter sets it: no kid= leaves it zeroed */
        if (keys[i].kid[0]) {
            key->kid.data = (u_char *) keys[i].kid;
            key->kid.len = strlen(keys[i].kid);
        }

        /* nginx's configuration values are NUL-terminated */
        key->file.len = strlen(path);
        key->file.data = ngx_pnalloc(fuzz_conf_pool, key->file.len + 1);
        FUZZ_CHECK(key->file.data != NULL, "ngx_pnalloc");
        ngx_memcpy(key->file.data, path, key->file.len + 1);

        alg.data = (u_char *) keys[i].alg;
        alg.len = strlen(keys[i].alg);

        rv = ngx_rtmp_compliance_key_load(&cf, key, &alg);
        FUZZ_CHECK(rv == NGX_CONF_OK, "key \"%s\" did not load",
                   keys[i].kid);

        unlink(path);
    }
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  *dir;
    char   tmpl[] = "/tmp/fuzz-token-keys.XXXXXX";

    ngx_rtmp_compliance_fuzz_init();

    fuzz_conf_pool = ngx_rtmp_compliance_fuzz_pool();

    dir = mkdtemp(tmpl);
    FUZZ_CHECK(dir != NULL, "mkdtemp");

    fuzz_conf[0].enable = 1;
    fuzz_conf[0].leeway = 30;
    fuzz_load_keys(&fuzz_conf[0], fuzz_keys_a, dir);

    fuzz_conf[1].enable = 1;
    fuzz_conf[1].leeway = 0;
    ngx_str_set(&fuzz_conf[1].issuer, "https://id.example");
    ngx_str_set(&fuzz_conf[1].audience, "rtmp-ingest");
    fuzz_load_keys(&fuzz_conf[1], fuzz_keys_b, dir);

    rmdir(dir);

    return 0;
}


/* base64url(header) "." base64url(claims) "." base64url(HMAC) */

static u_char *
fuzz_sign(const u_char *hdr, size_t hlen, const u_char *pl, size_t plen,
    const EVP_MD *md, const char *secret, size_t *len)
{
    u_char        *t, *p;
    size_t         n;
    ngx_str_t      src, dst;
    unsigned int   mlen;
    u_char         mac[EVP_MAX_MD_SIZE];

    n = ngx_base64_encoded_length(hlen) + ngx_base64_encoded_length(plen)
        + ngx_base64_encoded_length(EVP_MAX_MD_SIZE) + 2;

    t = malloc(n);
    FUZZ_CHECK(t != NULL, "malloc");

    src.data = (u_char *) hdr;
    src.len = hlen;
    dst.data = t;
    ngx_encode_base64url(&dst, &src);
    p = t + dst.len;
    *p++ = '.';

    src.data = (u_char *) pl;
    src.len = plen;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;

    FUZZ_CHECK(HMAC(md, secret, (int) strlen(secret), t, p - t, mac, &mlen)
               != NULL, "HMAC");

    *p++ = '.';

    src.data = mac;
    src.len = mlen;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;

    *len = p - t;

    return t;
}


static void
fuzz_check_claim(ngx_str_t *s, size_t max, const char *name)
{
    size_t  i;

    FUZZ_CHECK(s->len <= max, "claim %s has %zu bytes", name, s->len);

    for (i = 0; i < s->len; i++) {
        FUZZ_CHECK(s->data[i] >= 0x20 && s->data[i] != 0x7f,
                   "claim %s has a control character", name);
    }
}


/*
 * the index in keys (the list fuzz_load_keys() loaded, in its order) of
 * the key named kid, "" for the key without one; -1: none
 */

static ngx_int_t
fuzz_key_index(fuzz_key_t *keys, ngx_str_t *kid)
{
    ngx_int_t  i;
    char       name[NGX_RTMP_COMPLIANCE_KID_MAX + 1];

    FUZZ_CHECK(kid->len <= NGX_RTMP_COMPLIANCE_KID_MAX, "kid of %zu bytes",
               kid->len);

    /* a claim has no NUL: fuzz_check_claim() found no control character */

    if (kid->len) {
        ngx_memcpy(name, kid->data, kid->len);
    }

    name[kid->len] = '\0';

    for (i = 0; keys[i].kid != NULL; i++) {
        if (strcmp(keys[i].kid, name) == 0) {
            return i;
        }
    }

    return -1;
}


static void
fuzz_check_result(ngx_rtmp_compliance_app_conf_t *cacf, ngx_uint_t reason,
    ngx_str_t *scope, ngx_rtmp_compliance_claims_t *cl, u_char *detail,
    size_t size)
{
    time_t                      now;
    ngx_int_t                   i;
    ngx_rtmp_compliance_key_t  *k;

    FUZZ_CHECK(reason < NGX_RTMP_COMPLIANCE_REASON_MAX, "reason %lu",
               (unsigned long) reason);

    FUZZ_CHECK(cl->hash[NGX_RTMP_COMPLIANCE_HASH_LEN] == '\0'
               && strspn((char *) cl->hash, "0123456789abcdef")
                  == NGX_RTMP_COMPLIANCE_HASH_LEN, "a bad token hash");

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        FUZZ_CHECK_DETAIL(detail, size, "token_verify");
        return;
    }

    now = ngx_time();

    FUZZ_CHECK(cl->alg > NGX_RTMP_COMPLIANCE_ALG_NONE
               && cl->alg < NGX_RTMP_COMPLIANCE_ALG_MAX, "alg %lu",
               (unsigned long) cl->alg);

    FUZZ_CHECK(cl->scope.len == scope->len
               && ngx_strncmp(cl->scope.data, scope->data, scope->len) == 0,
               "accepted with another scope");

    FUZZ_CHECK(cl->exp + cacf->leeway > now, "accepted after exp");
    FUZZ_CHECK(cl->nbf <= now + cacf->leeway, "accepted before nbf");
    FUZZ_CHECK(cl->iat <= now + cacf->leeway, "accepted before iat");

    FUZZ_CHECK(cl->room.len > 0, "accepted without a room");

    if (scope->len == sizeof("publish") - 1) {
        FUZZ_CHECK(cl->sub.len && cl->pid.len && cl->op.len && cl->idv.len
                   && cl->tier.len, "a publish token without an identity");
    }

    fuzz_check_claim(&cl->scope, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "scope");
    fuzz_check_claim(&cl->sub, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "sub");
    fuzz_check_claim(&cl->pid, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "pid");
    fuzz_check_claim(&cl->room, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "room");
    fuzz_check_claim(&cl->op, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "op");
    fuzz_check_claim(&cl->mcn, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "mcn");
    fuzz_check_claim(&cl->tier, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "tier");
    fuzz_check_claim(&cl->idv, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "idv");
    fuzz_check_claim(&cl->jti, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "jti");
    fuzz_check_claim(&cl->kid, NGX_RTMP_COMPLIANCE_KID_MAX, "kid");

    /* the key of the kid by the harness's own list, not the module's */

    i = fuzz_key_index(cacf == &fuzz_conf[0] ? fuzz_keys_a : fuzz_keys_b,
                       &cl->kid);

    FUZZ_CHECK(i >= 0, "accepted with no key of its kid");

    k = (ngx_rtmp_compliance_key_t *) cacf->keys->elts + i;

    FUZZ_CHECK(ngx_rtmp_compliance_algs[cl->alg].family == k->family
               && (k->alg == 0 || k->alg == cl->alg),
               "accepted with a key of another algorithm");
}


/* ngx_rtmp_compliance_arg() against a plain split of the arguments */

static void
fuzz_arg(const u_char *data, size_t size)
{
    u_char       *a, *p, *amp, *last, *nul;
    ngx_str_t     name, args, value, *rv;
    ngx_str_t     expect;

    a = malloc(size ? size : 1);
    FUZZ_CHECK(a != NULL, "malloc");
    ngx_memcpy(a, data, size);

    nul = memchr(a, '\0', size);

    if (nul) {
        name.data = a;
        name.len = nul - a;
        args.data = nul + 1;
        args.len = a + size - args.data;

    } else {
        ngx_str_set(&name, "token");
        args.data = a;
        args.len = size;
    }

    ngx_str_null(&expect);
    last = args.data + args.len;

    for (p = args.data; p < last; p = amp + 1) {
        amp = memchr(p, '&', last - p);
        if (amp == NULL) {
            amp = last;
        }

        if ((size_t) (amp - p) > name.len && p[name.len] == '='
            && memcmp(p, name.data, name.len) == 0)
        {
            expect.data = p + name.len + 1;
            expect.len = amp - expect.data;
            break;
        }
    }

    value.data = (u_char *) "unset";
    value.len = 5;

    rv = ngx_rtmp_compliance_arg(&args, &name, &value);

    if (expect.data == NULL) {
        FUZZ_CHECK(rv == NULL, "found a value that is not there");

    } else {
        FUZZ_CHECK(rv == &value && value.data == expect.data
                   && value.len == expect.len,
                   "not the first NAME=value of the arguments");
    }

    free(a);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                           op, *t, *nul;
    size_t                           len;
    ngx_str_t                        token, *scope;
    ngx_uint_t                       reason, mode;
    ngx_pool_t                      *pool;
    const EVP_MD                    *md;
    ngx_rtmp_compliance_claims_t     cl;
    ngx_rtmp_compliance_app_conf_t  *cacf;
    u_char                           detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    if (size < 1) {
        return 0;
    }

    op = data[0];
    data++;
    size--;

    mode = op & 3;

    if (mode == 3) {
        fuzz_arg(data, size);
        return 0;
    }

    scope = &fuzz_scopes[(op >> 2) & 1];
    cacf = &fuzz_conf[(op >> 3) & 1];

    switch (mode) {

    case 0:
        t = malloc(size ? size : 1);
        FUZZ_CHECK(t != NULL, "malloc");
        ngx_memcpy(t, data, size);
        len = size;
        break;

    case 1:
        t = fuzz_sign((u_char *) fuzz_headers[(op >> 4) & 3],
                      strlen(fuzz_headers[(op >> 4) & 3]), data, size,
                      ((op >> 4) & 3) == 2 ? EVP_sha384()
                      : ((op >> 4) & 3) == 3 ? EVP_sha512() : EVP_sha256(),
                      ((op >> 4) & 3) == 0 ? FUZZ_SECRET_NOKID
                                           : FUZZ_SECRET_HS, &len);
        break;

    default: /* 2 */
        nul = memchr(data, '\0', size);
        if (nul == NULL) {
            return 0;
        }

        md = ((op >> 4) & 3) == 1 ? EVP_sha384()
             : ((op >> 4) & 3) == 2 ? EVP_sha512() : EVP_sha256();

        t = fuzz_sign(data, nul - data, nul + 1, data + size - (nul + 1),
                      md, (op & 0x40) ? FUZZ_SECRET_HS : FUZZ_SECRET_NOKID,
                      &len);
    }

    token.data = t;
    token.len = len;

    pool = ngx_rtmp_compliance_fuzz_pool();

    ngx_memset(detail, FUZZ_DETAIL_FILL, sizeof(detail));
    ngx_memset(&cl, FUZZ_DETAIL_FILL, sizeof(cl));

    reason = ngx_rtmp_compliance_token_verify(cacf, &token, scope, pool,
                                              &cl, detail, sizeof(detail));

    FUZZ_TRACE("token: %s, scope %s, configuration %c: %s%s%.*s",
               mode == 0 ? "as sent" : "signed here",
               (char *) scope->data, (op & 8) ? 'B' : 'A',
               reason < NGX_RTMP_COMPLIANCE_REASON_MAX
               ? (char *) ngx_rtmp_compliance_reasons[reason].data : "?",
               reason ? ": " : "", reason ? (int) strnlen((char *) detail,
                                                          sizeof(detail)) : 0,
               detail);

    fuzz_check_result(cacf, reason, scope, &cl, detail, sizeof(detail));

    /* the claims are read after the pool outlived the parsed JSON */
    ngx_destroy_pool(pool);
    free(t);

    return 0;
}
