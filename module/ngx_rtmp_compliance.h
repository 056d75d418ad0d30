
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * What every file of the module shares: the limits, the rejection
 * reasons, the configuration and per-session context types, and the
 * module variable.  Each concern has its own header beside this one
 * (docs/hacking.md has the map); this one includes none of them.
 */


#ifndef _NGX_RTMP_COMPLIANCE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp.h"


#define NGX_RTMP_COMPLIANCE_TOKEN_MAX     4096
#define NGX_RTMP_COMPLIANCE_NAME_MAX      (NGX_RTMP_COMPLIANCE_TOKEN_MAX + 1024)
#define NGX_RTMP_COMPLIANCE_CLAIM_MAX     256
#define NGX_RTMP_COMPLIANCE_KID_MAX       64
#define NGX_RTMP_COMPLIANCE_HASH_LEN      12
#define NGX_RTMP_COMPLIANCE_DETAIL_MAX    768
#define NGX_RTMP_COMPLIANCE_STREAM_ID     48     /* a Redis stream id */


/*
 * rejection (and drop) reasons: the strings are part of the product
 * contract (docs/reasons.md); the enum and ngx_rtmp_compliance_reasons[]
 * are both made from this one list
 */

#define NGX_RTMP_COMPLIANCE_REASONS(X)                                       \
    X(OK,                    "ok")                                           \
    X(TOKEN_MISSING,         "token_missing")                                \
    X(TOKEN_MALFORMED,       "token_malformed")                              \
    X(TOKEN_ALGORITHM,       "token_algorithm")                              \
    X(TOKEN_KEY_UNKNOWN,     "token_key_unknown")                            \
    X(TOKEN_SIGNATURE,       "token_signature")                              \
    X(TOKEN_EXPIRED,         "token_expired")                                \
    X(TOKEN_NOT_YET_VALID,   "token_not_yet_valid")                          \
    X(TOKEN_ISSUER,          "token_issuer")                                 \
    X(TOKEN_AUDIENCE,        "token_audience")                               \
    X(TOKEN_SCOPE,           "token_scope")                                  \
    X(TOKEN_REVOKED,         "token_revoked")                                \
    X(ROOM_MISMATCH,         "room_mismatch")                                \
    X(IDENTITY_UNVERIFIED,   "identity_unverified")                          \
    X(TIER_UNKNOWN,          "tier_unknown")                                 \
    X(TIER_FORBIDS_PUBLISH,  "tier_forbids_publish")                         \
    X(AI_HOST_FORBIDDEN,     "ai_host_forbidden")                            \
    X(SUSPENDED,             "suspended")                                    \
    X(BANNED,                "banned")                                       \
    X(VIEWER_LIMIT,          "viewer_limit")                                 \
    X(VIEWER_TOKEN_REQUIRED, "viewer_token_required")                        \
    X(INTERNAL_ERROR,        "internal_error")                               \
    X(OPERATOR_DROP,         "operator_drop")                                \
    X(DURATION_LIMIT,        "duration_limit")                               \
    X(BITRATE_LIMIT,         "bitrate_limit")                                \
    X(AUDIT_UNAVAILABLE,     "audit_unavailable")                            \
    X(REPLACED,              "replaced")                                     \
    X(ROOM_BUSY,             "room_busy")                                    \
    X(ALREADY_PUBLISHING,    "already_publishing")                           \
    X(SERVER_REFUSED,        "server_refused")                               \
    X(ZONE_FULL,             "zone_full")                                    \
    X(ADMISSION_TIMEOUT,     "admission_timeout")                            \
    X(PERSON_MISMATCH,       "person_mismatch")                              \
    X(REVERIFY_REQUIRED,     "reverify_required")                            \
    X(REVERIFY_TIMEOUT,      "reverify_timeout")                             \
    X(SESSION_INVALID,       "session_invalid")                              \
    X(IDLE,                  "idle")


#define NGX_RTMP_COMPLIANCE_REASON_ENUM(name, text)                          \
    NGX_RTMP_COMPLIANCE_##name,

typedef enum {
    NGX_RTMP_COMPLIANCE_REASONS(NGX_RTMP_COMPLIANCE_REASON_ENUM)
    NGX_RTMP_COMPLIANCE_REASON_MAX
} ngx_rtmp_compliance_reason_e;


typedef enum {
    NGX_RTMP_COMPLIANCE_PUBLISHER = 0,
    NGX_RTMP_COMPLIANCE_PLAYER
} ngx_rtmp_compliance_kind_e;


typedef struct ngx_rtmp_compliance_zone_s     ngx_rtmp_compliance_zone_t;
typedef struct ngx_rtmp_compliance_audit_s    ngx_rtmp_compliance_audit_t;
typedef struct ngx_rtmp_compliance_fleet_s    ngx_rtmp_compliance_fleet_t;
typedef struct ngx_rtmp_compliance_tier_s     ngx_rtmp_compliance_tier_t;
typedef struct ngx_rtmp_compliance_session_s  ngx_rtmp_compliance_session_t;
typedef struct ngx_rtmp_compliance_flood_s    ngx_rtmp_compliance_flood_t;


