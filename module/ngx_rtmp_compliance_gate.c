
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The gate: RTMP connect, publish and play.
 *
 * Our AMF handlers for "connect", "publish" and "play" are put in front
 * of nginx-rtmp's own, so a session is decided on the raw command (tokens
 * are longer than nginx-rtmp's 256-byte name buffer) before live, record,
 * exec or notify see it.  A publisher is admitted by its token, its tier
 * and the orders; a player by ngx_rtmp_compliance_gate_player(), which
 * any protocol's player goes through.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_gate.h"
#include "ngx_rtmp_compliance_amf.h"
#include "ngx_rtmp_compliance_token.h"
#include "ngx_rtmp_compliance_tier.h"
#include "ngx_rtmp_compliance_session.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_label.h"
#include "ngx_rtmp_compliance_flood.h"
#include "ngx_rtmp_compliance_text.h"
#include "ngx_rtmp_cmd_module.h"
#include "ngx_rtmp_live_module.h"


#define NGX_RTMP_COMPLIANCE_LOG_NAME      128
#define NGX_RTMP_COMPLIANCE_QUICKACKS     256    /* reads a turn */


/* a read that may want a quick ACK: see ngx_rtmp_compliance_recv() */

typedef struct {
    ngx_connection_t               *c;
    ngx_atomic_uint_t               number;      /* c->number at the read */
    off_t                           sent;        /* c->sent at the read */
} ngx_rtmp_compliance_quickack_t;


/* the stream name of a publish or play command, "ROOM?ARGS" */

typedef struct {
    ngx_str_t                       name;    /* as it was sent, whole */
    ngx_str_t                       room;
    ngx_str_t                       args;
    ngx_str_t                       token;   /* in args, if any */
    ngx_rtmp_compliance_amf_t       at;      /* where it is in the command */
} ngx_rtmp_compliance_stream_t;


static ngx_int_t ngx_rtmp_compliance_add_amf(ngx_conf_t *cf,
    ngx_rtmp_core_main_conf_t *cmcf, char *name, ngx_rtmp_handler_pt h);
