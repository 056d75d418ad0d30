
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The module: its directives, configuration create and merge, and the
 * wiring of the other files at postconfiguration; at start the state file
 * is loaded into a new zone and the audit log repaired (init_module), and
 * each worker starts its part (init_process).  docs/hacking.md has the
 * map of the code.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance.h"
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_key.h"
#include "ngx_rtmp_compliance_tier.h"
#include "ngx_rtmp_compliance_state.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_fleet.h"
#include "ngx_rtmp_compliance_orders.h"
#include "ngx_rtmp_compliance_session.h"
#include "ngx_rtmp_compliance_record.h"
#include "ngx_rtmp_compliance_gate.h"
#include "ngx_rtmp_compliance_flood.h"


static ngx_int_t ngx_rtmp_compliance_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_rtmp_compliance_check(ngx_conf_t *cf,
    ngx_rtmp_compliance_main_conf_t *ccmcf);
static ngx_int_t ngx_rtmp_compliance_init_process(ngx_cycle_t *cycle);
static void ngx_rtmp_compliance_exit_process(ngx_cycle_t *cycle);
static void *ngx_rtmp_compliance_create_main_conf(ngx_conf_t *cf);
static void *ngx_rtmp_compliance_create_app_conf(ngx_conf_t *cf);
static char *ngx_rtmp_compliance_merge_app_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_rtmp_compliance_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_rtmp_compliance_check_apps(ngx_conf_t *cf,
    ngx_rtmp_compliance_main_conf_t *ccmcf, ngx_array_t *apps);
static ngx_int_t ngx_rtmp_compliance_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_rtmp_compliance_init_writable(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *ccmcf, ngx_uint_t made);


static ngx_conf_num_bounds_t  ngx_rtmp_compliance_backlog_bounds = {
    ngx_conf_check_num_bounds, 1, 65535
};


