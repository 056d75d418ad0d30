
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The audit log: JSON Lines segments, one hash chain per node.
 *
 * Every record is written under the zone's mutex, so all workers extend
 * one chain: seq and the previous record's hash live in the zone.  A
 * record's hash is SHA-256 over its line up to ,"hash": with a closing
 * brace; docs/audit.md has the exact definition.  When a new zone is made
 * (start, not reload) the master finds the end of the chain in the newest
 * segment, cuts a torn last line, and writes an audit.start record.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/file.h>
#include "ngx_rtmp_compliance.h"


#define NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN  (3 * 365 * 86400)
#define NGX_RTMP_COMPLIANCE_AUDIT_TAIL           65536
#define NGX_RTMP_COMPLIANCE_AUDIT_SYNC           1000   /* batch, ms */


static ngx_int_t ngx_rtmp_compliance_audit_write_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, const char *event, json_t *fields,
    ngx_log_t *log);
static void ngx_rtmp_compliance_audit_segment(
    ngx_rtmp_compliance_audit_t *a, ngx_msec_t ms, u_char *name);
static ngx_int_t ngx_rtmp_compliance_audit_tail(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log,
    ngx_uint_t *recovered);
static void ngx_rtmp_compliance_audit_sync(ngx_event_t *ev);
static void ngx_rtmp_compliance_audit_chown(
    ngx_rtmp_compliance_main_conf_t *mcf, u_char *path, ngx_log_t *log);


static ngx_conf_enum_t  ngx_rtmp_compliance_audit_fsync[] = {
    { ngx_string("off"), NGX_RTMP_COMPLIANCE_FSYNC_OFF },
    { ngx_string("batch"), NGX_RTMP_COMPLIANCE_FSYNC_BATCH },
    { ngx_string("always"), NGX_RTMP_COMPLIANCE_FSYNC_ALWAYS },
    { ngx_null_string, 0 }
};


/*
 * compliance_audit_log DIR [retention=3y] [fsync=off|batch|always]
 *     [rotate=daily|hourly] [on_error=refuse|continue] [node=NAME]
 */

