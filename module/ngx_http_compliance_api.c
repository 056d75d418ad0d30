
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The control API: JSON over HTTP for the shared zone of the rtmp{}
 * block.  Every worker sees the same zone, so any worker can serve any
 * request; changes to orders are journalled to the state file before
 * they are acknowledged.  Protect the location with allow/deny or
 * auth_basic: the module does no access control of its own.
 *
 * Every error of an API location is JSON {"error", "detail"}: the
 * handler's own, and nginx's (a 413 over client_max_body_size, a 400 for
 * a malformed request, a 405 for TRACE, a 403 of deny ...), whose pages
 * the module's header and body filters replace (docs/api.md).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_compliance.h"
#include "ngx_http_compliance_api.h"
#include "ngx_rtmp_compliance_orders.h"
#include "ngx_rtmp_compliance_order_json.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_session.h"
#include "ngx_rtmp_compliance_flood.h"
#include "ngx_rtmp_compliance_text.h"
#include "ngx_http_compliance_reply.h"


#define NGX_HTTP_COMPLIANCE_API_BODY_MAX  65536


/* the JSON for an error nginx itself answers */

typedef struct {
    ngx_uint_t                      status;
    char                           *error;
    char                           *detail;
} ngx_http_compliance_api_status_t;


/* a field of a session's JSON, in the order shown */

typedef struct {
    char                           *name;
    ngx_uint_t                      s;      /* NGX_RTMP_COMPLIANCE_S_*, or
                                               _S_MAX: "ai" */
} ngx_http_compliance_api_field_t;


/*
 * what a list makes of a node of the zone: NGX_OK with *j its JSON, or
 * left NULL where the node is not listed; NGX_ERROR
 */

typedef ngx_int_t (*ngx_http_compliance_api_each_pt)(ngx_rbtree_node_t *node,
    void *data, json_t **j);


static ngx_int_t ngx_http_compliance_api_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_api_resource(ngx_http_request_t *r,
    ngx_str_t *res, uint64_t *id, ngx_str_t *sub);
static uint64_t ngx_http_compliance_api_id(u_char *p, u_char *last);
static ngx_int_t ngx_http_compliance_api_orders_resource(
    ngx_http_request_t *r, uint64_t id);
