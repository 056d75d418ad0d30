
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include "ngx_rtmp.h"


#define NGX_RTMP_COMPLIANCE_TOKEN_MAX     4096
#define NGX_RTMP_COMPLIANCE_NAME_MAX      (NGX_RTMP_COMPLIANCE_TOKEN_MAX + 1024)
#define NGX_RTMP_COMPLIANCE_CLAIM_MAX     256
#define NGX_RTMP_COMPLIANCE_KID_MAX       64
#define NGX_RTMP_COMPLIANCE_HASH_LEN      12
#define NGX_RTMP_COMPLIANCE_DETAIL_MAX    768
#define NGX_RTMP_COMPLIANCE_STREAM_ID     48     /* a Redis stream id */


/* rejection reasons: the strings are part of the product contract */

typedef enum {
    NGX_RTMP_COMPLIANCE_OK = 0,
    NGX_RTMP_COMPLIANCE_TOKEN_MISSING,
    NGX_RTMP_COMPLIANCE_TOKEN_MALFORMED,
    NGX_RTMP_COMPLIANCE_TOKEN_ALGORITHM,
    NGX_RTMP_COMPLIANCE_TOKEN_KEY_UNKNOWN,
    NGX_RTMP_COMPLIANCE_TOKEN_SIGNATURE,
    NGX_RTMP_COMPLIANCE_TOKEN_EXPIRED,
    NGX_RTMP_COMPLIANCE_TOKEN_NOT_YET_VALID,
    NGX_RTMP_COMPLIANCE_TOKEN_ISSUER,
    NGX_RTMP_COMPLIANCE_TOKEN_AUDIENCE,
    NGX_RTMP_COMPLIANCE_TOKEN_SCOPE,
    NGX_RTMP_COMPLIANCE_TOKEN_REVOKED,
    NGX_RTMP_COMPLIANCE_ROOM_MISMATCH,
    NGX_RTMP_COMPLIANCE_IDENTITY_UNVERIFIED,
    NGX_RTMP_COMPLIANCE_TIER_UNKNOWN,
    NGX_RTMP_COMPLIANCE_TIER_FORBIDS_PUBLISH,
    NGX_RTMP_COMPLIANCE_AI_HOST_FORBIDDEN,
    NGX_RTMP_COMPLIANCE_SUSPENDED,
    NGX_RTMP_COMPLIANCE_BANNED,
    NGX_RTMP_COMPLIANCE_VIEWER_LIMIT,
    NGX_RTMP_COMPLIANCE_VIEWER_TOKEN_REQUIRED,
    NGX_RTMP_COMPLIANCE_INTERNAL_ERROR,
    NGX_RTMP_COMPLIANCE_OPERATOR_DROP,
    NGX_RTMP_COMPLIANCE_DURATION_LIMIT,
    NGX_RTMP_COMPLIANCE_BITRATE_LIMIT,
    NGX_RTMP_COMPLIANCE_AUDIT_UNAVAILABLE,
    NGX_RTMP_COMPLIANCE_REASON_MAX
} ngx_rtmp_compliance_reason_e;


typedef enum {
    NGX_RTMP_COMPLIANCE_HMAC = 1,
    NGX_RTMP_COMPLIANCE_RSA,
    NGX_RTMP_COMPLIANCE_EC
} ngx_rtmp_compliance_family_e;


/* JWS algorithms; 0 means "none given" */

typedef enum {
    NGX_RTMP_COMPLIANCE_ALG_NONE = 0,
    NGX_RTMP_COMPLIANCE_HS256,
    NGX_RTMP_COMPLIANCE_HS384,
    NGX_RTMP_COMPLIANCE_HS512,
    NGX_RTMP_COMPLIANCE_RS256,
    NGX_RTMP_COMPLIANCE_RS384,
    NGX_RTMP_COMPLIANCE_RS512,
    NGX_RTMP_COMPLIANCE_ES256,
    NGX_RTMP_COMPLIANCE_ES384,
    NGX_RTMP_COMPLIANCE_ES512,
    NGX_RTMP_COMPLIANCE_ALG_MAX
} ngx_rtmp_compliance_alg_e;


typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      family;
    size_t                          ec_half;     /* bytes of R and of S */
} ngx_rtmp_compliance_alg_t;