char *
ngx_rtmp_compliance_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_rtmp_compliance_main_conf_t *mcf = conf;

    time_t                        n, unit;
    ngx_str_t                    *value, v;
    ngx_uint_t                    i;
    ngx_conf_enum_t              *e;
    ngx_rtmp_compliance_audit_t  *a;

    a = &mcf->audit;

    if (a->dir.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    a->dir = value[1];

    if (ngx_conf_full_name(cf->cycle, &a->dir, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    while (a->dir.len > 1 && a->dir.data[a->dir.len - 1] == '/') {
        a->dir.len--;
    }

    a->retention = NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN;
    a->fsync = NGX_RTMP_COMPLIANCE_FSYNC_BATCH;
    a->rotate = 0;
    a->refuse = 1;
    a->node = cf->cycle->hostname;
    a->fd = NGX_INVALID_FILE;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "retention=", 10) == 0) {
            v.data = value[i].data + 10;
            v.len = value[i].len - 10;

            if (v.len < 2) {
                goto invalid;
            }

            switch (v.data[v.len - 1]) {
            case 'y':
                unit = 365 * 86400;
                break;
            case 'd':
                unit = 86400;
                break;
            default:
                goto invalid;
            }

            n = ngx_atotm(v.data, v.len - 1);

            if (n == NGX_ERROR || n > 100 * 366) {
                goto invalid;
            }

            a->retention = n * unit;

            if (a->retention < NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "audit retention \"%V\" is under the "
                                   "3 years (1095d) the Measures require "
                                   "(直播电商监督管理办法: 不少于三年)", &v);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "fsync=", 6) == 0) {
            v.data = value[i].data + 6;
            v.len = value[i].len - 6;

            for (e = ngx_rtmp_compliance_audit_fsync; e->name.len; e++) {
                if (e->name.len == v.len
                    && ngx_strncmp(e->name.data, v.data, v.len) == 0)
                {
                    break;
                }
            }

            if (e->name.len == 0) {
                goto invalid;
            }

            a->fsync = e->value;
            continue;
        }

        if (ngx_strcmp(value[i].data, "rotate=daily") == 0) {
            a->rotate = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "rotate=hourly") == 0) {
            a->rotate = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "on_error=refuse") == 0) {
            a->refuse = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "on_error=continue") == 0) {
            a->refuse = 0;
            continue;
        }

        if (ngx_strncmp(value[i].data, "node=", 5) == 0) {
            a->node.data = value[i].data + 5;
            a->node.len = value[i].len - 5;

            if (a->node.len == 0 || a->node.len > 64) {
                goto invalid;
            }

            /* the node's name in order ids too */
            mcf->node = a->node;

            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* "audit-20261128.jsonl" or "audit-20261128T17.jsonl" */

static void
ngx_rtmp_compliance_audit_segment(ngx_rtmp_compliance_audit_t *a,
    ngx_msec_t ms, u_char *name)
{
    ngx_tm_t  tm;

    ngx_gmtime((time_t) (ms / 1000), &tm);

    if (a->rotate) {
        ngx_sprintf(name, "audit-%4d%02d%02dT%02d.jsonl%Z",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour);

    } else {
        ngx_sprintf(name, "audit-%4d%02d%02d.jsonl%Z",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday);
    }
}


static void
ngx_rtmp_compliance_audit_chown(ngx_rtmp_compliance_main_conf_t *mcf,
    u_char *path, ngx_log_t *log)
{
    ngx_core_conf_t  *ccf;

    if (geteuid() != 0) {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(mcf->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT
        && chown((char *) path, ccf->user, ccf->group) == -1)
    {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "compliance_audit_log: chown(\"%s\") failed", path);
    }
}


/*
 * the master, for a new zone: the end of the chain from the newest
 * segment, then an audit.start record
 */

ngx_int_t
ngx_rtmp_compliance_audit_init(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    ngx_fd_t                      fd;
    ngx_uint_t                    recovered;
    ngx_rtmp_compliance_audit_t  *a;
    u_char                        path[NGX_MAX_PATH];

    a = &mcf->audit;

    if (a->dir.len == 0) {
        return NGX_OK;
    }

    if (a->dir.len + 32 >= NGX_MAX_PATH) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_audit_log: \"%V\" is too long", &a->dir);
        return NGX_ERROR;
    }

    ngx_sprintf(path, "%V%Z", &a->dir);

    if (ngx_create_dir(path, 0750) == NGX_FILE_ERROR
        && ngx_errno != NGX_EEXIST)
    {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_create_dir_n " \"%s\" "
                      "failed", path);
        return NGX_ERROR;
    }

    /* workers make the new segments */
    ngx_rtmp_compliance_audit_chown(mcf, path, log);

    /*
     * one writer per directory: a second nginx (a binary upgrade, or two
     * servers sharing it) would fork the chain
     */

    ngx_sprintf(path, "%V/.writer%Z", &a->dir);

    fd = ngx_open_file(path, NGX_FILE_RDWR, NGX_FILE_CREATE_OR_OPEN,
                       NGX_FILE_OWNER_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_open_file_n " \"%s\" "
                      "failed", path);
        return NGX_ERROR;
    }

    if (flock(fd, LOCK_EX|LOCK_NB) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: another nginx writes to \"%V\" "
                      "(a binary upgrade needs a restart instead: the chain "
                      "has one writer)", &a->dir);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    /* held, and inherited by the workers, for as long as the master runs */

    if (ngx_rtmp_compliance_audit_tail(mcf, log, &recovered) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the first worker writes audit.start, with the master's pid */

    mcf->sh->audit_start = 1;
    mcf->sh->audit_recovered = recovered;

    return NGX_OK;
}


/*
 * nginx -t: DIR, or the directory it is to be made in, must be there
 */

ngx_int_t
ngx_rtmp_compliance_audit_test(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    u_char           *slash;
    size_t            len;
    ngx_file_info_t   fi;
    u_char            path[NGX_MAX_PATH];

    if (mcf->audit.dir.len == 0 || mcf->audit.dir.len >= NGX_MAX_PATH) {
        return NGX_OK;
    }

    ngx_sprintf(path, "%V%Z", &mcf->audit.dir);

    if (ngx_file_info(path, &fi) != NGX_FILE_ERROR) {
        if (ngx_is_dir(&fi)) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_audit_log: \"%s\" is not a directory",
                      path);
        return NGX_ERROR;
    }

    len = mcf->audit.dir.len;

    for (slash = path + len - 1; slash > path && *slash != '/'; slash--) {
        /* void */
    }

    *(slash > path ? slash : slash + 1) = '\0';

    if (ngx_file_info(path, &fi) == NGX_FILE_ERROR || !ngx_is_dir(&fi)) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: \"%V\" cannot be made: "
                      "\"%s\" is not a directory", &mcf->audit.dir, path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * finds the newest segment's last record: its seq and hash continue the
 * chain; a line cut short by a crash was never acknowledged and is cut
 */

