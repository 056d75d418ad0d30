
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The state file: an append-only journal of order changes, one JSON
 * object a line:
 *
 *     {"op":"next","id":N}            the next order id
 *     {"op":"create","order":{...}}   an order, as GET orders/ID shows it
 *     {"op":"lift","id":N}            an order lifted
 *
 * Workers append a line and fdatasync() it before the API acknowledges
 * the change.  When a new zone is made (start, not reload), the master
 * reads the journal, skips a torn last line, drops expired orders and
 * writes a compacted journal to PATH.tmp, renamed over PATH.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <grp.h>
#include <sys/wait.h>
#include "ngx_rtmp_compliance_state.h"
#include "ngx_rtmp_compliance_order_json.h"


#define NGX_RTMP_COMPLIANCE_STATE_LINE_MAX  8192


static ngx_int_t ngx_rtmp_compliance_state_durable(
    ngx_rtmp_compliance_main_conf_t *mcf, json_t *j, ngx_log_t *log);
static ngx_uint_t ngx_rtmp_compliance_state_replay(
    ngx_rtmp_compliance_main_conf_t *mcf, u_char *buf, off_t size,
    time_t now, ngx_log_t *log);
static ngx_int_t ngx_rtmp_compliance_state_keep(
    ngx_rtmp_compliance_main_conf_t *mcf, off_t size, time_t now,
    ngx_log_t *log);
static ngx_int_t ngx_rtmp_compliance_state_apply(
    ngx_rtmp_compliance_main_conf_t *mcf, u_char *line, size_t len,
    time_t now, ngx_log_t *log);
static ngx_int_t ngx_rtmp_compliance_state_outbox(
    ngx_rtmp_compliance_main_conf_t *mcf, json_t *j, ngx_uint_t add);
static ngx_int_t ngx_rtmp_compliance_state_compact(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
static ngx_int_t ngx_rtmp_compliance_state_write(ngx_fd_t fd, json_t *j);
static ngx_int_t ngx_rtmp_compliance_state_regular(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
static ngx_int_t ngx_rtmp_compliance_state_compact_fleet(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_fd_t fd);
static int ngx_rtmp_compliance_workers_access(ngx_core_conf_t *ccf,
    u_char *path, ngx_uint_t made);


/*
 * a path the workers write (the state file, the audit log's directory)
 * must be theirs to write, as the user they run as ("user"), or the first
 * order fails with 500 state_unwritable and every publish with
 * audit_unavailable.  A child of the master takes that user's uid, gid
 * and groups, as a worker does, and asks access(2): it sees what a worker
 * would see (mode bits, groups, ACLs, a read-only mount, a directory on
 * the way it cannot search).  made: the master has made the path and
 * handed it to the user (start): it must be writable (a directory:
 * writable and searchable).  Else (nginx -t) a master running as root
 * makes it and hands it over at start, so only the directories on the
 * way must be searchable; one running as another user makes nothing:
 * the path must be writable, or where it is not there yet, its directory.
 */

ngx_int_t
ngx_rtmp_compliance_workers_can_write(ngx_cycle_t *cycle,
    const char *directive, ngx_str_t *path, ngx_uint_t made, ngx_log_t *log)
{
    int               status;
    u_char           *p;
    ngx_pid_t         pid;
    ngx_core_conf_t  *ccf;
    u_char            buf[NGX_MAX_PATH], user[64];

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (path->len == 0 || path->len >= NGX_MAX_PATH || ccf == NULL) {
        return NGX_OK;
    }

    p = ngx_cpymem(buf, path->data, path->len);
    *p = '\0';

    pid = fork();

    if (pid == -1) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "%s: fork() failed, \"%V\" is not checked for the "
                      "workers' user", directive, path);
        return NGX_OK;
    }

    if (pid == 0) {
        _exit(ngx_rtmp_compliance_workers_access(ccf, buf, made));
    }

    if (waitpid(pid, &status, 0) == -1) {
        /* reaped by the master's SIGCHLD handler: not known */
        return NGX_OK;
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return NGX_OK;
    }

    if (geteuid() == 0 && ccf->username) {
        ngx_snprintf(user, sizeof(user), "user \"%s\"%Z", ccf->username);

    } else {
        ngx_snprintf(user, sizeof(user), "uid %d, the master's%Z",
                     (int) geteuid());
    }

    user[sizeof(user) - 1] = '\0';

    ngx_log_error(NGX_LOG_EMERG, log,
                  WIFEXITED(status) ? WEXITSTATUS(status) : 0,
                  "%s: \"%V\" cannot be written by %s, that the workers "
                  "run as", directive, path, user);

    return NGX_ERROR;
}


