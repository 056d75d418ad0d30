
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The shared zone: a store of orders (by id, expiry, target and fleet
 * uid), rooms and live sessions of every worker, the audit chain's head
 * and the fleet's outbox.  It knows nothing of what uses it.
 */


#ifndef _NGX_RTMP_COMPLIANCE_ZONE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_ZONE_H_INCLUDED_


#include "ngx_rtmp_compliance.h"
#include "ngx_rtmp_compliance_compat.h"


/* order targets and actions */

typedef enum {
    NGX_RTMP_COMPLIANCE_T_PERSON = 0,
    NGX_RTMP_COMPLIANCE_T_HOST,
    NGX_RTMP_COMPLIANCE_T_ROOM,
    NGX_RTMP_COMPLIANCE_T_OP,
    NGX_RTMP_COMPLIANCE_T_MCN,
    NGX_RTMP_COMPLIANCE_T_TOKEN,
    NGX_RTMP_COMPLIANCE_T_MAX
} ngx_rtmp_compliance_target_e;


typedef enum {
    NGX_RTMP_COMPLIANCE_WARN = 1,
    NGX_RTMP_COMPLIANCE_RESTRICT,
    NGX_RTMP_COMPLIANCE_SUSPEND,
    NGX_RTMP_COMPLIANCE_BAN,
    NGX_RTMP_COMPLIANCE_REVERIFY     /* not ranked with the others: a new
                                        token is due, see _orders.c */
} ngx_rtmp_compliance_action_e;


/* reverify: how long a live publisher has to be refreshed (seconds) */
#define NGX_RTMP_COMPLIANCE_WITHIN_DEFAULT  300
#define NGX_RTMP_COMPLIANCE_WITHIN_MAX      86400
/* an order of the API without "until" or "duration" (reverify) */
#define NGX_RTMP_COMPLIANCE_ORDER_DEFAULT   86400


#define NGX_RTMP_COMPLIANCE_REASON_LEN    512
#define NGX_RTMP_COMPLIANCE_REF_LEN       128


/* an order as parsed, before it is stored */

typedef struct {
    uint64_t                        id;          /* 0: new */
    ngx_uint_t                      kind;        /* target kind */
    ngx_str_t                       target;      /* the id after "kind:" */
    ngx_uint_t                      action;
    time_t                          created;
    time_t                          until;       /* 0: never */
    ngx_str_t                       reason;
    ngx_str_t                       ref;
    ngx_str_t                       tier;        /* restrict */
    ngx_str_t                       uid;         /* fleet-wide id */
    ngx_str_t                       by;          /* compliance_api_actor */
    time_t                          within;      /* reverify: seconds */
} ngx_rtmp_compliance_order_spec_t;


/* an order in the shared zone: one allocation */

typedef struct {
    ngx_rbtree_node_t               node;        /* key: id */
    ngx_rbtree_node_t               expiry;      /* key: until */
    ngx_str_node_t                  uid_node;    /* key: crc32 of the uid */
    ngx_queue_t                     queue;       /* of the target */
    void                           *target_node;
    uint64_t                        id;
    time_t                          created;
    time_t                          until;
    time_t                          within;      /* reverify: seconds */
    u_char                          kind;
    u_char                          action;
    u_short                         target_len;
    u_short                         reason_len;
    u_short                         ref_len;
    u_short                         tier_len;
    u_short                         uid_len;
    u_short                         by_len;
    u_char                          data[1];     /* target reason ref tier
                                                    uid by */
} ngx_rtmp_compliance_order_t;


#define ngx_rtmp_compliance_order_target(o)    ((o)->data)
#define ngx_rtmp_compliance_order_reason(o)    ((o)->data + (o)->target_len)
#define ngx_rtmp_compliance_order_ref(o)                                     \
    ((o)->data + (o)->target_len + (o)->reason_len)
#define ngx_rtmp_compliance_order_tier(o)                                    \
    ((o)->data + (o)->target_len + (o)->reason_len + (o)->ref_len)
#define ngx_rtmp_compliance_order_uid(o)                                     \
    (ngx_rtmp_compliance_order_tier(o) + (o)->tier_len)
