
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Tokens: a JWS verified with the configured keys, its claims checked.
 */


#ifndef _NGX_RTMP_COMPLIANCE_TOKEN_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_TOKEN_H_INCLUDED_


#include "ngx_rtmp_compliance.h"


ngx_uint_t ngx_rtmp_compliance_token_verify(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_str_t *token,
    ngx_str_t *scope, ngx_pool_t *pool, ngx_rtmp_compliance_claims_t *cl,
    u_char *detail, size_t size);
void ngx_rtmp_compliance_token_hash(ngx_str_t *token, u_char *out);
ngx_str_t *ngx_rtmp_compliance_arg(ngx_str_t *args, ngx_str_t *name,
    ngx_str_t *value);


#endif /* _NGX_RTMP_COMPLIANCE_TOKEN_H_INCLUDED_ */