/* in the child: 0, or the errno of the access() that failed */

static int
ngx_rtmp_compliance_workers_access(ngx_core_conf_t *ccf, u_char *path,
    ngx_uint_t made)
{
    int           mode;
    u_char       *slash;
    ngx_uint_t    root;
    struct stat   st;

    root = (geteuid() == 0);

    if (root && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        if (setgid(ccf->group) == -1
            || initgroups(ccf->username, ccf->group) == -1
            || setuid(ccf->user) == -1)
        {
            return 0;    /* a worker could not start either: nginx says */
        }
    }

    if (made || (!root && access((char *) path, F_OK) == 0)) {
        mode = W_OK;

        if (stat((char *) path, &st) == 0 && S_ISDIR(st.st_mode)) {
            mode |= X_OK;    /* files are made in it */
        }

        return access((char *) path, mode) == 0 ? 0
                                                : (errno ? errno : EACCES);
    }

    /* its directory */

    for (slash = path + ngx_strlen(path); slash > path; slash--) {
        if (*slash == '/') {
            break;
        }
    }

    if (*slash != '/') {
        path = (u_char *) ".";

    } else {
        *(slash == path ? slash + 1 : slash) = '\0';
    }

    return access((char *) path, root ? X_OK : W_OK|X_OK) == 0
           ? 0 : (errno ? errno : EACCES);
}


/*
 * nginx -t: the file is the running server's and is not loaded, but its
 * directory must be there and the file, if any, readable
 */

ngx_int_t
ngx_rtmp_compliance_state_test(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    u_char           *slash;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;
    u_char            dir[NGX_MAX_PATH];

    slash = ngx_strlchr(mcf->state.data, mcf->state.data + mcf->state.len,
                        '/');

    if (slash && mcf->state.len < NGX_MAX_PATH) {
        for (slash = mcf->state.data + mcf->state.len - 1; *slash != '/';
             slash--)
        { /* void */ }

        ngx_cpystrn(dir, mcf->state.data,
                    ngx_max(slash - mcf->state.data, 1) + 1);

        if (ngx_file_info(dir, &fi) == NGX_FILE_ERROR
            || !ngx_is_dir(&fi))
        {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                          "compliance_state: the directory of \"%V\" is "
                          "not usable: " ngx_file_info_n " \"%s\" failed",
                          &mcf->state, dir);
            return NGX_ERROR;
        }
    }

    if (ngx_rtmp_compliance_state_regular(mcf, log) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(mcf->state.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        if (ngx_errno == NGX_ENOENT) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_state: " ngx_open_file_n " \"%V\" "
                      "failed", &mcf->state);
        return NGX_ERROR;
    }

    ngx_close_file(fd);

    return NGX_OK;
}


