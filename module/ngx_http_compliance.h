
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The module's http side, one nginx module (ngx_http_compliance_module.c:
 * its directives, confs and wiring) over the files of its concerns: the
 * control API (ngx_http_compliance_api.c), the console
 * (ngx_http_compliance_console.c), the HLS viewers
 * (ngx_rtmp_compliance_hls.c), their HTTP replies
 * (ngx_http_compliance_reply.c) and, with nginx-http-flv-module, the
 * HTTP-FLV players (ngx_rtmp_compliance_flv.c).  Their confs and the
 * request's context are these.
 */


#ifndef _NGX_HTTP_COMPLIANCE_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a compliance_api location and its server */

typedef struct {
    ngx_http_core_srv_conf_t       *server;
    ngx_http_core_loc_conf_t       *location;
    ngx_http_core_loc_conf_t       *except;      /* its limit_except */
} ngx_http_compliance_api_where_t;


typedef struct {
    ngx_array_t                     locations;   /* of _api_where_t */
} ngx_http_compliance_main_conf_t;


/* a compliance_console location's page */

typedef struct {
    ngx_str_t                       page;        /* with the API path */
    ngx_str_t                       csp;
} ngx_http_compliance_console_conf_t;


/* a compliance_hls location: the rtmp application it serves */

typedef struct {
    ngx_str_t                       app;
    ngx_msec_t                      idle;
    ngx_flag_t                      nested;
    void                          **main_conf;   /* the application's */
    void                          **srv_conf;
    void                          **app_conf;
    u_char                         *file;        /* where the directive is */
    ngx_uint_t                      line;
} ngx_http_compliance_hls_conf_t;


typedef struct {
    ngx_http_complex_value_t       *actor;       /* compliance_api_actor */
    ngx_http_compliance_console_conf_t  console;
    ngx_http_compliance_hls_conf_t  hls;
} ngx_http_compliance_loc_conf_t;


/*
 * a request's: the JSON that replaces nginx's error page of an API
 * location, the token an HTTP-FLV player gave, or the HLS viewer a
 * request serves (what it sends is added to the session's bytes_out)
 */

typedef struct {
    ngx_str_t                       json;
    ngx_uint_t                      sent;
    ngx_str_t                       token;
    uint64_t                        hls_id;      /* 0: no HLS viewer's */
    off_t                           hls_sent;    /* c->sent before it */
} ngx_http_compliance_ctx_t;


ngx_int_t ngx_http_compliance_add_handler(ngx_conf_t *cf,
    ngx_http_phases phase, ngx_http_handler_pt handler);


extern ngx_module_t  ngx_http_compliance_module;


#endif /* _NGX_HTTP_COMPLIANCE_H_INCLUDED_ */