static ngx_int_t ngx_http_compliance_api_read_post(ngx_http_request_t *r);
static void ngx_http_compliance_api_post(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_api_change(ngx_http_request_t *r,
    u_char *body, size_t len, ngx_str_t *by, json_t **req, ngx_int_t *rc);
static ngx_int_t ngx_http_compliance_api_refresh(ngx_http_request_t *r,
    uint64_t id, u_char *body, size_t len);
static ngx_int_t ngx_http_compliance_api_refused(ngx_http_request_t *r,
    uint64_t id, ngx_uint_t reason, u_char *detail);
static ngx_int_t ngx_http_compliance_api_body(ngx_http_request_t *r,
    u_char **body, size_t *len);
static ngx_int_t ngx_http_compliance_api_actor(ngx_http_request_t *r,
    ngx_str_t *by, ngx_int_t *rc);
static ngx_int_t ngx_http_compliance_api_create_order(ngx_http_request_t *r,
    u_char *body, size_t len);
static ngx_int_t ngx_http_compliance_api_tier(ngx_str_t *tier, u_char *detail,
    size_t size);
static ngx_int_t ngx_http_compliance_api_item(ngx_http_request_t *r,
    uint64_t id, ngx_uint_t order);
static ngx_int_t ngx_http_compliance_api_order_locked(ngx_http_request_t *r,
    ngx_rtmp_compliance_order_t *o, ngx_str_t *by);
static ngx_int_t ngx_http_compliance_api_orders(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_api_list(ngx_http_request_t *r,
    ngx_rbtree_t *tree, ngx_http_compliance_api_each_pt count,
    ngx_http_compliance_api_each_pt each, void *data);
static ngx_int_t ngx_http_compliance_api_walk_locked(ngx_rbtree_t *tree,
    json_t *a, ngx_http_compliance_api_each_pt each, void *data);
static ngx_int_t ngx_http_compliance_api_order(ngx_rbtree_node_t *node,
    void *data, json_t **j);
static ngx_int_t ngx_http_compliance_api_sessions(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_api_viewer(ngx_rbtree_node_t *node,
    void *data, json_t **j);
static ngx_int_t ngx_http_compliance_api_session(ngx_rbtree_node_t *node,
    void *data, json_t **j);
static ngx_int_t ngx_http_compliance_api_session_locked(
    ngx_http_request_t *r, ngx_rtmp_compliance_session_t *ss, ngx_str_t *by);
static u_char *ngx_http_compliance_api_metrics_counts(u_char *p,
    u_char *last, ngx_rtmp_compliance_shctx_t *sh);
static ngx_int_t ngx_http_compliance_api_metrics(ngx_http_request_t *r);
static json_t *ngx_http_compliance_api_session_json(
    ngx_rtmp_compliance_session_t *ss, json_t *viewers);
static void ngx_http_compliance_api_room_key(
    ngx_rtmp_compliance_session_t *ss, u_char *key);
static ngx_int_t ngx_http_compliance_api_send(ngx_http_request_t *r,
    ngx_uint_t status, json_t *j);
static ngx_int_t ngx_http_compliance_api_dump(ngx_http_request_t *r,
    json_t *j, ngx_str_t *text);
static ngx_int_t ngx_http_compliance_api_send_text(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len);
static ngx_uint_t ngx_http_compliance_api_is_json(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_api_error(ngx_http_request_t *r,
    ngx_uint_t status, char *error, char *detail);
static ngx_int_t ngx_http_compliance_api_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_api_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_uint_t ngx_http_compliance_api_nginx_page(ngx_http_request_t *r);
static ngx_uint_t ngx_http_compliance_api_ours(ngx_http_request_t *r);
static ngx_uint_t ngx_http_compliance_api_matches(
    ngx_http_core_loc_conf_t *clcf, ngx_str_t *uri, ngx_uint_t partial);


static ngx_str_t  ngx_http_compliance_api_json = ngx_string("application/json");
static ngx_str_t  ngx_http_compliance_api_prometheus =
    ngx_string("text/plain; version=0.0.4");


/* the errors nginx answers for an API location, as the API names them */

static ngx_http_compliance_api_status_t  ngx_http_compliance_api_statuses[] = {

    { NGX_HTTP_BAD_REQUEST, "bad_request",
      "nginx refused the request: a malformed request line, URI (a NUL "
      "byte, a bad escape), header or chunked body, or headers too large" },

    { NGX_HTTP_UNAUTHORIZED, "unauthorized",
      "the API location asks for credentials" },

    { NGX_HTTP_FORBIDDEN, "forbidden",
      "the API location does not serve this client" },

    { NGX_HTTP_NOT_FOUND, "not_found", "no such resource" },

    { NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
      "this method is not allowed here" },

    { NGX_HTTP_REQUEST_TIME_OUT, "request_timeout",
      "the request was not sent in time" },

    { NGX_HTTP_LENGTH_REQUIRED, "length_required",
      "a body is sent with Content-Length or chunked" },

    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
      "a request body is at most 65536 bytes" },

    { NGX_HTTP_REQUEST_URI_TOO_LARGE, "uri_too_long",
      "the request line is too long" },

    { NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
      "an order is sent as Content-Type: application/json" },

    { NGX_HTTP_TOO_MANY_REQUESTS, "too_many_requests",
      "too many requests from this client" },

    { NGX_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
      "the server failed; the error log says why" },

    { NGX_HTTP_NOT_IMPLEMENTED, "not_implemented",
      "nginx does not implement what the request asks (a "
      "Transfer-Encoding other than chunked)" },

    { NGX_HTTP_SERVICE_UNAVAILABLE, "service_unavailable",
      "the server cannot serve the request now" },

    { NGX_HTTP_VERSION_NOT_SUPPORTED, "http_version_not_supported",
      "the HTTP version of the request is not supported" },

    { 0, "http_error", "nginx refused the request" }
};


/* a session's strings and its AI label, after its id, kind and proto */

static ngx_http_compliance_api_field_t  ngx_http_compliance_api_fields[] = {
    { "app", NGX_RTMP_COMPLIANCE_S_APP },
    { "room", NGX_RTMP_COMPLIANCE_S_ROOM },
    { "host", NGX_RTMP_COMPLIANCE_S_HOST },
    { "person", NGX_RTMP_COMPLIANCE_S_PERSON },
    { "op", NGX_RTMP_COMPLIANCE_S_OP },
    { "mcn", NGX_RTMP_COMPLIANCE_S_MCN },
    { "tier", NGX_RTMP_COMPLIANCE_S_TIER },
    { "ai", NGX_RTMP_COMPLIANCE_S_MAX },
    { "idv", NGX_RTMP_COMPLIANCE_S_IDV },
    { "jti", NGX_RTMP_COMPLIANCE_S_JTI },
    { "kid", NGX_RTMP_COMPLIANCE_S_KID },
    { "addr", NGX_RTMP_COMPLIANCE_S_ADDR },
    { NULL, 0 }
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/*
 * the filters are in the chain only where an API location is; the
 * limit_except block of each is noted (the handler is not its own)
 */

ngx_int_t
ngx_http_compliance_api_init(ngx_conf_t *cf)
{
    void                                **lconf;
    ngx_uint_t                            i;
    ngx_http_compliance_api_where_t      *w;
    ngx_http_compliance_main_conf_t      *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_compliance_module);

    if (amcf->locations.nelts == 0) {
        return NGX_OK;
    }

    w = amcf->locations.elts;

    for (i = 0; i < amcf->locations.nelts; i++) {
        lconf = w[i].location->limit_except_loc_conf;
        w[i].except = lconf ? lconf[ngx_http_core_module.ctx_index] : NULL;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_compliance_api_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_compliance_api_body_filter;

    return NGX_OK;
}


char *
ngx_http_compliance_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_compliance_api_where_t      *w;
    ngx_http_compliance_main_conf_t      *amcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_compliance_api_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_compliance_api_handler;

    amcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_compliance_module);

    w = ngx_array_push(&amcf->locations);
    if (w == NULL) {
        return NGX_CONF_ERROR;
    }

    w->server = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    w->location = clcf;

    return NGX_CONF_OK;
}


/*
 * the resource a request names: what follows the location's prefix, as
 * the client wrote it: "orders", "orders/17" (*id 17, else 0).
 * NGX_DECLINED: no resource of the API, for an id that is not plain
 * decimal ("01", "1/") and for a path nginx had to normalise (%-escapes,
 * "//", "." or ".." segments): the API acts only on what was sent
 */

static ngx_int_t
ngx_http_compliance_api_resource(ngx_http_request_t *r, ngx_str_t *res,
    uint64_t *id, ngx_str_t *sub)
{
    u_char                    *p, *last, *slash, *end;
    ngx_str_t                  path;
    ngx_uint_t                 sep;
    ngx_http_core_loc_conf_t  *clcf;

    *id = 0;
    ngx_str_null(sub);

    if (r->valid_unparsed_uri) {
        path = r->unparsed_uri;

        p = ngx_strlchr(path.data, path.data + path.len, '?');
        if (p) {
            path.len = p - path.data;
        }

        if (path.len != r->uri.len
            || ngx_strncmp(path.data, r->uri.data, path.len) != 0)
        {
            return NGX_DECLINED;
        }
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    p = r->uri.data;
    last = r->uri.data + r->uri.len;
    sep = 0;

    if (clcf->name.len <= r->uri.len
        && ngx_strncmp(p, clcf->name.data, clcf->name.len) == 0)
    {
        p += clcf->name.len;
        sep = (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/');
    }

    /* "/compliance" + "/orders", or "/compliance/" + "orders" */

    if (!sep && p < last && *p == '/') {
        p++;
    }

    slash = ngx_strlchr(p, last, '/');

    res->data = p;
    res->len = (slash ? slash : last) - p;

    if (slash == NULL) {
        return NGX_OK;
    }

    /* ID, or ID/SUB: sessions/ID/token */

    end = ngx_strlchr(slash + 1, last, '/');

    if (end) {
        sub->data = end + 1;
        sub->len = last - sub->data;
    }

    *id = ngx_http_compliance_api_id(slash + 1, end ? end : last);

    return (*id && (end == NULL || sub->len)) ? NGX_OK : NGX_DECLINED;
}


/* "17" -> 17: plain decimal, no sign, no leading zero; 0: not an id */

static uint64_t
ngx_http_compliance_api_id(u_char *p, u_char *last)
{
    uint64_t  id;

    if (p == last || last - p > 19 || *p == '0') {
        return 0;
    }

    id = 0;

    while (p < last) {
        if (*p < '0' || *p > '9') {
            return 0;
        }

        id = id * 10 + (*p++ - '0');
    }

    return id;
}


static ngx_int_t
ngx_http_compliance_api_handler(ngx_http_request_t *r)
{
    size_t     n;
    uint64_t   id;
    ngx_int_t  rc;
    ngx_str_t  res, sub;

    if (ngx_rtmp_compliance_main == NULL
        || ngx_rtmp_compliance_main->zone == NULL)
    {
        return ngx_http_compliance_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "no_zone", "the rtmp block has no \"compliance_zone\"");
    }

    if (ngx_http_compliance_api_resource(r, &res, &id, &sub) != NGX_OK
        || (sub.len
            && !(res.len == 8 && ngx_strncmp(res.data, "sessions", 8) == 0
                 && sub.len == 5 && ngx_strncmp(sub.data, "token", 5) == 0)))
    {
        ngx_http_discard_request_body(r);
        return ngx_http_compliance_api_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "no such resource: resources are named as "
                   "they are (no %-escapes, \"//\", \".\" or \"..\", "
                   "no trailing \"/\"), ids in plain decimal");
    }

    n = res.len;

    if (n == 6 && ngx_strncmp(res.data, "orders", 6) == 0) {
        rc = ngx_http_compliance_api_orders_resource(r, id);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        goto not_allowed;
    }

    if (n == 8 && ngx_strncmp(res.data, "sessions", 8) == 0 && sub.len) {
        /* sessions/ID/token: a refresh */

        if (r->method != NGX_HTTP_POST) {
            goto not_allowed;
        }

        return ngx_http_compliance_api_read_post(r);
    }

    if (n == 8 && ngx_strncmp(res.data, "sessions", 8) == 0) {

        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_DELETE))
            || (r->method == NGX_HTTP_DELETE && id == 0))
        {
            goto not_allowed;
        }

        ngx_http_discard_request_body(r);

        return id ? ngx_http_compliance_api_item(r, id, 0)
                  : ngx_http_compliance_api_sessions(r);
    }

    if (n == 7 && ngx_strncmp(res.data, "metrics", 7) == 0 && id == 0) {

        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        ngx_http_discard_request_body(r);

        return ngx_http_compliance_api_metrics(r);
    }

    return ngx_http_compliance_api_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "resources are sessions, orders "
                                         "and metrics");

