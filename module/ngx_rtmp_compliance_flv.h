
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_FLV_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_FLV_H_INCLUDED_


#include "ngx_rtmp_compliance.h"
#include "ngx_rtmp_compliance_compat.h"


#if (NGX_RTMP_COMPLIANCE_HTTP_FLV)

/* postconfiguration of ngx_http_compliance_module: the players' hooks */
ngx_int_t ngx_http_compliance_flv_init(ngx_conf_t *cf);
ngx_int_t ngx_rtmp_compliance_flv_play(ngx_rtmp_session_t *s);

#endif


#endif /* _NGX_RTMP_COMPLIANCE_FLV_H_INCLUDED_ */
