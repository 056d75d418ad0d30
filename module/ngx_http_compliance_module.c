
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * ngx_http_compliance_module: the directives of the module's http side,
 * its confs, and the wiring of its concerns at postconfiguration (the
 * API's error-page filters, the HTTP-FLV players' preaccess handler).
 * What each does is in its own file (see ngx_http_compliance.h, the small
 * common header of the http side: the conf and context types, the module
 * variable).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_compliance.h"
#include "ngx_http_compliance_api.h"
#include "ngx_http_compliance_console.h"
#include "ngx_http_compliance_reply.h"
#include "ngx_rtmp_compliance_flv.h"
#include "ngx_rtmp_compliance_hls.h"


static void *ngx_http_compliance_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_compliance_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_compliance_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_compliance_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_compliance_init_module(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_compliance_commands[] = {

    { ngx_string("compliance_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_compliance_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_api_actor"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, actor),
      NULL },

    { ngx_string("compliance_console"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_compliance_console,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, console),
      NULL },

    { ngx_string("compliance_hls"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_compliance_hls,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, hls),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_compliance_module_ctx = {
    ngx_http_compliance_hls_preconf,        /* preconfiguration */
    ngx_http_compliance_init,               /* postconfiguration */

    ngx_http_compliance_create_main_conf,   /* create main configuration */
    NULL,                                   /* init main configuration */

    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */

    ngx_http_compliance_create_loc_conf,    /* create location configuration */
    ngx_http_compliance_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_compliance_module = {
    NGX_MODULE_V1,
    &ngx_http_compliance_module_ctx,        /* module context */
    ngx_http_compliance_commands,           /* module directives */
    NGX_HTTP_MODULE,                        /* module type */
    NULL,                                   /* init master */
    ngx_http_compliance_init_module,        /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* init thread */
    NULL,                                   /* exit thread */
    NULL,                                   /* exit process */
    NULL,                                   /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_compliance_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_compliance_main_conf_t  *hmcf;

    hmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_main_conf_t));
    if (hmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&hmcf->locations, cf->pool, 2,
                       sizeof(ngx_http_compliance_api_where_t))
        != NGX_OK)
    {
        return NULL;
    }

    return hmcf;
}


static void *
ngx_http_compliance_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_compliance_loc_conf_t  *hlcf;

    hlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_loc_conf_t));
    if (hlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     hlcf->console.page = { 0, NULL };
     *     hlcf->console.csp = { 0, NULL };
     *     hlcf->hls.app = { 0, NULL };
     */

    hlcf->actor = NGX_CONF_UNSET_PTR;
    hlcf->hls.idle = NGX_CONF_UNSET_MSEC;

    return hlcf;
}


/* the console's page and the HLS application are their location's own */

static char *
ngx_http_compliance_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_compliance_loc_conf_t  *prev = parent;
    ngx_http_compliance_loc_conf_t  *conf = child;

    ngx_conf_merge_ptr_value(conf->actor, prev->actor, NULL);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_compliance_init(ngx_conf_t *cf)
{
    if (ngx_http_compliance_api_init(cf) != NGX_OK
        || ngx_http_compliance_hls_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

#if (NGX_RTMP_COMPLIANCE_HTTP_FLV)
    if (ngx_http_compliance_flv_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }
#endif

    /* the gate refuses HLS viewers and HTTP-FLV players the HTTP way */

    ngx_rtmp_compliance_proto.refuse = ngx_rtmp_compliance_http_refuse;

    return NGX_OK;
}


/* a handler of HLS or HTTP-FLV at a phase of every request */

ngx_int_t
ngx_http_compliance_add_handler(ngx_conf_t *cf, ngx_http_phases phase,
    ngx_http_handler_pt handler)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[phase].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = handler;

    return NGX_OK;
}


/* once the rtmp{} block is read too: what the HLS locations serve */

static ngx_int_t
ngx_http_compliance_init_module(ngx_cycle_t *cycle)
{
    return ngx_http_compliance_hls_init_module(cycle);
}