not_allowed:

    ngx_http_discard_request_body(r);

    return ngx_http_compliance_api_error(r, NGX_HTTP_NOT_ALLOWED,
                                         "method_not_allowed",
                                         "this method is not allowed here");
}


/* orders, orders/ID; NGX_DECLINED: the method is not allowed */

static ngx_int_t
ngx_http_compliance_api_orders_resource(ngx_http_request_t *r, uint64_t id)
{
    if (id) {
        if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_DELETE)) {
            ngx_http_discard_request_body(r);
            return ngx_http_compliance_api_item(r, id, 1);
        }

        return NGX_DECLINED;
    }

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        ngx_http_discard_request_body(r);
        return ngx_http_compliance_api_orders(r);
    }

    if (r->method != NGX_HTTP_POST) {
        return NGX_DECLINED;
    }

    return ngx_http_compliance_api_read_post(r);
}


/*
 * the JSON body of a POST (orders, sessions/ID/token), read whole;
 * ngx_http_compliance_api_post() acts on it
 */

static ngx_int_t
ngx_http_compliance_api_read_post(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (!ngx_http_compliance_api_is_json(r)) {
        ngx_http_discard_request_body(r);
        return ngx_http_compliance_api_error(r,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                   "unsupported_media_type", "an order or a token is sent "
                   "as Content-Type: application/json");
    }

    if (r->headers_in.content_length_n > NGX_HTTP_COMPLIANCE_API_BODY_MAX) {
        ngx_http_discard_request_body(r);
        return ngx_http_compliance_api_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                   "body_too_large", "a request body is at most "
                   "65536 bytes");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_compliance_api_post);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * a browser sends text/plain, form and multipart bodies to any origin
 * without asking first; application/json needs a CORS preflight, which
 * this API never answers: requiring it keeps a page a moderator has open
 * from issuing orders in their name
 */

static ngx_uint_t
ngx_http_compliance_api_is_json(ngx_http_request_t *r)
{
    u_char     *p, *last;
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;
    p = type->data;
    last = p + type->len;

    if ((size_t) (last - p) < sizeof("application/json") - 1
        || ngx_strncasecmp(p, (u_char *) "application/json",
                           sizeof("application/json") - 1)
           != 0)
    {
        return 0;
    }

    p += sizeof("application/json") - 1;

    return p == last || *p == ';' || *p == ' ' || *p == '\t';
}


