
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Tiers (分级分类管理): the compliance_tier directive, a tier by its
 * name, what a publisher may do in one, and the rules for players: the
 * play token and max_viewers of the room's live tier.  Every protocol's
 * publish and play come to these functions.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_tier.h"
#include "ngx_rtmp_compliance_token.h"


/* what the VALUE of a NAME=VALUE of compliance_tier is */

#define NGX_RTMP_COMPLIANCE_TIER_ENUM     0      /* one of values */
#define NGX_RTMP_COMPLIANCE_TIER_NUMBER   1
#define NGX_RTMP_COMPLIANCE_TIER_TIME     2      /* seconds */
#define NGX_RTMP_COMPLIANCE_TIER_RATE     3      /* bits per second */


typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      type;
    ngx_conf_enum_t                *values;
    size_t                          offset;
} ngx_rtmp_compliance_tier_param_t;


static ngx_int_t ngx_rtmp_compliance_tier_param(
    ngx_rtmp_compliance_tier_t *tier, ngx_str_t *param);
static ngx_int_t ngx_rtmp_compliance_parse_rate(ngx_str_t *s, size_t *rate);
static ngx_int_t ngx_rtmp_compliance_tier_of_room(ngx_str_t *app,
    ngx_str_t *room, u_char *buf, ngx_str_t *tier);


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


/* the NAME=VALUE parameters of compliance_tier */

static ngx_rtmp_compliance_tier_param_t  ngx_rtmp_compliance_tier_params[] = {
    { ngx_string("publish="), NGX_RTMP_COMPLIANCE_TIER_ENUM,
      ngx_rtmp_compliance_on_off,
      offsetof(ngx_rtmp_compliance_tier_t, publish) },
    { ngx_string("viewer_token="), NGX_RTMP_COMPLIANCE_TIER_ENUM,
      ngx_rtmp_compliance_on_off,
      offsetof(ngx_rtmp_compliance_tier_t, viewer_token) },
    { ngx_string("ai_host="), NGX_RTMP_COMPLIANCE_TIER_ENUM,
      ngx_rtmp_compliance_ai_host,
      offsetof(ngx_rtmp_compliance_tier_t, ai_host) },
    { ngx_string("max_viewers="), NGX_RTMP_COMPLIANCE_TIER_NUMBER, NULL,
      offsetof(ngx_rtmp_compliance_tier_t, max_viewers) },
    { ngx_string("max_duration="), NGX_RTMP_COMPLIANCE_TIER_TIME, NULL,
      offsetof(ngx_rtmp_compliance_tier_t, max_duration) },
    { ngx_string("max_bitrate="), NGX_RTMP_COMPLIANCE_TIER_RATE, NULL,
      offsetof(ngx_rtmp_compliance_tier_t, max_bitrate) },
    { ngx_null_string, 0, NULL, 0 }
};


static ngx_str_t  ngx_rtmp_compliance_scope_play = ngx_string("play");


char *
ngx_rtmp_compliance_tier(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_compliance_app_conf_t *cacf = conf;

    ngx_int_t                    rc;
    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ngx_rtmp_compliance_tier_t  *tier, *t;

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

        rc = ngx_rtmp_compliance_tier_param(tier, &value[i]);

        if (rc == NGX_OK) {
            continue;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in tier \"%V\"",
                               &value[i], &value[1]);

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in tier \"%V\"",
                               &value[i], &value[1]);
        }

        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * one NAME=VALUE of compliance_tier: NGX_OK; NGX_DECLINED, not a
 * parameter; NGX_ERROR, a parameter with a bad value
 */