typedef struct {
    ngx_flag_t                      enable;
    ngx_flag_t                      takeover;    /* compliance_room_takeover */
    ngx_msec_t                      admission_timeout;
    ngx_flag_t                      session_expiry;
    ngx_array_t                    *keys;        /* of _key_t */
    ngx_array_t                    *tiers;       /* of _tier_t */
    ngx_str_t                       issuer;
    ngx_str_t                       audience;
    time_t                          leeway;      /* seconds */
    ngx_msec_t                      recheck;
} ngx_rtmp_compliance_app_conf_t;


typedef struct {
    ngx_uint_t                      enabled;     /* any app has it on */
    ngx_shm_zone_t                 *shm_zone;
    ngx_rtmp_compliance_zone_t     *zone;        /* shm_zone->data */
    ngx_str_t                       state;       /* path, or empty */
    ngx_str_t                       node;        /* this node's name */
    ngx_msec_t                      recheck;     /* the shortest */
    ngx_cycle_t                    *cycle;
    ngx_fd_t                        state_fd;    /* per worker */
    ngx_rtmp_compliance_audit_t    *audit;
    ngx_rtmp_compliance_fleet_t    *fleet;
    ngx_array_t                    *tier_names;  /* of ngx_str_t: the tiers
                                                    of the applications with
                                                    compliance on */
    ngx_rtmp_compliance_flood_t    *flood;       /* NULL: the defaults */
    ngx_int_t                       backlog;     /* compliance_listen_
                                                    backlog, or unset */
} ngx_rtmp_compliance_main_conf_t;


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


/* per RTMP session */

typedef struct {
    ngx_str_t                       connect_args; /* query of app/tcUrl */
    ngx_rtmp_compliance_claims_t    claims;
    ngx_rtmp_compliance_tier_t     *tier;
    ngx_str_t                       room;
    ngx_queue_t                     queue;       /* the worker's sessions */
    ngx_queue_t                     wait;        /* admitted, the server
                                                    not decided yet */
    ngx_event_t                     deadline;    /* to be admitted by */
    ngx_msec_t                      deadline_start;     /* the connect */
    ngx_rtmp_session_t             *session;
    ngx_rtmp_compliance_session_t  *node;        /* in the zone */
    ngx_uint_t                      kind;
    ngx_uint_t                      why;         /* a drop's reason */
    ngx_msec_t                      start;
    ngx_uint_t                      warned;
    ngx_uint_t                      refreshed;   /* refreshes taken up */
    ngx_uint_t                      reverify_told;      /* notices sent */
    uint64_t                        id;          /* of the session */
    uint32_t                        in_bytes;    /* s->in_bytes seen */
    uint64_t                        rate_bytes;  /* bitrate window */
    ngx_msec_t                      rate_msec;
    time_t                          over_since;  /* above max_bitrate */
    unsigned                        admitted:1;
    unsigned                        pending:1;   /* admitted by us, not yet
                                                    live in nginx-rtmp */
    unsigned                        dropping:1;
    unsigned                        connect_oversize:1;
    unsigned                        labelled:1;
    unsigned                        deadline_app:1;     /* its app's */
    unsigned                        hls:1;       /* an HLS viewer: a
                                                    stand-in session */
    void                           *request;     /* the HTTP request an
                                                    HLS admission answers */
    u_char                          text[NGX_RTMP_COMPLIANCE_DETAIL_MAX];
} ngx_rtmp_compliance_ctx_t;


/*
 * viewer protocols that do not come through the RTMP commands the gate
 * hooks (HTTP-FLV, HLS): their files set these at postconfiguration, and
 * the gate and the sessions call them where they are set
 */

typedef struct {
    /* admission of an HTTP-FLV player, before nginx-rtmp's play */
    ngx_int_t                     (*play)(ngx_rtmp_session_t *s);
    /* a refusal told the HTTP way; NGX_DECLINED: not an HTTP player */
    ngx_int_t                     (*refuse)(ngx_rtmp_session_t *s,
                                      ngx_rtmp_compliance_ctx_t *ctx,
                                      ngx_uint_t reason, u_char *desc);
    /* an HLS viewer dropped: it has no connection to close */
    void                          (*drop)(ngx_rtmp_compliance_ctx_t *ctx);
} ngx_rtmp_compliance_proto_t;


extern ngx_module_t  ngx_rtmp_compliance_module;
extern ngx_module_t  ngx_rtmp_module;

extern ngx_str_t     ngx_rtmp_compliance_reasons[];

extern ngx_rtmp_compliance_proto_t  ngx_rtmp_compliance_proto;

/*
 * the running worker's main conf: set in ngx_rtmp_compliance_module.c at
 * init_process, read elsewhere (the http modules reach the rtmp side
 * through it); NULL where no rtmp{} block has the module
 */

extern ngx_rtmp_compliance_main_conf_t  *ngx_rtmp_compliance_main;


#endif /* _NGX_RTMP_COMPLIANCE_H_INCLUDED_ */
