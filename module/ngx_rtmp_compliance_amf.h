
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Reading the raw connect, publish and play commands; a token redacted
 * and strings scrubbed in them.
 */


#ifndef _NGX_RTMP_COMPLIANCE_AMF_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_AMF_H_INCLUDED_


#include "ngx_rtmp_compliance.h"


/* a place in an AMF message */

typedef struct {
    ngx_chain_t                    *cl;
    u_char                         *pos;
} ngx_rtmp_compliance_amf_t;


/* the strings of connect's command object that are read */

typedef enum {
    NGX_RTMP_COMPLIANCE_CONNECT_APP = 0,
    NGX_RTMP_COMPLIANCE_CONNECT_TC_URL,
    NGX_RTMP_COMPLIANCE_CONNECT_SWF_URL,
    NGX_RTMP_COMPLIANCE_CONNECT_PAGE_URL,
    NGX_RTMP_COMPLIANCE_CONNECT_N
} ngx_rtmp_compliance_connect_e;


ngx_int_t ngx_rtmp_compliance_amf_stream_name(ngx_chain_t *in,
    u_char *buf, size_t size, ngx_str_t *name,
    ngx_rtmp_compliance_amf_t *at);
ngx_int_t ngx_rtmp_compliance_amf_connect(ngx_chain_t *in, u_char *buf,
    size_t size, ngx_str_t *v, ngx_rtmp_compliance_amf_t *at);
void ngx_rtmp_compliance_amf_scrub(ngx_chain_t *in);
void ngx_rtmp_compliance_amf_redact(ngx_rtmp_compliance_amf_t *at,
    size_t off, size_t len);


#endif /* _NGX_RTMP_COMPLIANCE_AMF_H_INCLUDED_ */