typedef struct {
    ngx_str_t                       kid;         /* empty: no kid */
    ngx_str_t                       file;
    ngx_uint_t                      family;
    ngx_uint_t                      alg;         /* pinned alg, or 0 */
    EVP_PKEY                       *pkey;        /* RSA and EC */
    ngx_str_t                       secret;      /* HMAC */
    EVP_MAC_CTX                    *mac[3];      /* HS256/384/512 */
    EVP_PKEY_CTX                   *verify[3];   /* RS or ES 256/384/512 */
    EVP_MD                         *vmd[3];      /* their digests */
} ngx_rtmp_compliance_key_t;


typedef struct {
    ngx_str_t                       name;
    ngx_flag_t                      publish;
    ngx_uint_t                      max_viewers; /* 0: unlimited */
    time_t                          max_duration; /* seconds, 0: none */
    size_t                          max_bitrate; /* bits/s, 0: none */
    ngx_flag_t                      ai_host;
    ngx_flag_t                      viewer_token;
} ngx_rtmp_compliance_tier_t;


typedef struct {
    ngx_flag_t                      enable;
    ngx_array_t                    *keys;        /* of _key_t */
    ngx_array_t                    *tiers;       /* of _tier_t */
    ngx_str_t                       issuer;
    ngx_str_t                       audience;
    time_t                          leeway;      /* seconds */
    ngx_msec_t                      recheck;
} ngx_rtmp_compliance_app_conf_t;


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
    NGX_RTMP_COMPLIANCE_BAN
} ngx_rtmp_compliance_action_e;


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
    u_char                          kind;
    u_char                          action;
    u_short                         target_len;
    u_short                         reason_len;
    u_short                         ref_len;
    u_short                         tier_len;
    u_short                         uid_len;
    u_char                          data[1];     /* target reason ref tier
                                                    uid */
} ngx_rtmp_compliance_order_t;


#define ngx_rtmp_compliance_order_target(o)    ((o)->data)
#define ngx_rtmp_compliance_order_reason(o)    ((o)->data + (o)->target_len)
#define ngx_rtmp_compliance_order_ref(o)                                     \
    ((o)->data + (o)->target_len + (o)->reason_len)
#define ngx_rtmp_compliance_order_tier(o)                                    \
    ((o)->data + (o)->target_len + (o)->reason_len + (o)->ref_len)
#define ngx_rtmp_compliance_order_uid(o)                                     \
    (ngx_rtmp_compliance_order_tier(o) + (o)->tier_len)

#define NGX_RTMP_COMPLIANCE_UID_MAX       128

#define NGX_RTMP_COMPLIANCE_PARSE_API     0
#define NGX_RTMP_COMPLIANCE_PARSE_STATE   1
#define NGX_RTMP_COMPLIANCE_PARSE_FLEET   2


/* all orders of one target, e.g. "person:9f2c" */

typedef struct {
    ngx_str_node_t                  sn;
    ngx_queue_t                     orders;
    u_char                          data[1];
} ngx_rtmp_compliance_target_t;


typedef enum {
    NGX_RTMP_COMPLIANCE_PUBLISHER = 0,
    NGX_RTMP_COMPLIANCE_PLAYER
} ngx_rtmp_compliance_kind_e;


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


/* a room with a live publisher or players: "app/room" */

typedef struct {
    ngx_str_node_t                  sn;
    uint64_t                        publisher;   /* session id, 0: none */
    ngx_uint_t                      viewers;     /* players, all workers */
    u_char                          ai;
    u_short                         tier_len;
    u_char                          tier[NGX_RTMP_COMPLIANCE_CLAIM_MAX];
    u_char                          data[1];
} ngx_rtmp_compliance_room_t;


/* a live session in the shared zone */

