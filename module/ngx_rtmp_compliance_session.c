
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Live sessions: admission against the orders in the shared zone, the
 * registry of every worker's sessions, and each worker's recheck timer
 * that drops, warns and re-tiers its own sessions as orders say.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_session.h"
#include "ngx_rtmp_compliance_orders.h"
#include "ngx_rtmp_compliance_tier.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_fleet.h"
#include "ngx_rtmp_compliance_token.h"
#include "ngx_rtmp_cmd_module.h"


#define NGX_RTMP_COMPLIANCE_GC_TICKS      10
#define NGX_RTMP_COMPLIANCE_ACT_MAX       512
#define NGX_RTMP_COMPLIANCE_BITRATE_GRACE 3      /* seconds */
#define NGX_RTMP_COMPLIANCE_POKE          20     /* ms */


static ngx_uint_t ngx_rtmp_compliance_session_orders_locked(
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t kind, ngx_rtmp_compliance_order_t **op, u_char *detail,
    size_t size);
static void ngx_rtmp_compliance_session_claims(
    ngx_rtmp_compliance_claims_t *cl, ngx_str_t *subj);
static void ngx_rtmp_compliance_session_targets(
    ngx_rtmp_compliance_claims_t *cl, ngx_str_t *room, ngx_uint_t kind,
    ngx_str_t *targets);
static ngx_uint_t ngx_rtmp_compliance_session_refused(
    ngx_rtmp_compliance_order_t *o, u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_session_reverify_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *targets, time_t iat,
    u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_refresh_check_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_session_t *ss,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_refresh_apply_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_session_t *ss,
    ngx_rtmp_compliance_claims_t *cl, ngx_str_t *by, ngx_log_t *log);
static void ngx_rtmp_compliance_refresh_take(ngx_rtmp_compliance_ctx_t *ctx);
static ngx_uint_t ngx_rtmp_compliance_reverify_late_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_ctx_t *ctx);
static ngx_uint_t ngx_rtmp_compliance_reverify_due_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_ctx_t *ctx);
static ngx_uint_t ngx_rtmp_compliance_session_register_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t kind,
    ngx_rtmp_compliance_order_t *o, u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_expired(ngx_rtmp_compliance_ctx_t *ctx,
    time_t now);
static void ngx_rtmp_compliance_recheck(ngx_event_t *ev);
static void ngx_rtmp_compliance_account(ngx_rtmp_compliance_ctx_t *ctx);
static ngx_uint_t ngx_rtmp_compliance_verdict_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_ctx_t *ctx,
    time_t now, ngx_msec_t msec);
static ngx_uint_t ngx_rtmp_compliance_retier(ngx_rtmp_compliance_ctx_t *ctx);
static void ngx_rtmp_compliance_warn(ngx_rtmp_compliance_ctx_t *ctx,
    char *code, char *label, uint64_t order);
static void ngx_rtmp_compliance_replaced_text(ngx_rtmp_compliance_ctx_t *ctx);
static void ngx_rtmp_compliance_drop(ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t reason, ngx_uint_t close);
static void ngx_rtmp_compliance_session_unpublish(
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason);
static ngx_uint_t ngx_rtmp_compliance_session_room_locked(
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_rtmp_compliance_session_t **oldp,
    u_char *detail, size_t size);
static void ngx_rtmp_compliance_session_replace(uint64_t id);
static void ngx_rtmp_compliance_poke(ngx_event_t *ev);
static ngx_uint_t ngx_rtmp_compliance_limits_locked(
    ngx_rtmp_compliance_ctx_t *ctx, time_t now, ngx_msec_t msec);
static void ngx_rtmp_compliance_gc_locked(
    ngx_rtmp_compliance_main_conf_t *mcf);
static void ngx_rtmp_compliance_order_text(ngx_rtmp_compliance_order_t *o,
    u_char *buf, size_t size);


static ngx_queue_t   ngx_rtmp_compliance_sessions;
static ngx_event_t   ngx_rtmp_compliance_timer;
static ngx_event_t   ngx_rtmp_compliance_poke_ev;
static ngx_uint_t    ngx_rtmp_compliance_marks;
static ngx_uint_t    ngx_rtmp_compliance_ticks;
static ngx_msec_t    ngx_rtmp_compliance_interval;
static ngx_uint_t    ngx_rtmp_compliance_zone_full;  /* logged */


ngx_int_t
ngx_rtmp_compliance_session_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_queue_init(&ngx_rtmp_compliance_sessions);

    if (mcf->shm_zone == NULL || !mcf->enabled) {
        return NGX_OK;
    }

    ngx_rtmp_compliance_interval = mcf->recheck;

    ngx_rtmp_compliance_timer.handler = ngx_rtmp_compliance_recheck;
    ngx_rtmp_compliance_timer.log = cycle->log;
    ngx_rtmp_compliance_timer.data = mcf;
    ngx_rtmp_compliance_timer.cancelable = 1;

    ngx_add_timer(&ngx_rtmp_compliance_timer, ngx_rtmp_compliance_interval);

    if (ngx_rtmp_compliance_interval > NGX_RTMP_COMPLIANCE_POKE) {
        ngx_rtmp_compliance_poke_ev.handler = ngx_rtmp_compliance_poke;
        ngx_rtmp_compliance_poke_ev.log = cycle->log;
        ngx_rtmp_compliance_poke_ev.data = mcf;
        ngx_rtmp_compliance_poke_ev.cancelable = 1;

        ngx_rtmp_compliance_marks = mcf->zone->sh->marks;
        ngx_add_timer(&ngx_rtmp_compliance_poke_ev, NGX_RTMP_COMPLIANCE_POKE);
    }

    return NGX_OK;
}


void
ngx_rtmp_compliance_session_exit_process(void)
{
    ngx_queue_t                      *q;
    ngx_rtmp_compliance_ctx_t        *ctx;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->zone == NULL) {
        return;
    }

    /* the worker goes: its sessions end, on record */

    while (!ngx_queue_empty(&ngx_rtmp_compliance_sessions)) {
        q = ngx_queue_head(&ngx_rtmp_compliance_sessions);
        ctx = ngx_queue_data(q, ngx_rtmp_compliance_ctx_t, queue);

        ngx_rtmp_compliance_session_end(ctx->session, ctx);
    }
}


/*
 * admission against the orders and the tier, then the session goes into
 * the registry; a restrict order may change the tier
 */

ngx_uint_t
ngx_rtmp_compliance_session_admit(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t kind, u_char *detail, size_t size)
{
    uint64_t                          take;
    ngx_uint_t                        reason;
    ngx_rtmp_compliance_room_t       *r;
    ngx_rtmp_compliance_order_t      *o;
    ngx_rtmp_compliance_tier_t       *t;
    ngx_rtmp_compliance_session_t    *old;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;
    old = NULL;
    take = 0;

    if (mcf == NULL || mcf->zone == NULL) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    reason = ngx_rtmp_compliance_session_orders_locked(mcf, cacf, ctx, kind,
                                                       &o, detail, size);

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        goto done;
    }

    if (kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
        reason = ngx_rtmp_compliance_tier_check(ctx->tier, &ctx->claims,
                                                detail, size);

        if (reason == NGX_RTMP_COMPLIANCE_OK) {
            reason = ngx_rtmp_compliance_session_room_locked(mcf, cacf, s,
                                                             ctx, &old,
                                                             detail, size);
        }

    } else {
        /* a player: the room's tier is its live publisher's */

        r = ngx_rtmp_compliance_room_find_locked(mcf->zone, &s->app,
                                                 &ctx->room);

        reason = ngx_rtmp_compliance_tier_player_locked(cacf, r,
                                                        &ctx->claims, 1, &t,
                                                        detail, size);
        if (t) {
            ctx->tier = t;
        }
    }

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        reason = ngx_rtmp_compliance_session_register_locked(mcf, s, ctx,
                                                             kind, o, detail,
                                                             size);
    }

    if (reason == NGX_RTMP_COMPLIANCE_OK
        && kind == NGX_RTMP_COMPLIANCE_PUBLISHER)
    {
        ctx->node->takeover = (u_char) cacf->takeover;
        ngx_rtmp_compliance_fleet_lock_locked(mcf, ctx->node);
    }

    if (reason == NGX_RTMP_COMPLIANCE_OK && old) {
        /* a reconnect of the room's publisher: the old session goes */

        take = (old->pid == ngx_pid) ? old->id : 0;

        if (old->drop == 0) {
            old->drop = NGX_RTMP_COMPLIANCE_REPLACED;
            old->replaced_by = ctx->id;
            mcf->zone->sh->marks++;
        }
    }