static ngx_int_t
ngx_rtmp_compliance_audit_tail(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log, ngx_uint_t *recovered)
{
    u_char                       *p, *last, *line, *buf;
    off_t                         size, from;
    json_t                       *j, *seq, *hash;
    ssize_t                       n;
    ngx_fd_t                      fd;
    ngx_dir_t                     dir;
    ngx_int_t                     rc;
    ngx_rtmp_compliance_shctx_t  *sh;
    u_char                        newest[64], path[NGX_MAX_PATH];

    sh = mcf->sh;
    *recovered = 0;
    newest[0] = '\0';

    ngx_sprintf(path, "%V%Z", &mcf->audit.dir);

    if (ngx_open_dir((ngx_str_t *) &mcf->audit.dir, &dir) == NGX_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_open_dir_n " \"%s\" "
                      "failed", path);
        return NGX_ERROR;
    }

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&dir) == NGX_ERROR) {
            break;
        }

        n = ngx_de_namelen(&dir);
        p = ngx_de_name(&dir);

        if (n < 20 || n >= (ssize_t) sizeof(newest)
            || ngx_strncmp(p, "audit-", 6) != 0
            || ngx_strncmp(p + n - 6, ".jsonl", 6) != 0)
        {
            continue;
        }

        if (ngx_strcmp(p, newest) > 0) {
            ngx_cpystrn(newest, p, n + 1);
        }
    }

    ngx_close_dir(&dir);

    sh->audit_seq = 0;
    ngx_memset(sh->audit_prev, '0', sizeof(sh->audit_prev));

    if (newest[0] == '\0') {
        return NGX_OK;
    }

    ngx_cpystrn(sh->audit_segment, newest, sizeof(sh->audit_segment));

    ngx_sprintf(path, "%V/%s%Z", &mcf->audit.dir, newest);

    fd = ngx_open_file(path, NGX_FILE_RDWR, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_open_file_n " \"%s\" "
                      "failed", path);
        return NGX_ERROR;
    }

    size = lseek(fd, 0, SEEK_END);
    from = size > NGX_RTMP_COMPLIANCE_AUDIT_TAIL
           ? size - NGX_RTMP_COMPLIANCE_AUDIT_TAIL : 0;

    buf = ngx_alloc(NGX_RTMP_COMPLIANCE_AUDIT_TAIL + 1, log);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = pread(fd, buf, (size_t) (size - from), from);

    if (n != (ssize_t) (size - from)) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: reading \"%s\" failed", path);
        goto failed;
    }

    last = buf + n;

    /* a torn last line */

    if (n && last[-1] != '\n') {
        p = last;

        while (p > buf && p[-1] != '\n') {
            p--;
        }

        if (p == buf && from > 0) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "compliance_audit_log: the last line of \"%s\" "
                          "is longer than %d bytes", path,
                          NGX_RTMP_COMPLIANCE_AUDIT_TAIL);
            goto failed;
        }

        *recovered = last - p;

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "compliance_audit_log: \"%s\" ends with a partial "
                      "record of %ui bytes, cut", path, *recovered);

        if (ftruncate(fd, size - *recovered) == -1) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                          "compliance_audit_log: ftruncate(\"%s\") failed",
                          path);
            goto failed;
        }

        last = p;
    }

    if (last == buf) {
        /* an empty segment: nothing to continue from in it */
        ngx_free(buf);
        ngx_close_file(fd);
        return NGX_OK;
    }

    line = last - 1;

    while (line > buf && line[-1] != '\n') {
        line--;
    }

    j = json_loadb((char *) line, last - line - 1, 0, NULL);

    seq = j ? json_object_get(j, "seq") : NULL;
    hash = j ? json_object_get(j, "hash") : NULL;

    rc = NGX_ERROR;

    if (json_is_integer(seq) && json_integer_value(seq) > 0
        && json_is_string(hash) && json_string_length(hash) == 64
        && ngx_hextoi((u_char *) json_string_value(hash), 8) != NGX_ERROR)
    {
        sh->audit_seq = json_integer_value(seq);
        ngx_memcpy(sh->audit_prev, json_string_value(hash), 64);
        rc = NGX_OK;
    }

    json_decref(j);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_audit_log: the last record of \"%s\" "
                      "has no valid seq and hash; run "
                      "\"compliance-audit verify\" on the directory", path);
        goto failed;
    }

    ngx_free(buf);
    ngx_close_file(fd);

    return NGX_OK;