typedef struct {
    ngx_rbtree_node_t               node;        /* key: id */
    ngx_rtmp_compliance_room_t     *room;
    uint64_t                        id;
    ngx_pid_t                       pid;         /* the owner worker */
    u_char                          kind;
    u_char                          ai;
    u_char                          drop;        /* a reason, 0: none */
    u_char                          restricted;
    time_t                          started;
    uint64_t                        bytes_in;
    uint64_t                        bytes_out;
    uint64_t                        order;       /* drop/warn/restrict */
    ngx_uint_t                      warn;        /* warnings to send */
    u_char                          tier[NGX_RTMP_COMPLIANCE_CLAIM_MAX];
    u_short                         tier_len;
    u_short                         len[NGX_RTMP_COMPLIANCE_S_MAX];
    u_char                          data[1];
} ngx_rtmp_compliance_session_t;


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
    ngx_uint_t                      nsessions[2];
    ngx_uint_t                      generation;  /* of the orders */
    ngx_uint_t                      marks;       /* sessions marked for
                                                    a drop, warning or
                                                    restriction */
    ngx_uint_t                      admitted[2];
    ngx_uint_t                      rejected[2]
                                        [NGX_RTMP_COMPLIANCE_REASON_MAX];
    ngx_uint_t                      dropped;
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

    /* the fleet */
    ngx_queue_t                     outbox;
    ngx_uint_t                      noutbox;
    ngx_pid_t                       fleet_owner;
    ngx_uint_t                      fleet_connected;
    ngx_uint_t                      fleet_down_logged;
    uint64_t                        fleet_entries;      /* read */
    uint64_t                        fleet_last_ms;      /* of the last id */
    uint64_t                        fleet_lag_ms;       /* of the last read */
    u_char                          fleet_last_id
                                        [NGX_RTMP_COMPLIANCE_STREAM_ID];
} ngx_rtmp_compliance_shctx_t;


#define NGX_RTMP_COMPLIANCE_FLEET_CREATE  1
#define NGX_RTMP_COMPLIANCE_FLEET_LIFT    2


/* an order change this node has to publish to the fleet */

typedef struct {
    ngx_queue_t                     queue;
    ngx_uint_t                      what;
    size_t                          uid_len;
    size_t                          json_len;
    u_char                          data[1];     /* uid json */
} ngx_rtmp_compliance_outbox_t;


typedef struct {
    ngx_flag_t                      enabled;
    ngx_str_t                       host;        /* an IP address */
    in_port_t                       port;
    ngx_str_t                       unix_path;
    ngx_str_t                       key;         /* PREFIX:orders */
    ngx_str_t                       password;
    ngx_int_t                       db;
    ngx_msec_t                      timeout;     /* an answer, at most */
} ngx_rtmp_compliance_fleet_t;


#define NGX_RTMP_COMPLIANCE_FSYNC_OFF     0
#define NGX_RTMP_COMPLIANCE_FSYNC_BATCH   1
#define NGX_RTMP_COMPLIANCE_FSYNC_ALWAYS  2


typedef struct {
    ngx_str_t                       dir;
    ngx_str_t                       node;
    time_t                          retention;   /* seconds */
    ngx_uint_t                      fsync;
    ngx_uint_t                      rotate;      /* 1: hourly */
    ngx_uint_t                      refuse;      /* on_error=refuse */
    ngx_fd_t                        fd;          /* per worker */
    u_char                          segment[32];
    ngx_uint_t                      dirty;
    ngx_event_t                     sync_ev;
} ngx_rtmp_compliance_audit_t;


typedef struct {
    ngx_uint_t                      enabled;     /* any app has it on */
    ngx_shm_zone_t                 *shm_zone;
    ngx_rtmp_compliance_shctx_t    *sh;
    ngx_slab_pool_t                *shpool;
    ngx_str_t                       state;       /* path, or empty */
    ngx_str_t                       node;        /* this node's name */
    ngx_msec_t                      recheck;     /* the shortest */
    ngx_cycle_t                    *cycle;
    ngx_fd_t                        state_fd;    /* per worker */
    ngx_rtmp_compliance_audit_t     audit;
    ngx_rtmp_compliance_fleet_t     fleet;
    u_char                         *fleet_pending;     /* XADD's uid */
    size_t                          fleet_pending_len;
    ngx_log_t                      *log;
} ngx_rtmp_compliance_main_conf_t;


extern ngx_rtmp_compliance_main_conf_t  *ngx_rtmp_compliance_main;


/* the verified claims of a token */

typedef struct {
    ngx_str_t                       scope;
    ngx_str_t                       sub;
    ngx_str_t                       pid;
    ngx_str_t                       room;
    ngx_str_t                       op;
    ngx_str_t                       mcn;
    ngx_str_t                       tier;
    ngx_str_t                       idv;
    ngx_str_t                       jti;
    ngx_str_t                       kid;
    time_t                          exp;
    time_t                          nbf;
    time_t                          iat;
    ngx_uint_t                      alg;
    unsigned                        ai:1;
    u_char                          hash[NGX_RTMP_COMPLIANCE_HASH_LEN + 1];
} ngx_rtmp_compliance_claims_t;