ngx_int_t
ngx_rtmp_compliance_state_load(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    u_char           *buf;
    off_t             size;
    time_t            now;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_uint_t        bad;
    ngx_file_info_t   fi;

    now = ngx_time();

    if (ngx_rtmp_compliance_state_regular(mcf, log) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(mcf->state.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                          "compliance_state: " ngx_open_file_n " \"%V\" "
                          "failed", &mcf->state);
            return NGX_ERROR;
        }

        return ngx_rtmp_compliance_state_compact(mcf, log);
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_state: " ngx_fd_info_n " \"%V\" failed",
                      &mcf->state);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    size = ngx_file_size(&fi);

    buf = ngx_alloc((size_t) size + 1, log);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, (size_t) size);
    ngx_close_file(fd);

    if (n != (ssize_t) size) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_state: " ngx_read_fd_n " \"%V\" failed",
                      &mcf->state);
        ngx_free(buf);
        return NGX_ERROR;
    }

    bad = ngx_rtmp_compliance_state_replay(mcf, buf, size, now, log);

    ngx_free(buf);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "compliance_state: %ui orders in force loaded from "
                  "\"%V\"%s", mcf->zone->sh->norders, &mcf->state,
                  bad ? ", with errors" : "");

    if (bad) {
        mcf->zone->sh->state_errors += bad;

        if (ngx_rtmp_compliance_state_keep(mcf, size, now, log) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_rtmp_compliance_state_compact(mcf, log);
}


/* every record of the journal in buf; the number of bad ones */

static ngx_uint_t
ngx_rtmp_compliance_state_replay(ngx_rtmp_compliance_main_conf_t *mcf,
    u_char *buf, off_t size, time_t now, ngx_log_t *log)
{
    u_char      *p, *last, *nl;
    ngx_uint_t   lines, bad;

    lines = 0;
    bad = 0;
    last = buf + size;

    for (p = buf; p < last; p = nl + 1) {
        nl = ngx_strlchr(p, last, '\n');

        if (nl == NULL) {
            /* a record cut by a crash was never acknowledged */
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "compliance_state: \"%V\" ends with a partial "
                          "record of %uz bytes, ignored", &mcf->state,
                          (size_t) (last - p));
            break;
        }

        lines++;

        if (nl == p) {
            continue;
        }

        if (ngx_rtmp_compliance_state_apply(mcf, p, nl - p, now, log)
            != NGX_OK)
        {
            bad++;
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "compliance_state: \"%V\" line %ui is not a "
                          "valid record, skipped", &mcf->state, lines);
        }
    }

    return bad;
}


/* what could not be read is kept for the operator: PATH.corrupt.TIME */

