
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Verification keys: loaded and pinned to their algorithm at
 * configuration (a PEM public key, an HMAC secret, or every key of a
 * JWKS), and the signature checks with them.
 */


#ifndef _NGX_RTMP_COMPLIANCE_KEY_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_KEY_H_INCLUDED_


#include <openssl/evp.h>
#include "ngx_rtmp_compliance.h"


typedef enum {
    NGX_RTMP_COMPLIANCE_HMAC = 1,
    NGX_RTMP_COMPLIANCE_RSA,
    NGX_RTMP_COMPLIANCE_EC,
    NGX_RTMP_COMPLIANCE_OKP                      /* Ed25519 */
} ngx_rtmp_compliance_family_e;


/* JWS algorithms; 0 means "none given" */

typedef enum {
    NGX_RTMP_COMPLIANCE_ALG_NONE = 0,
    NGX_RTMP_COMPLIANCE_HS256,
    NGX_RTMP_COMPLIANCE_HS384,
    NGX_RTMP_COMPLIANCE_HS512,
    NGX_RTMP_COMPLIANCE_RS256,
    NGX_RTMP_COMPLIANCE_RS384,
    NGX_RTMP_COMPLIANCE_RS512,
    NGX_RTMP_COMPLIANCE_ES256,
    NGX_RTMP_COMPLIANCE_ES384,
    NGX_RTMP_COMPLIANCE_ES512,
    NGX_RTMP_COMPLIANCE_EDDSA,
    NGX_RTMP_COMPLIANCE_ALG_MAX
} ngx_rtmp_compliance_alg_e;


typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      family;
    size_t                          ec_half;     /* bytes of R and of S */
} ngx_rtmp_compliance_alg_t;


typedef struct {
    ngx_str_t                       kid;         /* empty: no kid */
    ngx_str_t                       file;        /* a JWKS: of all its keys */
    ngx_uint_t                      family;
    ngx_uint_t                      alg;         /* pinned alg, or 0 */
    EVP_PKEY                       *pkey;        /* RSA, EC and Ed25519 */
    ngx_str_t                       secret;      /* HMAC */
    EVP_MAC_CTX                    *mac[3];      /* HS256/384/512 */
    EVP_PKEY_CTX                   *verify[3];   /* RS or ES 256/384/512 */
    EVP_MD                         *vmd[3];      /* their digests */
    EVP_MD_CTX                     *eddsa;       /* EdDSA, initialised */
    EVP_MD_CTX                     *eddsa_copy;  /* its copy for a token */
} ngx_rtmp_compliance_key_t;


extern ngx_rtmp_compliance_alg_t  ngx_rtmp_compliance_algs[];


char *ngx_rtmp_compliance_key_add(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *file, ngx_str_t *kid, ngx_str_t *alg);
char *ngx_rtmp_compliance_key_load(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_str_t *alg);
char *ngx_rtmp_compliance_key_jwks(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *file, u_char *p, size_t size);
ngx_uint_t ngx_rtmp_compliance_alg_by_name(u_char *name, size_t len);
ngx_int_t ngx_rtmp_compliance_key_digest(ngx_rtmp_compliance_key_t *key,
    ngx_uint_t alg, u_char *input, size_t len, u_char *mac, size_t *mlen);
ngx_int_t ngx_rtmp_compliance_key_verify(ngx_rtmp_compliance_key_t *key,
    ngx_uint_t alg, u_char *input, size_t len, u_char *sig, size_t siglen);

ngx_int_t ngx_rtmp_compliance_sha256_init(ngx_conf_t *cf);
const EVP_MD *ngx_rtmp_compliance_sha256(void);
EVP_MD_CTX *ngx_rtmp_compliance_sha256_ctx(void);
ngx_int_t ngx_rtmp_compliance_digest(const EVP_MD *md, u_char *data,
    size_t len, u_char *out, unsigned int *outlen);


#endif /* _NGX_RTMP_COMPLIANCE_KEY_H_INCLUDED_ */