/* a place in an AMF message */

typedef struct {
    ngx_chain_t                    *cl;
    u_char                         *pos;
} ngx_rtmp_compliance_amf_t;


/* per RTMP session */

typedef struct {
    ngx_str_t                       connect_args; /* query of app/tcUrl */
    ngx_rtmp_compliance_claims_t    claims;
    ngx_rtmp_compliance_tier_t     *tier;
    ngx_str_t                       room;
    ngx_queue_t                     queue;       /* the worker's sessions */
    ngx_rtmp_session_t             *session;
    ngx_rtmp_compliance_session_t  *node;        /* in the zone */
    ngx_uint_t                      kind;
    ngx_uint_t                      why;         /* a drop's reason */
    ngx_msec_t                      start;
    ngx_uint_t                      warned;
    uint64_t                        id;          /* of the session */
    uint32_t                        in_bytes;    /* s->in_bytes seen */
    uint64_t                        rate_bytes;  /* bitrate window */
    ngx_msec_t                      rate_msec;
    time_t                          over_since;  /* above max_bitrate */
    unsigned                        admitted:1;
    unsigned                        dropping:1;
    unsigned                        connect_oversize:1;
    unsigned                        labelled:1;
    u_char                          text[NGX_RTMP_COMPLIANCE_DETAIL_MAX];
} ngx_rtmp_compliance_ctx_t;


extern ngx_module_t  ngx_rtmp_compliance_module;
extern ngx_module_t  ngx_rtmp_module;

extern ngx_str_t     ngx_rtmp_compliance_reasons[];
extern ngx_str_t     ngx_rtmp_compliance_targets[];
extern ngx_str_t     ngx_rtmp_compliance_actions[];
extern ngx_rtmp_compliance_alg_t  ngx_rtmp_compliance_algs[];


/* ngx_rtmp_compliance_module.c */
ngx_rtmp_compliance_tier_t *ngx_rtmp_compliance_tier_find(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_str_t *name);
ngx_uint_t ngx_rtmp_compliance_tier_check(ngx_rtmp_compliance_tier_t *t,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size);

/* ngx_rtmp_compliance_zone.c */
char *ngx_rtmp_compliance_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_find_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, uint64_t id);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_add_locked(
    ngx_rtmp_compliance_main_conf_t *ctx,
    ngx_rtmp_compliance_order_spec_t *spec);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_find_uid_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, ngx_str_t *uid);
void ngx_rtmp_compliance_order_delete_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, ngx_rtmp_compliance_order_t *o);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_expired_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, time_t now);
ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_match_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, ngx_str_t *subjects, time_t now);
ngx_rtmp_compliance_session_t *ngx_rtmp_compliance_session_find_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, uint64_t id);
ngx_rtmp_compliance_session_t *ngx_rtmp_compliance_session_add_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, ngx_uint_t kind,
    ngx_str_t *subjects);
void ngx_rtmp_compliance_session_delete_locked(
    ngx_rtmp_compliance_main_conf_t *ctx,
    ngx_rtmp_compliance_session_t *ss);
void ngx_rtmp_compliance_session_get(ngx_rtmp_compliance_session_t *ss,
    ngx_uint_t n, ngx_str_t *s);
ngx_rtmp_compliance_room_t *ngx_rtmp_compliance_room_find_locked(
    ngx_rtmp_compliance_main_conf_t *ctx, ngx_str_t *app, ngx_str_t *room);
void ngx_rtmp_compliance_room_set_tier(ngx_rtmp_compliance_room_t *r,
    u_char *tier, size_t len);

/* ngx_rtmp_compliance_orders.c */
#ifdef JANSSON_H
ngx_int_t ngx_rtmp_compliance_order_parse(json_t *obj, ngx_uint_t mode,
    ngx_rtmp_compliance_order_spec_t *spec, time_t now, u_char *detail,
    size_t size);
json_t *ngx_rtmp_compliance_order_json(ngx_rtmp_compliance_order_t *o);
ngx_int_t ngx_rtmp_compliance_state_append(
    ngx_rtmp_compliance_main_conf_t *ctx, json_t *j, ngx_log_t *log);