failed:

    ngx_free(buf);
    ngx_close_file(fd);

    return NGX_ERROR;
}


ngx_int_t
ngx_rtmp_compliance_audit_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf)
{
    json_t                       *f;
    ngx_rtmp_compliance_audit_t  *a;

    a = &mcf->audit;
    a->fd = NGX_INVALID_FILE;
    a->segment[0] = '\0';
    a->dirty = 0;

    if (a->dir.len == 0 || mcf->sh == NULL) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&mcf->shpool->mutex);

    if (mcf->sh->audit_start) {
        f = json_pack("{s:i}", "pid", (int) ngx_parent);

        if (f && mcf->sh->audit_recovered) {
            (void) json_object_set_new(f, "recovered_bytes",
                                   json_integer(mcf->sh->audit_recovered));
        }

        if (f == NULL
            || ngx_rtmp_compliance_audit_locked("audit.start", f, cycle->log)
               != NGX_OK)
        {
            ngx_log_error(NGX_LOG_CRIT, cycle->log, 0,
                          "compliance_audit_log: audit.start was not "
                          "written");
        }

        json_decref(f);
        mcf->sh->audit_start = 0;
    }

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_rtmp_compliance_audit_timers_start(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_rtmp_compliance_audit_t  *a;

    a = &mcf->audit;

    if (a->dir.len == 0 || a->fsync != NGX_RTMP_COMPLIANCE_FSYNC_BATCH
        || a->sync_ev.timer_set)
    {
        return NGX_OK;
    }

    a->sync_ev.handler = ngx_rtmp_compliance_audit_sync;
    a->sync_ev.log = cycle->log;
    a->sync_ev.data = mcf;
    a->sync_ev.cancelable = 1;

    ngx_add_timer(&a->sync_ev, NGX_RTMP_COMPLIANCE_AUDIT_SYNC);

    return NGX_OK;
}


void
ngx_rtmp_compliance_audit_exit_process(ngx_rtmp_compliance_main_conf_t *mcf)
{
    if (mcf->audit.fd != NGX_INVALID_FILE) {
        (void) fdatasync(mcf->audit.fd);
        ngx_close_file(mcf->audit.fd);
        mcf->audit.fd = NGX_INVALID_FILE;
    }
}


/* fsync=batch: what a worker wrote is durable within a second */

static void
ngx_rtmp_compliance_audit_sync(ngx_event_t *ev)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ev->data;

    if (mcf->audit.dirty && mcf->audit.fd != NGX_INVALID_FILE) {
        if (fdatasync(mcf->audit.fd) == -1) {
            ngx_log_error(NGX_LOG_ERR, ev->log, ngx_errno,
                          "compliance_audit_log: fdatasync() failed");
        }

        mcf->audit.dirty = 0;
    }

    ngx_add_timer(ev, NGX_RTMP_COMPLIANCE_AUDIT_SYNC);
}


/*
 * appends one record; the zone's mutex is held.  NGX_ERROR: the record
 * could not be written (counted, and the log is then "unavailable")
 */

