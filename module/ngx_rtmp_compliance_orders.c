
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The life of an order, in one place: created (through the API or read
 * from the fleet), applied to the live sessions it hits, lifted, expired.
 * Each step is the same sequence wherever it starts: the zone, the state
 * file's journal, the live sessions, the fleet's outbox, the audit log
 * and the error log, in that order.  The zone's mutex is held.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_orders.h"
#include "ngx_rtmp_compliance_order_json.h"
#include "ngx_rtmp_compliance_state.h"
#include "ngx_rtmp_compliance_fleet.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_text.h"


/* KIND:"ID" in a log line */
#define NGX_RTMP_COMPLIANCE_TARGET_LOG                                       \
    (16 + NGX_RTMP_COMPLIANCE_CLAIM_MAX * NGX_RTMP_COMPLIANCE_TEXT_LOG_MAX + 2)


static void ngx_rtmp_compliance_order_publish_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_order_t *o,
    ngx_uint_t what, ngx_log_t *log);
static void ngx_rtmp_compliance_order_fleet_create(
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_fleet_entry_t *e, time_t now);
static ngx_uint_t ngx_rtmp_compliance_order_reverify_session(
    ngx_rtmp_compliance_session_t *ss, ngx_rtmp_compliance_order_t *o);
static void ngx_rtmp_compliance_order_audit_locked(const char *event,
    ngx_rtmp_compliance_order_t *o, ngx_str_t *by, ngx_log_t *log);
static ngx_str_t *ngx_rtmp_compliance_order_log_target(
    ngx_rtmp_compliance_order_t *o, u_char *buf, ngx_str_t *out);


/*
 * a new order: NGX_OK with *op set; NGX_DECLINED: the zone is full;
 * NGX_ERROR: the state file could not be written.  Nothing changed but
 * for NGX_OK; an order from the fleet is applied even where its journal
 * fails (it comes again from the stream after a restart).
 */

ngx_int_t
ngx_rtmp_compliance_order_create_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_order_spec_t *spec, ngx_uint_t origin,
    ngx_log_t *log, ngx_rtmp_compliance_order_t **op)
{
    json_t                       *j;
    ngx_int_t                     rc;
    ngx_str_t                     target, by;
    ngx_uint_t                    hits;
    ngx_rtmp_compliance_order_t  *o;
    u_char                        buf[NGX_RTMP_COMPLIANCE_TARGET_LOG];

    o = ngx_rtmp_compliance_order_add_locked(mcf->zone, spec);

    if (o == NULL) {
        return NGX_DECLINED;
    }

    /* {"op":"create","order":{...}} */

    j = ngx_rtmp_compliance_order_json(o);
    rc = ngx_rtmp_compliance_state_append(mcf,
                                          j ? json_pack("{s:s, s:O}", "op",
                                                        "create", "order", j)
                                            : NULL,
                                          log);
    json_decref(j);

    if (rc != NGX_OK) {

        if (origin == NGX_RTMP_COMPLIANCE_ORIGIN_API) {
            ngx_rtmp_compliance_order_delete_locked(mcf->zone, o);
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance_redis: order \"%V\" applied but not "
                      "written to the state file; it comes again from the "
                      "stream after a restart", &spec->uid);
    }

    hits = ngx_rtmp_compliance_order_apply_locked(mcf->zone, o);

    if (origin == NGX_RTMP_COMPLIANCE_ORIGIN_API) {
        ngx_rtmp_compliance_order_publish_locked(mcf, o,
                                             NGX_RTMP_COMPLIANCE_FLEET_CREATE,
                                             log);
    }

    by.data = ngx_rtmp_compliance_order_by(o);
    by.len = o->by_len;

    ngx_rtmp_compliance_order_audit_locked("order.create", o, &by, log);

    if (origin == NGX_RTMP_COMPLIANCE_ORIGIN_API) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance: order %uL created: %V %V until %T, "
                      "%ui live sessions hit", o->id,
                      &ngx_rtmp_compliance_actions[o->action],
                      ngx_rtmp_compliance_order_log_target(o, buf, &target),
                      o->until, hits);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance_redis: order \"%V\" from the fleet applied "
                      "(local %uL)", &spec->uid, o->id);
    }

    *op = o;

    return NGX_OK;
}


/* a change made here goes to the fleet; it stays in force here if not */