#define ngx_rtmp_compliance_order_by(o)                                      \
    (ngx_rtmp_compliance_order_uid(o) + (o)->uid_len)

/* the moderator behind an order or a drop: compliance_api_actor */
#define NGX_RTMP_COMPLIANCE_BY_MAX        128

#define NGX_RTMP_COMPLIANCE_UID_MAX       128


/* all orders of one target, e.g. "person:9f2c" */

typedef struct {
    ngx_str_node_t                  sn;
    ngx_queue_t                     orders;
    u_char                          data[1];
} ngx_rtmp_compliance_target_t;


#define NGX_RTMP_COMPLIANCE_S_APP       0
#define NGX_RTMP_COMPLIANCE_S_ROOM      1
#define NGX_RTMP_COMPLIANCE_S_HOST      2
#define NGX_RTMP_COMPLIANCE_S_PERSON    3
#define NGX_RTMP_COMPLIANCE_S_OP        4
#define NGX_RTMP_COMPLIANCE_S_MCN       5
#define NGX_RTMP_COMPLIANCE_S_JTI       6
#define NGX_RTMP_COMPLIANCE_S_TIER      7
#define NGX_RTMP_COMPLIANCE_S_IDV       8
#define NGX_RTMP_COMPLIANCE_S_KID       9
#define NGX_RTMP_COMPLIANCE_S_ADDR      10
#define NGX_RTMP_COMPLIANCE_S_MAX       11


/* a session's subjects after a refresh: one allocation */

typedef struct {
    u_short                         len[NGX_RTMP_COMPLIANCE_S_MAX];
    u_char                          data[1];
} ngx_rtmp_compliance_subjects_t;


/* a room with a live publisher or players: "app/room" */

typedef struct {
    ngx_str_node_t                  sn;
    uint64_t                        publisher;   /* session id, 0: none */
    ngx_uint_t                      viewers;     /* players, all workers */
    ngx_queue_t                     players;     /* their sessions' in_room */
    u_char                          ai;
    u_short                         tier_len;
    u_char                          tier[NGX_RTMP_COMPLIANCE_CLAIM_MAX];
    u_char                          data[1];
} ngx_rtmp_compliance_room_t;


/* a live session in the shared zone */

struct ngx_rtmp_compliance_session_s {
    ngx_rbtree_node_t               node;        /* key: id */
    ngx_rtmp_compliance_room_t     *room;
    ngx_queue_t                     in_room;     /* a player: in its room's
                                                    players */
    uint64_t                        id;
    ngx_pid_t                       pid;         /* the owner worker */
    u_char                          kind;
    u_char                          ai;
    u_char                          drop;        /* a reason, 0: none */
    u_char                          restricted;
    u_char                          proto;       /* _PROTO_*: compat.h */
    time_t                          started;
    ngx_msec_t                      seen;        /* an HLS viewer's last
                                                    request, any worker */
    uint64_t                        bytes_in;
    uint64_t                        bytes_out;
    uint64_t                        order;       /* drop/warn/restrict */
    uint64_t                        replaced_by; /* the session that took
                                                    the room over */
    u_char                          lock;        /* the fleet's room lock:
                                                    _LOCK_* */
    u_char                          takeover;    /* its room may be taken
                                                    over by the person */
    ngx_uint_t                      warn;        /* warnings to send */

    /* the token, and its refreshes through the API (sessions/ID/token) */
    time_t                          exp;         /* 0: none */
    time_t                          iat;         /* 0: none */
    ngx_uint_t                      refreshed;   /* how many times */
    void                           *app_conf;    /* its application's, */
    void                           *cycle;       /* of this cycle */
    u_char                          hash[NGX_RTMP_COMPLIANCE_HASH_LEN + 1];
    void                           *subjects;    /* _subjects_t of the
                                                    last refresh, NULL:
                                                    data */

