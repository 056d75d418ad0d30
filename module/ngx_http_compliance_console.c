
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The moderation console: one self-contained HTML page that drives the
 * control API from the browser.  The page, console/console.html, is
 * assembled into the module as it is; when the configuration is read,
 * the location's API path is put into the page, and the
 * Content-Security-Policy names the SHA-256 of the page's one inline
 * script and one inline style, so that nothing else runs or loads.  Like
 * the API, the console does no access control of its own: protect its
 * location as the API's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/sha.h>
#include "ngx_http_compliance.h"
#include "ngx_http_compliance_console.h"


#define NGX_HTTP_COMPLIANCE_CONSOLE_API  "/compliance/"
#define NGX_HTTP_COMPLIANCE_CONSOLE_VAR  "@COMPLIANCE_API@"

#define NGX_HTTP_COMPLIANCE_CONSOLE_HASH_LEN                                 \
    ngx_base64_encoded_length(SHA256_DIGEST_LENGTH)


static ngx_int_t ngx_http_compliance_console_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_console_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);
static ngx_int_t ngx_http_compliance_console_api_path(ngx_str_t *path);
static ngx_int_t ngx_http_compliance_console_fill(ngx_conf_t *cf,
    ngx_http_compliance_console_conf_t *ccf, ngx_str_t *api);
static ngx_int_t ngx_http_compliance_console_csp(ngx_conf_t *cf,
    ngx_http_compliance_console_conf_t *ccf);
static ngx_int_t ngx_http_compliance_console_hash(ngx_str_t *page,
    char *open, char *close, u_char *hash);


/*
 * console/console.html, byte for byte, then a NUL: the assembler reads
 * the file that NGX_HTTP_COMPLIANCE_CONSOLE_PAGE names (config defines
 * it and lists the page in the module's dependencies, so that the object
 * is rebuilt when the page changes).  ELF targets (Linux, the BSDs).
 */

#ifndef NGX_HTTP_COMPLIANCE_CONSOLE_PAGE
#error "NGX_HTTP_COMPLIANCE_CONSOLE_PAGE is not defined: build with config"
#endif

extern const u_char  ngx_http_compliance_console_page[]
    __asm__("ngx_http_compliance_console_page");
extern const u_char  ngx_http_compliance_console_page_end[]
    __asm__("ngx_http_compliance_console_page_end");

__asm__(
    "    .pushsection .rodata\n"
    "ngx_http_compliance_console_page:\n"
    "    .incbin \"" NGX_HTTP_COMPLIANCE_CONSOLE_PAGE "\"\n"
    "ngx_http_compliance_console_page_end:\n"
    "    .byte 0\n"
    "    .popsection\n"
);


static ngx_keyval_t  ngx_http_compliance_console_headers[] = {
    { ngx_string("Cache-Control"), ngx_string("no-store") },
    { ngx_string("X-Content-Type-Options"), ngx_string("nosniff") },
    { ngx_string("X-Frame-Options"), ngx_string("DENY") },
    { ngx_string("Referrer-Policy"), ngx_string("no-referrer") },
    { ngx_null_string, ngx_null_string }
};


