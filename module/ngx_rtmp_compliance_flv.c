
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * HTTP-FLV players of nginx-http-flv-module (built only with the fork:
 * config, ngx_rtmp_compliance_compat.h).
 *
 * The fork answers GET /live?port=P&app=APP&stream=ROOM with a stand-in
 * RTMP session (s->data is the request) that enters the play chain at
 * ngx_rtmp_play, without a play command for the gate's AMF handler.  So:
 *
 *   - ngx_http_compliance_flv_handler(), at the preaccess phase of an
 *     flv_live location, keeps the token of the query string (the fork
 *     copies only 255 bytes of it) and overwrites it in the request, so
 *     that neither the fork's log lines nor the access log show it;
 *   - ngx_rtmp_compliance_flv_play(), from the gate's play chain handler
 *     before the fork's own, admits the player as an RTMP play is
 *     (ngx_rtmp_compliance_gate_player()): the room is the stream
 *     argument, the token the one kept;
 *   - a refusal is an HTTP 403 whose body is "REASON: text" and whose
 *     X-Compliance-Reason header is REASON, not the fork's 500;
 *   - an HTTP-FLV player cannot be told that its room's publisher was
 *     dropped: ngx_rtmp_compliance_flv_unpublish() marks the room's
 *     HTTP-FLV players in the zone, and every worker's recheck closes its
 *     own (ngx_rtmp_finalize_session(), the fork's way to close them).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_compliance.h"
#include "ngx_rtmp_compliance_flv.h"
#include "ngx_rtmp_compliance_gate.h"
#include "ngx_rtmp_compliance_token.h"
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_http_flv_live_module.h"


static ngx_int_t ngx_http_compliance_flv_handler(ngx_http_request_t *r);
static void ngx_rtmp_compliance_flv_token(ngx_http_request_t *r,
    ngx_str_t *token);


/* the fork's module and its "flv_live" flag */
extern ngx_module_t  ngx_http_flv_live_module;

static ngx_str_t  ngx_rtmp_compliance_flv_token_arg = ngx_string("token");
static ngx_str_t  ngx_rtmp_compliance_flv_reason_header =
    ngx_string("X-Compliance-Reason");


ngx_int_t
ngx_http_compliance_flv_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* preaccess: every handler of the phase runs, whatever "satisfy" says */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_compliance_flv_handler;

    /* the gate and the sessions reach HTTP-FLV players through these */

    ngx_rtmp_compliance_proto.play = ngx_rtmp_compliance_flv_play;
    ngx_rtmp_compliance_proto.refuse = ngx_rtmp_compliance_flv_refuse;
    ngx_rtmp_compliance_proto.unpublish = ngx_rtmp_compliance_flv_unpublish;

    return NGX_OK;
}


/*
 * an HTTP-FLV play's token: kept whole for the gate, then overwritten
 * with "x" in the request line itself (the fork logs the query string at
 * info, the access log has it in $request and $args)
 */

