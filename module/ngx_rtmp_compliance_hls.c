
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * HLS viewers (docs/hls.md): "compliance_hls APP;" in the http location
 * that serves the hls_path of the rtmp application APP.
 *
 *   - only live rooms are served: a request for a room without an
 *     admitted live publisher in the zone is a 404, whatever is on disk;
 *   - a viewer's first playlist request (ROOM.m3u8, ?token= where the
 *     room's tier asks one) is admitted through the gate's player
 *     admission as RTMP and HTTP-FLV players are; it has no RTMP
 *     connection, so it is a stand-in session (ctx->hls) of this file,
 *     owned by the worker that admitted it, in that worker's registry;
 *   - the answer is a master playlist of one variant, the same playlist
 *     with the session parameter "cs=ID.MAC" (an HMAC-SHA256 of the
 *     session, app and room, keyed by a random key the master makes);
 *     that playlist is served with every segment URI carrying it, and a
 *     segment or playlist asked for without a valid one is refused;
 *   - every request stamps the session (seen, in the zone: any worker
 *     serves it); the owner's timer ends a viewer idle for idle= (3 x
 *     hls_fragment, or hls_playlist_length if longer) or whose room's
 *     publisher is gone, and the sessions'
 *     recheck drops it for an order, DELETE sessions/ID or the drop of
 *     its room's publisher: its next request is refused.
 */


#include "ngx_http_compliance.h"
#include "ngx_rtmp_compliance_hls.h"
#include "ngx_rtmp_compliance_gate.h"
#include "ngx_rtmp_compliance_session.h"
#include "ngx_rtmp_compliance_tier.h"
#include "ngx_rtmp_compliance_token.h"
#include "ngx_http_compliance_reply.h"
#include "ngx_rtmp_compliance_key.h"
#include <openssl/rand.h>
#include <openssl/crypto.h>


#define NGX_HTTP_COMPLIANCE_HLS_TICK      500    /* ms */
#define NGX_HTTP_COMPLIANCE_HLS_ACT_MAX   64
#define NGX_HTTP_COMPLIANCE_HLS_KEY_LEN   32
#define NGX_HTTP_COMPLIANCE_HLS_FILE_MAX  (1024 * 1024)
#define NGX_HTTP_COMPLIANCE_HLS_BANDWIDTH 1000000
#define NGX_HTTP_COMPLIANCE_HLS_POOL      4096   /* a viewer's: it grows */


/* an admitted viewer of this worker: its stand-in session and context */

typedef struct {
    ngx_queue_t                     queue;
    ngx_pool_t                     *pool;
    ngx_msec_t                      idle;
    ngx_rtmp_compliance_ctx_t       ctx;
} ngx_http_compliance_hls_viewer_t;


/* what a request names */

typedef struct {
    ngx_str_t                       room;
    ngx_str_t                       file;        /* the last URI part */
    ngx_uint_t                      playlist;
    uint64_t                        id;          /* its session, 0: none */
    u_char                          cs[NGX_RTMP_COMPLIANCE_HLS_CS_MAX + 1];
    size_t                          cs_len;
} ngx_http_compliance_hls_req_t;


static ngx_int_t ngx_http_compliance_hls_resolve(ngx_cycle_t *cycle,
    ngx_http_compliance_hls_conf_t *hlcf);
static ngx_int_t ngx_http_compliance_hls_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_hls_count(ngx_http_request_t *r,
    uint64_t id);