done:

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (take) {
        /* on this worker: gone before nginx-rtmp sees the new publish */
        ngx_rtmp_compliance_session_replace(take);
    }

    return reason;
}


/*
 * one live publisher a room: a publish by the verified person of the
 * room's live publisher (a reconnect) takes the room over (*oldp: that
 * session), anyone else's is refused; so is every second publish where
 * compliance_room_takeover is off.  A publisher already being dropped
 * leaves the room to the new one.
 */

static ngx_uint_t
ngx_rtmp_compliance_session_room_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_rtmp_compliance_session_t **oldp,
    u_char *detail, size_t size)
{
    ngx_str_t                       person;
    ngx_rtmp_compliance_room_t     *r;
    ngx_rtmp_compliance_session_t  *ps;

    *oldp = NULL;

    r = ngx_rtmp_compliance_room_find_locked(mcf->zone, &s->app, &ctx->room);

    if (r == NULL || r->publisher == 0) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    ps = ngx_rtmp_compliance_session_find_locked(mcf->zone, r->publisher);

    if (ps == NULL) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    *oldp = ps;

    if (ps->drop) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    ngx_rtmp_compliance_session_get(ps, NGX_RTMP_COMPLIANCE_S_PERSON, &person);

    if (cacf->takeover && person.len
        && person.len == ctx->claims.pid.len
        && ngx_memcmp(person.data, ctx->claims.pid.data, person.len) == 0)
    {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    *oldp = NULL;

    ngx_snprintf(detail, size, "room \"%V\" has a live publisher (session "
                 "%uL)%s%Z", &ctx->room, ps->id,
                 cacf->takeover ? ", another person"
                                : "; compliance_room_takeover is off");

    return NGX_RTMP_COMPLIANCE_ROOM_BUSY;
}


/*
 * the replaced publisher of this worker ends now, so that its stream is
 * closed before nginx-rtmp's live module sees the new publish
 */

static void
ngx_rtmp_compliance_session_replace(uint64_t id)
{
    ngx_queue_t                *q;
    ngx_rtmp_compliance_ctx_t  *ctx;

    for (q = ngx_queue_head(&ngx_rtmp_compliance_sessions);
         q != ngx_queue_sentinel(&ngx_rtmp_compliance_sessions);
         q = ngx_queue_next(q))
    {
        ctx = ngx_queue_data(q, ngx_rtmp_compliance_ctx_t, queue);

        if (ctx->id != id || ctx->dropping) {
            continue;
        }

        ctx->dropping = 1;
        ctx->why = NGX_RTMP_COMPLIANCE_REPLACED;

        ngx_rtmp_compliance_replaced_text(ctx);
        ngx_rtmp_compliance_drop(ctx, ctx->why, 1);

        return;
    }
}


/*
 * the order in force that matches the session's subjects (*op, or NULL):
 * a suspension, ban or revoked token refuses it; a restriction moves a
 * publisher to its tier
 */

static ngx_uint_t
ngx_rtmp_compliance_session_orders_locked(
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t kind, ngx_rtmp_compliance_order_t **op, u_char *detail,
    size_t size)
{
    ngx_str_t                      targets[NGX_RTMP_COMPLIANCE_T_MAX];
    ngx_str_t                      tier;
    ngx_uint_t                     reason;
    ngx_rtmp_compliance_order_t   *o;
    ngx_rtmp_compliance_tier_t    *t;

    ngx_rtmp_compliance_session_targets(&ctx->claims, &ctx->room, kind,
                                        targets);

    o = ngx_rtmp_compliance_order_match_locked(mcf->zone, targets,
                                               ngx_time());
    *op = o;

    reason = ngx_rtmp_compliance_session_refused(o, detail, size);

    if (reason == NGX_RTMP_COMPLIANCE_OK
        && kind == NGX_RTMP_COMPLIANCE_PUBLISHER)
    {
        reason = ngx_rtmp_compliance_session_reverify_locked(mcf->zone,
                                                       targets,
                                                       ctx->claims.iat,
                                                       detail, size);
    }

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    if (o && o->action == NGX_RTMP_COMPLIANCE_RESTRICT
        && kind == NGX_RTMP_COMPLIANCE_PUBLISHER)
    {
        tier.data = ngx_rtmp_compliance_order_tier(o);
        tier.len = o->tier_len;

        t = ngx_rtmp_compliance_tier_find(cacf, &tier);

        if (t == NULL) {
            ngx_snprintf(detail, size, "restricted to tier \"%V\" by order "
                         "%uL, and that tier is not configured%Z",
                         &tier, o->id);
            return NGX_RTMP_COMPLIANCE_TIER_UNKNOWN;
        }

        ctx->tier = t;
    }

    return NGX_RTMP_COMPLIANCE_OK;
}


/* the order targets a session's claims name; a player's: its room only */

static void
ngx_rtmp_compliance_session_targets(ngx_rtmp_compliance_claims_t *cl,
    ngx_str_t *room, ngx_uint_t kind, ngx_str_t *targets)
{
    ngx_str_t  subj[NGX_RTMP_COMPLIANCE_S_MAX];

    ngx_memzero(subj, sizeof(subj));

    subj[NGX_RTMP_COMPLIANCE_S_ROOM] = *room;

    if (kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
        ngx_rtmp_compliance_session_claims(cl, subj);
    }

    ngx_rtmp_compliance_order_targets(NULL, subj, targets);
}


/*
 * an order in force that refuses a session (a suspension, a ban, a
 * revoked token): its reason, with detail saying which; _OK: none
 */

static ngx_uint_t
ngx_rtmp_compliance_session_refused(ngx_rtmp_compliance_order_t *o,
    u_char *detail, size_t size)
{
    u_char  text[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    if (o == NULL || o->action < NGX_RTMP_COMPLIANCE_SUSPEND) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    ngx_rtmp_compliance_order_text(o, text, sizeof(text));

    if (o->kind == NGX_RTMP_COMPLIANCE_T_TOKEN) {
        ngx_snprintf(detail, size, "token revoked, order %uL: %s%Z",
                     o->id, text);
        return NGX_RTMP_COMPLIANCE_TOKEN_REVOKED;
    }

    if (o->action == NGX_RTMP_COMPLIANCE_BAN) {
        ngx_snprintf(detail, size, "banned, order %uL: %s%Z", o->id, text);
        return NGX_RTMP_COMPLIANCE_BANNED;
    }

    ngx_snprintf(detail, size, "suspended until %T, order %uL: %s%Z",
                 o->until, o->id, text);
    return NGX_RTMP_COMPLIANCE_SUSPENDED;
}


/*
 * while a reverify order is in force against a publisher's subjects, its
 * token must have been issued (iat) at or after the order's creation:
 * for a new publish and for a refresh alike
 */

static ngx_uint_t
ngx_rtmp_compliance_session_reverify_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *targets, time_t iat, u_char *detail, size_t size)
{
    ngx_rtmp_compliance_order_t  *o;
    u_char                        text[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    o = ngx_rtmp_compliance_order_reverify_locked(zone, targets, ngx_time());

    if (o == NULL || iat >= o->created) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    ngx_rtmp_compliance_order_text(o, text, sizeof(text));

    ngx_snprintf(detail, size, "the token was issued at %T, before "
                 "re-verification order %uL of %T: a token issued since "
                 "is needed: %s%Z", iat, o->id, o->created, text);

    return NGX_RTMP_COMPLIANCE_REVERIFY_REQUIRED;
}


/* the subjects of a session that its token gives */

static void
ngx_rtmp_compliance_session_claims(ngx_rtmp_compliance_claims_t *cl,
    ngx_str_t *subj)
{
    subj[NGX_RTMP_COMPLIANCE_S_HOST] = cl->sub;
    subj[NGX_RTMP_COMPLIANCE_S_PERSON] = cl->pid;
    subj[NGX_RTMP_COMPLIANCE_S_OP] = cl->op;
    subj[NGX_RTMP_COMPLIANCE_S_MCN] = cl->mcn;
    subj[NGX_RTMP_COMPLIANCE_S_JTI] = cl->jti;
    subj[NGX_RTMP_COMPLIANCE_S_IDV] = cl->idv;
    subj[NGX_RTMP_COMPLIANCE_S_KID] = cl->kid;
}


/* the admitted session goes into the zone and the worker's registry */

static ngx_uint_t
ngx_rtmp_compliance_session_register_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t kind,
    ngx_rtmp_compliance_order_t *o, u_char *detail, size_t size)
{
    ngx_str_t                       subj[NGX_RTMP_COMPLIANCE_S_MAX];
    ngx_rtmp_compliance_claims_t   *cl;
    ngx_rtmp_compliance_session_t  *ss;

    cl = &ctx->claims;

    subj[NGX_RTMP_COMPLIANCE_S_APP] = s->app;
    subj[NGX_RTMP_COMPLIANCE_S_ROOM] = ctx->room;
    ngx_rtmp_compliance_session_claims(cl, subj);
    subj[NGX_RTMP_COMPLIANCE_S_ADDR] = s->connection->addr_text;

    if (ctx->tier) {
        subj[NGX_RTMP_COMPLIANCE_S_TIER] = ctx->tier->name;

    } else {
        ngx_str_null(&subj[NGX_RTMP_COMPLIANCE_S_TIER]);
    }

    if (subj[NGX_RTMP_COMPLIANCE_S_APP].len > NGX_RTMP_COMPLIANCE_CLAIM_MAX) {
        subj[NGX_RTMP_COMPLIANCE_S_APP].len = NGX_RTMP_COMPLIANCE_CLAIM_MAX;
    }

    ss = ngx_rtmp_compliance_session_add_locked(mcf->zone, kind, subj);

    if (ss == NULL) {
        ngx_snprintf(detail, size, "the compliance zone \"%V\" (%uz bytes) "
                     "is full; raise its size in compliance_zone%Z",
                     &mcf->shm_zone->shm.name, mcf->shm_zone->shm.size);

        if (!ngx_rtmp_compliance_zone_full) {
            ngx_rtmp_compliance_zone_full = 1;
            ngx_log_error(NGX_LOG_CRIT, s->connection->log, 0,
                          "compliance: %s, new sessions are refused "
                          "(zone_full) until there is room", detail);
        }

        return NGX_RTMP_COMPLIANCE_ZONE_FULL;
    }

    ngx_rtmp_compliance_zone_full = 0;

    if (kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
        ss->ai = cl->ai;
        ss->exp = cl->exp;
        ss->iat = cl->iat;
        ss->app_conf = ngx_rtmp_get_module_app_conf(s,
                                                 ngx_rtmp_compliance_module);
        ss->cycle = (void *) ngx_cycle;
        ngx_memcpy(ss->hash, cl->hash, sizeof(ss->hash));

        if (ss->room->publisher == ss->id) {
            ss->room->ai = cl->ai;
        }

        if (o && o->action == NGX_RTMP_COMPLIANCE_RESTRICT) {
            ss->restricted = 1;
            ss->order = o->id;
            ss->tier_len = (u_short) ctx->tier->name.len;
            ngx_memcpy(ss->tier, ctx->tier->name.data, ss->tier_len);
        }

        if (o && o->action == NGX_RTMP_COMPLIANCE_WARN) {
            ss->warn = 1;
            ss->order = o->id;
        }

    } else {
        ss->ai = ss->room->publisher ? ss->room->ai : 0;
    }

    ss->proto = ngx_rtmp_compliance_ctx_proto(s, ctx);
    ss->seen = ngx_current_msec;
    mcf->zone->sh->nproto[ss->proto]++;

    ctx->node = ss;
    ctx->id = ss->id;
    ctx->session = s;
    ctx->rate_msec = ngx_current_msec;
    ctx->rate_bytes = 0;
    ctx->over_since = 0;
    ctx->dropping = 0;
    ctx->kind = kind;
    ctx->warned = 0;
    ctx->refreshed = 0;
    ctx->reverify_told = 0;
    ctx->in_bytes = s->in_bytes;

    ngx_queue_insert_tail(&ngx_rtmp_compliance_sessions, &ctx->queue);

    /* the worker now enforces on a live session, even while it stops */
    ngx_rtmp_compliance_timer.cancelable = 0;

    return NGX_RTMP_COMPLIANCE_OK;
}


void
ngx_rtmp_compliance_session_count(ngx_uint_t kind, ngx_uint_t reason)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->zone == NULL) {
        return;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        mcf->zone->sh->admitted[kind]++;

    } else {
        mcf->zone->sh->rejected[kind][reason]++;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
}


