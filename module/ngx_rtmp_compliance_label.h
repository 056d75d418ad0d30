
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The AI-generated host label in the stream's metadata.
 */


#ifndef _NGX_RTMP_COMPLIANCE_LABEL_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_LABEL_H_INCLUDED_


#include "ngx_rtmp_compliance.h"


ngx_int_t ngx_rtmp_compliance_label(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
ngx_int_t ngx_rtmp_compliance_label_av(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);


#endif /* _NGX_RTMP_COMPLIANCE_LABEL_H_INCLUDED_ */