static void
ngx_http_compliance_api_post(ngx_http_request_t *r)
{
    u_char     *body;
    size_t      len;
    uint64_t    id;
    ngx_int_t   rc;
    ngx_str_t   res, sub;

    rc = ngx_http_compliance_api_body(r, &body, &len);

    if (rc == NGX_OK
        && ngx_http_compliance_api_resource(r, &res, &id, &sub) == NGX_OK
        && sub.len)
    {
        rc = ngx_http_compliance_api_refresh(r, id, body, len);

    } else if (rc == NGX_OK) {
        rc = ngx_http_compliance_api_create_order(r, body, len);

    } else if (rc == NGX_DECLINED) {
        rc = ngx_http_compliance_api_error(r,
                                           NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                           "body_too_large", "a request "
                                           "body is at most 65536 bytes");

    } else {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * POST sessions/ID/token {"token": JWT}: the session's token refreshed
 * (ngx_rtmp_compliance_session_refresh()); 200 with the session as it
 * is now, or the reason it was refused, the session unchanged
 */

static ngx_int_t
ngx_http_compliance_api_refresh(ngx_http_request_t *r, uint64_t id,
    u_char *body, size_t len)
{
    json_t                           *req, *tok, *j;
    ngx_int_t                         rc;
    ngx_str_t                         by, token;
    ngx_uint_t                        reason;
    ngx_rtmp_compliance_session_t    *ss;
    ngx_rtmp_compliance_main_conf_t  *mcf;
    u_char                            detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    mcf = ngx_rtmp_compliance_main;

    if (ngx_http_compliance_api_change(r, body, len, &by, &req, &rc)
        != NGX_OK)
    {
        return rc;
    }

    tok = json_object_get(req, "token");

    if (!json_is_object(req) || json_object_size(req) != 1
        || !json_is_string(tok))
    {
        json_decref(req);
        return ngx_http_compliance_api_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_refresh", "the body "
                                             "is {\"token\": JWT}, nothing "
                                             "else");
    }

    token.data = (u_char *) json_string_value(tok);
    token.len = json_string_length(tok);

    detail[0] = '\0';

    reason = ngx_rtmp_compliance_session_refresh(id, &token, &by, r->pool,
                                                 r->connection->log, detail,
                                                 sizeof(detail));
    json_decref(req);

    detail[sizeof(detail) - 1] = '\0';

    if (reason != NGX_RTMP_COMPLIANCE_OK) {
        return ngx_http_compliance_api_refused(r, id, reason, detail);
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, id);
    j = ss ? ngx_http_compliance_api_session_json(ss, NULL) : NULL;

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (j == NULL) {
        return ss ? NGX_HTTP_INTERNAL_SERVER_ERROR
                  : ngx_http_compliance_api_error(r, NGX_HTTP_NOT_FOUND,
                                                  "not_found", "the session "
                                                  "ended");
    }

    return ngx_http_compliance_api_send(r, NGX_HTTP_OK, j);
}


/*
 * a refused refresh: 404 no such session, 409 (the session's own
 * facts: another room or person, an order in force, a player, an older
 * configuration), 422 (the token: its reason), 507 (the zone is full)
 */

static ngx_int_t
ngx_http_compliance_api_refused(ngx_http_request_t *r, uint64_t id,
    ngx_uint_t reason, u_char *detail)
{
    char        *code;
    ngx_uint_t   status;

    switch (reason) {

    case NGX_RTMP_COMPLIANCE_REFRESH_GONE:
        return ngx_http_compliance_api_error(r, NGX_HTTP_NOT_FOUND,
                                             "not_found", "no such live "
                                             "session");

    case NGX_RTMP_COMPLIANCE_REFRESH_PLAYER:
        return ngx_http_compliance_api_error(r, NGX_HTTP_CONFLICT,
                                             "not_a_publisher", "only a "
                                             "publisher's token is "
                                             "refreshed");

    case NGX_RTMP_COMPLIANCE_REFRESH_STALE:
        return ngx_http_compliance_api_error(r, NGX_HTTP_CONFLICT,
                                             "stale_session", "the session "
                                             "belongs to a worker of an "
                                             "earlier configuration (a "
                                             "reload); it can be refreshed "
                                             "by a new publish");

    case NGX_RTMP_COMPLIANCE_ROOM_MISMATCH:
    case NGX_RTMP_COMPLIANCE_PERSON_MISMATCH:
    case NGX_RTMP_COMPLIANCE_REVERIFY_REQUIRED:
    case NGX_RTMP_COMPLIANCE_SUSPENDED:
    case NGX_RTMP_COMPLIANCE_BANNED:
    case NGX_RTMP_COMPLIANCE_TOKEN_REVOKED:
        status = NGX_HTTP_CONFLICT;
        break;

    case NGX_RTMP_COMPLIANCE_ZONE_FULL:
        status = NGX_HTTP_INSUFFICIENT_STORAGE;
        break;

    default:
        status = 422;
    }

    code = (char *) ngx_rtmp_compliance_reasons[reason].data;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "compliance: refresh of session %uL refused: %s: %s",
                  id, code, detail);

    return ngx_http_compliance_api_error(r, status, code, (char *) detail);
}


/*
 * the start of a change with a JSON body (an order, a refresh): the
 * moderator behind it, then the body parsed into *req; NGX_DECLINED: *rc
 * is the refusal sent
 */

static ngx_int_t
ngx_http_compliance_api_change(ngx_http_request_t *r, u_char *body,
    size_t len, ngx_str_t *by, json_t **req, ngx_int_t *rc)
{
    json_error_t  err;
    u_char        detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    if (ngx_http_compliance_api_actor(r, by, rc) != NGX_OK) {
        return NGX_DECLINED;
    }

    *req = json_loadb((char *) body, len, JSON_REJECT_DUPLICATES, &err);

    if (*req == NULL) {
        ngx_snprintf(detail, sizeof(detail), "line %d column %d: %s%Z",
                     err.line, err.column, err.text);
        *rc = ngx_http_compliance_api_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_json", (char *) detail);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the request body in one piece; NGX_DECLINED: too large */

static ngx_int_t
ngx_http_compliance_api_body(ngx_http_request_t *r, u_char **body,
    size_t *len)
{
    u_char       *p;
    off_t         size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    size = 0;

    if (r->request_body == NULL) {
        *body = (u_char *) "";
        *len = 0;
        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    if (size > NGX_HTTP_COMPLIANCE_API_BODY_MAX) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, (size_t) size + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    *body = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last
                                                    - b->file_pos),
                              b->file_pos);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *len = p - *body;

    return NGX_OK;
}


/*
 * the moderator behind a change: compliance_api_actor's value (empty
 * where the location has none).  Where it is set, an empty value (or one
 * that cannot be recorded as it is) refuses the change: NGX_DECLINED,
 * *rc is the 403 sent.
 */

static ngx_int_t
ngx_http_compliance_api_actor(ngx_http_request_t *r, ngx_str_t *by,
    ngx_int_t *rc)
{
    ngx_http_compliance_loc_conf_t      *alcf;

    ngx_str_null(by);

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (alcf->actor == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, alcf->actor, by) != NGX_OK) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    if (by->len && by->len <= NGX_RTMP_COMPLIANCE_BY_MAX
        && ngx_rtmp_compliance_text_check(by->data, by->len,
                                          NGX_RTMP_COMPLIANCE_TEXT_CONTROL
                                          |NGX_RTMP_COMPLIANCE_TEXT_BYTE)
           == NULL)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "compliance: a change refused, compliance_api_actor is "
                  "empty or cannot be recorded");

    ngx_http_discard_request_body(r);

    *rc = ngx_http_compliance_api_error(r, NGX_HTTP_FORBIDDEN,
                                        "actor_required", "a change needs "
                                        "the moderator behind it: "
                                        "compliance_api_actor is empty for "
                                        "this request (or longer than 128 "
                                        "bytes, or not printable UTF-8); "
                                        "nothing was changed");
    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_compliance_api_create_order(ngx_http_request_t *r, u_char *body,
    size_t len)
{
    json_t                            *req, *j;
    time_t                             now;
    ngx_int_t                          rc;
    ngx_str_t                          by;
    ngx_rtmp_compliance_order_t       *o;
    ngx_rtmp_compliance_order_spec_t   spec;
    ngx_rtmp_compliance_main_conf_t   *mcf;
    u_char                             detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    mcf = ngx_rtmp_compliance_main;
    now = ngx_time();

    if (ngx_http_compliance_api_change(r, body, len, &by, &req, &rc)
        != NGX_OK)
    {
        return rc;
    }

    if (ngx_rtmp_compliance_order_parse(req, NGX_RTMP_COMPLIANCE_PARSE_API,
                                        &spec, now, detail,
                                        sizeof(detail))
        != NGX_OK
        || (spec.action == NGX_RTMP_COMPLIANCE_RESTRICT
            && ngx_http_compliance_api_tier(&spec.tier, detail,
                                            sizeof(detail))
               != NGX_OK))
    {
        json_decref(req);
        return ngx_http_compliance_api_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_order",
                                             (char *) detail);
    }

    spec.by = by;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    rc = ngx_rtmp_compliance_order_create_locked(mcf, &spec,
                                               NGX_RTMP_COMPLIANCE_ORIGIN_API,
                                               r->connection->log, &o);

    json_decref(req);

    j = (rc == NGX_OK) ? ngx_rtmp_compliance_order_json(o) : NULL;

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "compliance: order refused, the zone is full");

        return ngx_http_compliance_api_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                             "zone_full", "the compliance "
                                             "zone has no room for the "
                                             "order; nothing was changed");
    }

    if (rc != NGX_OK) {
        return ngx_http_compliance_api_error(r,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "state_unwritable", "the state "
                                           "file could not be written; "
                                           "nothing was changed");
    }

    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_api_send(r, NGX_HTTP_CREATED, j);
}