/* the end of an admitted session: recorded, then out of the registry */

void
ngx_rtmp_compliance_session_end(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx)
{
    char                           *proto;
    ngx_str_t                       v, *why;
    ngx_uint_t                      i;
    ngx_rtmp_compliance_fields_t    f;
    ngx_rtmp_compliance_session_t  *ss;
    u_char                          buf[NGX_RTMP_COMPLIANCE_FIELDS_SIZE];

    static ngx_str_t                closed = ngx_string("closed");
    static ngx_str_t                kind[] = {
        ngx_string("publish"), ngx_string("play")
    };
    static struct {
        const char                 *name;
        ngx_uint_t                  field;
    } fields[] = {
        { "room", NGX_RTMP_COMPLIANCE_S_ROOM },
        { "host", NGX_RTMP_COMPLIANCE_S_HOST },
        { "person", NGX_RTMP_COMPLIANCE_S_PERSON },
        { "op", NGX_RTMP_COMPLIANCE_S_OP },
        { "mcn", NGX_RTMP_COMPLIANCE_S_MCN }
    };

    ss = ctx->node;

    ngx_rtmp_compliance_account(ctx);

    ngx_rtmp_compliance_fields_init(&f, buf, sizeof(buf), s->connection->log);

    ngx_rtmp_compliance_field_int(&f, "session", (int64_t) ctx->id);
    ngx_rtmp_compliance_field_str(&f, "kind", kind[ctx->kind].data,
                                  kind[ctx->kind].len);
    ngx_rtmp_compliance_field_str(&f, "app", s->app.data, s->app.len);

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        ngx_rtmp_compliance_session_get(ss, fields[i].field, &v);
        ngx_rtmp_compliance_field_str(&f, fields[i].name, v.data, v.len);
    }

    /* the tier the session ended in: a restrict order may have moved it */

    if (ss->restricted) {
        ngx_rtmp_compliance_field_str(&f, "tier", ss->tier, ss->tier_len);

    } else {
        ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_TIER, &v);
        ngx_rtmp_compliance_field_str(&f, "tier", v.data, v.len);
    }

    ngx_rtmp_compliance_field_lit(&f, "ai", ss->ai ? "true" : "false");

    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_ADDR, &v);
    ngx_rtmp_compliance_field_str(&f, "addr", v.data, v.len);

    proto = ngx_rtmp_compliance_proto_name(ss->proto);
    ngx_rtmp_compliance_field_str(&f, "proto", (u_char *) proto,
                                  ngx_strlen(proto));

    ngx_rtmp_compliance_field_int(&f, "duration_ms",
                                  (int64_t) (ngx_current_msec - ctx->start));
    ngx_rtmp_compliance_field_int(&f, "bytes_in", (int64_t) ss->bytes_in);
    ngx_rtmp_compliance_field_int(&f, "bytes_out", (int64_t) ss->bytes_out);

    why = ctx->why ? &ngx_rtmp_compliance_reasons[ctx->why] : &closed;
    ngx_rtmp_compliance_field_str(&f, "why", why->data, why->len);

    if (ctx->why == NGX_RTMP_COMPLIANCE_REPLACED && ss->replaced_by) {
        ngx_rtmp_compliance_field_int(&f, "replaced_by",
                                      (int64_t) ss->replaced_by);
    }

    /* the moderator who dropped it: compliance_api_actor */

    if (ctx->why == NGX_RTMP_COMPLIANCE_OPERATOR_DROP && ss->by_len) {
        ngx_rtmp_compliance_field_str(&f, "by", ss->by, ss->by_len);
    }

    if (ngx_rtmp_compliance_audit_fields("session.end", &f,
                                         s->connection->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, s->connection->log, 0,
                      "compliance: the end of session %uL was not audited",
                      ctx->id);
    }

    ngx_rtmp_compliance_fields_free(&f);

    ngx_rtmp_compliance_session_close(ctx);
}