static ngx_command_t  ngx_rtmp_compliance_commands[] = {

    { ngx_string("compliance_zone"),
      NGX_RTMP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_rtmp_compliance_zone,
      NGX_RTMP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_state"),
      NGX_RTMP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_RTMP_MAIN_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_main_conf_t, state),
      NULL },

    { ngx_string("compliance_redis"),
      NGX_RTMP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_rtmp_compliance_redis,
      NGX_RTMP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_audit_log"),
      NGX_RTMP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_rtmp_compliance_audit_log,
      NGX_RTMP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_audit_sign"),
      NGX_RTMP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_rtmp_compliance_audit_sign,
      NGX_RTMP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_reject_summary"),
      NGX_RTMP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_rtmp_compliance_reject_summary,
      NGX_RTMP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_listen_backlog"),
      NGX_RTMP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_RTMP_MAIN_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_main_conf_t, backlog),
      &ngx_rtmp_compliance_backlog_bounds },

    { ngx_string("compliance"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, enable),
      NULL },

    { ngx_string("compliance_room_takeover"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, takeover),
      NULL },

    { ngx_string("compliance_session_expiry"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, session_expiry),
      NULL },

    { ngx_string("compliance_admission_timeout"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, admission_timeout),
      NULL },

    { ngx_string("compliance_key"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF
                        |NGX_CONF_TAKE123,
      ngx_rtmp_compliance_key,
      NGX_RTMP_APP_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_issuer"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, issuer),
      NULL },

    { ngx_string("compliance_audience"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, audience),
      NULL },

    { ngx_string("compliance_leeway"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, leeway),
      NULL },

    { ngx_string("compliance_tier"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF
                        |NGX_CONF_1MORE,
      ngx_rtmp_compliance_tier,
      NGX_RTMP_APP_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_recheck"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, recheck),
      NULL },

      ngx_null_command
};


static ngx_rtmp_module_t  ngx_rtmp_compliance_module_ctx = {
    NULL,                                   /* preconfiguration */
    ngx_rtmp_compliance_postconfiguration,  /* postconfiguration */
    ngx_rtmp_compliance_create_main_conf,   /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    ngx_rtmp_compliance_create_app_conf,    /* create app configuration */
    ngx_rtmp_compliance_merge_app_conf      /* merge app configuration */
};


ngx_module_t  ngx_rtmp_compliance_module = {
    NGX_MODULE_V1,
    &ngx_rtmp_compliance_module_ctx,        /* module context */
    ngx_rtmp_compliance_commands,           /* module directives */
    NGX_RTMP_MODULE,                        /* module type */
    NULL,                                   /* init master */
    ngx_rtmp_compliance_init_module,        /* init module */
    ngx_rtmp_compliance_init_process,       /* init process */
    NULL,                                   /* init thread */
    NULL,                                   /* exit thread */
    ngx_rtmp_compliance_exit_process,       /* exit process */
    NULL,                                   /* exit master */
    NGX_MODULE_V1_PADDING
};


#define NGX_RTMP_COMPLIANCE_REASON_STR(name, text)  ngx_string(text),

ngx_str_t  ngx_rtmp_compliance_reasons[] = {
    NGX_RTMP_COMPLIANCE_REASONS(NGX_RTMP_COMPLIANCE_REASON_STR)
    ngx_null_string
};


ngx_rtmp_compliance_main_conf_t  *ngx_rtmp_compliance_main;

ngx_rtmp_compliance_proto_t       ngx_rtmp_compliance_proto;


static void *
ngx_rtmp_compliance_create_main_conf(ngx_conf_t *cf)
{
    ngx_rtmp_compliance_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_rtmp_compliance_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->shm_zone = NULL;
     *     cmcf->state = { 0, NULL };
     */

    cmcf->audit = ngx_pcalloc(cf->pool, sizeof(ngx_rtmp_compliance_audit_t));
    cmcf->fleet = ngx_pcalloc(cf->pool, sizeof(ngx_rtmp_compliance_fleet_t));

    if (cmcf->audit == NULL || cmcf->fleet == NULL) {
        return NULL;
    }

    cmcf->state_fd = NGX_INVALID_FILE;
    cmcf->recheck = NGX_CONF_UNSET_MSEC;
    cmcf->backlog = NGX_CONF_UNSET;
    cmcf->cycle = cf->cycle;
    cmcf->node = cf->cycle->hostname;

    return cmcf;
}


static void *
ngx_rtmp_compliance_create_app_conf(ngx_conf_t *cf)
{
    ngx_rtmp_compliance_app_conf_t  *cacf;

    cacf = ngx_pcalloc(cf->pool, sizeof(ngx_rtmp_compliance_app_conf_t));
    if (cacf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cacf->keys = NULL;
     *     cacf->tiers = NULL;
     *     cacf->issuer = { 0, NULL };
     *     cacf->audience = { 0, NULL };
     */

    cacf->enable = NGX_CONF_UNSET;
    cacf->takeover = NGX_CONF_UNSET;
    cacf->admission_timeout = NGX_CONF_UNSET_MSEC;
    cacf->session_expiry = NGX_CONF_UNSET;
    cacf->leeway = NGX_CONF_UNSET;
    cacf->recheck = NGX_CONF_UNSET_MSEC;

    return cacf;
}


static char *
ngx_rtmp_compliance_merge_app_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_rtmp_compliance_app_conf_t *prev = parent;
    ngx_rtmp_compliance_app_conf_t *conf = child;

    ngx_rtmp_compliance_main_conf_t  *cmcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->takeover, prev->takeover, 1);
    ngx_conf_merge_msec_value(conf->admission_timeout,
                              prev->admission_timeout, 10000);
    ngx_conf_merge_value(conf->session_expiry, prev->session_expiry, 0);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 30);
    ngx_conf_merge_msec_value(conf->recheck, prev->recheck, 1000);

    if (conf->keys == NULL) {
        conf->keys = prev->keys;
    }

    if (conf->tiers == NULL) {
        conf->tiers = prev->tiers;
    }

    if (conf->recheck == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_recheck\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    if (conf->enable) {
        cmcf = ngx_rtmp_conf_get_module_main_conf(cf,
                                                  ngx_rtmp_compliance_module);
        cmcf->enabled = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_rtmp_compliance_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_compliance_app_conf_t *cacf = conf;

    ngx_str_t   *value, kid, alg;
    ngx_uint_t   i;

    value = cf->args->elts;

    ngx_str_null(&kid);
    ngx_str_null(&alg);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0) {
            kid.data = value[i].data + 4;
            kid.len = value[i].len - 4;

            if (kid.len == 0 || kid.len > NGX_RTMP_COMPLIANCE_KID_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid kid \"%V\", it must be 1 to %d "
                                   "bytes", &kid,
                                   NGX_RTMP_COMPLIANCE_KID_MAX);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            alg.data = value[i].data + 4;
            alg.len = value[i].len - 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (cacf->keys == NULL) {
        cacf->keys = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_rtmp_compliance_key_t));
        if (cacf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* a PEM or HMAC file adds one key, a JWKS each of its keys */

    return ngx_rtmp_compliance_key_add(cf, cacf->keys, &value[1], &kid,
                                       &alg);
}


/* checks across directives, then the other files are wired in */

static ngx_int_t
ngx_rtmp_compliance_postconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t                        i;
    ngx_rtmp_core_srv_conf_t        **cscf;
    ngx_rtmp_core_main_conf_t        *cmcf;
    ngx_rtmp_compliance_main_conf_t  *ccmcf;

    ccmcf = ngx_rtmp_conf_get_module_main_conf(cf,
                                               ngx_rtmp_compliance_module);

    if (ngx_rtmp_compliance_sha256_init(cf) != NGX_OK
        || ngx_rtmp_compliance_check(cf, ccmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ccmcf->state.len
        && ngx_conf_full_name(cf->cycle, &ccmcf->state, 0) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ccmcf->zone) {
        ngx_rtmp_compliance_zone_conf(ccmcf->zone, &ccmcf->state,
                                      &ccmcf->audit->dir, &ccmcf->node,
                                      ccmcf->fleet->enabled);
    }

    ccmcf->fleet->entry = ngx_rtmp_compliance_order_fleet_entry;

    if (!ccmcf->enabled) {
        return NGX_OK;
    }

    cmcf = ngx_rtmp_conf_get_module_main_conf(cf, ngx_rtmp_core_module);

    cscf = cmcf->servers.elts;

    for (i = 0; i < cmcf->servers.nelts; i++) {
        if (ngx_rtmp_compliance_check_apps(cf, ccmcf,
                                           &cscf[i]->applications)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ccmcf->recheck == NGX_CONF_UNSET_MSEC) {
        ccmcf->recheck = 1000;
    }

    if (ngx_rtmp_compliance_gate_init(cf, cmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ccmcf->audit->dir.len) {
        ngx_rtmp_compliance_record_init();
    }

    return NGX_OK;
}


/* main-level directives that need each other */

static ngx_int_t
ngx_rtmp_compliance_check(ngx_conf_t *cf,
    ngx_rtmp_compliance_main_conf_t *ccmcf)
{
    if ((ccmcf->state.len || ccmcf->audit->dir.len || ccmcf->fleet->enabled)
        && ccmcf->shm_zone == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"compliance_zone\" in the "
                           "rtmp block", ccmcf->state.len
                                         ? "compliance_state"
                                         : ccmcf->audit->dir.len
                                           ? "compliance_audit_log"
                                           : "compliance_redis");
        return NGX_ERROR;
    }

    if (ccmcf->fleet->enabled && ccmcf->state.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_redis\" requires "
                           "\"compliance_state\": what the node has to "
                           "publish and where it is in the stream must "
                           "survive a restart");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * in the master, once the zone is there: a zone just made gets the orders
 * of the state file, and the audit log's chain is picked up where it
 * ended.  nginx -t only checks that both can be done: the running
 * server's files are not its to touch.  A reload keeps the zone (a new
 * one is refused by the zone's init), so this loads nothing then.
 */

static ngx_int_t
ngx_rtmp_compliance_init_module(ngx_cycle_t *cycle)
{
    ngx_rtmp_conf_ctx_t              *ctx;
    ngx_rtmp_compliance_main_conf_t  *ccmcf;

    ctx = (ngx_rtmp_conf_ctx_t *) cycle->conf_ctx[ngx_rtmp_module.index];
    if (ctx == NULL) {
        return NGX_OK;
    }

    ccmcf = ctx->main_conf[ngx_rtmp_compliance_module.ctx_index];

    if (!ngx_test_config) {
        ngx_rtmp_compliance_gate_backlog(cycle, ccmcf->backlog);
    }

    if (ccmcf->zone == NULL || !ccmcf->zone->fresh) {
        return NGX_OK;
    }

    if (ngx_test_config) {
        if (ccmcf->state.len
            && ngx_rtmp_compliance_state_test(ccmcf, cycle->log) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_rtmp_compliance_audit_test(ccmcf, cycle->log) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_rtmp_compliance_init_writable(cycle, ccmcf, 0);
    }

    if (ccmcf->state.len
        && ngx_rtmp_compliance_state_load(ccmcf, cycle->log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_rtmp_compliance_audit_init(ccmcf, cycle->log) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_rtmp_compliance_init_writable(cycle, ccmcf, 1);
}


/*
 * the state file and the audit log's directory, as the workers will see
 * them; made: at start, once the master has made them
 */

static ngx_int_t
ngx_rtmp_compliance_init_writable(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *ccmcf, ngx_uint_t made)
{
    if (ngx_rtmp_compliance_workers_can_write(cycle, "compliance_state",
                                              &ccmcf->state, made,
                                              cycle->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_rtmp_compliance_workers_can_write(cycle,
                                                 "compliance_audit_log",
                                                 &ccmcf->audit->dir, made,
                                                 cycle->log);
}


/*
 * each worker: its sessions, the audit log's descriptor, the timers (our
 * module comes after nginx's event modules, so the timers can be added
 * here: see config)
 */

static ngx_int_t
ngx_rtmp_compliance_init_process(ngx_cycle_t *cycle)
{
    ngx_rtmp_conf_ctx_t              *ctx;
    ngx_rtmp_compliance_main_conf_t  *ccmcf;

    ctx = (ngx_rtmp_conf_ctx_t *) cycle->conf_ctx[ngx_rtmp_module.index];
    if (ctx == NULL) {
        ngx_rtmp_compliance_main = NULL;
        return NGX_OK;
    }

    ccmcf = ctx->main_conf[ngx_rtmp_compliance_module.ctx_index];

    ccmcf->state_fd = NGX_INVALID_FILE;
    ngx_rtmp_compliance_main = ccmcf;

    if (ngx_rtmp_compliance_session_init_process(cycle, ccmcf) != NGX_OK
        || ngx_rtmp_compliance_audit_init_process(cycle, ccmcf) != NGX_OK
        || ngx_rtmp_compliance_audit_timers_start(cycle, ccmcf) != NGX_OK
        || ngx_rtmp_compliance_fleet_init_process(cycle, ccmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_rtmp_compliance_exit_process(ngx_cycle_t *cycle)
{
    ngx_rtmp_compliance_session_exit_process();

    if (ngx_rtmp_compliance_main) {
        ngx_rtmp_compliance_flood_flush(1);
        ngx_rtmp_compliance_fleet_exit(ngx_rtmp_compliance_main);
        ngx_rtmp_compliance_audit_exit_process(ngx_rtmp_compliance_main);
    }
}


/* an application with compliance on needs keys and tiers */

static ngx_int_t
ngx_rtmp_compliance_check_apps(ngx_conf_t *cf,
    ngx_rtmp_compliance_main_conf_t *ccmcf, ngx_array_t *apps)
{
    char                            *missing;
    ngx_uint_t                       i;
    ngx_rtmp_core_app_conf_t       **cacfp;
    ngx_rtmp_compliance_app_conf_t  *cacf;

    cacfp = apps->elts;

    for (i = 0; i < apps->nelts; i++) {
        cacf = cacfp[i]->app_conf[ngx_rtmp_compliance_module.ctx_index];

        missing = NULL;

        if (cacf->enable && cacf->keys == NULL) {
            missing = "compliance_key";

        } else if (cacf->enable && cacf->tiers == NULL) {
            missing = "compliance_tier";
        }

        if (missing) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"compliance\" is on in application \"%V\" "
                               "but no \"%s\" applies to it; add one to "
                               "the application or above it",
                               &cacfp[i]->name, missing);
            return NGX_ERROR;
        }

        if (cacf->enable
            && ngx_rtmp_compliance_tier_names_add(cf, ccmcf, cacf) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (cacf->enable && cacf->recheck < ccmcf->recheck) {
            ccmcf->recheck = cacf->recheck;
        }

        if (ngx_rtmp_compliance_check_apps(cf, ccmcf,
                                           &cacfp[i]->applications)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