    /* a reverify order: refreshed with a token issued since, or dropped */
    uint64_t                        reverify;    /* the order, 0: none */
    time_t                          reverify_since;     /* its created */
    uint64_t                        reverify_ms;        /* the deadline,
                                                           epoch ms */
    ngx_uint_t                      reverify_told;      /* warnings due */

    u_char                          tier[NGX_RTMP_COMPLIANCE_CLAIM_MAX];
    u_short                         tier_len;
    u_short                         len[NGX_RTMP_COMPLIANCE_S_MAX];
    u_char                          by_len;      /* who dropped it */
    u_char                          by[NGX_RTMP_COMPLIANCE_BY_MAX];
    u_char                          data[1];
};


typedef struct {
    ngx_rbtree_t                    orders;
    ngx_rbtree_node_t               orders_sentinel;
    ngx_rbtree_t                    expiry;
    ngx_rbtree_node_t               expiry_sentinel;
    ngx_rbtree_t                    targets;
    ngx_rbtree_node_t               targets_sentinel;
    ngx_rbtree_t                    sessions;
    ngx_rbtree_node_t               sessions_sentinel;
    ngx_rbtree_t                    rooms;
    ngx_rbtree_node_t               rooms_sentinel;
    ngx_rbtree_t                    uids;
    ngx_rbtree_node_t               uids_sentinel;
    uint64_t                        next_order;
    uint64_t                        next_session;
    ngx_uint_t                      norders;
    ngx_uint_t                      nreverify;   /* of them, reverify
                                                    orders */
    u_char                         *seen;        /* targets by hash bucket,
                                                    saturating at 255 */
    uint32_t                        seen_mask;   /* buckets - 1 */
    ngx_uint_t                      nsessions[2];
    ngx_uint_t                      nproto[NGX_RTMP_COMPLIANCE_PROTO_MAX];
    ngx_uint_t                      generation;  /* of the orders */
    ngx_uint_t                      marks;       /* sessions marked for
                                                    a drop, warning or
                                                    restriction */
    ngx_uint_t                      admitted[2];
    ngx_uint_t                      rejected[2]
                                        [NGX_RTMP_COMPLIANCE_REASON_MAX];
    ngx_uint_t                      dropped;
    ngx_uint_t                      admission_timeouts;
    ngx_uint_t                      state_errors;

    /* the audit chain */
    uint64_t                        audit_seq;
    u_char                          audit_prev[64];     /* hex */
    ngx_msec_t                      audit_ms;
    u_char                          audit_segment[32];
    uint64_t                        audit_records;
    uint64_t                        audit_errors;
    uint64_t                        audit_lost;         /* since a failure */
    ngx_uint_t                      audit_start;        /* to be written */
    ngx_uint_t                      audit_recovered;    /* bytes cut */
    ngx_msec_t                      audit_checkpoint_ms;    /* the last
                                                               checkpoint */
    uint64_t                        audit_checkpoint_seq;   /* its seq */
    u_char                          audit_checkpoint_hash[64];  /* signed */
    u_char                          audit_checkpoint_sig[128];  /* hex */
    u_char                          audit_checkpoint_ts[24];

    /* the rejection windows (ngx_rtmp_compliance_flood.c) */
    void                           *flood;

    /* the fleet */
    ngx_queue_t                     outbox;
    ngx_queue_t                     unlocks;     /* room locks to release */
    ngx_uint_t                      lock_wanted;        /* locks to take */
    ngx_uint_t                      lock_skipped;       /* admitted while
                                                           Redis was down */
    ngx_uint_t                      lock_busy;          /* refused by it */
    ngx_uint_t                      lock_down_logged;
    ngx_uint_t                      noutbox;
    ngx_pid_t                       fleet_owner;
    ngx_uint_t                      fleet_connected;
    ngx_uint_t                      fleet_down_logged;
    uint64_t                        fleet_entries;      /* read */
    uint64_t                        fleet_last_ms;      /* of the last id */
    uint64_t                        fleet_lag_ms;       /* of the last read */
    u_char                          fleet_last_id
                                        [NGX_RTMP_COMPLIANCE_STREAM_ID];
    uint64_t                        fleet_checkpoint_seq;   /* the last
                                                    checkpoint published */
    uint64_t                        fleet_witnesses;    /* written */
} ngx_rtmp_compliance_shctx_t;