void
ngx_rtmp_compliance_session_close(ngx_rtmp_compliance_ctx_t *ctx)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (ctx->node == NULL || mcf == NULL || mcf->zone == NULL) {
        return;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);
    ngx_rtmp_compliance_fleet_unlock_locked(mcf, ctx->node);
    ngx_rtmp_compliance_session_delete_locked(mcf->zone, ctx->node);
    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    ctx->node = NULL;
    ngx_queue_remove(&ctx->queue);

    /* a worker with no live session left does not hold up a stop */
    if (ngx_queue_empty(&ngx_rtmp_compliance_sessions)) {
        ngx_rtmp_compliance_timer.cancelable = 1;
    }
}


static void
ngx_rtmp_compliance_order_text(ngx_rtmp_compliance_order_t *o, u_char *buf,
    size_t size)
{
    u_char  *p, *last;

    last = buf + size - 1;

    p = ngx_slprintf(buf, last, "%*s",
                     (size_t) o->reason_len,
                     ngx_rtmp_compliance_order_reason(o));

    if (o->ref_len) {
        p = ngx_slprintf(p, last, " (ref %*s)", (size_t) o->ref_len,
                         ngx_rtmp_compliance_order_ref(o));
    }

    *p = '\0';
}


/* sessions of workers that died without closing them */

static void
ngx_rtmp_compliance_gc_locked(ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_rbtree_node_t              *node, *next, *sentinel;
    ngx_rtmp_compliance_session_t  *ss;

    sentinel = mcf->zone->sh->sessions.sentinel;

    if (mcf->zone->sh->sessions.root == sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(mcf->zone->sh->sessions.root, sentinel);
         node;
         node = next)
    {
        next = ngx_rbtree_next(&mcf->zone->sh->sessions, node);
        ss = (ngx_rtmp_compliance_session_t *) node;

        if (ss->pid == ngx_pid
            || kill(ss->pid, 0) == 0 || ngx_errno != NGX_ESRCH)
        {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance: session %uL of exited worker %P removed",
                      ss->id, ss->pid);

        ngx_rtmp_compliance_fleet_unlock_locked(mcf, ss);
        ngx_rtmp_compliance_session_delete_locked(mcf->zone, ss);
    }
}


/*
 * the limits of a session's tier; NGX_RTMP_COMPLIANCE_OK or the reason
 * to drop it, with ctx->text saying why
 */

static ngx_uint_t
ngx_rtmp_compliance_limits_locked(ngx_rtmp_compliance_ctx_t *ctx, time_t now,
    ngx_msec_t msec)
{
    uint64_t                         rate;
    ngx_uint_t                       why;
    ngx_msec_t                       elapsed, live;
    ngx_rtmp_compliance_tier_t      *t;
    ngx_rtmp_compliance_session_t   *ss;
    ngx_rtmp_compliance_app_conf_t  *cacf;

    ss = ctx->node;

    if (ctx->kind == NGX_RTMP_COMPLIANCE_PLAYER) {
        cacf = ngx_rtmp_get_module_app_conf(ctx->session,
                                            ngx_rtmp_compliance_module);

        why = ngx_rtmp_compliance_tier_player_locked(cacf, ss->room,
                                                     &ctx->claims, 0, &t,
                                                     ctx->text,
                                                     sizeof(ctx->text));
        ctx->text[sizeof(ctx->text) - 1] = '\0';

        return why;
    }

    t = ctx->tier;

    if (t == NULL) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    /* time live is counted in ms from the admission: never cut early */

    live = msec - ctx->start;

    if (t->max_duration
        && live >= (ngx_msec_t) t->max_duration * 1000)
    {
        ngx_snprintf(ctx->text, sizeof(ctx->text), "live for %T s, tier "
                     "\"%V\" allows %T s%Z", (time_t) (live / 1000),
                     &t->name, t->max_duration);
        ctx->text[sizeof(ctx->text) - 1] = '\0';
        return NGX_RTMP_COMPLIANCE_DURATION_LIMIT;
    }

    if (ngx_rtmp_compliance_expired(ctx, now)) {
        return NGX_RTMP_COMPLIANCE_TOKEN_EXPIRED;
    }

    /* inbound bitrate over the last second or more */

    elapsed = msec - ctx->rate_msec;

    if (elapsed < 1000) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    rate = (ss->bytes_in - ctx->rate_bytes) * 8 * 1000 / elapsed;

    ctx->rate_msec = msec;
    ctx->rate_bytes = ss->bytes_in;

    if (t->max_bitrate == 0 || rate <= t->max_bitrate) {
        ctx->over_since = 0;
        return NGX_RTMP_COMPLIANCE_OK;
    }

    if (ctx->over_since == 0) {
        ctx->over_since = now;
        return NGX_RTMP_COMPLIANCE_OK;
    }

    if (now - ctx->over_since < NGX_RTMP_COMPLIANCE_BITRATE_GRACE) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    ngx_snprintf(ctx->text, sizeof(ctx->text), "%uL bit/s for %T s, tier "
                 "\"%V\" allows %uz%Z", rate, now - ctx->over_since,
                 &t->name, t->max_bitrate);
    ctx->text[sizeof(ctx->text) - 1] = '\0';

    return NGX_RTMP_COMPLIANCE_BITRATE_LIMIT;
}


/*
 * compliance_session_expiry on: a live publisher whose token's exp (and
 * the leeway) has passed is dropped, with ctx->text saying when
 */