static ngx_int_t
ngx_rtmp_compliance_audit_write_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    const char *event, json_t *fields, ngx_log_t *log)
{
    char                         *s;
    u_char                       *p, *line;
    size_t                        len;
    json_t                       *j, *v;
    ssize_t                       n;
    ngx_tm_t                      tm;
    ngx_msec_t                    ms;
    ngx_time_t                   *tp;
    const char                   *key;
    ngx_rtmp_compliance_audit_t  *a;
    ngx_rtmp_compliance_shctx_t  *sh;
    u_char                        ts[32], segment[32], md[SHA256_DIGEST_LENGTH];
    u_char                        path[NGX_MAX_PATH];

    a = &mcf->audit;
    sh = mcf->sh;

    tp = ngx_timeofday();
    ms = (ngx_msec_t) tp->sec * 1000 + tp->msec;

    /* one chain: time and segments never go back, whichever worker */

    if (ms < sh->audit_ms) {
        ms = sh->audit_ms;
    }

    ngx_gmtime((time_t) (ms / 1000), &tm);
    ngx_sprintf(ts, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ%Z",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                (ngx_msec_t) (ms % 1000));

    ngx_rtmp_compliance_audit_segment(a, ms, segment);

    if (ngx_strcmp(segment, sh->audit_segment) < 0) {
        ngx_cpystrn(segment, sh->audit_segment, sizeof(segment));
    }

    j = json_pack("{s:I, s:s, s:s, s:s%}",
                  "seq", (json_int_t) (sh->audit_seq + 1),
                  "ts", ts,
                  "event", event,
                  "node", a->node.data, a->node.len);
    if (j == NULL) {
        goto failed;
    }

    json_object_foreach(fields, key, v) {
        if (json_object_set(j, key, v) != 0) {
            json_decref(j);
            goto failed;
        }
    }

    if (json_object_set_new(j, "prev", json_stringn((char *) sh->audit_prev,
                                                    64))
        != 0)
    {
        json_decref(j);
        goto failed;
    }

    s = json_dumps(j, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(j);

    if (s == NULL) {
        goto failed;
    }

    len = ngx_strlen(s);

    if (EVP_Digest(s, len, md, NULL, ngx_rtmp_compliance_sha256(), NULL)
        != 1)
    {
        free(s);
        goto failed;
    }

    line = ngx_alloc(len + sizeof(",\"hash\":\"\"}\n") + 64, log);
    if (line == NULL) {
        free(s);
        goto failed;
    }

    p = ngx_cpymem(line, s, len - 1);
    free(s);

    p = ngx_cpymem(p, ",\"hash\":\"", sizeof(",\"hash\":\"") - 1);
    p = ngx_hex_dump(p, md, SHA256_DIGEST_LENGTH);
    p = ngx_cpymem(p, "\"}\n", 3);

    /* the segment */

    if (a->fd == NGX_INVALID_FILE || ngx_strcmp(segment, a->segment) != 0) {

        if (a->fd != NGX_INVALID_FILE) {
            (void) fdatasync(a->fd);
            ngx_close_file(a->fd);
            a->fd = NGX_INVALID_FILE;
        }

        ngx_sprintf(path, "%V/%s%Z", &a->dir, segment);

        a->fd = ngx_open_file(path, NGX_FILE_APPEND, NGX_FILE_CREATE_OR_OPEN,
                              0640);
        if (a->fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                          "compliance_audit_log: " ngx_open_file_n " \"%s\" "
                          "failed", path);
            ngx_free(line);
            goto failed;
        }

        ngx_cpystrn(a->segment, segment, sizeof(a->segment));
    }

    n = ngx_write_fd(a->fd, line, p - line);

    if (n >= 0 && n != p - line) {
        /* a short write sets no errno: a full disk is the usual cause */
        ngx_set_errno(NGX_ENOSPC);
    }

    if (n != p - line
        || (a->fsync == NGX_RTMP_COMPLIANCE_FSYNC_ALWAYS
            && fdatasync(a->fd) == -1))
    {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      "compliance_audit_log: writing \"%V/%s\" failed",
                      &a->dir, a->segment);

        if (n > 0) {
            /* leave no partial record behind */
            if (ftruncate(a->fd, lseek(a->fd, 0, SEEK_END) - n) == -1) {
                ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                              "compliance_audit_log: ftruncate() failed");
            }
        }

        ngx_close_file(a->fd);
        a->fd = NGX_INVALID_FILE;
        ngx_free(line);
        goto failed;
    }

    ngx_free(line);

    a->dirty = 1;

    sh->audit_seq++;
    ngx_hex_dump(sh->audit_prev, md, SHA256_DIGEST_LENGTH);
    sh->audit_ms = ms;
    ngx_cpystrn(sh->audit_segment, segment, sizeof(sh->audit_segment));
    sh->audit_records++;

    return NGX_OK;

