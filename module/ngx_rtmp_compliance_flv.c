
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
 *     X-Compliance-Reason header is REASON, not the fork's 500
 *     (ngx_rtmp_compliance_http_refuse(), which HLS shares);
 *   - an HTTP-FLV player cannot be told that its room's publisher was
 *     dropped: the session's drop marks the room's HTTP-FLV players in
 *     the zone, and every worker's recheck closes its own
 *     (ngx_rtmp_finalize_session(), the fork's way to close them).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_compliance.h"
#include "ngx_rtmp_compliance_flv.h"
#include "ngx_rtmp_compliance_gate.h"
#include "ngx_rtmp_compliance_token.h"
#include "ngx_http_compliance_reply.h"
#include "ngx_http_flv_live_module.h"


static ngx_int_t ngx_http_compliance_flv_handler(ngx_http_request_t *r);
static void ngx_rtmp_compliance_flv_token(ngx_http_request_t *r,
    ngx_str_t *token);


/* the fork's module and its "flv_live" flag */
extern ngx_module_t  ngx_http_flv_live_module;

static ngx_str_t  ngx_rtmp_compliance_flv_token_arg = ngx_string("token");


ngx_int_t
ngx_http_compliance_flv_init(ngx_conf_t *cf)
{
    /* preaccess: every handler of the phase runs, whatever "satisfy" says */

    if (ngx_http_compliance_add_handler(cf, NGX_HTTP_PREACCESS_PHASE,
                                        ngx_http_compliance_flv_handler)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * the gate admits HTTP-FLV players through this (and refuses them
     * with ngx_rtmp_compliance_http_refuse(), set by the module's init)
     */

    ngx_rtmp_compliance_proto.play = ngx_rtmp_compliance_flv_play;

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

    ctx = ngx_rtmp_compliance_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* the room: the stream argument, whole (the fork cuts the name) */

    if (ngx_rtmp_compliance_set_room(s, ctx, &s->stream) != NGX_OK) {
        return NGX_ERROR;
    }

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