static void
ngx_rtmp_compliance_order_publish_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_order_t *o, ngx_uint_t what, ngx_log_t *log)
{
    if (ngx_rtmp_compliance_fleet_publish_locked(mcf, what, o, log)
        == NGX_OK)
    {
        return;
    }

    if (what == NGX_RTMP_COMPLIANCE_FLEET_CREATE) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance: order %uL is in force here but could not "
                      "be queued for the fleet", o->id);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance: order %uL is lifted here but the lift "
                      "could not be queued for the fleet", o->id);
    }
}


/*
 * an order lifted: journaled first (NGX_ERROR: it could not be, and the
 * order stays in force), then recorded (by: the moderator who lifted it,
 * or NULL), sent to the fleet where it was lifted here, and taken out of
 * the zone
 */

ngx_int_t
ngx_rtmp_compliance_order_lift_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_order_t *o, ngx_uint_t origin, ngx_str_t *by,
    ngx_log_t *log)
{
    ngx_str_t  uid, target;
    u_char     buf[NGX_RTMP_COMPLIANCE_TARGET_LOG];

    if (ngx_rtmp_compliance_state_append(mcf,
                                         json_pack("{s:s, s:I}", "op",
                                                   "lift", "id",
                                                   (json_int_t) o->id),
                                         log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (origin == NGX_RTMP_COMPLIANCE_ORIGIN_API) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance: order %uL lifted: %V %V", o->id,
                      &ngx_rtmp_compliance_actions[o->action],
                      ngx_rtmp_compliance_order_log_target(o, buf, &target));

    } else {
        uid.data = ngx_rtmp_compliance_order_uid(o);
        uid.len = o->uid_len;

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance_redis: order \"%V\" lifted by the fleet "
                      "(local %uL)", &uid, o->id);
    }

    ngx_rtmp_compliance_order_audit_locked("order.lift", o, by, log);

    if (origin == NGX_RTMP_COMPLIANCE_ORIGIN_API) {
        ngx_rtmp_compliance_order_publish_locked(mcf, o,
                                             NGX_RTMP_COMPLIANCE_FLEET_LIFT,
                                             log);
    }

    ngx_rtmp_compliance_order_delete_locked(mcf->zone, o);

    return NGX_OK;
}


void
ngx_rtmp_compliance_order_expire_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    time_t now)
{
    ngx_str_t                     target;
    ngx_rtmp_compliance_order_t  *o;
    u_char                        buf[NGX_RTMP_COMPLIANCE_TARGET_LOG];

    while ((o = ngx_rtmp_compliance_order_expired_locked(mcf->zone, now))) {

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "compliance: order %uL expired: %V %V",
                      o->id, &ngx_rtmp_compliance_actions[o->action],
                      ngx_rtmp_compliance_order_log_target(o, buf, &target));

        ngx_rtmp_compliance_order_audit_locked("order.expire", o, NULL,
                                               ngx_cycle->log);
        ngx_rtmp_compliance_order_delete_locked(mcf->zone, o);
    }
}


/* an order change of another node, read from the fleet's stream */

void
ngx_rtmp_compliance_order_fleet_entry(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_fleet_entry_t *e, time_t now)
{
    ngx_rtmp_compliance_order_t  *o;

    o = ngx_rtmp_compliance_order_find_uid_locked(mcf->zone, &e->uid);

    if (e->op.len == 4 && ngx_strncmp(e->op.data, "lift", 4) == 0) {
        if (o) {
            (void) ngx_rtmp_compliance_order_lift_locked(mcf, o,
                                             NGX_RTMP_COMPLIANCE_ORIGIN_FLEET,
                                             NULL, ngx_cycle->log);
        }

        return;
    }

    if (!(e->op.len == 6 && ngx_strncmp(e->op.data, "create", 6) == 0)) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance_redis: stream entry \"%V\" has an unknown "
                      "op, skipped", &e->id);
        return;
    }

    if (o) {
        /* known already: ours, or read before */
        return;
    }

    ngx_rtmp_compliance_order_fleet_create(mcf, e, now);
}