static ngx_uint_t
ngx_rtmp_compliance_expired(ngx_rtmp_compliance_ctx_t *ctx, time_t now)
{
    ngx_rtmp_compliance_app_conf_t  *cacf;

    cacf = ngx_rtmp_get_module_app_conf(ctx->session,
                                        ngx_rtmp_compliance_module);

    /* the zone's exp: a refresh through the API may have moved it */

    if (cacf == NULL || !cacf->session_expiry || ctx->node->exp == 0
        || ctx->node->exp + cacf->leeway > now)
    {
        return 0;
    }

    ngx_snprintf(ctx->text, sizeof(ctx->text), "the token expired while "
                 "live, %T s ago (leeway %T s)%Z",
                 now - ctx->node->exp, cacf->leeway);
    ctx->text[sizeof(ctx->text) - 1] = '\0';

    return 1;
}


/*
 * an order or the API marked sessions (of any worker): this worker looks
 * at once rather than at its next recheck, so that a drop takes ~20 ms,
 * not up to compliance_recheck.  One read of a counter, no lock
 */

static void
ngx_rtmp_compliance_poke(ngx_event_t *ev)
{
    ngx_uint_t                        marks;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ev->data;
    marks = *(volatile ngx_uint_t *) &mcf->zone->sh->marks;

    if (marks != ngx_rtmp_compliance_marks) {
        ngx_rtmp_compliance_marks = marks;

        if (!ngx_queue_empty(&ngx_rtmp_compliance_sessions)
            && ngx_rtmp_compliance_timer.timer_set)
        {
            ngx_del_timer(&ngx_rtmp_compliance_timer);
            ngx_rtmp_compliance_recheck(&ngx_rtmp_compliance_timer);
        }
    }

    if (ngx_exiting && ngx_queue_empty(&ngx_rtmp_compliance_sessions)) {
        return;
    }

    ngx_add_timer(ev, NGX_RTMP_COMPLIANCE_POKE);
}


/*
 * every compliance_recheck (or at once, when sessions were marked): each
 * live session of this worker is accounted (its traffic), judged (what
 * its order, tier and limits say) and acted on (dropped or warned) after
 * the lock is released
 */

static void
ngx_rtmp_compliance_recheck(ngx_event_t *ev)
{
    time_t                            now;
    json_t                           *f;
    ngx_uint_t                        i, n, why;
    ngx_msec_t                        msec;
    ngx_queue_t                      *q;
    ngx_rtmp_compliance_ctx_t        *ctx;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    /* at most this many sessions are acted on per tick */
    ngx_rtmp_compliance_ctx_t        *act[NGX_RTMP_COMPLIANCE_ACT_MAX];
    ngx_uint_t                        reason[NGX_RTMP_COMPLIANCE_ACT_MAX];

    mcf = ev->data;
    now = ngx_time();
    msec = ngx_current_msec;
    n = 0;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ngx_rtmp_compliance_order_expire_locked(mcf, now);

    if (mcf->zone->sh->audit_lost) {
        /* is the audit log writable again? */
        f = json_object();
        (void) ngx_rtmp_compliance_audit_locked("audit.resume", f, ev->log);
        json_decref(f);
    }

    if (++ngx_rtmp_compliance_ticks % NGX_RTMP_COMPLIANCE_GC_TICKS == 0) {
        ngx_rtmp_compliance_gc_locked(mcf);
    }

    for (q = ngx_queue_head(&ngx_rtmp_compliance_sessions);
         q != ngx_queue_sentinel(&ngx_rtmp_compliance_sessions)
         && n < NGX_RTMP_COMPLIANCE_ACT_MAX;
         q = ngx_queue_next(q))
    {
        ctx = ngx_queue_data(q, ngx_rtmp_compliance_ctx_t, queue);

        ngx_rtmp_compliance_account(ctx);

        if (ctx->dropping) {
            continue;
        }

        why = ngx_rtmp_compliance_verdict_locked(mcf, ctx, now, msec);

        if (why != NGX_RTMP_COMPLIANCE_OK) {
            ctx->dropping = 1;
            ctx->why = why;
            act[n] = ctx;
            reason[n++] = why;
            continue;
        }

        if (ctx->node->warn != ctx->warned) {
            ctx->warned = ctx->node->warn;
            act[n] = ctx;
            reason[n++] = NGX_RTMP_COMPLIANCE_OK;

        } else if (ngx_rtmp_compliance_reverify_due_locked(mcf, ctx)) {
            /* its notice: one a tick, the order's text in ctx->text */
            act[n] = ctx;
            reason[n++] = NGX_RTMP_COMPLIANCE_REVERIFY_REQUIRED;
        }
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    for (i = 0; i < n; i++) {
        if (reason[i] == NGX_RTMP_COMPLIANCE_OK) {
            ngx_rtmp_compliance_warn(act[i], "NetStream.Publish.Warning",
                                     "warning", act[i]->node->order);

        } else if (reason[i] == NGX_RTMP_COMPLIANCE_REVERIFY_REQUIRED) {
            ngx_rtmp_compliance_warn(act[i], "NetStream.Publish.Reverify",
                                     "reverify", act[i]->node->reverify);

        } else {
            ngx_rtmp_compliance_drop(act[i], reason[i], 0);
        }
    }

    if (ngx_exiting && ngx_queue_empty(&ngx_rtmp_compliance_sessions)) {
        return;
    }

    /* a worker that holds no session does not keep nginx from stopping */
    ev->cancelable = ngx_queue_empty(&ngx_rtmp_compliance_sessions);

    ngx_add_timer(ev, n == NGX_RTMP_COMPLIANCE_ACT_MAX
                      ? 1 : ngx_rtmp_compliance_interval);
}


/* the session's traffic since the last look, into the zone */

static void
ngx_rtmp_compliance_account(ngx_rtmp_compliance_ctx_t *ctx)
{
    ngx_rtmp_session_t             *s;
    ngx_rtmp_compliance_session_t  *ss;

    ss = ctx->node;
    s = ctx->session;

    if (ctx->hls) {
        /* its requests, on any worker, count what it was sent */
        return;
    }

    ss->bytes_in += (uint32_t) (s->in_bytes - ctx->in_bytes);
    ctx->in_bytes = s->in_bytes;
    ss->bytes_out = s->connection->sent;
}


/*
 * what the session's order, a drop through the API, a restriction to
 * another tier or the tier's limits say: NGX_RTMP_COMPLIANCE_OK, or the
 * reason to drop it, with ctx->text saying why
 */

static ngx_uint_t
ngx_rtmp_compliance_verdict_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_ctx_t *ctx, time_t now, ngx_msec_t msec)
{
    ngx_uint_t                      why;
    ngx_rtmp_compliance_order_t    *o;
    ngx_rtmp_compliance_session_t  *ss;
    u_char                          text[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ss = ctx->node;

    ctx->text[0] = '\0';

    if (ss->refreshed != ctx->refreshed) {
        ngx_rtmp_compliance_refresh_take(ctx);
    }

    o = ss->order ? ngx_rtmp_compliance_order_find_locked(mcf->zone,
                                                          ss->order)
                  : NULL;
    if (o) {
        ngx_rtmp_compliance_order_text(o, text, sizeof(text));
        ngx_snprintf(ctx->text, sizeof(ctx->text), "order %uL: %s%Z",
                     o->id, text);
        ctx->text[sizeof(ctx->text) - 1] = '\0';
    }

    if (ss->drop) {
        why = ss->drop;

        if (why == NGX_RTMP_COMPLIANCE_OPERATOR_DROP) {
            ngx_snprintf(ctx->text, sizeof(ctx->text), "dropped through "
                         "the control API%Z");
            ctx->text[sizeof(ctx->text) - 1] = '\0';

        } else if (why == NGX_RTMP_COMPLIANCE_REPLACED) {
            ngx_rtmp_compliance_replaced_text(ctx);

        } else if (why == NGX_RTMP_COMPLIANCE_ROOM_BUSY) {
            ngx_snprintf(ctx->text, sizeof(ctx->text), "the room has a live "
                         "publisher on another node (the fleet's room "
                         "lock)%Z");
            ctx->text[sizeof(ctx->text) - 1] = '\0';
        }

        return why;
    }

    if (ss->restricted && ss->tier_len
        && (ctx->tier == NULL
            || ctx->tier->name.len != ss->tier_len
            || ngx_strncmp(ctx->tier->name.data, ss->tier, ss->tier_len) != 0))
    {
        why = ngx_rtmp_compliance_retier(ctx);

        if (why != NGX_RTMP_COMPLIANCE_OK) {
            return why;
        }
    }

    if (ss->reverify && ngx_rtmp_compliance_reverify_late_locked(mcf, ctx)) {
        return NGX_RTMP_COMPLIANCE_REVERIFY_TIMEOUT;
    }

    return ngx_rtmp_compliance_limits_locked(ctx, now, msec);
}


/*
 * a reverify order hit the session: past its deadline (ms, on the wall
 * clock) unrefreshed, it is to be dropped, ctx->text saying why; the
 * order lifted or expired meanwhile lets it be, unless another reverify
 * order its token predates is still in force (the deadline stays)
 */

static ngx_uint_t
ngx_rtmp_compliance_reverify_late_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_ctx_t *ctx)
{
    uint64_t                        now;
    ngx_str_t                       targets[NGX_RTMP_COMPLIANCE_T_MAX];
    ngx_time_t                     *tp;
    ngx_rtmp_compliance_order_t    *o;
    ngx_rtmp_compliance_session_t  *ss;
    u_char                          text[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ss = ctx->node;

    o = ngx_rtmp_compliance_order_find_locked(mcf->zone, ss->reverify);

    if (o == NULL || (o->until && o->until <= ngx_time())) {
        ngx_rtmp_compliance_order_targets(ss, NULL, targets);
        o = ngx_rtmp_compliance_order_reverify_locked(mcf->zone, targets,
                                                      ngx_time());

        if (o == NULL || ss->iat >= o->created) {
            ss->reverify = 0;
            ss->reverify_since = 0;
            return 0;
        }

        ss->reverify = o->id;
        ss->reverify_since = o->created;
    }

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    if (now < ss->reverify_ms) {
        return 0;
    }

    ngx_rtmp_compliance_order_text(o, text, sizeof(text));

    ngx_snprintf(ctx->text, sizeof(ctx->text), "not refreshed with a token "
                 "issued since %T within %T s, re-verification order %uL: "
                 "%s%Z", ss->reverify_since, o->within, o->id, text);
    ctx->text[sizeof(ctx->text) - 1] = '\0';

    return 1;
}


/* a reverify order's notice is due to the session: ctx->text is set */

static ngx_uint_t
ngx_rtmp_compliance_reverify_due_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_ctx_t *ctx)
{
    ngx_rtmp_compliance_order_t    *o;
    ngx_rtmp_compliance_session_t  *ss;
    u_char                          text[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ss = ctx->node;

    if (ss->reverify == 0 || ss->reverify_told == ctx->reverify_told) {
        return 0;
    }

    ctx->reverify_told = ss->reverify_told;

    o = ngx_rtmp_compliance_order_find_locked(mcf->zone, ss->reverify);

    if (o == NULL) {
        return 0;
    }

    ngx_rtmp_compliance_order_text(o, text, sizeof(text));

    ngx_snprintf(ctx->text, sizeof(ctx->text), "order %uL: %s: refresh the "
                 "token within %T s with one issued since %T%Z", o->id, text,
                 o->within, ss->reverify_since);
    ctx->text[sizeof(ctx->text) - 1] = '\0';

    return 1;
}


/* a restrict order moved a live publisher to another tier */

static ngx_uint_t
ngx_rtmp_compliance_retier(ngx_rtmp_compliance_ctx_t *ctx)
{
    ngx_str_t                        tier;
    ngx_uint_t                       why;
    ngx_rtmp_session_t              *s;
    ngx_rtmp_compliance_tier_t      *t;
    ngx_rtmp_compliance_session_t   *ss;
    ngx_rtmp_compliance_app_conf_t  *cacf;
    u_char                           detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ss = ctx->node;
    s = ctx->session;

    tier.data = ss->tier;
    tier.len = ss->tier_len;

    cacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module);
    t = cacf ? ngx_rtmp_compliance_tier_find(cacf, &tier) : NULL;

    ngx_log_error(NGX_LOG_NOTICE, s->connection->log, 0,
                  "compliance: session %uL restricted to tier \"%V\" by "
                  "order %uL%s", ss->id, &tier, ss->order,
                  t ? "" : ", a tier this application does not have");

    if (t == NULL) {
        return NGX_RTMP_COMPLIANCE_TIER_UNKNOWN;
    }

    /* the order's text stays what the session is told */
    why = ngx_rtmp_compliance_tier_check(t, &ctx->claims, detail,
                                         sizeof(detail));

    if (why == NGX_RTMP_COMPLIANCE_OK) {
        ctx->tier = t;
        ctx->over_since = 0;
    }

    return why;
}


