
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include "ngx_rtmp.h"


#define NGX_RTMP_COMPLIANCE_TOKEN_MAX     4096
#define NGX_RTMP_COMPLIANCE_NAME_MAX      (NGX_RTMP_COMPLIANCE_TOKEN_MAX + 1024)
#define NGX_RTMP_COMPLIANCE_CLAIM_MAX     256
#define NGX_RTMP_COMPLIANCE_KID_MAX       64
#define NGX_RTMP_COMPLIANCE_HASH_LEN      12
#define NGX_RTMP_COMPLIANCE_DETAIL_MAX    256


/* rejection reasons: the strings are part of the product contract */

typedef enum {
    NGX_RTMP_COMPLIANCE_OK = 0,
    NGX_RTMP_COMPLIANCE_TOKEN_MISSING,
    NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED,
    NGX_RTMP_COMPLIANCE_TOKEN_ALGORITHM,
    NGX_RTMP_COMPLIANCE_TOKEN_KEY_UNKNOWN,
    NGX_RTMP_COMPLIANCE_TOKEN_SIGNATURE,
    NGX_RTMP_COMPLIANCE_TOKEN_EXPIRED,
    NGX_RTMP_COMPLIANCE_TOKEN_NOT_YET_VALID,
    NGX_RTMP_COMPLIANCE_TOKEN_ISSUER,
    NGX_RTMP_COMPLIANCE_TOKEN_AUDIENCE,
    NGX_RTMP_COMPLIANCE_TOKEN_SCOPE,
    NGX_RTMP_COMPLIANCE_TOKEN_REVOKED,
    NGX_RTMP_COMPLIANCE_ROOM_MISMATCH,
    NGX_RTMP_COMPLIANCE_IDENTITY_UNVERIFIED,
    NGX_RTMP_COMPLIANCE_TIER_UNKNOWN,
    NGX_RTMP_COMPLIANCE_TIER_FORBIDS_PUBLISH,
    NGX_RTMP_COMPLIANCE_AI_HOST_FORBIDDEN,
    NGX_RTMP_COMPLIANCE_SUSPENDED,
    NGX_RTMP_COMPLIANCE_BANNED,
    NGX_RTMP_COMPLIANCE_VIEWER_LIMIT,
    NGX_RTMP_COMPLIANCE_VIEWER_TOKEN_REQUIRED,
    NGX_RTMP_COMPLIANCE_INTERNAL_ERROR,
    NGX_RTMP_COMPLIANCE_REASON_MAX
} ngx_rtmp_compliance_reason_e;


typedef enum {
    NGX_RTMP_COMPLIANCE_HMAC = 1,
    NGX_RTMP_COMPLIANCE_RSA,
    NGX_RTMP_COMPLIANCE_EC
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
    NGX_RTMP_COMPLIANCE_ALG_MAX
} ngx_rtmp_compliance_alg_e;


typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      family;
    const EVP_MD                 *(*md)(void);
    size_t                          ec_half;     /* bytes of R and of S */
} ngx_rtmp_compliance_alg_t;


typedef struct {
    ngx_str_t                       kid;         /* empty: no kid */
    ngx_str_t                       file;
    ngx_uint_t                      family;
    ngx_uint_t                      alg;         /* pinned alg, or 0 */
    EVP_PKEY                       *pkey;        /* RSA and EC */
    ngx_str_t                       secret;      /* HMAC */
} ngx_rtmp_compliance_key_t;


typedef struct {
    ngx_str_t                       name;
    ngx_flag_t                      publish;
    ngx_uint_t                      max_viewers; /* 0: unlimited */
    time_t                          max_duration; /* seconds, 0: none */
    size_t                          max_bitrate; /* bits/s, 0: none */
    ngx_flag_t                      ai_host;
    ngx_flag_t                      viewer_token;
} ngx_rtmp_compliance_tier_t;


typedef struct {
    ngx_flag_t                      enable;
    ngx_array_t                    *keys;        /* of _key_t */
    ngx_array_t                    *tiers;       /* of _tier_t */
    ngx_str_t                       issuer;
    ngx_str_t                       audience;
    time_t                          leeway;      /* seconds */
    ngx_msec_t                      recheck;
} ngx_rtmp_compliance_app_conf_t;


typedef struct {
    ngx_uint_t                      enabled;     /* any app has it on */
} ngx_rtmp_compliance_main_conf_t;


/* the verified claims of a token */

typedef struct {
    ngx_str_t                       scope;
    ngx_str_t                       sub;
    ngx_str_t                       pid;
    ngx_str_t                       room;
    ngx_str_t                       op;
    ngx_str_t                       mcn;
    ngx_str_t                       tier;
    ngx_str_t                       idv;
    ngx_str_t                       jti;
    ngx_str_t                       kid;
    time_t                          exp;
    time_t                          nbf;
    time_t                          iat;
    ngx_uint_t                      alg;
    unsigned                        ai:1;
    u_char                          hash[NGX_RTMP_COMPLIANCE_HASH_LEN + 1];
} ngx_rtmp_compliance_claims_t;


/* a place in an AMF message */

typedef struct {
    ngx_chain_t                    *cl;
    u_char                         *pos;
} ngx_rtmp_compliance_amf_t;


/* per RTMP session */

typedef struct {
    ngx_str_t                       connect_args; /* query of app/tcUrl */
    ngx_rtmp_compliance_claims_t    claims;
    ngx_rtmp_compliance_tier_t     *tier;
    ngx_str_t                       room;
    unsigned                        admitted:1;
} ngx_rtmp_compliance_ctx_t;


extern ngx_module_t  ngx_rtmp_compliance_module;

extern ngx_str_t     ngx_rtmp_compliance_reasons[];
extern ngx_rtmp_compliance_alg_t  ngx_rtmp_compliance_algs[];


/* ngx_rtmp_compliance_amf.c */
ngx_int_t ngx_rtmp_compliance_amf_stream_name(ngx_chain_t *in,
    u_char *buf, size_t size, ngx_str_t *name,
    ngx_rtmp_compliance_amf_t *at);
ngx_int_t ngx_rtmp_compliance_amf_connect(ngx_chain_t *in, u_char *buf,
    size_t size, ngx_str_t *app, ngx_str_t *tc_url,
    ngx_rtmp_compliance_amf_t *at);
void ngx_rtmp_compliance_amf_redact(ngx_rtmp_compliance_amf_t *at,
    size_t off, size_t len);

/* ngx_rtmp_compliance_key.c */
char *ngx_rtmp_compliance_key_load(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_str_t *alg);
ngx_uint_t ngx_rtmp_compliance_alg_by_name(u_char *name, size_t len);
ngx_int_t ngx_rtmp_compliance_key_verify(ngx_rtmp_compliance_key_t *key,
    ngx_uint_t alg, u_char *input, size_t len, u_char *sig, size_t siglen);

/* ngx_rtmp_compliance_token.c */
ngx_uint_t ngx_rtmp_compliance_token_verify(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_str_t *token,
    ngx_str_t *scope, ngx_pool_t *pool, ngx_rtmp_compliance_claims_t *cl,
    u_char *detail, size_t size);
void ngx_rtmp_compliance_token_hash(ngx_str_t *token, u_char *out);
ngx_str_t *ngx_rtmp_compliance_arg(ngx_str_t *args, ngx_str_t *name,
    ngx_str_t *value);


#endif /* _NGX_RTMP_COMPLIANCE_H_INCLUDED_ */