static ngx_int_t ngx_rtmp_compliance_connect(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_nodelay(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ssize_t ngx_rtmp_compliance_recv(ngx_connection_t *c, u_char *buf,
    size_t size);
static void ngx_rtmp_compliance_quickack_run(ngx_event_t *ev);
static void ngx_rtmp_compliance_settle(ngx_rtmp_session_t *s,
    ngx_uint_t publish);
static ngx_int_t ngx_rtmp_compliance_gate_begin(ngx_rtmp_session_t *s,
    ngx_chain_t *in, ngx_uint_t kind);
static void ngx_rtmp_compliance_deadline_start(ngx_rtmp_session_t *s);
static void ngx_rtmp_compliance_deadline_app(ngx_rtmp_session_t *s);
static void ngx_rtmp_compliance_deadline_stop(ngx_rtmp_session_t *s);
static void ngx_rtmp_compliance_deadline_cleanup(void *data);
static void ngx_rtmp_compliance_deadline(ngx_event_t *ev);
static ngx_int_t ngx_rtmp_compliance_publish(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_play(ngx_rtmp_session_t *s,
    ngx_rtmp_header_t *h, ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_publish_cmd(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_play_cmd(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_chain_t *in);
static ngx_int_t ngx_rtmp_compliance_stream_name(ngx_chain_t *in,
    ngx_rtmp_compliance_stream_t *st);
static ngx_uint_t ngx_rtmp_compliance_room_shown(ngx_str_t *room,
    u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_audit_refused(u_char *detail,
    size_t size);
static ngx_uint_t ngx_rtmp_compliance_find_token(
    ngx_rtmp_compliance_ctx_t *ctx, ngx_str_t *args, ngx_str_t *token);
static ngx_int_t ngx_rtmp_compliance_connected(ngx_rtmp_session_t *s,
    ngx_rtmp_connect_t *v);
static ngx_int_t ngx_rtmp_compliance_publish_live(ngx_rtmp_session_t *s,
    ngx_rtmp_publish_t *v);
static ngx_int_t ngx_rtmp_compliance_play_live(ngx_rtmp_session_t *s,
    ngx_rtmp_play_t *v);
static ngx_int_t ngx_rtmp_compliance_live_state(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx);
static void ngx_rtmp_compliance_wait(ngx_event_t *ev);
static ngx_int_t ngx_rtmp_compliance_close_stream(ngx_rtmp_session_t *s,
    ngx_rtmp_close_stream_t *v);
static ngx_uint_t ngx_rtmp_compliance_admit_publish(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *room, ngx_str_t *token, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_accept(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx);
static void ngx_rtmp_compliance_log_accepted(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx);
static u_char *ngx_rtmp_compliance_log_name(u_char *dst, ngx_str_t *src);
static u_char *ngx_rtmp_compliance_log_field(u_char *p, u_char *last,
    char *name, ngx_str_t *v);


#define NGX_RTMP_COMPLIANCE_WAIT          25     /* ms */


static ngx_queue_t               ngx_rtmp_compliance_waiting;
static ngx_event_t               ngx_rtmp_compliance_wait_ev;

static ngx_recv_pt               next_recv;

/* the reads of this turn of the event loop that may want a quick ACK */
static ngx_rtmp_compliance_quickack_t
                ngx_rtmp_compliance_quickacks[NGX_RTMP_COMPLIANCE_QUICKACKS];
static ngx_uint_t                     ngx_rtmp_compliance_nquickack;
static ngx_event_t                    ngx_rtmp_compliance_quickack_ev;

static ngx_rtmp_close_stream_pt  next_close_stream;
static ngx_rtmp_connect_pt       next_connect;
static ngx_rtmp_publish_pt       next_publish;
static ngx_rtmp_play_pt          next_play;

static ngx_str_t  ngx_rtmp_compliance_token_arg = ngx_string("token");
static ngx_str_t  ngx_rtmp_compliance_scope_publish = ngx_string("publish");


/* the commands our handlers go in front of nginx-rtmp's for */

static struct {
    char                           *name;
    ngx_rtmp_handler_pt             handler;
} ngx_rtmp_compliance_gate_amf[] = {
    { "connect", ngx_rtmp_compliance_connect },
    { "publish", ngx_rtmp_compliance_publish },
    { "play", ngx_rtmp_compliance_play },
    { NULL, NULL }
};


/*
 * compliance_listen_backlog: nginx-rtmp's "listen" has no backlog=, so its
 * sockets listen with nginx's default (511).  After an ingest restart
 * thousands of encoders reconnect at once; a full queue drops their SYNs
 * and each retries a second later.  At init_module the master listens
 * again on the RTMP sockets with the longer queue (Linux caps it at
 * net.core.somaxconn); a reload does the same for the sockets it keeps
 */

void
ngx_rtmp_compliance_gate_backlog(ngx_cycle_t *cycle, ngx_int_t backlog)
{
    ngx_uint_t        i;
    ngx_listening_t  *ls;

    if (backlog == NGX_CONF_UNSET) {
        return;
    }

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].handler != ngx_rtmp_init_connection
            || ls[i].fd == (ngx_socket_t) -1)
        {
            continue;
        }

        ls[i].backlog = (int) backlog;

        if (listen(ls[i].fd, ls[i].backlog) == -1) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                          "listen() to %V, backlog %d failed",
                          &ls[i].addr_text, ls[i].backlog);
        }
    }
}


/* at postconfiguration: our handlers go in */

ngx_int_t
ngx_rtmp_compliance_gate_init(ngx_conf_t *cf, ngx_rtmp_core_main_conf_t *cmcf)
{
    ngx_uint_t               i;
    ngx_rtmp_handler_pt     *eh;
    ngx_rtmp_amf_handler_t  *h;

    /* a new connection, before its handshake */

    eh = ngx_array_push(&cmcf->events[NGX_RTMP_CONNECT]);
    if (eh == NULL) {
        return NGX_ERROR;
    }

    *eh = ngx_rtmp_compliance_nodelay;

    for (i = 0; ngx_rtmp_compliance_gate_amf[i].name; i++) {
        if (ngx_rtmp_compliance_add_amf(cf, cmcf,
                                        ngx_rtmp_compliance_gate_amf[i].name,
                                        ngx_rtmp_compliance_gate_amf[i].handler)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
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

    ngx_queue_init(&ngx_rtmp_compliance_waiting);

    next_connect = ngx_rtmp_connect;
    ngx_rtmp_connect = ngx_rtmp_compliance_connected;

    next_publish = ngx_rtmp_publish;
    ngx_rtmp_publish = ngx_rtmp_compliance_publish_live;

    next_play = ngx_rtmp_play;
    ngx_rtmp_play = ngx_rtmp_compliance_play_live;

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


/* the session's context: the gate's, and an HTTP-FLV player's */

ngx_rtmp_compliance_ctx_t *
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


/* the room a session asked for, kept with the session */

ngx_int_t
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
 * nginx-rtmp never sets TCP_NODELAY: an encoder that does not set it
 * either (ffmpeg) waits on Nagle and delayed ACKs at every step from the
 * handshake to Publish.Start (~180 ms; it writes a message's header and
 * body apart, so a read of a part of a message must be ACKed too).
 * TCP_NODELAY is set when the connection comes, and until the session is
 * admitted every read that nginx does not answer re-arms TCP_QUICKACK
 * (Linux clears it; re-arming sends an ACK that is due): the client's
 * next write leaves at once.  A read that nginx answered needs no more:
 * its reply carried the ACK (a separate ACK would cost a packet and the
 * loopback's softirq, ~6 % of an admission's CPU).  Once admitted (or
 * where compliance is off), the connection reads through nginx's own
 * recv again, and a player's is back to Nagle: media costs nothing more.
 */

static ngx_int_t
ngx_rtmp_compliance_nodelay(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    ngx_connection_t  *c;

    c = s->connection;

    /*
     * clients' RTMP connections only: not a relay's own (no listening
     * socket; it is never admitted), not an HTTP-FLV player's session
     * (its connection's data is the HTTP request); and only where nobody
     * set TCP_NODELAY before: a connection that reads through ours is one
     * whose TCP_NODELAY is ours to clear
     */

    if (c->listening == NULL || c->data != s
        || c->tcp_nodelay != NGX_TCP_NODELAY_UNSET
        || ngx_tcp_nodelay(c) != NGX_OK)
    {
        return NGX_OK;
    }

#if (NGX_LINUX) && defined(TCP_QUICKACK)
    next_recv = c->recv;
    c->recv = ngx_rtmp_compliance_recv;
#endif

    return NGX_OK;
}


/*
 * a read is noted (the connection, its number and what it had sent); once
 * the handlers of this turn of the event loop have run, the posted event
 * looks: a connection that sent nothing since gets its quick ACK
 */

static ssize_t
ngx_rtmp_compliance_recv(ngx_connection_t *c, u_char *buf, size_t size)
{
    ssize_t                           n;
    ngx_rtmp_compliance_quickack_t   *qa;

    n = next_recv(c, buf, size);

    if (n <= 0) {
        return n;
    }

    if (ngx_rtmp_compliance_nquickack
        && ngx_rtmp_compliance_quickacks[ngx_rtmp_compliance_nquickack - 1].c
           == c)
    {
        return n;
    }

    if (ngx_rtmp_compliance_nquickack == NGX_RTMP_COMPLIANCE_QUICKACKS) {
        ngx_rtmp_compliance_quickack_run(&ngx_rtmp_compliance_quickack_ev);
    }

    qa = &ngx_rtmp_compliance_quickacks[ngx_rtmp_compliance_nquickack++];
    qa->c = c;
    qa->number = c->number;
    qa->sent = c->sent;

    if (!ngx_rtmp_compliance_quickack_ev.posted) {
        ngx_rtmp_compliance_quickack_ev.handler =
                                             ngx_rtmp_compliance_quickack_run;
        ngx_rtmp_compliance_quickack_ev.log = ngx_cycle->log;
        ngx_post_event(&ngx_rtmp_compliance_quickack_ev, &ngx_posted_events);
    }

    return n;
}


/*
 * the connections are nginx's own (cycle->connections, never freed): one
 * closed or reused since the read has another number or no descriptor
 */

static void
ngx_rtmp_compliance_quickack_run(ngx_event_t *ev)
{
    static const int                 on = 1;
    ngx_connection_t                *c;
    ngx_rtmp_compliance_quickack_t  *qa, *last;

    last = ngx_rtmp_compliance_quickacks + ngx_rtmp_compliance_nquickack;

    for (qa = ngx_rtmp_compliance_quickacks; qa < last; qa++) {
        c = qa->c;

        if (c->fd != (ngx_socket_t) -1 && c->number == qa->number
            && c->sent == qa->sent && c->recv == ngx_rtmp_compliance_recv)
        {
#if (NGX_LINUX) && defined(TCP_QUICKACK)
            (void) setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK,
                              (const void *) &on, sizeof(int));
#endif
        }
    }

    ngx_rtmp_compliance_nquickack = 0;

    if (ev->posted) {
        ngx_delete_posted_event(ev);
    }
}


static void
ngx_rtmp_compliance_settle(ngx_rtmp_session_t *s, ngx_uint_t publish)
{
    int                off;
    ngx_connection_t  *c;

    c = s->connection;

    if (c->recv != ngx_rtmp_compliance_recv) {
        return;
    }

    c->recv = next_recv;

    /*
     * the media goes out to a player as nginx-rtmp sends it, with Nagle:
     * without it every chunk is a segment of its own (~25 % more of
     * nginx's CPU per megabyte relayed).  A publisher is sent only
     * acknowledgements and pings, which Nagle would not join: its
     * TCP_NODELAY stays, and its admission costs no setsockopt()
     */

    if (!publish && c->tcp_nodelay == NGX_TCP_NODELAY_SET) {
        off = 0;

        if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, (const void *) &off,
                       sizeof(int))
            == 0)
        {
            c->tcp_nodelay = NGX_TCP_NODELAY_UNSET;
        }
    }
}


/*
 * compliance_admission_timeout: a connection that has not been admitted
 * to publish or play within it of its connect command is closed (an
 * idle-connection flood holds no ingest's connections)
 */

static void
ngx_rtmp_compliance_deadline_start(ngx_rtmp_session_t *s)
{
    ngx_pool_cleanup_t              *cln;
    ngx_rtmp_compliance_ctx_t       *ctx;
    ngx_rtmp_core_srv_conf_t        *cscf;
    ngx_rtmp_compliance_app_conf_t  *cacf;

    /* the application is not known yet: the server's setting */

    cscf = ngx_rtmp_get_module_srv_conf(s, ngx_rtmp_core_module);
    cacf = cscf->ctx->app_conf[ngx_rtmp_compliance_module.ctx_index];

    if (cacf->admission_timeout == 0) {
        return;
    }

    ctx = ngx_rtmp_compliance_get_ctx(s);

    if (ctx == NULL || ctx->deadline.handler) {
        return;
    }

    cln = ngx_pool_cleanup_add(s->connection->pool, 0);
    if (cln == NULL) {
        return;
    }

    cln->handler = ngx_rtmp_compliance_deadline_cleanup;
    cln->data = &ctx->deadline;

    ctx->deadline.handler = ngx_rtmp_compliance_deadline;
    ctx->deadline.data = s;
    ctx->deadline.log = s->connection->log;
    ctx->deadline_start = ngx_current_msec;

    ngx_add_timer(&ctx->deadline, cacf->admission_timeout);
}


/*
 * once nginx-rtmp's connect has chosen the application: its own setting,
 * counted from the connect (compliance off there: none)
 */

static void
ngx_rtmp_compliance_deadline_app(ngx_rtmp_session_t *s)
{
    ngx_msec_t                       elapsed;
    ngx_rtmp_compliance_ctx_t       *ctx;
    ngx_rtmp_compliance_app_conf_t  *cacf;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx == NULL || !ctx->deadline.timer_set || ctx->deadline_app
        || s->app_conf == NULL)
    {
        return;
    }

    ctx->deadline_app = 1;

    cacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module);

    ngx_del_timer(&ctx->deadline);

    if (cacf->admission_timeout == 0 || !cacf->enable) {
        return;
    }

    elapsed = ngx_current_msec - ctx->deadline_start;

    ngx_add_timer(&ctx->deadline, cacf->admission_timeout > elapsed
                                  ? cacf->admission_timeout - elapsed : 1);
}