/*
 * an onStatus warning of a live publisher (level "warning"), ctx->text
 * saying why: code NetStream.Publish.Warning for a warn order,
 * NetStream.Publish.Reverify for a reverify order (a new token is due)
 */

static void
ngx_rtmp_compliance_warn(ngx_rtmp_compliance_ctx_t *ctx, char *code,
    char *label, uint64_t order)
{
    json_t              *f;
    ngx_rtmp_session_t  *s;
    u_char               desc[NGX_RTMP_COMPLIANCE_DETAIL_MAX + 64];

    s = ctx->session;

    ngx_log_error(NGX_LOG_NOTICE, s->connection->log, 0,
                  "compliance: %s sent to session %uL, "
                  "room: \"%V\", %s", label, ctx->id, &ctx->room, ctx->text);

    ngx_snprintf(desc, sizeof(desc), "%s: %s%Z", label, ctx->text);
    desc[sizeof(desc) - 1] = '\0';

    ngx_rtmp_send_status(s, code, "warning", (char *) desc);

    f = json_pack("{s:I, s:s%, s:I, s:s}",
                  "session", (json_int_t) ctx->id,
                  "room", ctx->room.data, ctx->room.len,
                  "order", (json_int_t) order,
                  "text", (char *) ctx->text);

    if (f == NULL
        || ngx_rtmp_compliance_audit("warn.sent", f, s->connection->log)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, s->connection->log, 0,
                      "compliance: a warning was not audited");
    }

    json_decref(f);
}


static void
ngx_rtmp_compliance_replaced_text(ngx_rtmp_compliance_ctx_t *ctx)
{
    if (ctx->node->replaced_by) {
        ngx_snprintf(ctx->text, sizeof(ctx->text), "replaced by session "
                     "%uL, a new publish of the same person%Z",
                     ctx->node->replaced_by);

    } else {
        ngx_snprintf(ctx->text, sizeof(ctx->text), "replaced by a new "
                     "publish of the same person on another node%Z");
    }

    ctx->text[sizeof(ctx->text) - 1] = '\0';
}


/*
 * the session is told why and closed; close: its stream is closed at
 * once (its room has a new publisher on this worker), not when the
 * connection goes
 */