static ngx_int_t
ngx_http_compliance_flv_handler(ngx_http_request_t *r)
{
    u_char                         *q;
    ngx_str_t                       args, token;
    ngx_http_flv_live_conf_t       *hfcf;
    ngx_http_compliance_ctx_t      *ctx;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    hfcf = ngx_http_get_module_loc_conf(r, ngx_http_flv_live_module);

    if (hfcf == NULL || !hfcf->flv_live
        || ngx_http_get_module_ctx(r, ngx_http_compliance_module))
    {
        return NGX_DECLINED;
    }

    args = r->args;

    if (args.len == 0 && r->uri.len) {
        /* an escaped query, as the fork takes it: "/live%3Fport=..." */

        q = ngx_strlchr(r->uri.data, r->uri.data + r->uri.len, '?');

        if (q) {
            args.data = q + 1;
            args.len = r->uri.data + r->uri.len - args.data;
        }
    }

    if (ngx_rtmp_compliance_arg(&args, &ngx_rtmp_compliance_flv_token_arg,
                                &token)
        == NULL)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_compliance_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->token.data = ngx_pstrdup(r->pool, &token);
    if (ctx->token.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->token.len = token.len;

    ngx_http_set_ctx(r, ctx, ngx_http_compliance_module);

    ngx_memset(token.data, 'x', token.len);

    return NGX_DECLINED;
}


/*
 * an HTTP-FLV play, from the gate's play chain handler before the
 * fork's: NGX_OK, the session goes on (admitted, or not ours to judge);
 * NGX_ERROR, it was refused (the 403 is sent) or failed
 */

ngx_int_t
ngx_rtmp_compliance_flv_play(ngx_rtmp_session_t *s)
{
    ngx_uint_t                       reason;
    ngx_str_t                        token;
    ngx_http_request_t              *r;
    ngx_rtmp_compliance_ctx_t       *ctx;
    ngx_rtmp_compliance_app_conf_t  *cacf;
    u_char                           detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    r = ngx_rtmp_compliance_http_request(s);

    if (r == NULL) {
        return NGX_OK;
    }

    cacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_compliance_module);

    if (cacf == NULL || !cacf->enable) {
        return NGX_OK;
    }

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(s->connection->pool,
                          sizeof(ngx_rtmp_compliance_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_rtmp_set_ctx(s, ctx, ngx_rtmp_compliance_module);
    }

    /* the room: the stream argument, whole (the fork cuts the name) */

    ctx->room.len = ngx_min(s->stream.len, NGX_RTMP_COMPLIANCE_CLAIM_MAX);
    ctx->room.data = ngx_pnalloc(s->connection->pool, ctx->room.len + 1);
    if (ctx->room.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->room.data, s->stream.data, ctx->room.len);

    ctx->kind = NGX_RTMP_COMPLIANCE_PLAYER;

    ngx_rtmp_compliance_flv_token(r, &token);

    reason = ngx_rtmp_compliance_gate_player(s, cacf, ctx, &token, detail,
                                             sizeof(detail));

    if (reason == NGX_RTMP_COMPLIANCE_OK) {
        /* accepted once the fork has joined it to the stream */
        ctx->pending = 1;
        return NGX_OK;
    }

    return ngx_rtmp_compliance_reject(s, 1, ctx, reason, detail);
}


/* the token the preaccess handler kept, or the query string's */

static void
ngx_rtmp_compliance_flv_token(ngx_http_request_t *r, ngx_str_t *token)
{
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_compliance_module);

    if (ctx) {
        *token = ctx->token;
        return;
    }

    if (ngx_rtmp_compliance_arg(&r->args, &ngx_rtmp_compliance_flv_token_arg,
                                token)
        == NULL)
    {
        ngx_str_null(token);
    }
}


/*
 * a refused HTTP-FLV play: "403 Forbidden", X-Compliance-Reason: REASON,
 * the body "REASON: text" (desc) and a line end.  The fork's handler
 * then ends the request with a 500: the connection is marked as failed,
 * so that nginx closes it instead of sending that one too.  A player
 * whose stream had begun is closed as it is.
 */

ngx_int_t
ngx_rtmp_compliance_flv_refuse(ngx_rtmp_session_t *s, ngx_uint_t reason,
    u_char *desc)
{
    size_t               len;
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = ngx_rtmp_compliance_http_request(s);

    if (r == NULL) {
        /* not an HTTP-FLV player: the gate tells it the RTMP way */
        return NGX_DECLINED;
    }

    if (r->header_sent || r->connection->destroyed) {
        return NGX_ERROR;
    }

    len = ngx_strlen(desc);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, desc, len);
    *b->last++ = LF;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = ngx_rtmp_compliance_flv_reason_header;
    h->value = ngx_rtmp_compliance_reasons[reason];
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    r->headers_out.status = NGX_HTTP_FORBIDDEN;
    r->headers_out.content_length_n = len + 1;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc != NGX_ERROR && !r->header_only) {
        (void) ngx_http_output_filter(r, &out);
    }

    r->connection->error = 1;

    return NGX_ERROR;
}


/*
 * a publisher is dropped (not replaced): the HTTP-FLV players of its
 * room, on every worker, are marked to go with it, for the reason it
 * went; RTMP players are told by nginx-rtmp that the stream stopped, as
 * before
 */

void
ngx_rtmp_compliance_flv_unpublish(ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t reason)
{
    ngx_uint_t                        n;
    ngx_rbtree_node_t                *node, *root, *sentinel;
    ngx_rtmp_compliance_session_t    *ps, *ss;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;
    ss = ctx->node;

    if (mcf == NULL || mcf->zone == NULL || ss == NULL
        || reason == NGX_RTMP_COMPLIANCE_REPLACED)
    {
        return;
    }

    n = 0;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    root = mcf->zone->sh->sessions.root;
    sentinel = mcf->zone->sh->sessions.sentinel;

    for (node = (root == sentinel) ? NULL : ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&mcf->zone->sh->sessions, node))
    {
        ps = (ngx_rtmp_compliance_session_t *) node;

        if (ps->kind == NGX_RTMP_COMPLIANCE_PLAYER
            && ps->proto == NGX_RTMP_COMPLIANCE_PROTO_HTTP_FLV
            && ps->room == ss->room && ps->drop == 0)
        {
            ps->drop = (u_char) reason;
            ps->order = ss->order;
            n++;
        }
    }

    if (n) {
        mcf->zone->sh->marks++;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
}