static void
ngx_rtmp_compliance_deadline_stop(ngx_rtmp_session_t *s)
{
    ngx_rtmp_compliance_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx && ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }
}


static void
ngx_rtmp_compliance_deadline_cleanup(void *data)
{
    ngx_event_t  *ev = data;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }
}


static void
ngx_rtmp_compliance_deadline(ngx_event_t *ev)
{
    ngx_rtmp_session_t               *s;
    ngx_rtmp_core_srv_conf_t         *cscf;
    ngx_rtmp_compliance_app_conf_t   *cacf;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    s = ev->data;
    mcf = ngx_rtmp_compliance_main;

    cscf = ngx_rtmp_get_module_srv_conf(s, ngx_rtmp_core_module);
    cacf = s->app_conf
           ? ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module)
           : cscf->ctx->app_conf[ngx_rtmp_compliance_module.ctx_index];

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "compliance: no publish or play admitted within %M ms "
                  "of connect, closed (admission_timeout)",
                  cacf->admission_timeout);

    if (mcf && mcf->zone) {
        ngx_shmtx_lock(&mcf->zone->shpool->mutex);
        mcf->zone->sh->admission_timeouts++;
        ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
    }

    ngx_rtmp_finalize_session(s);
}


/*
 * keep the query parts of tcUrl and app: a token may come in them; and
 * redact a token in any of app, tcUrl, swfUrl, pageUrl (OBS sends its
 * server URL as both tcUrl and swfUrl), which nginx-rtmp logs
 */

