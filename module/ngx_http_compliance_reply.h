
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_HTTP_COMPLIANCE_REPLY_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_rtmp_compliance.h"
#include "ngx_rtmp_compliance_compat.h"


ngx_int_t ngx_http_compliance_reply(ngx_http_request_t *r,
    ngx_uint_t status, ngx_uint_t reason, u_char *desc);
ngx_int_t ngx_http_compliance_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len);
ngx_int_t ngx_http_compliance_last_buf(ngx_http_request_t *r,
    u_char *data, size_t len, ngx_chain_t *out);
ngx_int_t ngx_rtmp_compliance_http_refuse(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason, u_char *desc);


#endif /* _NGX_HTTP_COMPLIANCE_REPLY_H_INCLUDED_ */