static ngx_int_t ngx_http_compliance_hls_log(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_hls_name(ngx_http_request_t *r,
    ngx_http_compliance_hls_conf_t *hlcf, ngx_http_compliance_hls_req_t *q);
static ngx_int_t ngx_http_compliance_hls_param(ngx_http_request_t *r,
    ngx_http_compliance_hls_conf_t *hlcf, ngx_http_compliance_hls_req_t *q);
static void ngx_http_compliance_hls_mac(ngx_str_t *app, ngx_str_t *room,
    uint64_t id, u_char *hex);
static ngx_int_t ngx_http_compliance_hls_lookup(
    ngx_http_compliance_hls_conf_t *hlcf, ngx_http_compliance_hls_req_t *q,
    ngx_uint_t *reason, u_char *detail, size_t size);
static ngx_int_t ngx_http_compliance_hls_refuse(ngx_http_request_t *r,
    ngx_http_compliance_hls_req_t *q, ngx_uint_t status, ngx_uint_t reason,
    u_char *detail);
static ngx_int_t ngx_http_compliance_hls_admit(ngx_http_request_t *r,
    ngx_http_compliance_hls_conf_t *hlcf, ngx_http_compliance_hls_req_t *q);
static ngx_http_compliance_hls_viewer_t *ngx_http_compliance_hls_viewer(
    ngx_http_request_t *r, ngx_http_compliance_hls_conf_t *hlcf,
    ngx_str_t *room);
static void ngx_http_compliance_hls_token(ngx_http_request_t *r,
    ngx_pool_t *pool, ngx_str_t *token);
static ngx_int_t ngx_http_compliance_hls_master(ngx_http_request_t *r,
    ngx_http_compliance_hls_req_t *q);
static ngx_int_t ngx_http_compliance_hls_playlist(ngx_http_request_t *r,
    ngx_http_compliance_hls_req_t *q);
static ngx_int_t ngx_http_compliance_hls_read(ngx_http_request_t *r,
    ngx_str_t *data);
static ngx_int_t ngx_http_compliance_hls_send(ngx_http_request_t *r,
    u_char *data, size_t len);
static void ngx_http_compliance_hls_tick(ngx_event_t *ev);
static void ngx_http_compliance_hls_drop(ngx_rtmp_compliance_ctx_t *ctx);
static void ngx_http_compliance_hls_end(ngx_http_compliance_hls_viewer_t *v);


static ngx_str_t   ngx_http_compliance_hls_token_arg = ngx_string("token");
static ngx_str_t   ngx_http_compliance_hls_cs_arg = ngx_string("cs");
static ngx_str_t   ngx_http_compliance_hls_m3u8 =
    ngx_string("application/vnd.apple.mpegurl");

/* the locations of this configuration, resolved at init_module */
static ngx_array_t  *ngx_http_compliance_hls_locs;

/*
 * the session parameters' key: made once by the master, kept by reloads;
 * an HS256 key of _key.c, whose HMAC context each worker makes once
 */
static u_char        ngx_http_compliance_hls_secret
                         [NGX_HTTP_COMPLIANCE_HLS_KEY_LEN];
static ngx_rtmp_compliance_key_t  ngx_http_compliance_hls_key;

/* this worker's viewers and their timer */
static ngx_queue_t   ngx_http_compliance_hls_viewers;
static ngx_event_t   ngx_http_compliance_hls_timer;


ngx_int_t
ngx_http_compliance_hls_preconf(ngx_conf_t *cf)
{
    ngx_http_compliance_hls_locs = NULL;

    return NGX_OK;
}


ngx_int_t
ngx_http_compliance_hls_init(ngx_conf_t *cf)
{
    /* the gate drops an HLS viewer through us */

    ngx_rtmp_compliance_proto.drop = ngx_http_compliance_hls_drop;

    if (ngx_http_compliance_hls_locs == NULL) {
        /* no compliance_hls location: no viewer's bytes to count */
        return NGX_OK;
    }

    return ngx_http_compliance_add_handler(cf, NGX_HTTP_LOG_PHASE,
                                           ngx_http_compliance_hls_log);
}


/* compliance_hls APP [idle=TIME] */

char *
ngx_http_compliance_hls(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                        *value, v;
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_compliance_hls_conf_t   *hlcf, **hp;

    hlcf = (ngx_http_compliance_hls_conf_t *) ((char *) conf + cmd->offset);

    if (hlcf->app.len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    hlcf->app = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "idle=", 5) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter "
                               "\"%V\": compliance_hls APP [idle=TIME]",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        v.data = value[2].data + 5;
        v.len = value[2].len - 5;

        hlcf->idle = ngx_parse_time(&v, 0);

        if (hlcf->idle == (ngx_msec_t) NGX_ERROR || hlcf->idle == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid idle time "
                               "\"%V\"", &v);
            return NGX_CONF_ERROR;
        }
    }

    hlcf->file = cf->conf_file->file.name.data;
    hlcf->line = cf->conf_file->line;

    if (ngx_http_compliance_hls_locs == NULL) {
        ngx_http_compliance_hls_locs = ngx_array_create(cf->pool, 4,
                                                        sizeof(void *));
        if (ngx_http_compliance_hls_locs == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    hp = ngx_array_push(ngx_http_compliance_hls_locs);
    if (hp == NULL) {
        return NGX_CONF_ERROR;
    }

    *hp = hlcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_compliance_hls_handler;

    return NGX_CONF_OK;
}


/*
 * once both blocks are read (nginx -t too): each compliance_hls names an
 * rtmp application with compliance and hls on; the master's key
 */

ngx_int_t
ngx_http_compliance_hls_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                        i;
    ngx_http_compliance_hls_conf_t  **hp;

    if (ngx_http_compliance_hls_locs == NULL) {
        return NGX_OK;
    }

    hp = ngx_http_compliance_hls_locs->elts;

    for (i = 0; i < ngx_http_compliance_hls_locs->nelts; i++) {
        if (ngx_http_compliance_hls_resolve(cycle, hp[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_compliance_hls_key.secret.len == 0) {
        if (RAND_bytes(ngx_http_compliance_hls_secret,
                       NGX_HTTP_COMPLIANCE_HLS_KEY_LEN)
            != 1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "compliance_hls: "
                          "RAND_bytes() failed: no key for the session "
                          "parameters");
            return NGX_ERROR;
        }

        ngx_http_compliance_hls_key.family = NGX_RTMP_COMPLIANCE_HMAC;
        ngx_http_compliance_hls_key.secret.data =
                                                ngx_http_compliance_hls_secret;
        ngx_http_compliance_hls_key.secret.len =
                                               NGX_HTTP_COMPLIANCE_HLS_KEY_LEN;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_hls_resolve(ngx_cycle_t *cycle,
    ngx_http_compliance_hls_conf_t *hlcf)
{
    char                             *why;
    ngx_uint_t                        i, j;
    ngx_rtmp_conf_ctx_t              *ctx;
    ngx_rtmp_core_srv_conf_t        **cscf;
    ngx_rtmp_core_app_conf_t        **cacf, *app;
    ngx_rtmp_core_main_conf_t        *cmcf;
    ngx_rtmp_compliance_hls_conf_t   *hacf;
    ngx_rtmp_compliance_app_conf_t   *ccacf;

    ctx = (ngx_rtmp_conf_ctx_t *) cycle->conf_ctx[ngx_rtmp_module.index];
    app = NULL;
    why = "there is no rtmp block";

    if (ctx) {
        cmcf = ctx->main_conf[ngx_rtmp_core_module.ctx_index];
        cscf = cmcf->servers.elts;
        why = "no such application in the rtmp block";

        for (i = 0; app == NULL && i < cmcf->servers.nelts; i++) {
            cacf = cscf[i]->applications.elts;

            for (j = 0; j < cscf[i]->applications.nelts; j++) {
                if (cacf[j]->name.len == hlcf->app.len
                    && ngx_strncmp(cacf[j]->name.data, hlcf->app.data,
                                   hlcf->app.len) == 0)
                {
                    app = cacf[j];
                    hlcf->main_conf = ctx->main_conf;
                    hlcf->srv_conf = cscf[i]->ctx->srv_conf;
                    break;
                }
            }
        }
    }

    if (app) {
        hacf = app->app_conf[ngx_rtmp_hls_module.ctx_index];
        ccacf = app->app_conf[ngx_rtmp_compliance_module.ctx_index];
        why = !hacf->hls ? "the application has no \"hls on\""
              : !ccacf->enable ? "the application has no \"compliance on\""
              : NULL;

        if (why == NULL) {
            hlcf->app_conf = app->app_conf;
            hlcf->nested = hacf->nested;

            if (hlcf->idle == NGX_CONF_UNSET_MSEC) {
                /* a player may take the whole playlist's segments at once */
                hlcf->idle = ngx_max(3 * hacf->fraglen, hacf->playlen);
            }

            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "\"compliance_hls %V\" in "
                  "%s:%ui: %s", &hlcf->app, hlcf->file, hlcf->line, why);

    return NGX_ERROR;
}


/*
 * the location's content handler: a segment that may be served goes on
 * to the static module (NGX_DECLINED); playlists are ours
 */

static ngx_int_t
ngx_http_compliance_hls_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc, param;
    ngx_uint_t                       reason;
    ngx_http_compliance_hls_req_t    q;
    ngx_http_compliance_hls_conf_t  *hlcf;
    ngx_http_compliance_loc_conf_t  *lcf;
    u_char                           detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    hlcf = &lcf->hls;

    if (ngx_rtmp_compliance_main == NULL
        || ngx_rtmp_compliance_main->zone == NULL
        || ngx_http_compliance_hls_name(r, hlcf, &q) != NGX_OK)
    {
        return NGX_HTTP_NOT_FOUND;
    }

    reason = NGX_RTMP_COMPLIANCE_OK;

    param = ngx_http_compliance_hls_param(r, hlcf, &q);

    rc = ngx_http_compliance_hls_lookup(hlcf, &q, &reason, detail,
                                        sizeof(detail));

    if (rc == NGX_OK && param != NGX_OK) {
        if (param == NGX_DECLINED && q.playlist) {
            /* a live room's playlist without the parameter: a new viewer */
            return ngx_http_compliance_hls_admit(r, hlcf, &q);
        }

        rc = NGX_HTTP_FORBIDDEN;
        reason = NGX_RTMP_COMPLIANCE_SESSION_INVALID;
        ngx_snprintf(detail, sizeof(detail), "%s%Z",
                     param == NGX_ERROR
                     ? "the session parameter is not valid"
                     : "no session parameter: a segment is served to an "
                       "admitted viewer only");
    }

    if (rc != NGX_OK) {
        return ngx_http_compliance_hls_refuse(r, &q, rc, reason, detail);
    }

    if (ngx_http_compliance_hls_count(r, q.id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return q.playlist ? ngx_http_compliance_hls_playlist(r, &q)
                      : NGX_DECLINED;
}


/* the request of viewer id: counted in its bytes_out when it is logged */

static ngx_int_t
ngx_http_compliance_hls_count(ngx_http_request_t *r, uint64_t id)
{
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_compliance_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->hls_id = id;
    ctx->hls_sent = r->connection->sent;

    ngx_http_set_ctx(r, ctx, ngx_http_compliance_module);

    return NGX_OK;
}


/* the log phase: what a viewer's request sent, into its session */

static ngx_int_t
ngx_http_compliance_hls_log(ngx_http_request_t *r)
{
    ngx_rtmp_compliance_session_t    *ss;
    ngx_http_compliance_ctx_t        *ctx;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_compliance_module);
    mcf = ngx_rtmp_compliance_main;

    if (ctx == NULL || ctx->hls_id == 0 || mcf == NULL || mcf->zone == NULL
        || r->connection->sent <= ctx->hls_sent)
    {
        return NGX_OK;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, ctx->hls_id);

    if (ss && ss->proto == NGX_RTMP_COMPLIANCE_PROTO_HLS) {
        ss->bytes_out += r->connection->sent - ctx->hls_sent;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return NGX_OK;
}


/*
 * the room and file a URI names: ROOM.m3u8 and ROOM-N.ts, or with
 * hls_nested ROOM/index.m3u8 and ROOM/N.ts
 */

static ngx_int_t
ngx_http_compliance_hls_name(ngx_http_request_t *r,
    ngx_http_compliance_hls_conf_t *hlcf, ngx_http_compliance_hls_req_t *q)
{
    u_char  *name, *last, *p;

    ngx_memzero(q, sizeof(ngx_http_compliance_hls_req_t));

    last = r->uri.data + r->uri.len;

    for (name = last; name > r->uri.data && name[-1] != '/'; name--) {
        /* void */
    }

    q->file.data = name;
    q->file.len = last - name;

    q->playlist = (q->file.len > 5
                   && ngx_strncmp(last - 5, ".m3u8", 5) == 0);

    if (hlcf->nested) {
        p = name - 1;

        if (p <= r->uri.data) {
            return NGX_DECLINED;
        }

        for (q->room.data = p; q->room.data > r->uri.data
                               && q->room.data[-1] != '/'; q->room.data--)
        {
            /* void */
        }

        q->room.len = p - q->room.data;

    } else if (q->playlist) {
        q->room.data = name;
        q->room.len = q->file.len - 5;

    } else {
        for (p = last; p > name && *(p - 1) != '-'; p--) {
            /* void */
        }

        q->room.data = name;
        q->room.len = (p > name) ? (size_t) (p - 1 - name) : 0;
    }

    if (q->room.len == 0 || q->room.len > NGX_RTMP_COMPLIANCE_CLAIM_MAX) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * the session parameter: NGX_OK, one whose MAC is the session's (q->id);
 * NGX_DECLINED, none; NGX_ERROR, one that is not valid (q->id is 1 then,
 * 0 for none)
 */

static ngx_int_t
ngx_http_compliance_hls_param(ngx_http_request_t *r,
    ngx_http_compliance_hls_conf_t *hlcf, ngx_http_compliance_hls_req_t *q)
{
    u_char     *dot;
    ngx_int_t   n;
    ngx_str_t   cs;
    u_char      mac[NGX_RTMP_COMPLIANCE_HLS_MAC_LEN];

    if (ngx_rtmp_compliance_arg(&r->args, &ngx_http_compliance_hls_cs_arg,
                                &cs)
        == NULL)
    {
        return NGX_DECLINED;
    }

    q->id = 1;

    dot = ngx_strlchr(cs.data, cs.data + cs.len, '.');

    if (dot == NULL || dot == cs.data
        || cs.data + cs.len - (dot + 1) != NGX_RTMP_COMPLIANCE_HLS_MAC_LEN)
    {
        return NGX_ERROR;
    }

    n = ngx_atoi(cs.data, dot - cs.data);

    if (n <= 0) {
        return NGX_ERROR;
    }

    ngx_http_compliance_hls_mac(&hlcf->app, &q->room, (uint64_t) n, mac);

    if (CRYPTO_memcmp(mac, dot + 1, NGX_RTMP_COMPLIANCE_HLS_MAC_LEN) != 0) {
        return NGX_ERROR;
    }

    q->id = (uint64_t) n;
    q->cs_len = cs.len;
    ngx_memcpy(q->cs, cs.data, cs.len);

    return NGX_OK;
}


/* the MAC of a session's parameter: HMAC-SHA256 of "ID APP/ROOM", hex */

static void
ngx_http_compliance_hls_mac(ngx_str_t *app, ngx_str_t *room, uint64_t id,
    u_char *hex)
{
    u_char  *p;
    size_t   len;
    u_char   md[EVP_MAX_MD_SIZE];
    u_char   msg[NGX_INT64_LEN + 2 * NGX_RTMP_COMPLIANCE_CLAIM_MAX + 4];

    p = ngx_snprintf(msg, sizeof(msg), "%uL %V/%V", id, app, room);

    if (ngx_rtmp_compliance_key_digest(&ngx_http_compliance_hls_key,
                                       NGX_RTMP_COMPLIANCE_HS256, msg,
                                       p - msg, md, &len)
        != NGX_OK)
    {
        /* no MAC matches: a string no hex digest is */
        ngx_memset(hex, 'x', NGX_RTMP_COMPLIANCE_HLS_MAC_LEN);
        return;
    }

    ngx_hex_dump(hex, md, NGX_RTMP_COMPLIANCE_HLS_MAC_LEN / 2);
}


/*
 * under one lock: the room has an admitted live publisher (else
 * NGX_HTTP_NOT_FOUND) and q->id, if any, is a live HLS viewer of it,
 * stamped as seen (else NGX_HTTP_FORBIDDEN and *reason); NGX_OK
 */

static ngx_int_t
ngx_http_compliance_hls_lookup(ngx_http_compliance_hls_conf_t *hlcf,
    ngx_http_compliance_hls_req_t *q, ngx_uint_t *reason, u_char *detail,
    size_t size)
{
    ngx_int_t                         rc;
    ngx_rtmp_compliance_room_t       *rm;
    ngx_rtmp_compliance_session_t    *ps, *ss;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;
    rc = NGX_OK;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    rm = ngx_rtmp_compliance_room_find_locked(mcf->zone, &hlcf->app,
                                              &q->room);
    ps = (rm && rm->publisher)
         ? ngx_rtmp_compliance_session_find_locked(mcf->zone, rm->publisher)
         : NULL;

    if (ps == NULL || ps->drop) {
        ngx_snprintf(detail, size, "room \"%V\" is not live%Z", &q->room);
        rc = NGX_HTTP_NOT_FOUND;
        goto done;
    }

    if (q->id <= 1) {
        goto done;
    }

    ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, q->id);

    if (ss == NULL || ss->proto != NGX_RTMP_COMPLIANCE_PROTO_HLS) {
        ngx_snprintf(detail, size, "session %uL has ended: ask for the room's "
                     "playlist again%Z", q->id);
        *reason = NGX_RTMP_COMPLIANCE_SESSION_INVALID;
        rc = NGX_HTTP_FORBIDDEN;

    } else if (ss->drop) {
        ngx_snprintf(detail, size, "session %uL was dropped%Z", q->id);
        *reason = ss->drop;
        rc = NGX_HTTP_FORBIDDEN;

    } else {
        ss->seen = ngx_current_msec;
    }

done:

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return rc;
}


/* a request refused without an admission: a 404 or 403, in the log */

static ngx_int_t
ngx_http_compliance_hls_refuse(ngx_http_request_t *r,
    ngx_http_compliance_hls_req_t *q, ngx_uint_t status, ngx_uint_t reason,
    u_char *detail)
{
    u_char  desc[NGX_RTMP_COMPLIANCE_DETAIL_MAX + 64];

    detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX - 1] = '\0';

    if (status == NGX_HTTP_NOT_FOUND) {
        reason = NGX_RTMP_COMPLIANCE_OK;
        ngx_snprintf(desc, sizeof(desc), "%s%Z", detail);

    } else {
        ngx_snprintf(desc, sizeof(desc), "%V: %s%Z",
                     &ngx_rtmp_compliance_reasons[reason], detail);
    }

    desc[sizeof(desc) - 1] = '\0';

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "compliance: hls request refused (%ui): %s", status, desc);

    return ngx_http_compliance_reply(r, status, reason, desc);
}


/*
 * a new viewer: admitted as any player is, then handed the master
 * playlist whose one variant carries its session parameter
 */

static ngx_int_t
ngx_http_compliance_hls_admit(ngx_http_request_t *r,
    ngx_http_compliance_hls_conf_t *hlcf, ngx_http_compliance_hls_req_t *q)
{
    ngx_int_t                          rc;
    ngx_str_t                          token;
    ngx_uint_t                         reason;
    ngx_rtmp_session_t                *s;
    ngx_rtmp_compliance_ctx_t         *ctx;
    ngx_rtmp_compliance_app_conf_t    *cacf;
    ngx_http_compliance_hls_viewer_t  *v;
    u_char                             detail
                                           [NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    v = ngx_http_compliance_hls_viewer(r, hlcf, &q->room);
    if (v == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = &v->ctx;
    s = ctx->session;
    cacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module);

    ngx_http_compliance_hls_token(r, v->pool, &token);

    ctx->request = r;

    reason = ngx_rtmp_compliance_gate_player(s, cacf, ctx, &token, detail,
                                             sizeof(detail));

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        rc = ngx_rtmp_compliance_reject(s, 1, ctx, reason, detail);
        ngx_destroy_pool(v->pool);
        return rc;
    }

    rc = ngx_rtmp_compliance_gate_outcome(s, ctx, NGX_OK);

    ctx->request = NULL;

    if (ctx->node == NULL) {
        /* refused after all (the audit log): told already */
        ngx_destroy_pool(v->pool);
        return rc;
    }

    if (ngx_queue_empty(&ngx_http_compliance_hls_viewers)) {
        ngx_http_compliance_hls_timer.handler = ngx_http_compliance_hls_tick;
        ngx_http_compliance_hls_timer.log = ngx_cycle->log;
        ngx_add_timer(&ngx_http_compliance_hls_timer,
                      NGX_HTTP_COMPLIANCE_HLS_TICK);
    }

    ngx_queue_insert_tail(&ngx_http_compliance_hls_viewers, &v->queue);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "compliance: hls viewer %uL admitted, app: \"%V\", "
                  "room: \"%V\", tier: \"%V\"", ctx->id, &hlcf->app,
                  &ctx->room, ctx->tier ? &ctx->tier->name
                                        : &ctx->claims.tier);

    q->id = ctx->id;
    q->cs_len = ngx_sprintf(q->cs, "%uL.", q->id) - q->cs;
    ngx_http_compliance_hls_mac(&hlcf->app, &q->room, q->id,
                                q->cs + q->cs_len);
    q->cs_len += NGX_RTMP_COMPLIANCE_HLS_MAC_LEN;

    if (ngx_http_compliance_hls_count(r, q->id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_hls_master(r, q);
}


/*
 * a viewer's stand-in RTMP session, in a pool of its own that lives as
 * long as it does: what the gate and the sessions read of a session (its
 * application's configuration, its address, its log)
 */

static ngx_http_compliance_hls_viewer_t *
ngx_http_compliance_hls_viewer(ngx_http_request_t *r,
    ngx_http_compliance_hls_conf_t *hlcf, ngx_str_t *room)
{
    ngx_pool_t                        *pool;
    ngx_connection_t                  *c;
    ngx_rtmp_session_t                *s;
    ngx_rtmp_compliance_ctx_t         *ctx;
    ngx_http_compliance_hls_viewer_t  *v;

    if (ngx_http_compliance_hls_viewers.next == NULL) {
        ngx_queue_init(&ngx_http_compliance_hls_viewers);
    }

    pool = ngx_create_pool(NGX_HTTP_COMPLIANCE_HLS_POOL, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    v = ngx_pcalloc(pool, sizeof(ngx_http_compliance_hls_viewer_t));
    c = ngx_pcalloc(pool, sizeof(ngx_connection_t));
    s = ngx_pcalloc(pool, sizeof(ngx_rtmp_session_t));

    if (v == NULL || c == NULL || s == NULL) {
        goto failed;
    }

    s->ctx = ngx_pcalloc(pool, sizeof(void *) * ngx_rtmp_max_module);
    c->addr_text.data = ngx_pstrdup(pool, &r->connection->addr_text);

    ctx = &v->ctx;
    ctx->room.data = ngx_pnalloc(pool, room->len + 1);

    if (s->ctx == NULL || c->addr_text.data == NULL
        || ctx->room.data == NULL)
    {
        goto failed;
    }

    c->addr_text.len = r->connection->addr_text.len;
    c->pool = pool;
    c->log = ngx_cycle->log;
    c->fd = (ngx_socket_t) -1;

    s->connection = c;
    s->app = hlcf->app;
    s->main_conf = hlcf->main_conf;
    s->srv_conf = hlcf->srv_conf;
    s->app_conf = hlcf->app_conf;

    *ngx_cpymem(ctx->room.data, room->data, room->len) = '\0';
    ctx->room.len = room->len;
    ctx->kind = NGX_RTMP_COMPLIANCE_PLAYER;
    ctx->hls = 1;
    ctx->session = s;

    ngx_rtmp_set_ctx(s, ctx, ngx_rtmp_compliance_module);

    v->pool = pool;
    v->idle = hlcf->idle;

    return v;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


/*
 * the play token of the query string, kept in the viewer's pool, then
 * overwritten with "x" in the request line (the access log's $request)
 */

static void
ngx_http_compliance_hls_token(ngx_http_request_t *r, ngx_pool_t *pool,
    ngx_str_t *token)
{
    ngx_str_t  t;

    ngx_str_null(token);

    if (ngx_rtmp_compliance_arg(&r->args, &ngx_http_compliance_hls_token_arg,
                                &t)
        == NULL)
    {
        return;
    }

    token->data = ngx_pstrdup(pool, &t);

    if (token->data) {
        token->len = t.len;
    }

    ngx_memset(t.data, 'x', t.len);
}


/* the master playlist of one variant: this playlist, with the parameter */

static ngx_int_t
ngx_http_compliance_hls_master(ngx_http_request_t *r,
    ngx_http_compliance_hls_req_t *q)
{
    u_char  *p, *buf;
    size_t   len;

    len = sizeof("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=\n?cs=\n") - 1
          + NGX_INT_T_LEN + q->file.len + q->cs_len;

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(buf, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=%d\n%V?cs=",
                    NGX_HTTP_COMPLIANCE_HLS_BANDWIDTH, &q->file);
    p = ngx_cpymem(p, q->cs, q->cs_len);
    *p++ = LF;

    return ngx_http_compliance_hls_send(r, buf, p - buf);
}


/*
 * a viewer's playlist: the file nginx-rtmp wrote, each URI line with the
 * session parameter added
 */

static ngx_int_t
ngx_http_compliance_hls_playlist(ngx_http_request_t *r,
    ngx_http_compliance_hls_req_t *q)
{
    u_char     *p, *buf, *line, *eol, *last;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   data;
    ngx_uint_t  lines;

    rc = ngx_http_compliance_hls_read(r, &data);

    if (rc != NGX_OK) {
        return rc;
    }

    last = data.data + data.len;
    lines = 1;

    for (p = data.data; p < last; p++) {
        lines += (*p == LF);
    }

    len = data.len + lines * (sizeof("&cs=\n") - 1 + q->cs_len);

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = buf;

    for (line = data.data; line < last; line = eol + 1) {
        eol = ngx_strlchr(line, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        len = eol - line;

        if (len && line[len - 1] == CR) {
            len--;
        }

        p = ngx_cpymem(p, line, len);

        if (len && line[0] != '#') {
            p = ngx_cpymem(p, ngx_strlchr(line, line + len, '?') ? "&cs="
                                                                : "?cs=", 4);
            p = ngx_cpymem(p, q->cs, q->cs_len);
        }

        *p++ = LF;
    }

    return ngx_http_compliance_hls_send(r, buf, p - buf);
}


/* the file the URI maps to (root, alias), whole; 404 if there is none */

static ngx_int_t
ngx_http_compliance_hls_read(ngx_http_request_t *r, ngx_str_t *data)
{
    size_t           root;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t        path;
    ngx_file_info_t  fi;

    if (ngx_http_map_uri_to_path(r, &path, &root, 0) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    path.len--;

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        return NGX_HTTP_NOT_FOUND;
    }

    n = NGX_ERROR;
    data->data = NULL;

    if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
        && ngx_file_size(&fi) <= NGX_HTTP_COMPLIANCE_HLS_FILE_MAX)
    {
        data->data = ngx_pnalloc(r->pool, ngx_file_size(&fi) + 1);
    }

    if (data->data) {
        n = read(fd, data->data, ngx_file_size(&fi));
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &path);
    }

    if (n < 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    data->len = n;

    return NGX_OK;
}


/* a playlist, not to be kept by a cache: it is one viewer's */

static ngx_int_t
ngx_http_compliance_hls_send(ngx_http_request_t *r, u_char *data,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "private, no-store");
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return ngx_http_compliance_send(r, NGX_HTTP_OK,
                                    &ngx_http_compliance_hls_m3u8, data, len);
}


/*
 * this worker's viewers: one that asked for nothing for its idle time,
 * or whose room's publisher is gone, ends (a dropped one is the sessions'
 * recheck's); all of them when the worker stops
 */

static void
ngx_http_compliance_hls_tick(ngx_event_t *ev)
{
    ngx_uint_t                         i, n;
    ngx_queue_t                       *q;
    ngx_rtmp_compliance_session_t     *ss;
    ngx_rtmp_compliance_main_conf_t   *mcf;
    ngx_http_compliance_hls_viewer_t  *v, *end[NGX_HTTP_COMPLIANCE_HLS_ACT_MAX];

    mcf = ngx_rtmp_compliance_main;
    n = 0;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    for (q = ngx_queue_head(&ngx_http_compliance_hls_viewers);
         q != ngx_queue_sentinel(&ngx_http_compliance_hls_viewers)
         && n < NGX_HTTP_COMPLIANCE_HLS_ACT_MAX;
         q = ngx_queue_next(q))
    {
        v = ngx_queue_data(q, ngx_http_compliance_hls_viewer_t, queue);
        ss = v->ctx.node;

        if (v->ctx.dropping || ss->drop) {
            continue;
        }

        if (ngx_exiting || ss->room->publisher == 0) {
            v->ctx.why = 0;

        } else if (ngx_current_msec - ss->seen >= v->idle) {
            v->ctx.why = NGX_RTMP_COMPLIANCE_IDLE;

        } else {
            continue;
        }

        v->ctx.dropping = 1;
        end[n++] = v;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    for (i = 0; i < n; i++) {
        ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                      "compliance: hls viewer %uL ended: %s, room: \"%V\"",
                      end[i]->ctx.id, end[i]->ctx.why ? "idle"
                                                      : "the room ended",
                      &end[i]->ctx.room);

        ngx_http_compliance_hls_end(end[i]);
    }

    if (!ngx_queue_empty(&ngx_http_compliance_hls_viewers)) {
        ngx_add_timer(ev, n == NGX_HTTP_COMPLIANCE_HLS_ACT_MAX
                          ? 1 : NGX_HTTP_COMPLIANCE_HLS_TICK);
    }
}


/* dropped by the sessions' recheck (ngx_rtmp_compliance_proto.drop) */

static void
ngx_http_compliance_hls_drop(ngx_rtmp_compliance_ctx_t *ctx)
{
    ngx_http_compliance_hls_viewer_t  *v;

    v = (ngx_http_compliance_hls_viewer_t *)
            ((u_char *) ctx - offsetof(ngx_http_compliance_hls_viewer_t, ctx));

    ngx_http_compliance_hls_end(v);
}


/* session.end, out of the zone and this worker's list, and freed */

static void
ngx_http_compliance_hls_end(ngx_http_compliance_hls_viewer_t *v)
{
    ngx_rtmp_compliance_session_end(v->ctx.session, &v->ctx);

    ngx_queue_remove(&v->queue);
    ngx_destroy_pool(v->pool);

    if (ngx_queue_empty(&ngx_http_compliance_hls_viewers)
        && ngx_http_compliance_hls_timer.timer_set)
    {
        ngx_del_timer(&ngx_http_compliance_hls_timer);
    }
}