static ngx_int_t
ngx_rtmp_compliance_connect(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    u_char                     *p, *q;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_str_t                   v[NGX_RTMP_COMPLIANCE_CONNECT_N], token;
    ngx_str_t                   a[NGX_RTMP_COMPLIANCE_CONNECT_N];
    ngx_uint_t                  i, k;
    ngx_rtmp_compliance_ctx_t  *ctx;
    ngx_rtmp_compliance_amf_t   at[NGX_RTMP_COMPLIANCE_CONNECT_N];

    /* the queries the token is looked for in, in this order */
    static ngx_uint_t           from[] = {
        NGX_RTMP_COMPLIANCE_CONNECT_TC_URL,
        NGX_RTMP_COMPLIANCE_CONNECT_APP
    };

    static u_char               buf[NGX_RTMP_COMPLIANCE_CONNECT_N
                                    * NGX_RTMP_COMPLIANCE_NAME_MAX];

    ngx_rtmp_compliance_deadline_start(s);

    /* nginx-rtmp logs app, flashVer, swfUrl, tcUrl, pageUrl as they are */
    ngx_rtmp_compliance_amf_scrub(in);

    rc = ngx_rtmp_compliance_amf_connect(in, buf, sizeof(buf), v, at);

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

    for (i = 0; i < NGX_RTMP_COMPLIANCE_CONNECT_N; i++) {
        ngx_str_null(&a[i]);

        p = v[i].len ? ngx_strlchr(v[i].data, v[i].data + v[i].len, '?')
                     : NULL;
        if (p == NULL) {
            continue;
        }

        a[i].data = p + 1;
        a[i].len = v[i].data + v[i].len - a[i].data;

        /* the message's bytes: v[] is a copy */
        if (ngx_rtmp_compliance_arg(&a[i], &ngx_rtmp_compliance_token_arg,
                                    &token))
        {
            ngx_rtmp_compliance_amf_redact(&at[i], token.data - v[i].data,
                                           token.len);
        }
    }

    /* empty queries count for nothing */
    len = 0;

    for (k = 0; k < sizeof(from) / sizeof(from[0]); k++) {
        len += a[from[k]].len ? a[from[k]].len + 1 : 0;
    }

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

    for (k = 0; k < sizeof(from) / sizeof(from[0]); k++) {
        if (a[from[k]].len) {
            q = ngx_cpymem(q, a[from[k]].data, a[from[k]].len);
            *q++ = '&';
        }
    }

    ctx->connect_args.len = q - ctx->connect_args.data - 1;

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_publish(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    return ngx_rtmp_compliance_gate_begin(s, in,
                                          NGX_RTMP_COMPLIANCE_PUBLISHER);
}


static ngx_int_t
ngx_rtmp_compliance_play(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    return ngx_rtmp_compliance_gate_begin(s, in, NGX_RTMP_COMPLIANCE_PLAYER);
}


/*
 * a publish or play begins: the gate decides on it where compliance is
 * on in the application (the session's ctx made if it has none), before
 * nginx-rtmp's own handler of the command
 */

static ngx_int_t
ngx_rtmp_compliance_gate_begin(ngx_rtmp_session_t *s, ngx_chain_t *in,
    ngx_uint_t kind)
{
    ngx_uint_t                       publish;
    ngx_rtmp_compliance_ctx_t       *ctx;
    ngx_rtmp_compliance_app_conf_t  *cacf;

    publish = (kind == NGX_RTMP_COMPLIANCE_PUBLISHER);

    if (s->app_conf == NULL) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "compliance: %s before connect",
                      publish ? "publish" : "play");
        return NGX_ERROR;
    }

    cacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module);

    if (!cacf->enable) {
        /* no admission to wait for here */
        ngx_rtmp_compliance_deadline_stop(s);
        ngx_rtmp_compliance_settle(s, publish);
        return NGX_OK;
    }

    ctx = ngx_rtmp_compliance_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    return publish ? ngx_rtmp_compliance_publish_cmd(s, cacf, ctx, in)
                   : ngx_rtmp_compliance_play_cmd(s, cacf, ctx, in);
}


