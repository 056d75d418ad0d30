
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The two RTMP trees the module builds against, and what differs between
 * them for it, said once.  Debian's nginx-rtmp-module 1.2.2 and its fork
 * nginx-http-flv-module share the API the module uses; the fork adds
 * HTTP-FLV players.  config defines NGX_RTMP_COMPLIANCE_HTTP_FLV when the
 * RTMP tree is the fork (it has ngx_http_flv_live_module.h), and then
 * builds ngx_rtmp_compliance_flv.c (docs/http-flv.md).
 *
 * A player's protocol (proto) is kept in the zone and shown in the API,
 * the console and the audit log: rtmp, http-flv, hls.  An HLS viewer
 * (ngx_rtmp_compliance_hls.c) has no RTMP connection: it is a stand-in
 * session of the HTTP side, told apart by its context (ctx->hls).
 */


#ifndef _NGX_RTMP_COMPLIANCE_COMPAT_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_COMPAT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp.h"


#define NGX_RTMP_COMPLIANCE_PROTO_RTMP      0
#define NGX_RTMP_COMPLIANCE_PROTO_HTTP_FLV  1
#define NGX_RTMP_COMPLIANCE_PROTO_HLS       2
#define NGX_RTMP_COMPLIANCE_PROTO_MAX       3

#define ngx_rtmp_compliance_proto_name(p)                                    \
    ((p) == NGX_RTMP_COMPLIANCE_PROTO_HTTP_FLV ? "http-flv"                  \
     : (p) == NGX_RTMP_COMPLIANCE_PROTO_HLS ? "hls" : "rtmp")


#if (NGX_RTMP_COMPLIANCE_HTTP_FLV)

/*
 * the fork's HTTP-FLV player is a stand-in RTMP session whose data is
 * its ngx_http_request_t (a relay's is not a player's); nginx-rtmp's
 * session has no data
 */

#define ngx_rtmp_compliance_http_request(s)                                  \
    ((s)->relay ? NULL : (s)->data)

#else

#define ngx_rtmp_compliance_http_request(s)  NULL

#endif


#define ngx_rtmp_compliance_proto(s)                                         \
    (ngx_rtmp_compliance_http_request(s) != NULL                             \
     ? NGX_RTMP_COMPLIANCE_PROTO_HTTP_FLV : NGX_RTMP_COMPLIANCE_PROTO_RTMP)

/* the protocol of a session whose context is ctx: an HLS viewer's too */

#define ngx_rtmp_compliance_ctx_proto(s, ctx)                                \
    ((ctx)->hls ? NGX_RTMP_COMPLIANCE_PROTO_HLS : ngx_rtmp_compliance_proto(s))


/*
 * the first fields of nginx-rtmp's ngx_rtmp_hls_app_conf_t (private to
 * its ngx_rtmp_hls_module.c), the same in both trees: "hls", its fragment
 * length, "hls_nested" and "hls_path" (compliance_hls)
 */

typedef struct {
    ngx_flag_t                      hls;
    ngx_msec_t                      fraglen;
    ngx_msec_t                      max_fraglen;
    ngx_msec_t                      muxdelay;
    ngx_msec_t                      sync;
    ngx_msec_t                      playlen;
    ngx_uint_t                      winfrags;
    ngx_flag_t                      continuous;
    ngx_flag_t                      nested;
    ngx_str_t                       path;
} ngx_rtmp_compliance_hls_conf_t;

extern ngx_module_t  ngx_rtmp_hls_module;


#endif /* _NGX_RTMP_COMPLIANCE_COMPAT_H_INCLUDED_ */
