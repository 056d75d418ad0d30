
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The identity gate: configuration, and the connect and publish hooks.
 *
 * Our AMF handlers for "connect" and "publish" are put in front of
 * nginx-rtmp's own, so a publish is decided on the raw command (tokens
 * are longer than nginx-rtmp's 256-byte name buffer) before live, record,
 * exec or notify see it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_rtmp_compliance.h"
#include "ngx_rtmp_cmd_module.h"


#define NGX_RTMP_COMPLIANCE_LOG_NAME      128


typedef struct {
    ngx_str_t                       name;
    ngx_conf_enum_t                *values;
    size_t                          offset;
} ngx_rtmp_compliance_tier_flag_t;


static ngx_int_t ngx_rtmp_compliance_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_rtmp_compliance_init_process(ngx_cycle_t *cycle);
static void ngx_rtmp_compliance_exit_process(ngx_cycle_t *cycle);
static char *ngx_rtmp_compliance_state(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_rtmp_compliance_create_main_conf(ngx_conf_t *cf);
static void *ngx_rtmp_compliance_create_app_conf(ngx_conf_t *cf);
static char *ngx_rtmp_compliance_merge_app_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_rtmp_compliance_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rtmp_compliance_tier(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_rtmp_compliance_parse_rate(ngx_str_t *s, size_t *rate);
static ngx_int_t ngx_rtmp_compliance_check_apps(ngx_conf_t *cf,
    ngx_rtmp_compliance_main_conf_t *ccmcf, ngx_array_t *apps);
static ngx_int_t ngx_rtmp_compliance_add_amf(ngx_conf_t *cf,
    ngx_rtmp_core_main_conf_t *cmcf, char *name, ngx_rtmp_handler_pt h);

static ngx_rtmp_compliance_ctx_t *ngx_rtmp_compliance_get_ctx(
    ngx_rtmp_session_t *s);
static ngx_int_t ngx_rtmp_compliance_connect(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_quickack(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_publish(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_play(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ngx_uint_t ngx_rtmp_compliance_play_token(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *name, ngx_rtmp_compliance_amf_t *at, u_char *detail,
    size_t size);
static ngx_int_t ngx_rtmp_compliance_close_stream(ngx_rtmp_session_t *s,
    ngx_rtmp_close_stream_t *v);
static ngx_uint_t ngx_rtmp_compliance_admit_publish(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *room, ngx_str_t *token, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_reject(ngx_rtmp_session_t *s,
    ngx_uint_t play, ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason,
    u_char *detail);
static ngx_int_t ngx_rtmp_compliance_set_room(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_str_t *room);
static ngx_uint_t ngx_rtmp_compliance_accept(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, u_char *detail, size_t size);
static u_char *ngx_rtmp_compliance_log_name(u_char *dst, ngx_str_t *src);
static u_char *ngx_rtmp_compliance_log_field(u_char *p, u_char *last,
    char *name, ngx_str_t *v);


static ngx_conf_enum_t  ngx_rtmp_compliance_on_off[] = {
    { ngx_string("on"), 1 },
    { ngx_string("off"), 0 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_rtmp_compliance_ai_host[] = {
    { ngx_string("deny"), 0 },
    { ngx_string("allow"), 1 },
    { ngx_null_string, 0 }
};


/* the on/off-like parameters of compliance_tier */

static ngx_rtmp_compliance_tier_flag_t  ngx_rtmp_compliance_tier_flags[] = {
    { ngx_string("publish="), ngx_rtmp_compliance_on_off,
      offsetof(ngx_rtmp_compliance_tier_t, publish) },
    { ngx_string("viewer_token="), ngx_rtmp_compliance_on_off,
      offsetof(ngx_rtmp_compliance_tier_t, viewer_token) },
    { ngx_string("ai_host="), ngx_rtmp_compliance_ai_host,
      offsetof(ngx_rtmp_compliance_tier_t, ai_host) },
    { ngx_null_string, NULL, 0 }
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
      ngx_rtmp_compliance_state,
      NGX_RTMP_MAIN_CONF_OFFSET,
      0,
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

    { ngx_string("compliance"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_compliance_app_conf_t, enable),
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
    NULL,                                   /* init module */
    ngx_rtmp_compliance_init_process,       /* init process */
    NULL,                                   /* init thread */
    NULL,                                   /* exit thread */
    ngx_rtmp_compliance_exit_process,       /* exit process */
    NULL,                                   /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_rtmp_close_stream_pt  next_close_stream;

static ngx_str_t  ngx_rtmp_compliance_token_arg = ngx_string("token");
static ngx_str_t  ngx_rtmp_compliance_scope_publish = ngx_string("publish");
static ngx_str_t  ngx_rtmp_compliance_scope_play = ngx_string("play");


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

    cmcf->state_fd = NGX_INVALID_FILE;
    cmcf->recheck = NGX_CONF_UNSET_MSEC;
    cmcf->cycle = cf->cycle;
    cmcf->node = cf->cycle->hostname;

    return cmcf;
}


static char *
ngx_rtmp_compliance_state(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_compliance_main_conf_t *ccmcf = conf;

    ngx_str_t  *value;

    if (ccmcf->state.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ccmcf->state = value[1];

    if (ngx_conf_full_name(cf->cycle, &ccmcf->state, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
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

    char                       *rv;
    ngx_str_t                  *value, alg;
    ngx_uint_t                  i;
    ngx_rtmp_compliance_key_t  *key, *k;

    value = cf->args->elts;

    if (cacf->keys == NULL) {
        cacf->keys = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_rtmp_compliance_key_t));
        if (cacf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    key = ngx_array_push(cacf->keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_rtmp_compliance_key_t));
    ngx_str_null(&alg);

    key->file = value[1];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0) {
            key->kid.data = value[i].data + 4;
            key->kid.len = value[i].len - 4;

            if (key->kid.len == 0
                || key->kid.len > NGX_RTMP_COMPLIANCE_KID_MAX)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid kid \"%V\", it must be 1 to %d "
                                   "bytes", &key->kid,
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

    k = cacf->keys->elts;

    for (i = 0; i < cacf->keys->nelts - 1; i++) {
        if (k[i].kid.len == key->kid.len
            && ngx_strncmp(k[i].kid.data, key->kid.data, key->kid.len) == 0)
        {
            if (key->kid.len) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate key kid \"%V\"", &key->kid);

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "more than one \"compliance_key\" "
                                   "without kid=, give each a kid=");
            }

            return NGX_CONF_ERROR;
        }
    }

    rv = ngx_rtmp_compliance_key_load(cf, key, &alg);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return NGX_CONF_OK;
}


static char *
ngx_rtmp_compliance_tier(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_compliance_app_conf_t *cacf = conf;

    time_t                            sec;
    ngx_int_t                         n;
    ngx_str_t                        *value, v;
    ngx_uint_t                        i, j;
    ngx_conf_enum_t                  *e;
    ngx_rtmp_compliance_tier_t       *tier, *t;
    ngx_rtmp_compliance_tier_flag_t  *p;

    value = cf->args->elts;

    if (cacf->tiers == NULL) {
        cacf->tiers = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_rtmp_compliance_tier_t));
        if (cacf->tiers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    t = cacf->tiers->elts;

    for (i = 0; i < cacf->tiers->nelts; i++) {
        if (t[i].name.len == value[1].len
            && ngx_strncmp(t[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate tier \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0 || value[1].len > NGX_RTMP_COMPLIANCE_CLAIM_MAX
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '=')
           != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid tier name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    tier = ngx_array_push(cacf->tiers);
    if (tier == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(tier, sizeof(ngx_rtmp_compliance_tier_t));

    tier->name = value[1];
    tier->publish = 1;

    for (i = 2; i < cf->args->nelts; i++) {

        for (p = ngx_rtmp_compliance_tier_flags; p->name.len; p++) {
            if (value[i].len > p->name.len
                && ngx_strncmp(value[i].data, p->name.data, p->name.len) == 0)
            {
                break;
            }
        }

        if (p->name.len) {
            v.data = value[i].data + p->name.len;
            v.len = value[i].len - p->name.len;

            for (e = p->values; e->name.len; e++) {
                if (e->name.len == v.len
                    && ngx_strncmp(e->name.data, v.data, v.len) == 0)
                {
                    break;
                }
            }

            if (e->name.len == 0) {
                goto invalid;
            }

            *(ngx_flag_t *) ((char *) tier + p->offset) = e->value;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_viewers=", 12) == 0) {
            n = ngx_atoi(value[i].data + 12, value[i].len - 12);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            tier->max_viewers = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_duration=", 13) == 0) {
            v.data = value[i].data + 13;
            v.len = value[i].len - 13;

            sec = ngx_parse_time(&v, 1);
            if (sec == (time_t) NGX_ERROR) {
                goto invalid;
            }

            tier->max_duration = sec;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_bitrate=", 12) == 0) {
            v.data = value[i].data + 12;
            v.len = value[i].len - 12;

            if (ngx_rtmp_compliance_parse_rate(&v, &tier->max_bitrate)
                != NGX_OK)
            {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    for (j = 0; j < sizeof("max_duration=") && j < value[i].len; j++) {
        if (value[i].data[j] == '=') {
            break;
        }
    }

    if (j < value[i].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in tier \"%V\"",
                           &value[i], &value[1]);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in tier \"%V\"",
                           &value[i], &value[1]);
    }

    return NGX_CONF_ERROR;
}


/* bits per second: "800000", "2500k", "6m", "1g" (powers of 1000) */

static ngx_int_t
ngx_rtmp_compliance_parse_rate(ngx_str_t *s, size_t *rate)
{
    size_t     len, scale;
    ngx_int_t  n;

    len = s->len;
    scale = 1;

    if (len == 0) {
        return NGX_ERROR;
    }

    switch (s->data[len - 1]) {
    case 'k':
    case 'K':
        scale = 1000;
        len--;
        break;
    case 'm':
    case 'M':
        scale = 1000000;
        len--;
        break;
    case 'g':
    case 'G':
        scale = 1000000000;
        len--;
        break;
    }

    n = ngx_atoi(s->data, len);

    if (n == NGX_ERROR || (size_t) n > NGX_MAX_SIZE_T_VALUE / scale) {
        return NGX_ERROR;
    }

    *rate = (size_t) n * scale;

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_postconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t                        i;
    ngx_rtmp_handler_pt              *eh;
    ngx_rtmp_amf_handler_t           *h;
    ngx_rtmp_core_srv_conf_t        **cscf;
    ngx_rtmp_core_main_conf_t        *cmcf;
    ngx_rtmp_compliance_main_conf_t  *ccmcf;

    ccmcf = ngx_rtmp_conf_get_module_main_conf(cf,
                                               ngx_rtmp_compliance_module);

    if (ngx_rtmp_compliance_sha256_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if ((ccmcf->state.len || ccmcf->audit.dir.len || ccmcf->fleet.enabled)
        && ccmcf->shm_zone == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"compliance_zone\" in the "
                           "rtmp block", ccmcf->state.len
                                         ? "compliance_state"
                                         : ccmcf->audit.dir.len
                                           ? "compliance_audit_log"
                                           : "compliance_redis");
        return NGX_ERROR;
    }

    if (ccmcf->fleet.enabled && ccmcf->state.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_redis\" requires "
                           "\"compliance_state\": what the node has to "
                           "publish and where it is in the stream must "
                           "survive a restart");
        return NGX_ERROR;
    }

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

    if (ngx_rtmp_compliance_add_amf(cf, cmcf, "connect",
                                    ngx_rtmp_compliance_connect)
        != NGX_OK
        || ngx_rtmp_compliance_add_amf(cf, cmcf, "releaseStream",
                                       ngx_rtmp_compliance_quickack)
           != NGX_OK
        || ngx_rtmp_compliance_add_amf(cf, cmcf, "FCPublish",
                                       ngx_rtmp_compliance_quickack)
           != NGX_OK
        || ngx_rtmp_compliance_add_amf(cf, cmcf, "createStream",
                                       ngx_rtmp_compliance_quickack)
           != NGX_OK
        || ngx_rtmp_compliance_add_amf(cf, cmcf, "publish",
                                       ngx_rtmp_compliance_publish)
           != NGX_OK
        || ngx_rtmp_compliance_add_amf(cf, cmcf, "play",
                                       ngx_rtmp_compliance_play)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* after nginx-rtmp's codec module has built the metadata */

    for (i = 0; i < 2; i++) {
        h = ngx_array_push(&cmcf->amf);
        if (h == NULL) {
            return NGX_ERROR;
        }

        if (i == 0) {
            ngx_str_set(&h->name, "@setDataFrame");

        } else {
            ngx_str_set(&h->name, "onMetaData");
        }

        h->handler = ngx_rtmp_compliance_label;
    }

    /* after the codec module's own handlers of audio and video */

    eh = ngx_array_push(&cmcf->events[NGX_RTMP_MSG_AUDIO]);
    if (eh == NULL) {
        return NGX_ERROR;
    }

    *eh = ngx_rtmp_compliance_label_av;

    eh = ngx_array_push(&cmcf->events[NGX_RTMP_MSG_VIDEO]);
    if (eh == NULL) {
        return NGX_ERROR;
    }

    *eh = ngx_rtmp_compliance_label_av;

    next_close_stream = ngx_rtmp_close_stream;
    ngx_rtmp_close_stream = ngx_rtmp_compliance_close_stream;

    if (ccmcf->audit.dir.len) {
        ngx_rtmp_compliance_record_init();
    }

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_init_process(ngx_cycle_t *cycle)
{
    ngx_rtmp_conf_ctx_t              *ctx;
    ngx_rtmp_compliance_main_conf_t  *ccmcf;

    ngx_rtmp_compliance_main = NULL;

    ctx = (ngx_rtmp_conf_ctx_t *) cycle->conf_ctx[ngx_rtmp_module.index];
    if (ctx == NULL) {
        return NGX_OK;
    }

    ccmcf = ctx->main_conf[ngx_rtmp_compliance_module.ctx_index];

    if (ngx_rtmp_compliance_session_init_process(cycle, ccmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_rtmp_compliance_audit_init_process(cycle, ccmcf);
}


static void
ngx_rtmp_compliance_exit_process(ngx_cycle_t *cycle)
{
    ngx_rtmp_compliance_session_exit_process();

    if (ngx_rtmp_compliance_main) {
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


/* our handler goes first of those for the command */

static ngx_int_t
ngx_rtmp_compliance_add_amf(ngx_conf_t *cf, ngx_rtmp_core_main_conf_t *cmcf,
    char *name, ngx_rtmp_handler_pt handler)
{
    ngx_rtmp_amf_handler_t  *h;

    h = ngx_array_push(&cmcf->amf);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = cmcf->amf.elts;

    ngx_memmove(&h[1], &h[0],
                (cmcf->amf.nelts - 1) * sizeof(ngx_rtmp_amf_handler_t));

    h[0].name.data = (u_char *) name;
    h[0].name.len = ngx_strlen(name);
    h[0].handler = handler;

    return NGX_OK;
}


static ngx_rtmp_compliance_ctx_t *
ngx_rtmp_compliance_get_ctx(ngx_rtmp_session_t *s)
{
    ngx_rtmp_compliance_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(s->connection->pool,
                          sizeof(ngx_rtmp_compliance_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_rtmp_set_ctx(s, ctx, ngx_rtmp_compliance_module);
    }

    return ctx;
}


/*
 * nginx-rtmp never sets TCP_NODELAY: an encoder waits on Nagle and delayed
 * ACKs at every step of the handshake of commands (ffmpeg: ~180 ms to
 * Publish.Start).  Set at connect, with a quick ACK re-armed at each
 * command until the stream is admitted (Linux clears TCP_QUICKACK).
 */

static ngx_int_t
ngx_rtmp_compliance_quickack(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
#if (NGX_LINUX) && defined(TCP_QUICKACK)
    int  on;

    on = 1;

    (void) setsockopt(s->connection->fd, IPPROTO_TCP, TCP_QUICKACK,
                      (const void *) &on, sizeof(int));
#endif

    return NGX_OK;
}


/* keep the query parts of tcUrl and app: a token may come in them */

static ngx_int_t
ngx_rtmp_compliance_connect(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    u_char                     *p, *q;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_str_t                   app, tc_url, a[2], token;
    ngx_uint_t                  i;
    ngx_rtmp_compliance_ctx_t  *ctx;
    ngx_rtmp_compliance_amf_t   at[2];

    static u_char               buf[2 * NGX_RTMP_COMPLIANCE_NAME_MAX];

    if (s->connection->tcp_nodelay == NGX_TCP_NODELAY_UNSET) {
        (void) ngx_tcp_nodelay(s->connection);
    }

    (void) ngx_rtmp_compliance_quickack(s, h, in);

    rc = ngx_rtmp_compliance_amf_connect(in, buf, sizeof(buf), &app, &tc_url,
                                         at);

    if (rc == NGX_DECLINED) {
        /* a token there would be too long: publish and play will say so */

        ctx = ngx_rtmp_compliance_get_ctx(s);
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ctx->connect_oversize = 1;
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        /* nginx-rtmp's own handler decides on a broken connect */
        return NGX_OK;
    }

    len = 0;
    ngx_str_null(&a[0]);
    ngx_str_null(&a[1]);

    p = tc_url.len ? ngx_strlchr(tc_url.data, tc_url.data + tc_url.len, '?')
                   : NULL;
    if (p) {
        a[0].data = p + 1;
        a[0].len = tc_url.data + tc_url.len - a[0].data;
    }

    p = app.len ? ngx_strlchr(app.data, app.data + app.len, '?') : NULL;
    if (p) {
        a[1].data = p + 1;
        a[1].len = app.data + app.len - a[1].data;
    }

    /* empty queries count for nothing */
    len = (a[0].len ? a[0].len + 1 : 0) + (a[1].len ? a[1].len + 1 : 0);

    if (len == 0) {
        return NGX_OK;
    }

    ctx = ngx_rtmp_compliance_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    q = ngx_pnalloc(s->connection->pool, len);
    if (q == NULL) {
        return NGX_ERROR;
    }

    ctx->connect_args.data = q;

    for (i = 0; i < 2; i++) {
        if (a[i].len) {
            q = ngx_cpymem(q, a[i].data, a[i].len);
            *q++ = '&';
        }
    }

    ctx->connect_args.len = q - ctx->connect_args.data - 1;

    for (i = 0; i < 2; i++) {
        if (ngx_rtmp_compliance_arg(&a[i], &ngx_rtmp_compliance_token_arg,
                                    &token))
        {
            ngx_rtmp_compliance_amf_redact(&at[1 - i],
                                           token.data - (i ? app.data
                                                           : tc_url.data),
                                           token.len);
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_publish(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    u_char                          *q;
    ngx_int_t                        rc;
    ngx_str_t                        name, room, args, token;
    ngx_uint_t                       reason, redact;
    u_char                          *p, *last;
    ngx_rtmp_compliance_ctx_t       *ctx;
    ngx_rtmp_compliance_claims_t    *cl;
    ngx_rtmp_compliance_app_conf_t  *cacf;
    ngx_rtmp_compliance_amf_t        at;
    u_char                           detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    static u_char                    buf[NGX_RTMP_COMPLIANCE_NAME_MAX];
    static u_char                    line[4096];

    if (s->app_conf == NULL) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "compliance: publish before connect");
        return NGX_ERROR;
    }

    cacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module);

    (void) ngx_rtmp_compliance_quickack(s, h, in);

    if (!cacf->enable) {
        return NGX_OK;
    }

    ctx = ngx_rtmp_compliance_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->admitted = 0;
    ctx->labelled = 0;
    ctx->tier = NULL;
    ctx->why = 0;
    ngx_str_null(&ctx->room);

    cl = &ctx->claims;
    ngx_memzero(cl, sizeof(ngx_rtmp_compliance_claims_t));

    rc = ngx_rtmp_compliance_amf_stream_name(in, buf, sizeof(buf), &name,
                                             &at);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "compliance: malformed publish command");
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_snprintf(detail, sizeof(detail), "stream name and arguments "
                     "are longer than %d bytes%Z",
                     NGX_RTMP_COMPLIANCE_NAME_MAX);
        return ngx_rtmp_compliance_reject(s, 0, ctx,
                                          NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED,
                                          detail);
    }

    room = name;
    ngx_str_null(&args);

    q = ngx_strlchr(name.data, name.data + name.len, '?');
    if (q) {
        room.len = q - name.data;
        args.data = q + 1;
        args.len = name.data + name.len - args.data;
    }

    if (ngx_rtmp_compliance_set_room(s, ctx, &room) != NGX_OK) {
        return NGX_ERROR;
    }

    if (room.len >= NGX_RTMP_MAX_NAME) {
        /* nginx-rtmp would cut it: the stream would not be the room */
        ngx_snprintf(detail, sizeof(detail), "room names are at most %d "
                     "bytes%Z", NGX_RTMP_MAX_NAME - 1);
        return ngx_rtmp_compliance_reject(s, 0, ctx,
                                          NGX_RTMP_COMPLIANCE_ROOM_MISMATCH,
                                          detail);
    }

    redact = 1;

    if (ngx_rtmp_compliance_arg(&args, &ngx_rtmp_compliance_token_arg,
                                &token)
        == NULL)
    {
        redact = 0;

        if (ngx_rtmp_compliance_arg(&ctx->connect_args,
                                    &ngx_rtmp_compliance_token_arg, &token)
            == NULL)
        {
            ngx_str_null(&token);
        }
    }

    if (ctx->node) {
        /* another publish on the same connection */
        ngx_rtmp_compliance_session_close(ctx);
    }

    ctx->kind = NGX_RTMP_COMPLIANCE_PUBLISHER;

    reason = ngx_rtmp_compliance_admit_publish(s, cacf, ctx, &room, &token,
                                               detail, sizeof(detail));

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        reason = ngx_rtmp_compliance_accept(s, ctx, detail, sizeof(detail));
    }

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return ngx_rtmp_compliance_reject(s, 0, ctx, reason, detail);
    }

    ngx_rtmp_compliance_session_count(NGX_RTMP_COMPLIANCE_PUBLISHER, reason);

    if (redact) {
        ngx_rtmp_compliance_amf_redact(&at, token.data - name.data,
                                       token.len);
    }

    ctx->admitted = 1;

    p = line;
    last = line + sizeof(line);

    p = ngx_rtmp_compliance_log_field(p, last, "app", &s->app);
    p = ngx_rtmp_compliance_log_field(p, last, "room", &ctx->room);
    p = ngx_rtmp_compliance_log_field(p, last, "host", &cl->sub);
    p = ngx_rtmp_compliance_log_field(p, last, "person", &cl->pid);
    p = ngx_rtmp_compliance_log_field(p, last, "op", &cl->op);
    p = ngx_rtmp_compliance_log_field(p, last, "mcn", &cl->mcn);
    p = ngx_rtmp_compliance_log_field(p, last, "tier", &ctx->tier->name);
    p = ngx_slprintf(p, last, ", ai: %s", cl->ai ? "true" : "false");
    p = ngx_rtmp_compliance_log_field(p, last, "idv", &cl->idv);
    p = ngx_rtmp_compliance_log_field(p, last, "jti", &cl->jti);
    p = ngx_rtmp_compliance_log_field(p, last, "kid", &cl->kid);

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "compliance: publish accepted%*s, token: \"sha256:%s\"",
                  (size_t) (p - line), line, cl->hash);

    return NGX_OK;
}


/*
 * play: players are registered, so that orders on a room reach them and
 * plays of a suspended room are refused
 */

static ngx_int_t
ngx_rtmp_compliance_play(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    u_char                          *q;
    ngx_int_t                        rc;
    ngx_str_t                        name, room;
    ngx_uint_t                       reason;
    ngx_rtmp_compliance_ctx_t       *ctx;
    ngx_rtmp_compliance_app_conf_t  *cacf;
    ngx_rtmp_compliance_amf_t        at;
    u_char                           detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    static u_char                    buf[NGX_RTMP_COMPLIANCE_NAME_MAX];

    if (s->app_conf == NULL) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "compliance: play before connect");
        return NGX_ERROR;
    }

    cacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module);

    if (!cacf->enable) {
        return NGX_OK;
    }

    ctx = ngx_rtmp_compliance_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_rtmp_compliance_amf_stream_name(in, buf, sizeof(buf), &name,
                                             &at);
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "compliance: malformed play command");
        return NGX_ERROR;
    }

    room = name;

    q = ngx_strlchr(name.data, name.data + name.len, '?');
    if (q) {
        room.len = q - name.data;
    }

    if (ctx->node) {
        ngx_rtmp_compliance_session_close(ctx);
    }

    ngx_memzero(&ctx->claims, sizeof(ngx_rtmp_compliance_claims_t));

    if (ngx_rtmp_compliance_set_room(s, ctx, &room) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->tier = NULL;
    ctx->why = 0;
    ctx->admitted = 0;
    ctx->kind = NGX_RTMP_COMPLIANCE_PLAYER;

    if (!ngx_rtmp_compliance_audit_available()) {
        ngx_snprintf(detail, sizeof(detail), "the audit log cannot be "
                     "written%Z");
        reason = NGX_RTMP_COMPLIANCE_AUDIT_UNAVAILABLE;

    } else {
        reason = ngx_rtmp_compliance_play_token(s, cacf, ctx, &name, &at,
                                                detail, sizeof(detail));
    }

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        reason = ngx_rtmp_compliance_session_admit(s, cacf, ctx,
                                                   NGX_RTMP_COMPLIANCE_PLAYER,
                                                   detail, sizeof(detail));
    }

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        reason = ngx_rtmp_compliance_accept(s, ctx, detail, sizeof(detail));
    }

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return ngx_rtmp_compliance_reject(s, 1, ctx, reason, detail);
    }

    ngx_rtmp_compliance_session_count(NGX_RTMP_COMPLIANCE_PLAYER, reason);

    return NGX_OK;
}


/*
 * a player needs a play token where the room's live tier says
 * viewer_token=on
 */

static ngx_uint_t
ngx_rtmp_compliance_play_token(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *name, ngx_rtmp_compliance_amf_t *at, u_char *detail,
    size_t size)
{
    u_char                        *q;
    ngx_str_t                      tier, args, token;
    ngx_uint_t                     reason, needed;
    ngx_rtmp_compliance_tier_t    *t;
    ngx_rtmp_compliance_claims_t  *cl;
    u_char                         buf[NGX_RTMP_COMPLIANCE_CLAIM_MAX];

    ngx_str_null(&args);

    q = ngx_strlchr(name->data, name->data + name->len, '?');
    if (q) {
        args.data = q + 1;
        args.len = name->data + name->len - args.data;
    }

    if (ngx_rtmp_compliance_arg(&args, &ngx_rtmp_compliance_token_arg,
                                &token))
    {
        /* a credential: never to be seen by nginx-rtmp and its logs */
        ngx_rtmp_compliance_amf_redact(at, token.data - name->data,
                                       token.len);

    } else if (ngx_rtmp_compliance_arg(&ctx->connect_args,
                                       &ngx_rtmp_compliance_token_arg,
                                       &token)
               == NULL)
    {
        ngx_str_null(&token);
    }

    t = NULL;

    if (ngx_rtmp_compliance_room_tier(&s->app, &ctx->room, buf, &tier)
        == NGX_OK)
    {
        t = ngx_rtmp_compliance_tier_find(cacf, &tier);
    }

    needed = (t && t->viewer_token);

    if (token.len == 0) {
        if (needed && ctx->connect_oversize) {
            ngx_snprintf(detail, size, "the connect URL is longer than %d "
                         "bytes%Z", NGX_RTMP_COMPLIANCE_NAME_MAX);
            return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
        }

        if (needed) {
            ngx_snprintf(detail, size, "tier \"%V\" of the room needs a "
                         "play token%Z", &t->name);
            return NGX_RTMP_COMPLIANCE_VIEWER_TOKEN_REQUIRED;
        }

        return NGX_RTMP_COMPLIANCE_OK;
    }

    /*
     * a token given is checked even where none is needed yet: the room's
     * tier may ask for one once its publisher is live
     */

    cl = &ctx->claims;

    reason = ngx_rtmp_compliance_token_verify(cacf, &token,
                                              &ngx_rtmp_compliance_scope_play,
                                              s->connection->pool, cl,
                                              detail, size);

    if (reason == NGX_RTMP_COMPLIANCE_OK
        && (cl->room.len != ctx->room.len
            || ngx_strncmp(cl->room.data, ctx->room.data, ctx->room.len)
               != 0))
    {
        ngx_snprintf(detail, size, "token is for another room%Z");
        reason = NGX_RTMP_COMPLIANCE_ROOM_MISMATCH;
    }

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        if (needed) {
            return reason;
        }

        /* not needed now: the player goes on as one without a token */
        ngx_memzero(cl, sizeof(ngx_rtmp_compliance_claims_t));
    }

    return NGX_RTMP_COMPLIANCE_OK;
}


static ngx_int_t
ngx_rtmp_compliance_close_stream(ngx_rtmp_session_t *s,
    ngx_rtmp_close_stream_t *v)
{
    ngx_rtmp_compliance_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx && ctx->node) {
        ngx_rtmp_compliance_session_end(s, ctx);
    }

    return next_close_stream(s, v);
}


static ngx_uint_t
ngx_rtmp_compliance_admit_publish(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *room, ngx_str_t *token, u_char *detail, size_t size)
{
    ngx_uint_t                     reason;
    ngx_rtmp_compliance_tier_t    *t;
    ngx_rtmp_compliance_claims_t  *cl;

    cl = &ctx->claims;

    if (!ngx_rtmp_compliance_audit_available()) {
        ngx_snprintf(detail, size, "the audit log cannot be written%Z");
        return NGX_RTMP_COMPLIANCE_AUDIT_UNAVAILABLE;
    }

    if (token->len == 0 && ctx->connect_oversize) {
        ngx_snprintf(detail, size, "the connect URL is longer than %d "
                     "bytes%Z", NGX_RTMP_COMPLIANCE_NAME_MAX);
        return NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED;
    }

    if (token->len == 0) {
        ngx_snprintf(detail, size, "no token in the stream key or the "
                     "connect URL%Z");
        return NGX_RTMP_COMPLIANCE_TOKEN_MISSING;
    }

    reason = ngx_rtmp_compliance_token_verify(cacf, token,
                                              &ngx_rtmp_compliance_scope_publish,
                                              s->connection->pool, cl,
                                              detail, size);
    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    if (cl->room.len != room->len
        || ngx_strncmp(cl->room.data, room->data, room->len) != 0)
    {
        ngx_snprintf(detail, size, "token is for another room%Z");
        return NGX_RTMP_COMPLIANCE_ROOM_MISMATCH;
    }

    t = ngx_rtmp_compliance_tier_find(cacf, &cl->tier);

    if (t == NULL) {
        ngx_snprintf(detail, size, "tier \"%V\" is not configured%Z",
                     &cl->tier);
        return NGX_RTMP_COMPLIANCE_TIER_UNKNOWN;
    }

    ctx->tier = t;

    if (ngx_rtmp_compliance_main && ngx_rtmp_compliance_main->sh) {
        return ngx_rtmp_compliance_session_admit(s, cacf, ctx,
                                                 NGX_RTMP_COMPLIANCE_PUBLISHER,
                                                 detail, size);
    }

    return ngx_rtmp_compliance_tier_check(t, cl, detail, size);
}


ngx_rtmp_compliance_tier_t *
ngx_rtmp_compliance_tier_find(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_str_t *name)
{
    ngx_uint_t                   i;
    ngx_rtmp_compliance_tier_t  *t;

    if (cacf->tiers == NULL) {
        return NULL;
    }

    t = cacf->tiers->elts;

    for (i = 0; i < cacf->tiers->nelts; i++) {
        if (t[i].name.len == name->len
            && ngx_strncmp(t[i].name.data, name->data, name->len) == 0)
        {
            return &t[i];
        }
    }

    return NULL;
}


/* may a publisher with these claims go live in tier t? */

ngx_uint_t
ngx_rtmp_compliance_tier_check(ngx_rtmp_compliance_tier_t *t,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size)
{
    if (!t->publish) {
        ngx_snprintf(detail, size, "tier \"%V\" may not publish%Z",
                     &t->name);
        return NGX_RTMP_COMPLIANCE_TIER_FORBIDS_PUBLISH;
    }

    if (cl->ai && !t->ai_host) {
        ngx_snprintf(detail, size, "tier \"%V\" does not allow "
                     "AI-generated hosts%Z", &t->name);
        return NGX_RTMP_COMPLIANCE_AI_HOST_FORBIDDEN;
    }

    return NGX_RTMP_COMPLIANCE_OK;
}


static ngx_int_t
ngx_rtmp_compliance_reject(ngx_rtmp_session_t *s, ngx_uint_t play,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason, u_char *detail)
{
    u_char                        *p, *q;
    ngx_uint_t                     level;
    ngx_rtmp_compliance_fields_t   f;
    ngx_rtmp_compliance_claims_t  *cl;
    u_char                         desc[NGX_RTMP_COMPLIANCE_DETAIL_MAX + 64];
    u_char                         name[NGX_RTMP_COMPLIANCE_LOG_NAME + 4];
    u_char                         fields[4 * NGX_RTMP_COMPLIANCE_CLAIM_MAX];
    u_char                         buf[NGX_RTMP_COMPLIANCE_FIELDS_SIZE];

    cl = &ctx->claims;

    /* ngx_snprintf() leaves no NUL when it truncates */
    detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX - 1] = '\0';

    ngx_rtmp_compliance_session_count(play ? NGX_RTMP_COMPLIANCE_PLAYER
                                           : NGX_RTMP_COMPLIANCE_PUBLISHER,
                                      reason);

    switch (reason) {
    case NGX_RTMP_COMPLIANCE_TOKEN_MISSING:
    case NGX_RTMP_COMPLIANCE_VIEWER_TOKEN_REQUIRED:
        level = NGX_LOG_INFO;
        break;
    case NGX_RTMP_COMPLIANCE_INTERNAL_ERROR:
    case NGX_RTMP_COMPLIANCE_AUDIT_UNAVAILABLE:
        level = NGX_LOG_CRIT;
        break;
    default:
        level = NGX_LOG_ERR;
    }

    p = ngx_rtmp_compliance_log_name(name, &ctx->room);
    *p = '\0';

    q = ngx_rtmp_compliance_log_field(fields, fields + sizeof(fields), "jti",
                                      &cl->jti);
    q = ngx_rtmp_compliance_log_field(q, fields + sizeof(fields), "kid",
                                      &cl->kid);

    ngx_log_error(level, s->connection->log, 0,
                  "compliance: %s rejected: %V: %s, app: \"%V\", "
                  "room: \"%s\"%*s, token: \"sha256:%s\"",
                  play ? "play" : "publish",
                  &ngx_rtmp_compliance_reasons[reason], detail, &s->app,
                  name, (size_t) (q - fields), fields,
                  cl->hash[0] ? cl->hash : (u_char *) "-");

    ngx_rtmp_compliance_fields_init(&f, buf, sizeof(buf), s->connection->log);
    ngx_rtmp_compliance_audit_session(&f, s, ctx);
    ngx_rtmp_compliance_field_str(&f, "reason",
                                  ngx_rtmp_compliance_reasons[reason].data,
                                  ngx_rtmp_compliance_reasons[reason].len);
    ngx_rtmp_compliance_field_str(&f, "detail", detail,
                                  ngx_strlen(detail));

    if (ngx_rtmp_compliance_audit_fields(play ? "play.reject"
                                              : "publish.reject",
                                         &f, s->connection->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, s->connection->log, 0,
                      "compliance: the rejection was not audited");
    }

    ngx_rtmp_compliance_fields_free(&f);

    ngx_snprintf(desc, sizeof(desc), "%V: %s%Z",
                 &ngx_rtmp_compliance_reasons[reason], detail);
    desc[sizeof(desc) - 1] = '\0';

    ngx_rtmp_send_status(s, play ? "NetStream.Play.Rejected"
                                 : "NetStream.Publish.Rejected",
                         "error", (char *) desc);

    return NGX_ERROR;
}


/* the room a session asked for, kept with the session */

static ngx_int_t
ngx_rtmp_compliance_set_room(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_str_t *room)
{
    ctx->room.len = ngx_min(room->len, NGX_RTMP_COMPLIANCE_CLAIM_MAX);
    ctx->room.data = ngx_pnalloc(s->connection->pool, ctx->room.len + 1);

    if (ctx->room.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->room.data, room->data, ctx->room.len);

    return NGX_OK;
}


/*
 * the admission is written to the audit log; with on_error=refuse a
 * session whose admission cannot be recorded does not go on
 */

static ngx_uint_t
ngx_rtmp_compliance_accept(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, u_char *detail, size_t size)
{
    ngx_int_t                     rc;
    ngx_rtmp_compliance_fields_t  f;
    u_char                        buf[NGX_RTMP_COMPLIANCE_FIELDS_SIZE];

    ngx_rtmp_compliance_fields_init(&f, buf, sizeof(buf), s->connection->log);
    ngx_rtmp_compliance_audit_session(&f, s, ctx);

    rc = ngx_rtmp_compliance_audit_fields(ctx->kind
                                          == NGX_RTMP_COMPLIANCE_PUBLISHER
                                          ? "publish.accept" : "play.accept",
                                          &f, s->connection->log);

    ngx_rtmp_compliance_fields_free(&f);

    if (rc == NGX_OK || ngx_rtmp_compliance_audit_available()) {
        ctx->start = ngx_current_msec;
        return NGX_RTMP_COMPLIANCE_OK;
    }

    ngx_rtmp_compliance_session_close(ctx);

    ngx_snprintf(detail, size, "the audit log cannot be written%Z");

    return NGX_RTMP_COMPLIANCE_AUDIT_UNAVAILABLE;
}


/*
 * ', NAME: "VALUE"' for a log line, with quotes and backslashes escaped:
 * claims come from tokens and must not forge other fields
 */

static u_char *
ngx_rtmp_compliance_log_field(u_char *p, u_char *last, char *name,
    ngx_str_t *v)
{
    u_char  c, *s, *end;

    p = ngx_slprintf(p, last, ", %s: \"", name);

    end = v->data + v->len;

    for (s = v->data; s < end && last - p > 2; s++) {
        c = *s;

        if (c == '"' || c == '\\') {
            *p++ = '\\';

        } else if (c < 0x20 || c == 0x7f) {
            c = '?';
        }

        *p++ = c;
    }

    if (p < last) {
        *p++ = '"';
    }

    return p;
}


/* the stream name as it may go to a log: bounded, printable */

static u_char *
ngx_rtmp_compliance_log_name(u_char *dst, ngx_str_t *src)
{
    size_t   i, n;
    u_char   c;

    n = ngx_min(src->len, NGX_RTMP_COMPLIANCE_LOG_NAME);

    for (i = 0; i < n; i++) {
        c = src->data[i];
        *dst++ = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : c;
    }

    if (n < src->len) {
        dst = ngx_cpymem(dst, "...", 3);
    }

    return dst;
}
