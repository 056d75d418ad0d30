
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * record.done: when nginx-rtmp's record module finishes a file, its path,
 * size and SHA-256 go into the audit chain, tying the playback record the
 * Measures require to the session.  The file is hashed a megabyte per
 * event-loop turn, so a long recording never stalls the worker.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <openssl/evp.h>
#include "ngx_rtmp_compliance_record.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_cmd_module.h"
#include "ngx_rtmp_record_module.h"
#include "ngx_rtmp_compliance_audit_format.h"


#define NGX_RTMP_COMPLIANCE_HASH_CHUNK    (1024 * 1024)


typedef struct {
    ngx_event_t                     ev;
    ngx_fd_t                        fd;
    off_t                           offset;
    EVP_MD_CTX                     *md;
    json_t                         *fields;
    u_char                         *buf;
    ngx_log_t                      *log;
    u_char                          path[1];
} ngx_rtmp_compliance_hash_job_t;


static void ngx_rtmp_compliance_record_hash(ngx_event_t *ev);
static void ngx_rtmp_compliance_record_free(
    ngx_rtmp_compliance_hash_job_t *job);


static ngx_rtmp_record_done_pt  next_record_done;


ngx_int_t
ngx_rtmp_compliance_record_done(ngx_rtmp_session_t *s,
    ngx_rtmp_record_done_t *v)
{
    ngx_rtmp_compliance_ctx_t       *ctx;
    ngx_rtmp_compliance_hash_job_t  *job;

    if (!ngx_rtmp_compliance_audit_enabled()) {
        return next_record_done(s, v);
    }

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    job = ngx_calloc(sizeof(ngx_rtmp_compliance_hash_job_t) + v->path.len,
                     ngx_cycle->log);
    if (job == NULL) {
        return next_record_done(s, v);
    }

    ngx_memcpy(job->path, v->path.data, v->path.len);
    job->path[v->path.len] = '\0';
    job->fd = NGX_INVALID_FILE;
    job->log = ngx_cycle->log;

    job->fields = json_pack("{s:o, s:s%, s:s%, s:s%, s:s%}",
                            "session", ctx && ctx->id
                                       ? json_integer(ctx->id) : json_null(),
                            "app", s->app.data ? (char *) s->app.data : "",
                            s->app.len,
                            "room", ctx && ctx->room.data
                                    ? (char *) ctx->room.data : "",
                            ctx ? ctx->room.len : 0,
                            "recorder", v->recorder.data
                                        ? (char *) v->recorder.data : "",
                            v->recorder.len,
                            "path", (char *) job->path, v->path.len);

    job->md = EVP_MD_CTX_new();
    job->buf = ngx_alloc(NGX_RTMP_COMPLIANCE_HASH_CHUNK, ngx_cycle->log);

    if (job->fields == NULL || job->md == NULL || job->buf == NULL
        || EVP_DigestInit_ex(job->md, EVP_sha256(), NULL) != 1)
    {
        ngx_rtmp_compliance_record_free(job);
        return next_record_done(s, v);
    }

    job->fd = ngx_open_file(job->path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (job->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, s->connection->log, ngx_errno,
                      "compliance: " ngx_open_file_n " \"%s\" failed, "
                      "its record.done has no hash", job->path);
    }

    job->ev.handler = ngx_rtmp_compliance_record_hash;
    job->ev.data = job;
    job->ev.log = ngx_cycle->log;

    ngx_add_timer(&job->ev, 1);

    return next_record_done(s, v);
}


static void
ngx_rtmp_compliance_record_hash(ngx_event_t *ev)
{
    u_char                          *p;
    ssize_t                          n;
    unsigned int                     len;
    ngx_rtmp_compliance_hash_job_t  *job;
    u_char                           md[EVP_MAX_MD_SIZE];
    u_char                           hex[2 * EVP_MAX_MD_SIZE + 1];

    job = ev->data;

    if (job->fd != NGX_INVALID_FILE) {
        n = pread(job->fd, job->buf, NGX_RTMP_COMPLIANCE_HASH_CHUNK,
                  job->offset);

        if (n > 0) {
            if (EVP_DigestUpdate(job->md, job->buf, n) != 1) {
                n = -1;

            } else {
                job->offset += n;

                /* the rest on a later turn of the event loop */
                ngx_add_timer(ev, 1);
                return;
            }
        }

        if (n < 0) {
            ngx_log_error(NGX_LOG_ERR, job->log, ngx_errno,
                          "compliance: reading \"%s\" failed", job->path);

        } else if (EVP_DigestFinal_ex(job->md, md, &len) == 1) {
            p = ngx_hex_dump(hex, md, len);
            *p = '\0';

            (void) json_object_set_new(job->fields, "size",
                                       json_integer(job->offset));
            (void) json_object_set_new(job->fields, "sha256",
                                       json_string((char *) hex));
        }
    }

    if (ngx_rtmp_compliance_audit(NGX_RTMP_COMPLIANCE_AUDIT_EV_RECORD_DONE,
                                  job->fields, job->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, job->log, 0,
                      "compliance: the recording \"%s\" was not audited",
                      job->path);
    }

    ngx_rtmp_compliance_record_free(job);
}


static void
ngx_rtmp_compliance_record_free(ngx_rtmp_compliance_hash_job_t *job)
{
    if (job->fd != NGX_INVALID_FILE) {
        ngx_close_file(job->fd);
    }

    EVP_MD_CTX_free(job->md);
    json_decref(job->fields);

    if (job->buf) {
        ngx_free(job->buf);
    }

    ngx_free(job);
}


void
ngx_rtmp_compliance_record_init(void)
{
    next_record_done = ngx_rtmp_record_done;
    ngx_rtmp_record_done = ngx_rtmp_compliance_record_done;
}