/* an order change this node has to publish to the fleet */

typedef struct {
    ngx_queue_t                     queue;
    ngx_uint_t                      what;        /* _FLEET_CREATE, _LIFT */
    size_t                          uid_len;
    size_t                          json_len;
    u_char                          data[1];     /* uid json */
} ngx_rtmp_compliance_outbox_t;


#define NGX_RTMP_COMPLIANCE_FLEET_CREATE  1
#define NGX_RTMP_COMPLIANCE_FLEET_LIFT    2
#define NGX_RTMP_COMPLIANCE_FLEET_UNLOCK  3     /* uid: key, json: value */


/* a publisher's room lock in the fleet (compliance_redis room_lock=on) */

#define NGX_RTMP_COMPLIANCE_LOCK_NONE     0
#define NGX_RTMP_COMPLIANCE_LOCK_WANTED   1
#define NGX_RTMP_COMPLIANCE_LOCK_HELD     2


/* the zone's context: shm_zone->data */

struct ngx_rtmp_compliance_zone_s {
    ngx_rtmp_compliance_shctx_t    *sh;
    ngx_slab_pool_t                *shpool;
    ngx_str_t                       journal;     /* the state file that
                                                    journals the orders */
    ngx_str_t                       node;        /* in new orders' uids */
    ngx_str_t                       audit;       /* the audit log's
                                                    directory: its chain's
                                                    head is in the zone */
    ngx_uint_t                      loads;       /* a new zone is filled
                                                    from the journal and
                                                    the audit log */
    ngx_uint_t                      fleet;       /* it keeps the fleet's
                                                    outbox and position */
    ngx_uint_t                      fresh;       /* built, not inherited */
};


char *ngx_rtmp_compliance_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_rtmp_compliance_zone_conf(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *journal, ngx_str_t *audit, ngx_str_t *node, ngx_uint_t fleet);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_find_locked(
    ngx_rtmp_compliance_zone_t *zone, uint64_t id);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_add_locked(
    ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_spec_t *spec);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_find_uid_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *uid);
void ngx_rtmp_compliance_order_delete_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_order_t *o);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_expired_locked(
    ngx_rtmp_compliance_zone_t *zone, time_t now);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_match_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *subjects, time_t now);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_reverify_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *subjects, time_t now);
ngx_rtmp_compliance_session_t *ngx_rtmp_compliance_session_find_locked(
    ngx_rtmp_compliance_zone_t *zone, uint64_t id);
ngx_rtmp_compliance_session_t *ngx_rtmp_compliance_session_add_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_uint_t kind,
    ngx_str_t *subjects);
void ngx_rtmp_compliance_session_delete_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_session_t *ss);
void ngx_rtmp_compliance_session_get(ngx_rtmp_compliance_session_t *ss,
    ngx_uint_t n, ngx_str_t *s);
ngx_int_t ngx_rtmp_compliance_session_set_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_session_t *ss,
    ngx_str_t *subjects);
ngx_rtmp_compliance_room_t *ngx_rtmp_compliance_room_find_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *app, ngx_str_t *room);
ngx_uint_t ngx_rtmp_compliance_room_drop_locked(ngx_rtmp_compliance_room_t *r,
    ngx_uint_t reason, uint64_t order, ngx_uint_t rtmp);
void ngx_rtmp_compliance_room_set_tier(ngx_rtmp_compliance_room_t *r,
    u_char *tier, size_t len);
ngx_int_t ngx_rtmp_compliance_outbox_add_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_uint_t what, ngx_str_t *uid,
    ngx_str_t *json);
void ngx_rtmp_compliance_outbox_remove_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_uint_t what, ngx_str_t *uid);


extern ngx_str_t  ngx_rtmp_compliance_targets[];   /* by target kind */
extern ngx_str_t  ngx_rtmp_compliance_actions[];   /* by action */


#endif /* _NGX_RTMP_COMPLIANCE_ZONE_H_INCLUDED_ */
