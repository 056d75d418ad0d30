
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_HLS_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_HLS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_rtmp_compliance.h"
#include "ngx_rtmp_compliance_compat.h"


/* the session parameter of an admitted HLS viewer: "cs=ID.MAC" */

#define NGX_RTMP_COMPLIANCE_HLS_MAC_LEN   32     /* hex, 128 bits */
#define NGX_RTMP_COMPLIANCE_HLS_CS_MAX    (NGX_INT64_LEN + 1                 \
                                           + NGX_RTMP_COMPLIANCE_HLS_MAC_LEN)


/* ngx_http_compliance_module's: the directive and its phases */

char *ngx_http_compliance_hls(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_compliance_hls_preconf(ngx_conf_t *cf);
ngx_int_t ngx_http_compliance_hls_init(ngx_conf_t *cf);
ngx_int_t ngx_http_compliance_hls_init_module(ngx_cycle_t *cycle);


#endif /* _NGX_RTMP_COMPLIANCE_HLS_H_INCLUDED_ */