static ngx_int_t
ngx_rtmp_compliance_publish_cmd(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_chain_t *in)
{
    ngx_int_t                      rc;
    ngx_uint_t                     reason, redact;
    ngx_rtmp_compliance_stream_t   st;
    u_char                         detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ctx->admitted = 0;
    ctx->labelled = 0;
    ctx->tier = NULL;
    ctx->why = 0;
    ngx_str_null(&ctx->room);

    ngx_memzero(&ctx->claims, sizeof(ngx_rtmp_compliance_claims_t));

    rc = ngx_rtmp_compliance_stream_name(in, &st);

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

    if (ngx_rtmp_compliance_set_room(s, ctx, &st.room) != NGX_OK) {
        return NGX_ERROR;
    }

    if (st.room.len >= NGX_RTMP_MAX_NAME) {
        /* nginx-rtmp would cut it: the stream would not be the room */
        ngx_snprintf(detail, sizeof(detail), "room names are at most %d "
                     "bytes%Z", NGX_RTMP_MAX_NAME - 1);
        return ngx_rtmp_compliance_reject(s, 0, ctx,
                                          NGX_RTMP_COMPLIANCE_ROOM_MISMATCH,
                                          detail);
    }

    /*
     * nginx-rtmp logs the name, the arguments and the type as they are;
     * the gate goes on with the name as it was sent (in its own buffer),
     * and admits no room that the scrub would change
     */
    ngx_rtmp_compliance_amf_scrub(in);

    redact = ngx_rtmp_compliance_find_token(ctx, &st.args, &st.token);

    if (ctx->node) {
        /* another publish on the same connection */
        ngx_rtmp_compliance_session_close(ctx);
    }

    ctx->kind = NGX_RTMP_COMPLIANCE_PUBLISHER;

    reason = ngx_rtmp_compliance_admit_publish(s, cacf, ctx, &st.room,
                                               &st.token, detail,
                                               sizeof(detail));

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return ngx_rtmp_compliance_reject(s, 0, ctx, reason, detail);
    }

    if (redact) {
        ngx_rtmp_compliance_amf_redact(&st.at, st.token.data - st.name.data,
                                       st.token.len);
    }

    /* accepted once nginx-rtmp has made the stream live */
    ctx->pending = 1;

    return NGX_OK;
}


/*
 * play: players are registered, so that orders on a room reach them and
 * plays of a suspended room are refused
 */