static void
ngx_rtmp_compliance_order_fleet_create(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_fleet_entry_t *e, time_t now)
{
    json_t                            *j;
    ngx_int_t                          rc;
    ngx_rtmp_compliance_order_t       *o;
    ngx_rtmp_compliance_order_spec_t   spec;
    u_char                             detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    j = json_loadb((char *) e->order.data, e->order.len,
                   JSON_REJECT_DUPLICATES, NULL);

    /* a "duration" counts from when the entry was written, not read */

    if (j == NULL
        || ngx_rtmp_compliance_order_parse(j, NGX_RTMP_COMPLIANCE_PARSE_FLEET,
                                           &spec,
                                           e->written ? e->written : now,
                                           detail, sizeof(detail))
           != NGX_OK)
    {
        detail[sizeof(detail) - 1] = '\0';
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance_redis: order \"%V\" of stream entry "
                      "\"%V\" is not valid (%s), skipped", &e->uid,
                      &e->id, j ? (char *) detail : "not JSON");
        json_decref(j);
        return;
    }

    if (spec.until && spec.until <= now) {
        json_decref(j);
        return;
    }

    spec.uid = e->uid;

    rc = ngx_rtmp_compliance_order_create_locked(mcf, &spec,
                                             NGX_RTMP_COMPLIANCE_ORIGIN_FLEET,
                                             ngx_cycle->log, &o);

    json_decref(j);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_CRIT, ngx_cycle->log, 0,
                      "compliance_redis: no room in the zone for order "
                      "\"%V\"", &e->uid);
    }
}


/*
 * an order just stored marks the live sessions it hits; their workers act
 * on the next recheck.  Returns how many sessions were hit.
 */

ngx_uint_t
ngx_rtmp_compliance_order_apply_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_t *o)
{
    ngx_uint_t                      n;
    ngx_rbtree_node_t              *node, *root, *sentinel;
    ngx_rtmp_compliance_session_t  *ss;

    n = 0;
    root = zone->sh->sessions.root;
    sentinel = zone->sh->sessions.sentinel;

    if (root == sentinel) {
        return 0;
    }

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&zone->sh->sessions, node))
    {
        ss = (ngx_rtmp_compliance_session_t *) node;

        if (ss->kind != NGX_RTMP_COMPLIANCE_PUBLISHER
            && o->kind != NGX_RTMP_COMPLIANCE_T_ROOM)
        {
            continue;
        }

        if (!ngx_rtmp_compliance_order_hits(o, ss)) {
            continue;
        }

        n++;

        switch (o->action) {

        case NGX_RTMP_COMPLIANCE_WARN:
            if (ss->kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
                ss->warn++;
                ss->order = o->id;
            }

            break;

        case NGX_RTMP_COMPLIANCE_REVERIFY:
            /* a token issued since the order is not hit */
            n -= !ngx_rtmp_compliance_order_reverify_session(ss, o);
            break;

        case NGX_RTMP_COMPLIANCE_RESTRICT:
            if (ss->kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
                ss->restricted = 1;
                ss->order = o->id;
                ss->tier_len = (u_short) ngx_min(o->tier_len,
                                                 sizeof(ss->tier));
                ngx_memcpy(ss->tier, ngx_rtmp_compliance_order_tier(o),
                           ss->tier_len);

                if (ss->room->publisher == ss->id) {
                    ngx_rtmp_compliance_room_set_tier(ss->room, ss->tier,
                                                      ss->tier_len);
                }
            }

            break;

        default: /* suspend, ban */
            ss->drop = (o->kind == NGX_RTMP_COMPLIANCE_T_TOKEN)
                       ? NGX_RTMP_COMPLIANCE_TOKEN_REVOKED
                       : (o->action == NGX_RTMP_COMPLIANCE_BAN)
                         ? NGX_RTMP_COMPLIANCE_BANNED
                         : NGX_RTMP_COMPLIANCE_SUSPENDED;
            ss->order = o->id;

            if (ss->kind != NGX_RTMP_COMPLIANCE_PUBLISHER) {
                break;
            }

            /* the room's players go with its publisher */
            (void) ngx_rtmp_compliance_room_drop_locked(ss->room, ss->drop,
                                                        o->id, 1);
        }
    }

    if (n) {
        zone->sh->marks++;
    }

    return n;
}


/*
 * a reverify order hits a live publisher whose token was issued before
 * it: the publisher is told, and has "within" seconds (counted in ms
 * from now, on the wall clock every worker shares) to be refreshed with
 * a token issued since; the earliest deadline of several stands
 */

static ngx_uint_t
ngx_rtmp_compliance_order_reverify_session(ngx_rtmp_compliance_session_t *ss,
    ngx_rtmp_compliance_order_t *o)
{
    uint64_t     by;
    ngx_time_t  *tp;

    if (ss->kind != NGX_RTMP_COMPLIANCE_PUBLISHER || ss->iat >= o->created) {
        return 0;
    }

    tp = ngx_timeofday();
    by = (uint64_t) tp->sec * 1000 + tp->msec + (uint64_t) o->within * 1000;

    if (ss->reverify == 0 || by < ss->reverify_ms) {
        ss->reverify_ms = by;
    }

    ss->reverify = o->id;
    ss->reverify_since = ngx_max(ss->reverify_since, o->created);
    ss->reverify_told++;

    return 1;
}