static void
ngx_rtmp_compliance_drop(ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason,
    ngx_uint_t close)
{
    ngx_rtmp_session_t       *s;
    ngx_rtmp_close_stream_t   v;
    u_char                    desc[NGX_RTMP_COMPLIANCE_DETAIL_MAX + 64];

    s = ctx->session;

    if (ctx->text[0] == '\0' && ctx->kind == NGX_RTMP_COMPLIANCE_PLAYER) {
        /* marked with its room's publisher: session_unpublish() */
        ngx_snprintf(ctx->text, sizeof(ctx->text), "the room's publisher "
                     "was dropped%Z");
    }

    ngx_log_error(NGX_LOG_NOTICE, s->connection->log, 0,
                  "compliance: session %uL dropped: %V, room: \"%V\", %s",
                  ctx->id, &ngx_rtmp_compliance_reasons[reason], &ctx->room,
                  ctx->text);

    if (ctx->hls && ngx_rtmp_compliance_proto.drop) {
        /* no connection: its next request is refused for the reason */
        ngx_rtmp_compliance_proto.drop(ctx);
        return;
    }

    ngx_snprintf(desc, sizeof(desc), "%V: %s%Z",
                 &ngx_rtmp_compliance_reasons[reason], ctx->text);
    desc[sizeof(desc) - 1] = '\0';

    ngx_rtmp_send_status(s, ctx->kind == NGX_RTMP_COMPLIANCE_PUBLISHER
                            ? "NetStream.Publish.Rejected"
                            : "NetStream.Play.Rejected",
                         "error", (char *) desc);

    if (ctx->kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
        ngx_rtmp_compliance_session_unpublish(ctx, reason);
    }

    if (close) {
        ngx_memzero(&v, sizeof(ngx_rtmp_close_stream_t));
        (void) ngx_rtmp_close_stream(s, &v);
    }

    ngx_rtmp_finalize_session(s);
}


/*
 * POST sessions/ID/token (the API, on any worker): the new token is
 * verified as a publish token with the keys of the session's application
 * (out of the lock), then held to the session (the same room and
 * person, no order that refuses it) and put into the zone: its exp, iat,
 * jti, kid and identity claims.  The owning worker takes it up at its
 * next look (the marks poke: ~20 ms); its expiry and reverify checks
 * read the zone.  Returns _OK or the reason, detail saying why; _GONE,
 * _PLAYER, _STALE (a worker of an older configuration owns it).
 */

ngx_uint_t
ngx_rtmp_compliance_session_refresh(uint64_t id, ngx_str_t *token,
    ngx_str_t *by, ngx_pool_t *pool, ngx_log_t *log, u_char *detail,
    size_t size)
{
    ngx_uint_t                        reason;
    ngx_rtmp_compliance_claims_t      cl;
    ngx_rtmp_compliance_session_t    *ss;
    ngx_rtmp_compliance_app_conf_t   *cacf;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    static ngx_str_t  publish = ngx_string("publish");

    mcf = ngx_rtmp_compliance_main;
    cacf = NULL;
    reason = NGX_RTMP_COMPLIANCE_OK;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, id);

    if (ss == NULL || ss->drop) {
        reason = NGX_RTMP_COMPLIANCE_REFRESH_GONE;

    } else if (ss->kind != NGX_RTMP_COMPLIANCE_PUBLISHER) {
        reason = NGX_RTMP_COMPLIANCE_REFRESH_PLAYER;

    } else if (ss->cycle != (void *) ngx_cycle || ss->app_conf == NULL) {
        reason = NGX_RTMP_COMPLIANCE_REFRESH_STALE;

    } else {
        cacf = ss->app_conf;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    ngx_memzero(&cl, sizeof(ngx_rtmp_compliance_claims_t));

    reason = ngx_rtmp_compliance_token_verify(cacf, token, &publish, pool,
                                              &cl, detail, size);
    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, id);

    if (ss == NULL || ss->drop) {
        reason = NGX_RTMP_COMPLIANCE_REFRESH_GONE;

    } else {
        reason = ngx_rtmp_compliance_refresh_check_locked(mcf->zone, ss, &cl,
                                                          detail, size);
    }

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        reason = ngx_rtmp_compliance_refresh_apply_locked(mcf->zone, ss, &cl,
                                                          by, log);
        if (reason != NGX_RTMP_COMPLIANCE_OK) {
            ngx_snprintf(detail, size, "the compliance zone is full%Z");
        }
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return reason;
}


/* the new token of a session: its room, its person, the orders in force */

static ngx_uint_t
ngx_rtmp_compliance_refresh_check_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_session_t *ss, ngx_rtmp_compliance_claims_t *cl,
    u_char *detail, size_t size)
{
    ngx_str_t                     room, person;
    ngx_str_t                     targets[NGX_RTMP_COMPLIANCE_T_MAX];
    ngx_uint_t                    reason;
    ngx_rtmp_compliance_order_t  *o;

    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_ROOM, &room);
    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_PERSON,
                                    &person);

    if (cl->room.len != room.len
        || ngx_memcmp(cl->room.data, room.data, room.len) != 0)
    {
        ngx_snprintf(detail, size, "the token is for another room than the "
                     "session's; the session is unchanged%Z");
        return NGX_RTMP_COMPLIANCE_ROOM_MISMATCH;
    }

    if (cl->pid.len != person.len
        || ngx_memcmp(cl->pid.data, person.data, person.len) != 0)
    {
        ngx_snprintf(detail, size, "the token is for another person than "
                     "the session's; the session is unchanged%Z");
        return NGX_RTMP_COMPLIANCE_PERSON_MISMATCH;
    }

    ngx_rtmp_compliance_session_targets(cl, &room,
                                        NGX_RTMP_COMPLIANCE_PUBLISHER,
                                        targets);

    o = ngx_rtmp_compliance_order_match_locked(zone, targets, ngx_time());

    reason = ngx_rtmp_compliance_session_refused(o, detail, size);

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        reason = ngx_rtmp_compliance_session_reverify_locked(zone, targets,
                                                             cl->iat, detail,
                                                             size);
    }

    return reason;
}


/*
 * the checked token into the zone, a pending reverify met, the change
 * recorded (session.refresh: old and new jti, by) and the owner poked
 */

static ngx_uint_t
ngx_rtmp_compliance_refresh_apply_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_session_t *ss, ngx_rtmp_compliance_claims_t *cl,
    ngx_str_t *by, ngx_log_t *log)
{
    json_t      *f;
    uint64_t     met;
    ngx_str_t    subj[NGX_RTMP_COMPLIANCE_S_MAX];
    ngx_uint_t   i;
    size_t       old_len;
    u_char       old[NGX_RTMP_COMPLIANCE_CLAIM_MAX];
    u_char       token[NGX_RTMP_COMPLIANCE_HASH_LEN + 8];

    for (i = 0; i < NGX_RTMP_COMPLIANCE_S_MAX; i++) {
        ngx_rtmp_compliance_session_get(ss, i, &subj[i]);
    }

    old_len = ngx_min(subj[NGX_RTMP_COMPLIANCE_S_JTI].len, sizeof(old));
    ngx_memcpy(old, subj[NGX_RTMP_COMPLIANCE_S_JTI].data, old_len);

    /* the person is the session's: refresh_check_locked() saw to it */
    ngx_rtmp_compliance_session_claims(cl, subj);

    if (ngx_rtmp_compliance_session_set_locked(zone, ss, subj) != NGX_OK) {
        return NGX_RTMP_COMPLIANCE_ZONE_FULL;
    }

    met = 0;

    if (ss->reverify && cl->iat >= ss->reverify_since) {
        met = ss->reverify;
        ss->reverify = 0;
        ss->reverify_since = 0;
    }

    ss->exp = cl->exp;
    ss->iat = cl->iat;
    ngx_memcpy(ss->hash, cl->hash, sizeof(ss->hash));
    ss->refreshed++;
    zone->sh->marks++;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "compliance: session %uL refreshed through the API, the "
                  "token's exp is now %T%s", ss->id, cl->exp,
                  met ? ", re-verified" : "");

    /* json_pack() takes no NULL string, even of length 0 */