static ngx_int_t
ngx_rtmp_compliance_state_keep(ngx_rtmp_compliance_main_conf_t *mcf,
    off_t size, time_t now, ngx_log_t *log)
{
    u_char           *buf;
    ngx_copy_file_t   cp;

    buf = ngx_alloc(mcf->state.len + sizeof(".corrupt.") + NGX_TIME_T_LEN,
                    log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(buf, "%V.corrupt.%T%Z", &mcf->state, now);

    cp.size = size;
    cp.buf_size = 65536;
    cp.access = NGX_FILE_OWNER_ACCESS;
    cp.time = -1;
    cp.log = log;

    if (ngx_copy_file(mcf->state.data, buf, &cp) != NGX_OK) {
        ngx_free(buf);
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "compliance_state: a copy of \"%V\" is kept as \"%s\"",
                  &mcf->state, buf);
    ngx_free(buf);

    return NGX_OK;
}


/*
 * the journal is a regular file or none yet: a directory would fail only
 * at read(), and a FIFO would block the master in open() for good
 */

static ngx_int_t
ngx_rtmp_compliance_state_regular(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    ngx_file_info_t  fi;

    if (ngx_file_info(mcf->state.data, &fi) == NGX_FILE_ERROR) {
        /* open() reports what went wrong */
        return NGX_OK;
    }

    if (!ngx_is_file(&fi)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_state: \"%V\" is not a regular file",
                      &mcf->state);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_state_apply(ngx_rtmp_compliance_main_conf_t *mcf,
    u_char *line, size_t len, time_t now, ngx_log_t *log)
{
    json_t                            *j, *v;
    ngx_int_t                          rc;
    const char                        *op;
    ngx_rtmp_compliance_order_t       *o;
    ngx_rtmp_compliance_order_spec_t   spec;
    u_char                             detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    j = json_loadb((char *) line, len, JSON_REJECT_DUPLICATES, NULL);

    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    v = json_object_get(j, "op");
    op = json_is_string(v) ? json_string_value(v) : "";

    if (ngx_strcmp(op, "create") == 0) {
        if (ngx_rtmp_compliance_order_parse(json_object_get(j, "order"),
                                            NGX_RTMP_COMPLIANCE_PARSE_STATE,
                                            &spec, now, detail,
                                            sizeof(detail))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0, "compliance_state: %s",
                          detail);
            goto done;
        }

        if (spec.id >= (uint64_t) INT64_MAX) {
            /* the next id would not be a JSON integer: not writable */
            ngx_log_error(NGX_LOG_ERR, log, 0, "compliance_state: order id "
                          "%uL is out of range", spec.id);
            goto done;
        }

        if (spec.id >= mcf->zone->sh->next_order) {
            mcf->zone->sh->next_order = spec.id + 1;
        }

        rc = NGX_OK;

        if ((spec.until && spec.until <= now)
            || ngx_rtmp_compliance_order_find_locked(mcf->zone, spec.id))
        {
            goto done;
        }

        if (ngx_rtmp_compliance_order_add_locked(mcf->zone, &spec) == NULL) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "compliance_state: the zone is too small for the "
                          "orders in \"%V\"", &mcf->state);
            rc = NGX_ERROR;
        }

    } else if (ngx_strcmp(op, "outbox") == 0
               || ngx_strcmp(op, "published") == 0)
    {
        rc = ngx_rtmp_compliance_state_outbox(mcf, j, op[0] == 'o');

    } else if (ngx_strcmp(op, "stream") == 0) {
        v = json_object_get(j, "id");

        if (json_is_string(v)
            && json_string_length(v) < NGX_RTMP_COMPLIANCE_STREAM_ID)
        {
            ngx_cpystrn(mcf->zone->sh->fleet_last_id,
                        (u_char *) json_string_value(v),
                        json_string_length(v) + 1);
            rc = NGX_OK;
        }

    } else if (ngx_strcmp(op, "lift") == 0 || ngx_strcmp(op, "next") == 0) {
        v = json_object_get(j, "id");

        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            goto done;
        }

        rc = NGX_OK;

        if (op[0] == 'n') {
            if ((uint64_t) json_integer_value(v) > mcf->zone->sh->next_order) {
                mcf->zone->sh->next_order = json_integer_value(v);
            }

            goto done;
        }

        o = ngx_rtmp_compliance_order_find_locked(mcf->zone,
                                                  json_integer_value(v));
        if (o) {
            ngx_rtmp_compliance_order_delete_locked(mcf->zone, o);
        }
    }

done:

    json_decref(j);

    return rc;
}


/* an outbox record: an order change to publish, or one published */

static ngx_int_t
ngx_rtmp_compliance_state_outbox(ngx_rtmp_compliance_main_conf_t *mcf,
    json_t *j, ngx_uint_t add)
{
    char        *s;
    json_t      *w, *u, *o;
    ngx_int_t    rc;
    ngx_str_t    uid, json;
    ngx_uint_t   what;

    w = json_object_get(j, "what");
    u = json_object_get(j, "uid");

    if (!json_is_string(w) || !json_is_string(u)
        || json_string_length(u) == 0
        || json_string_length(u) > NGX_RTMP_COMPLIANCE_UID_MAX)
    {
        return NGX_ERROR;
    }

    if (ngx_strcmp(json_string_value(w), "create") == 0) {
        what = NGX_RTMP_COMPLIANCE_FLEET_CREATE;

    } else if (ngx_strcmp(json_string_value(w), "lift") == 0) {
        what = NGX_RTMP_COMPLIANCE_FLEET_LIFT;

    } else {
        return NGX_ERROR;
    }

    uid.data = (u_char *) json_string_value(u);
    uid.len = json_string_length(u);

    /* one entry per change: a repeated record replaces the earlier one */
    ngx_rtmp_compliance_outbox_remove_locked(mcf->zone, what, &uid);

    if (!add) {
        return NGX_OK;
    }

    o = json_object_get(j, "order");

    if (o) {
        s = json_dumps(o, JSON_COMPACT);

    } else {
        /* none given: the empty object of a lift, not leaked */
        o = json_object();
        s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }

    if (s == NULL) {
        return NGX_ERROR;
    }

    json.data = (u_char *) s;
    json.len = ngx_strlen(s);

    rc = ngx_rtmp_compliance_outbox_add_locked(mcf->zone, what, &uid, &json);

    free(s);

    return rc;
}