static ngx_int_t
ngx_rtmp_compliance_play_cmd(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_chain_t *in)
{
    ngx_uint_t                     reason;
    ngx_rtmp_compliance_stream_t   st;
    u_char                         detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    if (ngx_rtmp_compliance_stream_name(in, &st) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "compliance: malformed play command");
        return NGX_ERROR;
    }

    /* as for a publish */
    ngx_rtmp_compliance_amf_scrub(in);

    if (ctx->node) {
        ngx_rtmp_compliance_session_close(ctx);
    }

    ngx_memzero(&ctx->claims, sizeof(ngx_rtmp_compliance_claims_t));

    if (ngx_rtmp_compliance_set_room(s, ctx, &st.room) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->tier = NULL;
    ctx->why = 0;
    ctx->admitted = 0;
    ctx->kind = NGX_RTMP_COMPLIANCE_PLAYER;

    if (ngx_rtmp_compliance_find_token(ctx, &st.args, &st.token)) {
        /* a credential: never to be seen by nginx-rtmp and its logs */
        ngx_rtmp_compliance_amf_redact(&st.at, st.token.data - st.name.data,
                                       st.token.len);
    }

    reason = ngx_rtmp_compliance_gate_player(s, cacf, ctx, &st.token, detail,
                                             sizeof(detail));

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return ngx_rtmp_compliance_reject(s, 1, ctx, reason, detail);
    }

    ctx->pending = 1;

    return NGX_OK;
}


/*
 * a player's admission, whatever its protocol: the audit log must take
 * it, the room's tier rules (play token, max_viewers) and the orders on
 * the room must let it in.  It is recorded as admitted once the server
 * plays it: ngx_rtmp_compliance_gate_live()
 */

ngx_uint_t
ngx_rtmp_compliance_gate_player(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *token, u_char *detail, size_t size)
{
    ngx_uint_t  reason;

    if (!ngx_rtmp_compliance_audit_available()) {
        return ngx_rtmp_compliance_audit_refused(detail, size);
    }

    reason = ngx_rtmp_compliance_room_shown(&ctx->room, detail, size);

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    reason = ngx_rtmp_compliance_tier_play_token(cacf, &s->app, &ctx->room,
                                                 token,
                                                 ctx->connect_oversize,
                                                 s->connection->pool,
                                                 &ctx->claims, detail, size);

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        reason = ngx_rtmp_compliance_session_admit(s, cacf, ctx,
                                                   NGX_RTMP_COMPLIANCE_PLAYER,
                                                   detail, size);
    }

    return reason;
}


/*
 * nginx-rtmp's own publish and play: ours runs first in their chains
 * and calls the rest, so that it sees what the server made of a session
 * the gate admitted
 */

/* nginx-rtmp's connect chain: once it has chosen the application */

static ngx_int_t
ngx_rtmp_compliance_connected(ngx_rtmp_session_t *s, ngx_rtmp_connect_t *v)
{
    ngx_int_t  rc;

    rc = next_connect(s, v);

    if (rc == NGX_OK) {
        ngx_rtmp_compliance_deadline_app(s);
    }

    return rc;
}


static ngx_int_t
ngx_rtmp_compliance_publish_live(ngx_rtmp_session_t *s,
    ngx_rtmp_publish_t *v)
{
    return ngx_rtmp_compliance_gate_live(s, next_publish(s, v));
}


static ngx_int_t
ngx_rtmp_compliance_play_live(ngx_rtmp_session_t *s, ngx_rtmp_play_t *v)
{
    /* an HTTP-FLV player sends no play command: it is admitted here */

    if (ngx_rtmp_compliance_proto.play
        && ngx_rtmp_compliance_proto.play(s) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_rtmp_compliance_gate_live(s, next_play(s, v));
}


/*
 * the outcome of an admitted session, rc: what the server's own handlers
 * made of it so far.  publish.accept and play.accept mean that the
 * stream is live: a session refused after the gate admitted it (by
 * another module, or by nginx-rtmp's live module with the stream
 * published already) leaves the registry and is recorded as refused,
 * with a reason of its own.  Where a module decides later (notify's
 * on_publish), the session waits and is looked at again.
 */

ngx_int_t
ngx_rtmp_compliance_gate_live(ngx_rtmp_session_t *s, ngx_int_t rc)
{
    ngx_int_t                   state;
    ngx_rtmp_compliance_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx == NULL || !ctx->pending) {
        return rc;
    }

    state = (rc == NGX_OK) ? ngx_rtmp_compliance_live_state(s, ctx)
                           : NGX_ERROR;

    if (state == NGX_AGAIN) {
        if (ctx->wait.next == NULL) {
            ngx_queue_insert_tail(&ngx_rtmp_compliance_waiting, &ctx->wait);
        }

        if (!ngx_rtmp_compliance_wait_ev.timer_set) {
            ngx_rtmp_compliance_wait_ev.handler = ngx_rtmp_compliance_wait;
            ngx_rtmp_compliance_wait_ev.log = ngx_cycle->log;
            ngx_rtmp_compliance_wait_ev.cancelable = 1;
            ngx_add_timer(&ngx_rtmp_compliance_wait_ev,
                          NGX_RTMP_COMPLIANCE_WAIT);
        }

        return rc;
    }

    return ngx_rtmp_compliance_gate_outcome(s, ctx, state) == NGX_OK
           ? rc : NGX_ERROR;
}


