
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * How an HTTP player (HTTP-FLV, HLS) is told it is refused: the status,
 * an X-Compliance-Reason header with the reason, and the body
 * "REASON: text" and a line end.  One function for both protocols.
 */


#include "ngx_http_compliance_reply.h"


static ngx_str_t  ngx_http_compliance_reason_header =
    ngx_string("X-Compliance-Reason");


/*
 * status (403, 404), reason (NGX_RTMP_COMPLIANCE_OK: no header) and desc,
 * the body's line; what ngx_http_output_filter() returned, or NGX_ERROR
 */

ngx_int_t
ngx_http_compliance_reply(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t reason, u_char *desc)
{
    size_t            len;
    u_char           *body;
    ngx_table_elt_t  *h;

    static ngx_str_t  text = ngx_string("text/plain");

    len = ngx_strlen(desc);

    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(body, desc, len);
    body[len] = LF;

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key = ngx_http_compliance_reason_header;
        h->value = ngx_rtmp_compliance_reasons[reason];
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
    }

    return ngx_http_compliance_send(r, status, &text, body, len + 1);
}


/* a whole answer: status, Content-Type, the body in memory (the API's too) */

ngx_int_t
ngx_http_compliance_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_chain_t   out;

    if (ngx_http_compliance_last_buf(r, data, len, &out) != NGX_OK) {
        return NGX_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


/* out: data, the last buffer of the response */

ngx_int_t
ngx_http_compliance_last_buf(ngx_http_request_t *r, u_char *data,
    size_t len, ngx_chain_t *out)
{
    ngx_buf_t  *b;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    return NGX_OK;
}


/*
 * the gate's refusal of an HTTP player (ngx_rtmp_compliance_proto.refuse):
 * an HLS viewer's request (ctx->request) is answered, and what the
 * output returned goes back to its handler; an HTTP-FLV player's (the
 * fork's stand-in session) is answered and its connection marked as
 * failed, for the fork's handler ends the request with a 500 that nginx
 * must not send too.  A player whose stream had begun is closed as it is.
 */

ngx_int_t
ngx_rtmp_compliance_http_refuse(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason, u_char *desc)
{
    ngx_http_request_t  *r;

    if (ctx->request) {
        return ngx_http_compliance_reply(ctx->request, NGX_HTTP_FORBIDDEN,
                                         reason, desc);
    }

    r = ngx_rtmp_compliance_http_request(s);

    if (r == NULL) {
        /* not an HTTP player: the gate tells it the RTMP way */
        return NGX_DECLINED;
    }

    if (r->header_sent || r->connection->destroyed) {
        return NGX_ERROR;
    }

    r->keepalive = 0;

    (void) ngx_http_compliance_reply(r, NGX_HTTP_FORBIDDEN, reason, desc);

    r->connection->error = 1;

    return NGX_ERROR;
}