#endif
ngx_uint_t ngx_rtmp_compliance_order_hits(ngx_rtmp_compliance_order_t *o,
    ngx_rtmp_compliance_session_t *ss);
void ngx_rtmp_compliance_order_audit_locked(const char *event,
    ngx_rtmp_compliance_order_t *o, ngx_log_t *log);

/* ngx_rtmp_compliance_json.c: the JSON of a token */

#define NGX_RTMP_COMPLIANCE_JSON_MEMBERS  64

typedef enum {
    NGX_RTMP_COMPLIANCE_JSON_STRING = 1,
    NGX_RTMP_COMPLIANCE_JSON_INTEGER,
    NGX_RTMP_COMPLIANCE_JSON_REAL,
    NGX_RTMP_COMPLIANCE_JSON_TRUE,
    NGX_RTMP_COMPLIANCE_JSON_FALSE,
    NGX_RTMP_COMPLIANCE_JSON_NULL,
    NGX_RTMP_COMPLIANCE_JSON_ARRAY,
    NGX_RTMP_COMPLIANCE_JSON_OBJECT
} ngx_rtmp_compliance_json_type_e;

typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      type;
    ngx_str_t                       str;         /* a string, unescaped;
                                                    an array or object:
                                                    its text */
    int64_t                         integer;
    double                          real;
} ngx_rtmp_compliance_jmember_t;

typedef struct {
    ngx_rtmp_compliance_jmember_t   member[NGX_RTMP_COMPLIANCE_JSON_MEMBERS];
    ngx_uint_t                      n;
} ngx_rtmp_compliance_jobject_t;

ngx_int_t ngx_rtmp_compliance_json_parse(u_char *in, size_t len, u_char *out,
    ngx_rtmp_compliance_jobject_t *obj);
ngx_rtmp_compliance_jmember_t *ngx_rtmp_compliance_json_get(
    ngx_rtmp_compliance_jobject_t *obj, const char *name);
ngx_uint_t ngx_rtmp_compliance_json_array_has(ngx_str_t *array,
    ngx_str_t *value, u_char *scratch);
size_t ngx_rtmp_compliance_utf8(u_char *p, u_char *last);

/* ngx_rtmp_compliance_audit.c */

/* an audit record's members being written: ,"name":value ... */
typedef struct {
    u_char                         *start;
    u_char                         *pos;
    u_char                         *end;
    u_char                         *heap;        /* start, if allocated */
    ngx_uint_t                      failed;      /* no memory */
    ngx_log_t                      *log;
} ngx_rtmp_compliance_fields_t;

#define NGX_RTMP_COMPLIANCE_FIELDS_SIZE  2048

void ngx_rtmp_compliance_fields_init(ngx_rtmp_compliance_fields_t *f,
    u_char *buf, size_t size, ngx_log_t *log);
void ngx_rtmp_compliance_fields_free(ngx_rtmp_compliance_fields_t *f);
void ngx_rtmp_compliance_field_str(ngx_rtmp_compliance_fields_t *f,
    const char *key, u_char *data, size_t len);
void ngx_rtmp_compliance_field_int(ngx_rtmp_compliance_fields_t *f,
    const char *key, int64_t v);
void ngx_rtmp_compliance_field_lit(ngx_rtmp_compliance_fields_t *f,
    const char *key, const char *text);
ngx_int_t ngx_rtmp_compliance_audit_fields(const char *event,
    ngx_rtmp_compliance_fields_t *f, ngx_log_t *log);
void ngx_rtmp_compliance_audit_session(ngx_rtmp_compliance_fields_t *f,
    ngx_rtmp_session_t *s, ngx_rtmp_compliance_ctx_t *ctx);

char *ngx_rtmp_compliance_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_rtmp_compliance_audit_test(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_audit_init(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_audit_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf);
ngx_int_t ngx_rtmp_compliance_audit_timers_start(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf);
void ngx_rtmp_compliance_audit_exit_process(
    ngx_rtmp_compliance_main_conf_t *mcf);
ngx_uint_t ngx_rtmp_compliance_audit_available(void);
ngx_uint_t ngx_rtmp_compliance_audit_enabled(void);

/* ngx_rtmp_compliance_fleet.c */
char *ngx_rtmp_compliance_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_rtmp_compliance_outbox_add_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_uint_t what, ngx_str_t *uid,
    ngx_str_t *json);