static ngx_int_t
ngx_rtmp_compliance_tier_param(ngx_rtmp_compliance_tier_t *tier,
    ngx_str_t *param)
{
    char                              *field;
    time_t                             sec;
    ngx_int_t                          n;
    ngx_str_t                          v;
    ngx_uint_t                         j;
    ngx_conf_enum_t                   *e;
    ngx_rtmp_compliance_tier_param_t  *p;

    for (p = ngx_rtmp_compliance_tier_params; p->name.len; p++) {
        if (param->len >= p->name.len
            && ngx_strncmp(param->data, p->name.data, p->name.len) == 0)
        {
            break;
        }
    }

    if (p->name.len == 0) {
        /* "invalid value" where it looks like NAME=VALUE, as before */

        for (j = 0; j < sizeof("max_duration=") && j < param->len; j++) {
            if (param->data[j] == '=') {
                break;
            }
        }

        return (j < param->len) ? NGX_ERROR : NGX_DECLINED;
    }

    v.data = param->data + p->name.len;
    v.len = param->len - p->name.len;
    field = (char *) tier + p->offset;

    switch (p->type) {

    case NGX_RTMP_COMPLIANCE_TIER_NUMBER:
        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        *(ngx_uint_t *) field = n;
        return NGX_OK;

    case NGX_RTMP_COMPLIANCE_TIER_TIME:
        sec = ngx_parse_time(&v, 1);
        if (sec == (time_t) NGX_ERROR) {
            return NGX_ERROR;
        }

        *(time_t *) field = sec;
        return NGX_OK;

    case NGX_RTMP_COMPLIANCE_TIER_RATE:
        return ngx_rtmp_compliance_parse_rate(&v, (size_t *) field);
    }

    for (e = p->values; e->name.len; e++) {
        if (e->name.len == v.len
            && ngx_strncmp(e->name.data, v.data, v.len) == 0)
        {
            *(ngx_flag_t *) field = e->value;
            return NGX_OK;
        }
    }

    return NGX_ERROR;
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


/*
 * at configuration, for each application with compliance on: its tiers
 * join mcf->tier_names, each name once (the tiers the control API takes
 * for a restrict order)
 */

ngx_int_t
ngx_rtmp_compliance_tier_names_add(ngx_conf_t *cf,
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_app_conf_t *cacf)
{
    ngx_str_t                   *name;
    ngx_uint_t                   i, k;
    ngx_rtmp_compliance_tier_t  *t;

    if (mcf->tier_names == NULL) {
        mcf->tier_names = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (mcf->tier_names == NULL) {
            return NGX_ERROR;
        }
    }

    t = cacf->tiers->elts;

    for (i = 0; i < cacf->tiers->nelts; i++) {
        name = mcf->tier_names->elts;

        for (k = 0; k < mcf->tier_names->nelts; k++) {
            if (name[k].len == t[i].name.len
                && ngx_strncmp(name[k].data, t[i].name.data, name[k].len)
                   == 0)
            {
                break;
            }
        }

        if (k < mcf->tier_names->nelts) {
            continue;
        }

        name = ngx_array_push(mcf->tier_names);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = t[i].name;
    }

    return NGX_OK;
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


/*
 * the token a player gave (token may be empty), against what the room's
 * live tier asks: a play token where it says viewer_token=on.  A token
 * given is checked even where none is needed yet: the room's tier may ask
 * for one once its publisher is live.  Any protocol's player comes here.
 */

ngx_uint_t
ngx_rtmp_compliance_tier_play_token(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_str_t *app, ngx_str_t *room, ngx_str_t *token, ngx_uint_t oversize,
    ngx_pool_t *pool, ngx_rtmp_compliance_claims_t *cl, u_char *detail,
    size_t size)
{
    ngx_str_t                    tier;
    ngx_uint_t                   reason, needed;
    ngx_rtmp_compliance_tier_t  *t;
    u_char                       buf[NGX_RTMP_COMPLIANCE_CLAIM_MAX];

    t = NULL;

    if (ngx_rtmp_compliance_tier_of_room(app, room, buf, &tier) == NGX_OK) {
        t = ngx_rtmp_compliance_tier_find(cacf, &tier);
    }

    needed = (t && t->viewer_token);

    if (token->len == 0) {
        if (needed && oversize) {
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

    reason = ngx_rtmp_compliance_token_verify(cacf, token,
                                              &ngx_rtmp_compliance_scope_play,
                                              pool, cl, detail, size);

    if (reason == NGX_RTMP_COMPLIANCE_OK
        && (cl->room.len != room->len
            || ngx_strncmp(cl->room.data, room->data, room->len) != 0))
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


/*
 * a player of room r (in the zone, NULL: none) under its live
 * publisher's tier: a play token where the tier asks for one, and, at
 * admission (count), room under max_viewers.  *tp: the tier, or NULL.
 */

ngx_uint_t
ngx_rtmp_compliance_tier_player_locked(ngx_rtmp_compliance_app_conf_t *cacf,
    ngx_rtmp_compliance_room_t *r, ngx_rtmp_compliance_claims_t *cl,
    ngx_uint_t count, ngx_rtmp_compliance_tier_t **tp, u_char *detail,
    size_t size)
{
    ngx_str_t                    tier;
    ngx_rtmp_compliance_tier_t  *t;

    *tp = NULL;

    if (r == NULL || r->publisher == 0 || r->tier_len == 0 || cacf == NULL) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    tier.data = r->tier;
    tier.len = r->tier_len;

    t = ngx_rtmp_compliance_tier_find(cacf, &tier);

    if (t && t->viewer_token && cl->scope.len == 0) {
        ngx_snprintf(detail, size, "tier \"%V\" of the room needs a play "
                     "token%Z", &t->name);
        return NGX_RTMP_COMPLIANCE_VIEWER_TOKEN_REQUIRED;
    }

    if (count && t && t->max_viewers && r->viewers >= t->max_viewers) {
        ngx_snprintf(detail, size, "tier \"%V\" allows %ui viewers and the "
                     "room has them%Z", &t->name, t->max_viewers);
        return NGX_RTMP_COMPLIANCE_VIEWER_LIMIT;
    }

    *tp = t;

    return NGX_RTMP_COMPLIANCE_OK;
}


/*
 * the tier of a room's live publisher, for a player's admission;
 * NGX_DECLINED: no publisher is live
 */

static ngx_int_t
ngx_rtmp_compliance_tier_of_room(ngx_str_t *app, ngx_str_t *room, u_char *buf,
    ngx_str_t *tier)
{
    ngx_int_t                         rc;
    ngx_rtmp_compliance_room_t       *r;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->zone == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    r = ngx_rtmp_compliance_room_find_locked(mcf->zone, app, room);

    if (r && r->publisher) {
        tier->data = ngx_cpymem(buf, r->tier, r->tier_len) - r->tier_len;
        tier->len = r->tier_len;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return rc;
}