#define ngx_rtmp_compliance_json_str(s)                                      \
    (s).len ? (char *) (s).data : "", (s).len

    f = json_pack("{s:I, s:s%, s:s%, s:s%, s:s%, s:s%, s:I, s:I, s:s%}",
                  "session", (json_int_t) ss->id,
                  "room",
                  ngx_rtmp_compliance_json_str(
                      subj[NGX_RTMP_COMPLIANCE_S_ROOM]),
                  "person",
                  ngx_rtmp_compliance_json_str(
                      subj[NGX_RTMP_COMPLIANCE_S_PERSON]),
                  "old_jti", old, old_len,
                  "jti", ngx_rtmp_compliance_json_str(cl->jti),
                  "kid", ngx_rtmp_compliance_json_str(cl->kid),
                  "exp", (json_int_t) cl->exp,
                  "iat", (json_int_t) cl->iat,
                  "token", token, (size_t) (ngx_sprintf(token, "sha256:%s",
                                                        ss->hash)
                                            - token));

#undef ngx_rtmp_compliance_json_str

    if (f && met
        && json_object_set_new(f, "reverify", json_integer((json_int_t) met))
           != 0)
    {
        json_decref(f);
        f = NULL;
    }

    if (f && by->len
        && json_object_set_new(f, "by", json_stringn((char *) by->data,
                                                     by->len))
           != 0)
    {
        json_decref(f);
        f = NULL;
    }

    if (f == NULL
        || ngx_rtmp_compliance_audit_locked("session.refresh", f, log)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, log, 0,
                      "compliance: the refresh of session %uL was not "
                      "audited", ss->id);
    }

    json_decref(f);

    return NGX_RTMP_COMPLIANCE_OK;
}


/*
 * the owning worker takes up a refresh: the claims it holds (the zone's
 * strings copied into the connection's pool), so that what it checks and
 * records later is the new token's
 */

static void
ngx_rtmp_compliance_refresh_take(ngx_rtmp_compliance_ctx_t *ctx)
{
    u_char                         *p;
    size_t                          len;
    ngx_str_t                       v;
    ngx_uint_t                      i;
    ngx_rtmp_compliance_claims_t   *cl;
    ngx_rtmp_compliance_session_t  *ss;

    static struct {
        ngx_uint_t                  subject;
        size_t                      offset;
    } fields[] = {
        { NGX_RTMP_COMPLIANCE_S_HOST,
          offsetof(ngx_rtmp_compliance_claims_t, sub) },
        { NGX_RTMP_COMPLIANCE_S_OP,
          offsetof(ngx_rtmp_compliance_claims_t, op) },
        { NGX_RTMP_COMPLIANCE_S_MCN,
          offsetof(ngx_rtmp_compliance_claims_t, mcn) },
        { NGX_RTMP_COMPLIANCE_S_JTI,
          offsetof(ngx_rtmp_compliance_claims_t, jti) },
        { NGX_RTMP_COMPLIANCE_S_IDV,
          offsetof(ngx_rtmp_compliance_claims_t, idv) },
        { NGX_RTMP_COMPLIANCE_S_KID,
          offsetof(ngx_rtmp_compliance_claims_t, kid) }
    };

    ss = ctx->node;
    cl = &ctx->claims;

    ctx->refreshed = ss->refreshed;
    cl->exp = ss->exp;
    cl->iat = ss->iat;
    ngx_memcpy(cl->hash, ss->hash, sizeof(cl->hash));

    len = 0;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        ngx_rtmp_compliance_session_get(ss, fields[i].subject, &v);
        len += v.len;
    }

    p = ngx_pnalloc(ctx->session->connection->pool, len ? len : 1);

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        ngx_rtmp_compliance_session_get(ss, fields[i].subject, &v);

        if (p == NULL) {
            /* kept as they were: only the records would show it */
            continue;
        }

        ngx_memcpy(p, v.data, v.len);
        v.data = p;
        p += v.len;

        *(ngx_str_t *) ((u_char *) cl + fields[i].offset) = v;
    }

    if (p == NULL) {
        ngx_log_error(NGX_LOG_ALERT, ctx->session->connection->log, 0,
                      "compliance: no memory for the refreshed claims of "
                      "session %uL", ctx->id);
    }

    ngx_log_error(NGX_LOG_INFO, ctx->session->connection->log, 0,
                  "compliance: session %uL took up its refreshed token, "
                  "exp %T", ctx->id, cl->exp);
}


/*
 * a publisher is dropped (not replaced): the players of its room that
 * nginx-rtmp cannot tell (HTTP-FLV, HLS), on every worker, are marked to
 * go with it, for the reason it went; RTMP players are told by
 * nginx-rtmp that the stream stopped, as before
 */

static void
ngx_rtmp_compliance_session_unpublish(ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t reason)
{
    ngx_uint_t                        n;
    ngx_rtmp_compliance_session_t    *ss;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;
    ss = ctx->node;

    if (mcf == NULL || mcf->zone == NULL || ss == NULL
        || reason == NGX_RTMP_COMPLIANCE_REPLACED)
    {
        return;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    n = ngx_rtmp_compliance_room_drop_locked(ss->room, reason, ss->order, 0);

    if (n) {
        mcf->zone->sh->marks++;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
}


/* the subjects of a session, as the records of its events carry them */

void
ngx_rtmp_compliance_audit_session(ngx_rtmp_compliance_fields_t *f,
    ngx_rtmp_session_t *s, ngx_rtmp_compliance_ctx_t *ctx)
{
    char                          *proto;
    ngx_str_t                     *tier;
    ngx_uint_t                     p;
    ngx_rtmp_compliance_claims_t  *cl;
    u_char                         token[NGX_RTMP_COMPLIANCE_HASH_LEN + 8];

    cl = &ctx->claims;
    tier = ctx->tier ? &ctx->tier->name : &cl->tier;

    if (ctx->node) {
        ngx_rtmp_compliance_field_int(f, "session", (int64_t) ctx->id);

    } else {
        ngx_rtmp_compliance_field_lit(f, "session", "null");
    }

#define ngx_rtmp_compliance_field(name, str)                                  \
    ngx_rtmp_compliance_field_str(f, name, (str).data, (str).len)

    ngx_rtmp_compliance_field("app", s->app);
    ngx_rtmp_compliance_field("room", ctx->room);
    ngx_rtmp_compliance_field("host", cl->sub);
    ngx_rtmp_compliance_field("person", cl->pid);
    ngx_rtmp_compliance_field("op", cl->op);
    ngx_rtmp_compliance_field("mcn", cl->mcn);
    ngx_rtmp_compliance_field("tier", *tier);
    ngx_rtmp_compliance_field_lit(f, "ai", cl->ai ? "true" : "false");
    ngx_rtmp_compliance_field("idv", cl->idv);
    ngx_rtmp_compliance_field("jti", cl->jti);
    ngx_rtmp_compliance_field("kid", cl->kid);

#undef ngx_rtmp_compliance_field

    if (cl->hash[0]) {
        ngx_rtmp_compliance_field_str(f, "token", token,
                                      ngx_sprintf(token, "sha256:%s", cl->hash)
                                      - token);

    } else {
        ngx_rtmp_compliance_field_str(f, "token", NULL, 0);
    }

    ngx_rtmp_compliance_field_str(f, "addr", s->connection->addr_text.data,
                                  s->connection->addr_text.len);

    p = ngx_rtmp_compliance_ctx_proto(s, ctx);
    proto = ngx_rtmp_compliance_proto_name(p);
    ngx_rtmp_compliance_field_str(f, "proto", (u_char *) proto,
                                  ngx_strlen(proto));
}