/* the session's subject that an order's target kind names */

static ngx_uint_t  ngx_rtmp_compliance_order_subject[] = {
    NGX_RTMP_COMPLIANCE_S_PERSON,
    NGX_RTMP_COMPLIANCE_S_HOST,
    NGX_RTMP_COMPLIANCE_S_ROOM,
    NGX_RTMP_COMPLIANCE_S_OP,
    NGX_RTMP_COMPLIANCE_S_MCN,
    NGX_RTMP_COMPLIANCE_S_JTI
};


/* does the order's target name one of the session's subjects? */

ngx_uint_t
ngx_rtmp_compliance_order_hits(ngx_rtmp_compliance_order_t *o,
    ngx_rtmp_compliance_session_t *ss)
{
    ngx_str_t  s;

    ngx_rtmp_compliance_session_get(ss,
                                    ngx_rtmp_compliance_order_subject[o->kind],
                                    &s);

    return s.len == o->target_len
           && ngx_memcmp(s.data, ngx_rtmp_compliance_order_target(o), s.len)
              == 0;
}


/*
 * the targets (NGX_RTMP_COMPLIANCE_T_MAX) that subjects (_S_MAX) name;
 * ss: those of a live session, else subjects as given
 */

void
ngx_rtmp_compliance_order_targets(ngx_rtmp_compliance_session_t *ss,
    ngx_str_t *subjects, ngx_str_t *targets)
{
    ngx_uint_t  k, n;

    for (k = 0; k < NGX_RTMP_COMPLIANCE_T_MAX; k++) {
        n = ngx_rtmp_compliance_order_subject[k];

        if (ss) {
            ngx_rtmp_compliance_session_get(ss, n, &targets[k]);

        } else {
            targets[k] = subjects[n];
        }
    }
}


/* order.create, order.lift, order.expire; the zone's mutex is held */

static void
ngx_rtmp_compliance_order_audit_locked(const char *event,
    ngx_rtmp_compliance_order_t *o, ngx_str_t *by, ngx_log_t *log)
{
    json_t  *j, *f, *v;

    j = ngx_rtmp_compliance_order_json(o);

    /* "id" is "order" in the audit record, "created" is the ts */

    f = j ? json_pack("{s:I}", "order", (json_int_t) o->id) : NULL;

    if (f) {
        if ((v = json_object_get(j, "target")) == NULL
            || json_object_set(f, "target", v) != 0
            || (v = json_object_get(j, "action")) == NULL
            || json_object_set(f, "action", v) != 0
            || json_object_set(f, "until", json_object_get(j, "until")) != 0
            || json_object_set(f, "reason", json_object_get(j, "reason"))
               != 0
            || json_object_set(f, "ref", json_object_get(j, "ref")) != 0
            || json_object_set_new(f, "tier",
                                   o->tier_len
                                   ? json_stringn((char *)
                                         ngx_rtmp_compliance_order_tier(o),
                                         o->tier_len)
                                   : json_null())
               != 0
            /* a reverify order's */
            || ((v = json_object_get(j, "within")) != NULL
                && json_object_set(f, "within", v) != 0)
            /* fleet-wide, so that a node's record names the order that
             * another node or the back office made */
            || ((v = json_object_get(j, "uid")) != NULL
                && json_object_set(f, "uid", v) != 0)
            /* the moderator behind it: compliance_api_actor */
            || (by && by->len
                && json_object_set_new(f, "by",
                                       json_stringn((char *) by->data,
                                                    by->len))
                   != 0))
        {
            json_decref(f);
            f = NULL;
        }
    }

    if (f == NULL
        || ngx_rtmp_compliance_audit_locked(event, f, log) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, log, 0,
                      "compliance: %s of order %uL was not audited",
                      event, o->id);
    }

    json_decref(f);
    json_decref(j);
}


/* KIND:"ID": the ID came from a client of the API, it is escaped */

static ngx_str_t *
ngx_rtmp_compliance_order_log_target(ngx_rtmp_compliance_order_t *o,
    u_char *buf, ngx_str_t *out)
{
    u_char  *p, *last;

    last = buf + NGX_RTMP_COMPLIANCE_TARGET_LOG;

    p = ngx_slprintf(buf, last, "%V:", &ngx_rtmp_compliance_targets[o->kind]);
    p = ngx_rtmp_compliance_text_log(p, last,
                                     ngx_rtmp_compliance_order_target(o),
                                     o->target_len);

    out->data = buf;
    out->len = p - buf;

    return out;
}