/*
 * NGX_OK: live; NGX_AGAIN: not decided yet; NGX_DECLINED: nginx-rtmp's
 * live module refused it; NGX_ERROR is never returned
 */

static ngx_int_t
ngx_rtmp_compliance_live_state(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx)
{
    ngx_rtmp_live_ctx_t       *lctx;
    ngx_rtmp_live_app_conf_t  *lacf;

    lacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_live_module);

    if (lacf == NULL || !lacf->live) {
        /* not a live application: what the other modules did stands */
        return NGX_OK;
    }

    lctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_live_module);

    if (lctx == NULL) {
        return NGX_AGAIN;
    }

    if (lctx->stream == NULL
        || (ctx->kind == NGX_RTMP_COMPLIANCE_PUBLISHER && !lctx->publishing))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * state: NGX_OK, live; NGX_DECLINED, refused by live; NGX_ERROR, by
 * another.  An HLS viewer is live once admitted: its file calls this
 * with NGX_OK (ctx->node is NULL after it if the viewer was refused)
 */

ngx_int_t
ngx_rtmp_compliance_gate_outcome(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_int_t state)
{
    ngx_uint_t  reason, play;
    u_char      detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ctx->pending = 0;
    play = (ctx->kind == NGX_RTMP_COMPLIANCE_PLAYER);

    if (ctx->wait.next) {
        ngx_queue_remove(&ctx->wait);
        ctx->wait.next = NULL;
    }

    if (state == NGX_ERROR) {
        ngx_snprintf(detail, sizeof(detail), "admitted, then refused by "
                     "another module of the server%Z");
        reason = NGX_RTMP_COMPLIANCE_SERVER_REFUSED;

    } else if (state == NGX_DECLINED) {
        ngx_snprintf(detail, sizeof(detail), "admitted, then refused by "
                     "nginx-rtmp: %s%Z", play ? "no such stream"
                                              : "the stream is published "
                                                "already");
        reason = NGX_RTMP_COMPLIANCE_ALREADY_PUBLISHING;

        if (play) {
            reason = NGX_RTMP_COMPLIANCE_SERVER_REFUSED;
        }

    } else if (ngx_rtmp_compliance_accept(s, ctx) != NGX_OK) {
        reason = ngx_rtmp_compliance_audit_refused(detail, sizeof(detail));

    } else {
        reason = NGX_RTMP_COMPLIANCE_OK;
    }

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        ngx_rtmp_compliance_session_close(ctx);
        return ngx_rtmp_compliance_reject(s, play, ctx, reason, detail);
    }

    ngx_rtmp_compliance_session_count(ctx->kind, reason);
    ngx_rtmp_compliance_deadline_stop(s);
    ngx_rtmp_compliance_settle(s, !play);

    if (!play) {
        ctx->admitted = 1;
        ngx_rtmp_compliance_log_accepted(s, ctx);
    }

    return NGX_OK;
}


/* sessions whose fate another module decides later: looked at again */

static void
ngx_rtmp_compliance_wait(ngx_event_t *ev)
{
    ngx_int_t                   state;
    ngx_queue_t                *q, *next;
    ngx_rtmp_compliance_ctx_t  *ctx;

    for (q = ngx_queue_head(&ngx_rtmp_compliance_waiting);
         q != ngx_queue_sentinel(&ngx_rtmp_compliance_waiting);
         q = next)
    {
        next = ngx_queue_next(q);
        ctx = ngx_queue_data(q, ngx_rtmp_compliance_ctx_t, wait);

        state = ngx_rtmp_compliance_live_state(ctx->session, ctx);

        if (state == NGX_AGAIN) {
            continue;
        }

        if (ngx_rtmp_compliance_gate_outcome(ctx->session, ctx, state)
            != NGX_OK)
        {
            ngx_rtmp_finalize_session(ctx->session);
        }
    }

    if (!ngx_queue_empty(&ngx_rtmp_compliance_waiting)) {
        ngx_add_timer(ev, NGX_RTMP_COMPLIANCE_WAIT);
    }
}


/*
 * a command's stream name, whole (nginx-rtmp's copy is cut at 256 bytes),
 * in the gate's buffer, and its room and arguments: NGX_OK; NGX_DECLINED,
 * longer than the buffer; NGX_ERROR, malformed
 */

static ngx_int_t
ngx_rtmp_compliance_stream_name(ngx_chain_t *in,
    ngx_rtmp_compliance_stream_t *st)
{
    u_char     *q;
    ngx_int_t   rc;

    static u_char  buf[NGX_RTMP_COMPLIANCE_NAME_MAX];

    rc = ngx_rtmp_compliance_amf_stream_name(in, buf, sizeof(buf), &st->name,
                                             &st->at);
    if (rc != NGX_OK) {
        return rc;
    }

    st->room = st->name;
    ngx_str_null(&st->args);

    q = ngx_strlchr(st->name.data, st->name.data + st->name.len, '?');
    if (q) {
        st->room.len = q - st->name.data;
        st->args.data = q + 1;
        st->args.len = st->name.data + st->name.len - st->args.data;
    }

    return NGX_OK;
}