/*
 * a restrict order of the API names a tier of this node: one of an
 * application with compliance on (orders of the fleet and of the state
 * file are not held to it: another node, or the configuration before a
 * reload, may have other tiers).  NGX_DECLINED: the detail lists them.
 */

static ngx_int_t
ngx_http_compliance_api_tier(ngx_str_t *tier, u_char *detail, size_t size)
{
    u_char       *p, *last;
    ngx_str_t    *name;
    ngx_uint_t    i, n;
    ngx_array_t  *names;

    names = ngx_rtmp_compliance_main->tier_names;

    n = names ? names->nelts : 0;
    name = n ? names->elts : NULL;

    for (i = 0; i < n; i++) {
        if (name[i].len == tier->len
            && ngx_strncmp(name[i].data, tier->data, tier->len) == 0)
        {
            return NGX_OK;
        }
    }

    p = detail;
    last = detail + size - 1;

    p = ngx_slprintf(p, last, "\"tier\" must be a tier of an application "
                     "with compliance on:");

    if (n == 0) {
        p = ngx_slprintf(p, last, " there is none");
    }

    for (i = 0; i < n; i++) {

        /*
         * room for this name and for what says how many are left out; a
         * name that is not UTF-8 (no token can have it) is not shown
         */

        if (ngx_rtmp_compliance_text_check(name[i].data, name[i].len,
                                           NGX_RTMP_COMPLIANCE_TEXT_BYTE)
            != NULL
            || (size_t) (last - p)
               < name[i].len + sizeof(", \"\" and 99999 more"))
        {
            p = ngx_slprintf(p, last, " and %ui more", n - i);
            break;
        }

        p = ngx_slprintf(p, last, "%s \"%V\"", i ? "," : "", &name[i]);
    }

    *p = '\0';

    return NGX_DECLINED;
}


/*
 * GET, HEAD or DELETE of orders/ID (ORDER) or sessions/ID: the actor of a
 * DELETE first, then the order in force or the live session under the
 * zone's lock (404 where there is none), handed on with the lock held
 */

static ngx_int_t
ngx_http_compliance_api_item(ngx_http_request_t *r, uint64_t id,
    ngx_uint_t order)
{
    ngx_int_t                         rc;
    ngx_str_t                         by;
    ngx_rtmp_compliance_order_t      *o;
    ngx_rtmp_compliance_session_t    *ss;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    ngx_str_null(&by);

    if (r->method == NGX_HTTP_DELETE
        && ngx_http_compliance_api_actor(r, &by, &rc) != NGX_OK)
    {
        return rc;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (order) {
        o = ngx_rtmp_compliance_order_find_locked(mcf->zone, id);

        if (o && (o->until == 0 || o->until > ngx_time())) {
            return ngx_http_compliance_api_order_locked(r, o, &by);
        }

    } else {
        ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, id);

        if (ss) {
            return ngx_http_compliance_api_session_locked(r, ss, &by);
        }
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return ngx_http_compliance_api_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         order ? "no such order in force"
                                               : "no such live session");
}


/* an order in force: its JSON, or lifted; the zone's mutex is held */