failed:

    sh->audit_errors++;

    return NGX_ERROR;
}


/*
 * one record, the mutex held; after a failure the next record that can be
 * written is preceded by an audit.gap record counting what was lost
 */

ngx_int_t
ngx_rtmp_compliance_audit_locked(const char *event, json_t *fields,
    ngx_log_t *log)
{
    ngx_uint_t                        probe;
    json_t                           *gap;
    ngx_int_t                         rc;
    ngx_rtmp_compliance_shctx_t      *sh;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->sh == NULL || mcf->audit.dir.len == 0) {
        return NGX_OK;
    }

    sh = mcf->sh;

    /* the recheck timer's retry is no record of its own to lose */
    probe = (ngx_strcmp(event, "audit.resume") == 0);

    if (sh->audit_lost) {
        gap = json_pack("{s:I}", "lost", (json_int_t) sh->audit_lost);

        rc = gap ? ngx_rtmp_compliance_audit_write_locked(mcf, "audit.gap",
                                                          gap, log)
                 : NGX_ERROR;
        json_decref(gap);

        if (rc != NGX_OK) {
            sh->audit_lost += !probe;
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance_audit_log: writing again, %uL records "
                      "were lost", sh->audit_lost);

        sh->audit_lost = 0;
    }

    rc = ngx_rtmp_compliance_audit_write_locked(mcf, event, fields, log);

    if (rc != NGX_OK && !probe) {
        sh->audit_lost++;
    }

    return rc;
}


ngx_int_t
ngx_rtmp_compliance_audit(const char *event, json_t *fields, ngx_log_t *log)
{
    ngx_int_t                         rc;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->sh == NULL || mcf->audit.dir.len == 0) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&mcf->shpool->mutex);
    rc = ngx_rtmp_compliance_audit_locked(event, fields, log);
    ngx_shmtx_unlock(&mcf->shpool->mutex);

    return rc;
}


ngx_uint_t
ngx_rtmp_compliance_audit_enabled(void)
{
    return ngx_rtmp_compliance_main && ngx_rtmp_compliance_main->sh
           && ngx_rtmp_compliance_main->audit.dir.len;
}


/* with on_error=refuse, may sessions be admitted now? */

ngx_uint_t
ngx_rtmp_compliance_audit_available(void)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->sh == NULL || mcf->audit.dir.len == 0
        || !mcf->audit.refuse)
    {
        return 1;
    }

    return mcf->sh->audit_lost == 0;
}


/* the subjects of a session, as the records of its events carry them */

json_t *
ngx_rtmp_compliance_audit_session(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx)
{
    ngx_str_t                     *tier;
    ngx_rtmp_compliance_claims_t  *cl;
    u_char                         token[NGX_RTMP_COMPLIANCE_HASH_LEN + 8];

    cl = &ctx->claims;
    tier = ctx->tier ? &ctx->tier->name : &cl->tier;

    ngx_sprintf(token, "sha256:%s%Z", cl->hash[0] ? cl->hash
                                                  : (u_char *) "");

#define ngx_rtmp_compliance_js(str)                                       \
    (str).data ? (char *) (str).data : "", (size_t) (str).len

    return json_pack("{s:o, s:s%, s:s%, s:s%, s:s%, s:s%, s:s%, s:s%, s:b, "
                     "s:s%, s:s%, s:s%, s:s, s:s%}",
                     "session", ctx->node ? json_integer(ctx->id)
                                          : json_null(),
                     "app", ngx_rtmp_compliance_js(s->app),
                     "room", ngx_rtmp_compliance_js(ctx->room),
                     "host", ngx_rtmp_compliance_js(cl->sub),
                     "person", ngx_rtmp_compliance_js(cl->pid),
                     "op", ngx_rtmp_compliance_js(cl->op),
                     "mcn", ngx_rtmp_compliance_js(cl->mcn),
                     "tier", ngx_rtmp_compliance_js(*tier),
                     "ai", (int) cl->ai,
                     "idv", ngx_rtmp_compliance_js(cl->idv),
                     "jti", ngx_rtmp_compliance_js(cl->jti),
                     "kid", ngx_rtmp_compliance_js(cl->kid),
                     "token", cl->hash[0] ? (char *) token : "",
                     "addr", ngx_rtmp_compliance_js(s->connection->addr_text));
}
