
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


extern ngx_module_t  ngx_http_compliance_hls_module;


#endif /* _NGX_RTMP_COMPLIANCE_HLS_H_INCLUDED_ */