/* rewrite the journal with the orders in force */

static ngx_int_t
ngx_rtmp_compliance_state_compact(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    u_char                       *tmp;
    json_t                       *j;
    ngx_fd_t                      fd;
    ngx_int_t                     rc;
    ngx_rbtree_node_t            *node, *root, *sentinel;
    ngx_core_conf_t              *ccf;
    ngx_rtmp_compliance_order_t  *o;

    tmp = ngx_alloc(mcf->state.len + sizeof(".tmp"), log);
    if (tmp == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(tmp, "%V.tmp%Z", &mcf->state);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_OWNER_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_state: " ngx_open_file_n " \"%s\" failed",
                      tmp);
        ngx_free(tmp);
        return NGX_ERROR;
    }

    rc = NGX_OK;

    j = json_pack("{s:s, s:I}", "op", "next", "id",
                  (json_int_t) mcf->zone->sh->next_order);

    if (ngx_rtmp_compliance_state_write(fd, j) != NGX_OK) {
        rc = NGX_ERROR;
    }

    json_decref(j);

    root = mcf->zone->sh->orders.root;
    sentinel = mcf->zone->sh->orders.sentinel;

    if (rc == NGX_OK && root != sentinel) {
        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&mcf->zone->sh->orders, node))
        {
            o = (ngx_rtmp_compliance_order_t *) node;

            j = json_pack("{s:s, s:o}", "op", "create",
                          "order", ngx_rtmp_compliance_order_json(o));

            if (ngx_rtmp_compliance_state_write(fd, j) != NGX_OK) {
                json_decref(j);
                rc = NGX_ERROR;
                break;
            }

            json_decref(j);
        }
    }

    if (rc == NGX_OK && mcf->zone->fleet) {
        rc = ngx_rtmp_compliance_state_compact_fleet(mcf, fd);
    }

    if (rc == NGX_OK && fsync(fd) == -1) {
        rc = NGX_ERROR;
    }

    if (rc == NGX_OK && geteuid() == 0) {
        ccf = (ngx_core_conf_t *) ngx_get_conf(mcf->cycle->conf_ctx,
                                               ngx_core_module);

        if (ccf && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT
            && fchown(fd, ccf->user, ccf->group) == -1)
        {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "compliance_state: fchown(\"%s\") failed", tmp);
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        rc = NGX_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_state: writing \"%s\" failed", tmp);
        ngx_free(tmp);
        return NGX_ERROR;
    }

    if (ngx_rename_file(tmp, mcf->state.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_state: " ngx_rename_file_n " \"%s\" to "
                      "\"%V\" failed", tmp, &mcf->state);
        ngx_free(tmp);
        return NGX_ERROR;
    }

    ngx_free(tmp);

    return NGX_OK;
}


/* the fleet's part of a compacted journal: the stream id, the outbox */

static ngx_int_t
ngx_rtmp_compliance_state_compact_fleet(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_fd_t fd)
{
    json_t                        *j, *o;
    ngx_int_t                      rc;
    ngx_queue_t                   *q;
    ngx_rtmp_compliance_outbox_t  *e;

    j = json_pack("{s:s, s:s}", "op", "stream", "id",
                  mcf->zone->sh->fleet_last_id);

    rc = ngx_rtmp_compliance_state_write(fd, j);
    json_decref(j);

    for (q = ngx_queue_head(&mcf->zone->sh->outbox);
         rc == NGX_OK && q != ngx_queue_sentinel(&mcf->zone->sh->outbox);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_rtmp_compliance_outbox_t, queue);

        o = json_loadb((char *) e->data + e->uid_len, e->json_len, 0, NULL);

        j = json_pack("{s:s, s:s, s:s%, s:o}", "op", "outbox",
                      "what", e->what == NGX_RTMP_COMPLIANCE_FLEET_CREATE
                              ? "create" : "lift",
                      "uid", e->data, e->uid_len,
                      "order", o ? o : json_object());

        rc = ngx_rtmp_compliance_state_write(fd, j);
        json_decref(j);
    }

    return rc;
}