/* a session refused because its record cannot be written */

static ngx_uint_t
ngx_rtmp_compliance_audit_refused(u_char *detail, size_t size)
{
    ngx_snprintf(detail, size, "the audit log cannot be written%Z");

    return NGX_RTMP_COMPLIANCE_AUDIT_UNAVAILABLE;
}


/*
 * a room is a name moderators read: nothing in it hidden or reordered
 * (ngx_rtmp_compliance_text.c); no token's room can be such a name
 */

static ngx_uint_t
ngx_rtmp_compliance_room_shown(ngx_str_t *room, u_char *detail, size_t size)
{
    u_char  *p, *q, *last;

    p = ngx_rtmp_compliance_text_check(room->data, room->len,
                                       NGX_RTMP_COMPLIANCE_TEXT_NAME);
    if (p == NULL) {
        return NGX_RTMP_COMPLIANCE_OK;
    }

    last = detail + size - 1;
    q = ngx_slprintf(detail, last, "the stream name has ");
    q = ngx_rtmp_compliance_text_what(q, last, p, room->data + room->len);
    *q = '\0';

    return NGX_RTMP_COMPLIANCE_ROOM_MISMATCH;
}


/*
 * the token of the stream's arguments (1: found there, the caller
 * redacts it) or, failing that, of the connect URL (0; token is empty
 * where neither has one)
 */

static ngx_uint_t
ngx_rtmp_compliance_find_token(ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *args, ngx_str_t *token)
{
    if (ngx_rtmp_compliance_arg(args, &ngx_rtmp_compliance_token_arg, token))
    {
        return 1;
    }

    if (ngx_rtmp_compliance_arg(&ctx->connect_args,
                                &ngx_rtmp_compliance_token_arg, token)
        == NULL)
    {
        ngx_str_null(token);
    }

    return 0;
}


static ngx_int_t
ngx_rtmp_compliance_close_stream(ngx_rtmp_session_t *s,
    ngx_rtmp_close_stream_t *v)
{
    ngx_int_t                   state;
    ngx_rtmp_compliance_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx && ctx->pending) {
        /* live before it was looked at again, or never: decided now */

        state = ngx_rtmp_compliance_live_state(s, ctx);

        (void) ngx_rtmp_compliance_gate_outcome(s, ctx,
                                                state == NGX_AGAIN
                                                ? NGX_ERROR : state);
    }

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
        return ngx_rtmp_compliance_audit_refused(detail, size);
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
                                          s->connection->pool, cl, detail,
                                          size);
    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return reason;
    }

    reason = ngx_rtmp_compliance_room_shown(room, detail, size);

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

    if (ngx_rtmp_compliance_main && ngx_rtmp_compliance_main->zone) {
        return ngx_rtmp_compliance_session_admit(s, cacf, ctx,
                                                 NGX_RTMP_COMPLIANCE_PUBLISHER,
                                                 detail, size);
    }

    return ngx_rtmp_compliance_tier_check(t, cl, detail, size);
}


ngx_int_t
ngx_rtmp_compliance_reject(ngx_rtmp_session_t *s, ngx_uint_t play,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason, u_char *detail)
{
    u_char                        *p, *q;
    ngx_int_t                      rc;
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

    if (!ngx_rtmp_compliance_flood_fold(&s->connection->addr_text,
                                        play ? NGX_RTMP_COMPLIANCE_PLAYER
                                             : NGX_RTMP_COMPLIANCE_PUBLISHER,
                                        reason, level, cl->hash))
    {
        /* counted, and told in its window's summary */
        goto status;
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

status:

    ngx_snprintf(desc, sizeof(desc), "%V: %s%Z",
                 &ngx_rtmp_compliance_reasons[reason], detail);
    desc[sizeof(desc) - 1] = '\0';

    if (ngx_rtmp_compliance_proto.refuse) {
        rc = ngx_rtmp_compliance_proto.refuse(s, ctx, reason, desc);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    ngx_rtmp_send_status(s, play ? "NetStream.Play.Rejected"
                                 : "NetStream.Publish.Rejected",
                         "error", (char *) desc);

    return NGX_ERROR;
}


/*
 * the admission is written to the audit log: NGX_ERROR where it cannot
 * be and on_error=refuse, for such a session does not go on
 */

static ngx_int_t
ngx_rtmp_compliance_accept(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx)
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
        return NGX_OK;
    }

    return NGX_ERROR;
}


/* "publish accepted" with who and what, in the error log at info */

static void
ngx_rtmp_compliance_log_accepted(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx)
{
    u_char                        *p, *last;
    ngx_rtmp_compliance_claims_t  *cl;

    static u_char                  line[4096];

    cl = &ctx->claims;
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