static ngx_int_t
ngx_http_compliance_api_order_locked(ngx_http_request_t *r,
    ngx_rtmp_compliance_order_t *o, ngx_str_t *by)
{
    json_t                           *j;
    ngx_int_t                         rc;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (r->method != NGX_HTTP_DELETE) {
        j = ngx_rtmp_compliance_order_json(o);
        ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

        if (j == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_compliance_api_send(r, NGX_HTTP_OK, j);
    }

    rc = ngx_rtmp_compliance_order_lift_locked(mcf, o,
                                               NGX_RTMP_COMPLIANCE_ORIGIN_API,
                                               by, r->connection->log);

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (rc != NGX_OK) {
        return ngx_http_compliance_api_error(r,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "state_unwritable", "the state "
                                           "file could not be written; the "
                                           "order stays in force");
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


static ngx_int_t
ngx_http_compliance_api_orders(ngx_http_request_t *r)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    return ngx_http_compliance_api_list(r, &mcf->zone->sh->orders, NULL,
                                        ngx_http_compliance_api_order, NULL);
}


/*
 * the JSON of the nodes of a tree of the zone, in order, as the answer:
 * each makes a node's (none: it is not listed); count, where given, sees
 * every node first (a count it cannot keep ends the counting, not the
 * list)
 */

static ngx_int_t
ngx_http_compliance_api_list(ngx_http_request_t *r, ngx_rbtree_t *tree,
    ngx_http_compliance_api_each_pt count,
    ngx_http_compliance_api_each_pt each, void *data)
{
    json_t           *a;
    ngx_int_t         rc;
    ngx_slab_pool_t  *shpool;

    a = json_array();
    if (a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    shpool = ngx_rtmp_compliance_main->zone->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    if (count) {
        (void) ngx_http_compliance_api_walk_locked(tree, NULL, count, data);
    }

    rc = ngx_http_compliance_api_walk_locked(tree, a, each, data);

    ngx_shmtx_unlock(&shpool->mutex);

    if (rc != NGX_OK) {
        json_decref(a);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_api_send(r, NGX_HTTP_OK, a);
}


/*
 * each node of a tree of the zone given to each, in order; the JSON it
 * makes of the node (none: the node is left out) is appended to a.  The
 * walk ends at the first NGX_ERROR.  The zone's mutex is held.
 */

static ngx_int_t
ngx_http_compliance_api_walk_locked(ngx_rbtree_t *tree, json_t *a,
    ngx_http_compliance_api_each_pt each, void *data)
{
    json_t             *j;
    ngx_rbtree_node_t  *node;

    if (tree->root == tree->sentinel) {
        return NGX_OK;
    }

    for (node = ngx_rbtree_min(tree->root, tree->sentinel);
         node;
         node = ngx_rbtree_next(tree, node))
    {
        j = NULL;

        if (each(node, data, &j) != NGX_OK
            || (j && json_array_append_new(a, j) != 0))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* an order in force, for the list of orders */

static ngx_int_t
ngx_http_compliance_api_order(ngx_rbtree_node_t *node, void *data,
    json_t **j)
{
    ngx_rtmp_compliance_order_t  *o;

    o = (ngx_rtmp_compliance_order_t *) node;

    if (o->until && o->until <= ngx_time()) {
        return NGX_OK;
    }

    *j = ngx_rtmp_compliance_order_json(o);

    return *j ? NGX_OK : NGX_ERROR;
}


static json_t *
ngx_http_compliance_api_session_json(ngx_rtmp_compliance_session_t *ss,
    json_t *viewers)
{
    u_char                           key[2 * NGX_RTMP_COMPLIANCE_CLAIM_MAX
                                         + 2];
    json_t                          *j, *v;
    ngx_str_t                        s[NGX_RTMP_COMPLIANCE_S_MAX];
    ngx_uint_t                       i;
    ngx_http_compliance_api_field_t *f;

    for (i = 0; i < NGX_RTMP_COMPLIANCE_S_MAX; i++) {
        ngx_rtmp_compliance_session_get(ss, i, &s[i]);
    }

    if (ss->restricted) {
        s[NGX_RTMP_COMPLIANCE_S_TIER].data = ss->tier;
        s[NGX_RTMP_COMPLIANCE_S_TIER].len = ss->tier_len;
    }

    j = json_pack("{s:I, s:s, s:s}",
                  "id", (json_int_t) ss->id,
                  "kind", ss->kind == NGX_RTMP_COMPLIANCE_PUBLISHER
                          ? "publish" : "play",
                  "proto", ngx_rtmp_compliance_proto_name(ss->proto));

    for (f = ngx_http_compliance_api_fields; j && f->name; f++) {
        v = (f->s == NGX_RTMP_COMPLIANCE_S_MAX)
            ? json_boolean(ss->ai)
            : json_stringn((char *) s[f->s].data, s[f->s].len);

        if (json_object_set_new(j, f->name, v) != 0) {
            json_decref(j);
            j = NULL;
        }
    }

    v = j ? json_pack("{s:I, s:I, s:I, s:i}",
                      "started", (json_int_t) ss->started,
                      "bytes_in", (json_int_t) ss->bytes_in,
                      "bytes_out", (json_int_t) ss->bytes_out,
                      "worker", (int) ss->pid)
          : NULL;

    if (v == NULL || json_object_update(j, v) != 0) {
        json_decref(j);
        j = NULL;
    }

    json_decref(v);

    if (j == NULL || ss->kind != NGX_RTMP_COMPLIANCE_PUBLISHER) {
        return j;
    }

    /* the token's exp (null: none) and a re-verification due, if any */

    if (json_object_set_new(j, "exp", ss->exp ? json_integer(ss->exp)
                                              : json_null())
        != 0
        || (ss->reverify
            && json_object_set_new(j, "reverify",
                                   json_pack("{s:I, s:I}",
                                             "order",
                                             (json_int_t) ss->reverify,
                                             "by_ms",
                                             (json_int_t) ss->reverify_ms))
               != 0))
    {
        json_decref(j);
        return NULL;
    }

    if (viewers == NULL) {
        return j;
    }

    ngx_http_compliance_api_room_key(ss, key);

    v = json_object_get(viewers, (char *) key);

    if (json_object_set_new(j, "viewers",
                            json_integer(v ? json_integer_value(v) : 0))
        != 0)
    {
        json_decref(j);
        return NULL;
    }

    return j;
}


/* "app/room" of a session, NUL-terminated */

static void
ngx_http_compliance_api_room_key(ngx_rtmp_compliance_session_t *ss,
    u_char *key)
{
    ngx_str_t  app, room;

    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_APP, &app);
    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_ROOM, &room);

    key = ngx_cpymem(key, app.data, app.len);
    *key++ = '/';
    key = ngx_cpymem(key, room.data, room.len);
    *key = '\0';
}


static ngx_int_t
ngx_http_compliance_api_sessions(ngx_http_request_t *r)
{
    json_t                           *viewers;
    ngx_int_t                         rc;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    viewers = json_object();
    if (viewers == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* players are counted first, for their publishers' "viewers" */

    rc = ngx_http_compliance_api_list(r, &mcf->zone->sh->sessions,
                                      ngx_http_compliance_api_viewer,
                                      ngx_http_compliance_api_session,
                                      viewers);

    json_decref(viewers);

    return rc;
}


/* a player counted in its room's viewers; it makes no JSON of its own */

static ngx_int_t
ngx_http_compliance_api_viewer(ngx_rbtree_node_t *node, void *data,
    json_t **j)
{
    u_char                          key[2 * NGX_RTMP_COMPLIANCE_CLAIM_MAX
                                        + 2];
    json_t                         *v, *viewers;
    json_int_t                      n;
    ngx_rtmp_compliance_session_t  *ss;

    ss = (ngx_rtmp_compliance_session_t *) node;
    viewers = data;

    if (ss->kind != NGX_RTMP_COMPLIANCE_PLAYER) {
        return NGX_OK;
    }

    ngx_http_compliance_api_room_key(ss, key);

    v = json_object_get(viewers, (char *) key);
    n = v ? json_integer_value(v) + 1 : 1;

    return json_object_set_new(viewers, (char *) key, json_integer(n)) == 0
           ? NGX_OK : NGX_ERROR;
}


/* a live session, for the list of sessions */

static ngx_int_t
ngx_http_compliance_api_session(ngx_rbtree_node_t *node, void *data,
    json_t **j)
{
    *j = ngx_http_compliance_api_session_json(
                                (ngx_rtmp_compliance_session_t *) node, data);

    return *j ? NGX_OK : NGX_ERROR;
}


/* a live session: its JSON, or dropped; the zone's mutex is held */

static ngx_int_t
ngx_http_compliance_api_session_locked(ngx_http_request_t *r,
    ngx_rtmp_compliance_session_t *ss, ngx_str_t *by)
{
    json_t                           *j;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (r->method == NGX_HTTP_DELETE && ss->drop == 0) {
        ss->drop = NGX_RTMP_COMPLIANCE_OPERATOR_DROP;
        ss->by_len = (u_char) by->len;

        if (by->len) {
            ngx_memcpy(ss->by, by->data, by->len);
        }

        mcf->zone->sh->marks++;

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "compliance: session %uL to be dropped by the API",
                      ss->id);
    }

    j = ngx_http_compliance_api_session_json(ss, NULL);

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_api_send(r, r->method == NGX_HTTP_DELETE
                                           ? NGX_HTTP_ACCEPTED : NGX_HTTP_OK,
                                        j);
}


static ngx_int_t
ngx_http_compliance_api_metrics(ngx_http_request_t *r)
{
    u_char                           *p, *last, *buf;
    size_t                            size;
    ngx_rtmp_compliance_shctx_t       sh;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);
    sh = *mcf->zone->sh;
    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    size = 8192 + 2 * NGX_RTMP_COMPLIANCE_REASON_MAX * 128;

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = buf;
    last = buf + size;

    p = ngx_http_compliance_api_metrics_counts(p, last, &sh);

    p = ngx_rtmp_compliance_flood_metrics(p, last);

    p = ngx_slprintf(p, last,
            "# HELP compliance_live_sessions Live sessions, all workers.\n"
            "# TYPE compliance_live_sessions gauge\n"
            "compliance_live_sessions{kind=\"publish\"} %ui\n"
            "compliance_live_sessions{kind=\"play\"} %ui\n"
            "# HELP compliance_live_sessions_proto Live sessions, all "
            "workers, by protocol (publishers are rtmp).\n"
            "# TYPE compliance_live_sessions_proto gauge\n"
            "compliance_live_sessions_proto{proto=\"rtmp\"} %ui\n"
            "compliance_live_sessions_proto{proto=\"http-flv\"} %ui\n"
            "compliance_live_sessions_proto{proto=\"hls\"} %ui\n"
            "# HELP compliance_orders Orders in the zone.\n"
            "# TYPE compliance_orders gauge\n"
            "compliance_orders %ui\n"
            "# HELP compliance_state_errors_total State file read or "
            "write errors.\n"
            "# TYPE compliance_state_errors_total counter\n"
            "compliance_state_errors_total %ui\n"
            "# HELP compliance_audit_records_total Audit records written.\n"
            "# TYPE compliance_audit_records_total counter\n"
            "compliance_audit_records_total %uL\n"
            "# HELP compliance_audit_write_errors_total Audit write "
            "errors.\n"
            "# TYPE compliance_audit_write_errors_total counter\n"
            "compliance_audit_write_errors_total %uL\n"
            "# HELP compliance_audit_available 0 while audit records "
            "cannot be written.\n"
            "# TYPE compliance_audit_available gauge\n"
            "compliance_audit_available %d\n"
            "# HELP compliance_audit_last_checkpoint_timestamp_seconds "
            "When the last signed checkpoint was written (0: none).\n"
            "# TYPE compliance_audit_last_checkpoint_timestamp_seconds "
            "gauge\n"
            "compliance_audit_last_checkpoint_timestamp_seconds %uL\n"
            "# HELP compliance_fleet_connected 1 while this node's "
            "connection to Redis is up.\n"
            "# TYPE compliance_fleet_connected gauge\n"
            "compliance_fleet_connected %ui\n"
            "# HELP compliance_fleet_outbox Order changes waiting to be "
            "published to the fleet.\n"
            "# TYPE compliance_fleet_outbox gauge\n"
            "compliance_fleet_outbox %ui\n"
            "# HELP compliance_fleet_entries_total Stream entries read.\n"
            "# TYPE compliance_fleet_entries_total counter\n"
            "compliance_fleet_entries_total %uL\n"
            "# HELP compliance_fleet_last_id_ms Time part of the last "
            "stream id applied.\n"
            "# TYPE compliance_fleet_last_id_ms gauge\n"
            "compliance_fleet_last_id_ms %uL\n"
            "# HELP compliance_fleet_lag_ms How old the last stream entry "
            "was when it was applied; 0 when caught up.\n"
            "# TYPE compliance_fleet_lag_ms gauge\n"
            "compliance_fleet_lag_ms %uL\n"
            "# HELP compliance_fleet_witnesses_total Other nodes' "
            "checkpoints written into this node's audit chain.\n"
            "# TYPE compliance_fleet_witnesses_total counter\n"
            "compliance_fleet_witnesses_total %uL\n"
            "# HELP compliance_admission_timeouts_total Connections "
            "closed: not admitted within compliance_admission_timeout.\n"
            "# TYPE compliance_admission_timeouts_total counter\n"
            "compliance_admission_timeouts_total %ui\n"
            "# HELP compliance_fleet_room_lock_skipped_total Publishers "
            "admitted without the room lock (Redis down).\n"
            "# TYPE compliance_fleet_room_lock_skipped_total counter\n"
            "compliance_fleet_room_lock_skipped_total %ui\n"
            "# HELP compliance_fleet_room_lock_busy_total Publishers "
            "dropped: their room is live on another node.\n"
            "# TYPE compliance_fleet_room_lock_busy_total counter\n"
            "compliance_fleet_room_lock_busy_total %ui\n",
            sh.nsessions[0], sh.nsessions[1],
            sh.nproto[NGX_RTMP_COMPLIANCE_PROTO_RTMP],
            sh.nproto[NGX_RTMP_COMPLIANCE_PROTO_HTTP_FLV],
            sh.nproto[NGX_RTMP_COMPLIANCE_PROTO_HLS], sh.norders,
            sh.state_errors, sh.audit_records, sh.audit_errors,
            sh.audit_lost ? 0 : 1,
            (uint64_t) (sh.audit_checkpoint_seq
                        ? sh.audit_checkpoint_ms / 1000 : 0),
            sh.fleet_connected, sh.noutbox,
            sh.fleet_entries, sh.fleet_last_ms, sh.fleet_lag_ms,
            sh.fleet_witnesses, sh.admission_timeouts, sh.lock_skipped,
            sh.lock_busy);

    return ngx_http_compliance_api_send_text(r, NGX_HTTP_OK,
                                       &ngx_http_compliance_api_prometheus,
                                       buf, p - buf);
}


/* admissions and rejections, by kind and reason */

static u_char *
ngx_http_compliance_api_metrics_counts(u_char *p, u_char *last,
    ngx_rtmp_compliance_shctx_t *sh)
{
    ngx_uint_t  k, i;

    static char  *kinds[] = { "publish", "play" };

    p = ngx_slprintf(p, last,
            "# HELP compliance_admissions_total Sessions admitted.\n"
            "# TYPE compliance_admissions_total counter\n");

    for (k = 0; k < 2; k++) {
        p = ngx_slprintf(p, last,
                         "compliance_admissions_total{kind=\"%s\"} %ui\n",
                         kinds[k], sh->admitted[k]);
    }

    p = ngx_slprintf(p, last,
            "# HELP compliance_rejections_total Sessions refused, "
            "by reason.\n"
            "# TYPE compliance_rejections_total counter\n");

    for (k = 0; k < 2; k++) {
        for (i = 1; i < NGX_RTMP_COMPLIANCE_REASON_MAX; i++) {
            p = ngx_slprintf(p, last,
                             "compliance_rejections_total{kind=\"%s\","
                             "reason=\"%V\"} %ui\n", kinds[k],
                             &ngx_rtmp_compliance_reasons[i],
                             sh->rejected[k][i]);
        }
    }

    return p;
}


static ngx_int_t
ngx_http_compliance_api_error(ngx_http_request_t *r, ngx_uint_t status,
    char *error, char *detail)
{
    json_t  *j;

    j = json_pack("{s:s, s:s}", "error", error, "detail", detail);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_api_send(r, status, j);
}


/* sends j and releases it */

static ngx_int_t
ngx_http_compliance_api_send(ngx_http_request_t *r, ngx_uint_t status,
    json_t *j)
{
    ngx_str_t  text;

    if (ngx_http_compliance_api_dump(r, j, &text) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_api_send_text(r, status,
                                             &ngx_http_compliance_api_json,
                                             text.data, text.len);
}


/* j as one line of text in the request's pool; j is released */

static ngx_int_t
ngx_http_compliance_api_dump(ngx_http_request_t *r, json_t *j,
    ngx_str_t *text)
{
    char    *s;
    u_char  *p;
    size_t   len;

    s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);

    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(p, s, len);
    p[len] = '\n';
    free(s);

    text->data = p;
    text->len = len + 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_api_send_text(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len)
{
    ngx_int_t  rc;

    rc = ngx_http_compliance_send(r, status, type, data, len);

    return rc == NGX_ERROR && !r->header_sent
           ? NGX_HTTP_INTERNAL_SERVER_ERROR : rc;
}


/*
 * nginx's own error pages for an API location become JSON: the errors
 * nginx answers before the handler runs (413 over client_max_body_size,
 * 400 for a malformed request, 405 for TRACE, 403 of deny, 401 of
 * auth_basic) and those of a request the handler gave back to nginx (a
 * chunked body over client_max_body_size, 500).  The status and the
 * other headers stay; the page is replaced.
 */

static ngx_int_t
ngx_http_compliance_api_header_filter(ngx_http_request_t *r)
{
    json_t                            *j;
    ngx_http_compliance_ctx_t         *ctx;
    ngx_http_compliance_api_status_t  *st;

    if (r != r->main
        || r->err_status < NGX_HTTP_BAD_REQUEST
        || !ngx_http_compliance_api_nginx_page(r)
        || !ngx_http_compliance_api_ours(r))
    {
        return ngx_http_next_header_filter(r);
    }

    for (st = ngx_http_compliance_api_statuses; st->status; st++) {
        if (st->status == r->headers_out.status) {
            break;
        }
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_compliance_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    j = json_pack("{s:s, s:s}", "error", st->error, "detail", st->detail);

    if (ngx_http_compliance_api_dump(r, j, &ctx->json) != NGX_OK) {
        return ngx_http_next_header_filter(r);     /* nginx's page, then */
    }

    ngx_http_set_ctx(r, ctx, ngx_http_compliance_module);

    r->headers_out.content_type = ngx_http_compliance_api_json;
    r->headers_out.content_type_len = ngx_http_compliance_api_json.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = ctx->json.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_compliance_api_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                     out, *cl;
    ngx_http_compliance_ctx_t      *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_compliance_module);

    if (ctx == NULL || ctx->json.data == NULL || r->header_only) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's page is dropped; the JSON goes out in its place, once */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (in == NULL || ctx->sent) {
        return ngx_http_next_body_filter(r, NULL);
    }

    if (ngx_http_compliance_last_buf(r, ctx->json.data, ctx->json.len, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->sent = 1;

    return ngx_http_next_body_filter(r, &out);
}


/* the response is one of nginx's error pages (ngx_http_special_response) */

static ngx_uint_t
ngx_http_compliance_api_nginx_page(ngx_http_request_t *r)
{
    ngx_str_t  *type;

    type = &r->headers_out.content_type;

    return type->len == 0
           || (type->len == sizeof("text/html") - 1
               && ngx_strncmp(type->data, "text/html", type->len) == 0);
}


/*
 * the request is for an API location: the API's handler is the one its
 * location chose (if blocks within it included), or its location is the
 * limit_except block of one, or, for an error nginx answers before a
 * location is chosen (a bad request line, a URI with %00, TRACE, a
 * header too large), its URI matches the prefix, "=" or regex of one of
 * the server's API locations
 */

static ngx_uint_t
ngx_http_compliance_api_ours(ngx_http_request_t *r)
{
    u_char                               *p;
    ngx_str_t                             uri;
    ngx_uint_t                            i, partial;
    ngx_http_core_srv_conf_t             *cscf;
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_compliance_api_where_t      *w;
    ngx_http_compliance_main_conf_t      *amcf;

    if (r->content_handler == ngx_http_compliance_api_handler) {
        return 1;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_compliance_module);

    w = amcf->locations.elts;

    for (i = 0; i < amcf->locations.nelts; i++) {
        if (clcf == w[i].except) {
            return 1;
        }
    }

    if (clcf != cscf->ctx->loc_conf[ngx_http_core_module.ctx_index]) {
        return 0;                   /* in a location that is not the API */
    }

    /* the URI as parsed, or as far as it was read */

    partial = 0;

    if (r->uri.len) {
        uri = r->uri;

    } else if (r->uri_start && r->uri_end > r->uri_start) {
        uri.data = r->uri_start;
        uri.len = r->uri_end - r->uri_start;

        p = ngx_strlchr(uri.data, uri.data + uri.len, '?');
        if (p) {
            uri.len = p - uri.data;
        }

    } else if (r->uri_start && r->header_in
               && r->uri_start >= r->header_in->start
               && r->uri_start < r->header_in->last)
    {
        uri.data = r->uri_start;
        uri.len = r->header_in->last - r->uri_start;
        partial = 1;

    } else {
        return 0;
    }

    for (i = 0; i < amcf->locations.nelts; i++) {
        if (w[i].server == cscf
            && ngx_http_compliance_api_matches(w[i].location, &uri, partial))
        {
            return 1;
        }
    }

    return 0;
}


/* partial: uri is the start of what was read, not the whole URI */

static ngx_uint_t
ngx_http_compliance_api_matches(ngx_http_core_loc_conf_t *clcf,
    ngx_str_t *uri, ngx_uint_t partial)
{
    if (clcf->named) {
        return 0;
    }

#if (NGX_PCRE)
    if (clcf->regex) {
        return !partial
               && ngx_regex_exec(clcf->regex->regex, uri, NULL, 0) >= 0;
    }
#endif

    if (clcf->exact_match && (partial || uri->len != clcf->name.len)) {
        return 0;
    }

    return uri->len >= clcf->name.len
           && ngx_strncmp(uri->data, clcf->name.data, clcf->name.len) == 0;
}