static ngx_int_t
ngx_rtmp_compliance_state_write(ngx_fd_t fd, json_t *j)
{
    char     *s;
    size_t    len;
    ssize_t   n;
    ngx_int_t rc;

    if (j == NULL) {
        return NGX_ERROR;
    }

    s = json_dumps(j, JSON_COMPACT);
    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);
    s[len] = '\n';          /* json_dumps leaves room for its NUL */

    n = ngx_write_fd(fd, s, len + 1);
    rc = (n == (ssize_t) len + 1) ? NGX_OK : NGX_ERROR;

    if (n >= 0 && rc != NGX_OK) {
        /* a short write sets no errno: a full disk is the usual cause */
        ngx_set_errno(NGX_ENOSPC);
    }

    free(s);

    return rc;
}


/*
 * a worker appends a change and makes it durable; the zone's mutex is
 * held, so lines are in the zone's order.  j is freed after (NULL: the
 * caller could not make it, an error)
 */

ngx_int_t
ngx_rtmp_compliance_state_append(ngx_rtmp_compliance_main_conf_t *mcf,
    json_t *j, ngx_log_t *log)
{
    ngx_int_t  rc;

    rc = j ? ngx_rtmp_compliance_state_durable(mcf, j, log) : NGX_ERROR;

    json_decref(j);

    return rc;
}


static ngx_int_t
ngx_rtmp_compliance_state_durable(ngx_rtmp_compliance_main_conf_t *mcf,
    json_t *j, ngx_log_t *log)
{
    off_t            size;
    ngx_err_t        err;
    ngx_file_info_t  fi, ofi;

    if (mcf->state.len == 0) {
        return NGX_OK;
    }

    /* the file may have been replaced (a new master compacted it) */

    if (mcf->state_fd != NGX_INVALID_FILE
        && (ngx_file_info(mcf->state.data, &fi) == NGX_FILE_ERROR
            || ngx_fd_info(mcf->state_fd, &ofi) == NGX_FILE_ERROR
            || ngx_file_uniq(&fi) != ngx_file_uniq(&ofi)))
    {
        ngx_close_file(mcf->state_fd);
        mcf->state_fd = NGX_INVALID_FILE;
    }

    if (mcf->state_fd == NGX_INVALID_FILE) {
        mcf->state_fd = ngx_open_file(mcf->state.data, NGX_FILE_APPEND,
                                      NGX_FILE_CREATE_OR_OPEN,
                                      NGX_FILE_OWNER_ACCESS);
        if (mcf->state_fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "compliance_state: " ngx_open_file_n " \"%V\" "
                          "failed", &mcf->state);
            mcf->zone->sh->state_errors++;
            return NGX_ERROR;
        }
    }

    size = lseek(mcf->state_fd, 0, SEEK_END);

    if (size == -1
        || ngx_rtmp_compliance_state_write(mcf->state_fd, j) != NGX_OK
        || fdatasync(mcf->state_fd) == -1)
    {
        err = ngx_errno;

        /* a record cut short must not swallow the next one */

        if (size != -1 && ftruncate(mcf->state_fd, size) == -1) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "compliance_state: ftruncate(\"%V\") failed",
                          &mcf->state);
        }

        ngx_log_error(NGX_LOG_ERR, log, err,
                      "compliance_state: writing \"%V\" failed",
                      &mcf->state);

        ngx_close_file(mcf->state_fd);
        mcf->state_fd = NGX_INVALID_FILE;
        mcf->zone->sh->state_errors++;
        return NGX_ERROR;
    }

    return NGX_OK;
}