static ngx_int_t
ngx_http_compliance_console_handler(ngx_http_request_t *r)
{
    ngx_int_t                            rc;
    ngx_buf_t                           *b;
    ngx_chain_t                          out;
    ngx_keyval_t                        *h;
    ngx_http_compliance_loc_conf_t      *hlcf;
    ngx_http_compliance_console_conf_t  *ccf;

    static ngx_str_t  allow = ngx_string("Allow");
    static ngx_str_t  get_head = ngx_string("GET, HEAD");
    static ngx_str_t  csp = ngx_string("Content-Security-Policy");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {

        if (ngx_http_compliance_console_header(r, &allow, &get_head)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    hlcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    ccf = &hlcf->console;

    for (h = ngx_http_compliance_console_headers; h->key.len; h++) {
        if (ngx_http_compliance_console_header(r, &h->key, &h->value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_compliance_console_header(r, &csp, &ccf->csp) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = ccf->page.len;

    ngx_str_set(&r->headers_out.content_type, "text/html");
    r->headers_out.content_type_len = sizeof("text/html") - 1;
    ngx_str_set(&r->headers_out.charset, "utf-8");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = ccf->page.data;
    b->last = ccf->page.data + ccf->page.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_compliance_console_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *key;
    h->value = *value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


char *
ngx_http_compliance_console(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                           *value, api;
    ngx_http_core_loc_conf_t            *clcf;
    ngx_http_compliance_console_conf_t  *ccf;

    ccf = (ngx_http_compliance_console_conf_t *) ((char *) conf
                                                  + cmd->offset);

    if (ccf->page.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        api = value[1];

    } else {
        ngx_str_set(&api, NGX_HTTP_COMPLIANCE_CONSOLE_API);
    }

    if (ngx_http_compliance_console_api_path(&api) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid API path \"%V\", it must be the absolute "
                           "path of a \"compliance_api\" location on this "
                           "server, as \"/compliance/\"", &api);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_compliance_console_fill(cf, ccf, &api) != NGX_OK
        || ngx_http_compliance_console_csp(cf, ccf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_compliance_console_handler;

    return NGX_CONF_OK;
}


/*
 * an absolute path on this origin ("//host/" is another one) of URI path
 * characters but "&", so that it goes into an HTML attribute as it is
 */

static ngx_int_t
ngx_http_compliance_console_api_path(ngx_str_t *path)
{
    u_char  *p, *last;

    static ngx_str_t  other = ngx_string("/-._~!$'()*+,;=:@%");

    p = path->data;
    last = path->data + path->len;

    if (path->len == 0 || p[0] != '/' || (path->len > 1 && p[1] == '/')) {
        return NGX_ERROR;
    }

    for ( /* void */ ; p < last; p++) {

        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9'))
        {
            continue;
        }

        if (ngx_strlchr(other.data, other.data + other.len, *p) == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the page with the API path, ending in "/", in place of its placeholder */

static ngx_int_t
ngx_http_compliance_console_fill(ngx_conf_t *cf,
    ngx_http_compliance_console_conf_t *ccf, ngx_str_t *api)
{
    u_char      *p, *var, *rest;
    size_t       len, slash;
    ngx_str_t    page;

    page.data = (u_char *) ngx_http_compliance_console_page;
    page.len = ngx_http_compliance_console_page_end
               - ngx_http_compliance_console_page;

    var = ngx_strnstr(page.data, NGX_HTTP_COMPLIANCE_CONSOLE_VAR, page.len);

    if (var == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the console page has no \""
                           NGX_HTTP_COMPLIANCE_CONSOLE_VAR "\"");
        return NGX_ERROR;
    }

    rest = var + sizeof(NGX_HTTP_COMPLIANCE_CONSOLE_VAR) - 1;
    slash = (api->data[api->len - 1] == '/') ? 0 : 1;

    len = page.len - (rest - var) + api->len + slash;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ccf->page.data = p;
    ccf->page.len = len;

    p = ngx_cpymem(p, page.data, var - page.data);
    p = ngx_cpymem(p, api->data, api->len);

    if (slash) {
        *p++ = '/';
    }

    ngx_memcpy(p, rest, page.data + page.len - rest);

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_console_csp(ngx_conf_t *cf,
    ngx_http_compliance_console_conf_t *ccf)
{
    u_char  *p;
    size_t   len;
    u_char   script[NGX_HTTP_COMPLIANCE_CONSOLE_HASH_LEN];
    u_char   style[NGX_HTTP_COMPLIANCE_CONSOLE_HASH_LEN];

    if (ngx_http_compliance_console_hash(&ccf->page, "<script>", "</script>",
                                         script)
        != NGX_OK
        || ngx_http_compliance_console_hash(&ccf->page, "<style>",
                                            "</style>", style)
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the console page has no inline script or style");
        return NGX_ERROR;
    }

    len = sizeof("default-src 'none'; script-src 'sha256-'; "
                 "style-src 'sha256-'; connect-src 'self'; img-src data:; "
                 "base-uri 'none'; form-action 'none'; "
                 "frame-ancestors 'none'") - 1
          + 2 * NGX_HTTP_COMPLIANCE_CONSOLE_HASH_LEN;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ccf->csp.data = p;

    p = ngx_sprintf(p, "default-src 'none'; script-src 'sha256-%*s'; "
                    "style-src 'sha256-%*s'; connect-src 'self'; "
                    "img-src data:; base-uri 'none'; form-action 'none'; "
                    "frame-ancestors 'none'",
                    sizeof(script), script, sizeof(style), style);

    ccf->csp.len = p - ccf->csp.data;

    return NGX_OK;
}


/* base64 of the SHA-256 of the text of the page's first OPEN...CLOSE */

static ngx_int_t
ngx_http_compliance_console_hash(ngx_str_t *page, char *open, char *close,
    u_char *hash)
{
    u_char     *start, *end, *last;
    ngx_str_t   src, dst;
    u_char      md[SHA256_DIGEST_LENGTH];

    last = page->data + page->len;

    start = ngx_strnstr(page->data, open, page->len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    start += ngx_strlen(open);

    end = ngx_strnstr(start, close, last - start);
    if (end == NULL) {
        return NGX_ERROR;
    }

    SHA256(start, end - start, md);

    src.data = md;
    src.len = sizeof(md);
    dst.data = hash;

    ngx_encode_base64(&dst, &src);

    return NGX_OK;
}