void ngx_rtmp_compliance_outbox_remove_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_uint_t what, ngx_str_t *uid);
ngx_int_t ngx_rtmp_compliance_fleet_publish_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_uint_t what,
    ngx_rtmp_compliance_order_t *o, ngx_log_t *log);
void ngx_rtmp_compliance_fleet_tick(ngx_rtmp_compliance_main_conf_t *mcf);
void ngx_rtmp_compliance_fleet_exit(ngx_rtmp_compliance_main_conf_t *mcf);

/* ngx_rtmp_compliance_record.c */
void ngx_rtmp_compliance_record_init(void);
#ifdef JANSSON_H
ngx_int_t ngx_rtmp_compliance_audit(const char *event, json_t *fields,
    ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_audit_locked(const char *event,
    json_t *fields, ngx_log_t *log);
#endif

/* ngx_rtmp_compliance_label.c */
ngx_int_t ngx_rtmp_compliance_label(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
ngx_int_t ngx_rtmp_compliance_label_av(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);

/* ngx_rtmp_compliance_state.c */
ngx_int_t ngx_rtmp_compliance_state_load(
    ngx_rtmp_compliance_main_conf_t *ctx, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_state_test(
    ngx_rtmp_compliance_main_conf_t *ctx, ngx_log_t *log);

/* ngx_rtmp_compliance_session.c */
ngx_int_t ngx_rtmp_compliance_session_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *ctx);
void ngx_rtmp_compliance_session_exit_process(void);
ngx_int_t ngx_rtmp_compliance_timers_start(ngx_cycle_t *cycle);
ngx_uint_t ngx_rtmp_compliance_session_admit(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t kind, u_char *detail, size_t size);
void ngx_rtmp_compliance_session_count(ngx_uint_t kind, ngx_uint_t reason);
void ngx_rtmp_compliance_session_close(ngx_rtmp_compliance_ctx_t *c);
void ngx_rtmp_compliance_session_end(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *c);
ngx_int_t ngx_rtmp_compliance_room_tier(ngx_str_t *app, ngx_str_t *room,
    u_char *buf, ngx_str_t *tier);
ngx_uint_t ngx_rtmp_compliance_order_apply_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_order_t *o);


/* ngx_rtmp_compliance_amf.c */
ngx_int_t ngx_rtmp_compliance_amf_stream_name(ngx_chain_t *in,
    u_char *buf, size_t size, ngx_str_t *name,
    ngx_rtmp_compliance_amf_t *at);
ngx_int_t ngx_rtmp_compliance_amf_connect(ngx_chain_t *in, u_char *buf,
    size_t size, ngx_str_t *app, ngx_str_t *tc_url,
    ngx_rtmp_compliance_amf_t *at);
void ngx_rtmp_compliance_amf_redact(ngx_rtmp_compliance_amf_t *at,
    size_t off, size_t len);

/* ngx_rtmp_compliance_key.c */
char *ngx_rtmp_compliance_key_load(ngx_conf_t *cf,
    ngx_rtmp_compliance_key_t *key, ngx_str_t *alg);
ngx_uint_t ngx_rtmp_compliance_alg_by_name(u_char *name, size_t len);
ngx_int_t ngx_rtmp_compliance_key_verify(ngx_rtmp_compliance_key_t *key,
    ngx_uint_t alg, u_char *input, size_t len, u_char *sig, size_t siglen);

ngx_int_t ngx_rtmp_compliance_sha256_init(ngx_conf_t *cf);
const EVP_MD *ngx_rtmp_compliance_sha256(void);
EVP_MD_CTX *ngx_rtmp_compliance_sha256_ctx(void);
ngx_int_t ngx_rtmp_compliance_digest(const EVP_MD *md, u_char *data,
    size_t len, u_char *out, unsigned int *outlen);

/* ngx_rtmp_compliance_token.c */
ngx_uint_t ngx_rtmp_compliance_token_verify(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_str_t *token,
    ngx_str_t *scope, ngx_pool_t *pool, ngx_rtmp_compliance_claims_t *cl,
    u_char *detail, size_t size);
void ngx_rtmp_compliance_token_hash(ngx_str_t *token, u_char *out);
ngx_str_t *ngx_rtmp_compliance_arg(ngx_str_t *args, ngx_str_t *name,
    ngx_str_t *value);


#endif /* _NGX_RTMP_COMPLIANCE_H_INCLUDED_ */
