
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The fleet: orders reach every ingest node through a Redis Stream.
 *
 * One worker per node (the first to claim it in the zone; another takes
 * over when it dies) holds the node's one connection to Redis, driven by
 * hiredis' async API in nginx's event loop.  It publishes the orders made
 * through this node's API (an outbox in the zone, journalled in the state
 * file, so what was made while Redis was away goes out when it is back)
 * and reads the stream from the last id it applied (kept in the zone and
 * the state file), applying every order change to the zone.  Admission
 * never waits on Redis: orders are enforced from the zone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include "ngx_rtmp_compliance_fleet.h"
#include "ngx_rtmp_compliance_file.h"
#include "ngx_rtmp_compliance_state.h"
#include "ngx_rtmp_compliance_order_json.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_audit_format.h"
#include "ngx_rtmp_compliance_witness.h"


#define NGX_RTMP_COMPLIANCE_FLEET_BLOCK     100      /* XREAD, ms */
#define NGX_RTMP_COMPLIANCE_FLEET_COUNT     100
#define NGX_RTMP_COMPLIANCE_FLEET_BACKOFF   30000    /* ms, at most */
#define NGX_RTMP_COMPLIANCE_FLEET_TIMEOUT   3000     /* ms, default */
#define NGX_RTMP_COMPLIANCE_LOCK_KEY_MAX    (3 * NGX_RTMP_COMPLIANCE_CLAIM_MAX)
#define NGX_RTMP_COMPLIANCE_LOCK_VALUE_MAX  (3 * NGX_RTMP_COMPLIANCE_CLAIM_MAX)


typedef struct {
    redisAsyncContext              *ac;
    ngx_connection_t               *c;
} ngx_rtmp_compliance_redis_t;


/* a lock command in flight: what its answer is about */

typedef struct {
    uint64_t                        id;          /* the session */
    ngx_uint_t                      op;
    size_t                          key_len;
    size_t                          value_len;
    u_char                          data[1];     /* key value */
} ngx_rtmp_compliance_lock_cmd_t;


static ngx_int_t ngx_rtmp_compliance_redis_address(ngx_conf_t *cf,
    ngx_rtmp_compliance_fleet_t *fl, ngx_str_t *addr);
static ngx_int_t ngx_rtmp_compliance_redis_password(ngx_conf_t *cf,
    ngx_rtmp_compliance_fleet_t *fl, ngx_str_t *file);
static void ngx_rtmp_compliance_fleet_lock_names(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_session_t *ss,
    u_char *kbuf, ngx_str_t *key, u_char *vbuf, ngx_str_t *value);
static void ngx_rtmp_compliance_fleet_locks(
    ngx_rtmp_compliance_main_conf_t *mcf, redisAsyncContext *ac);
static ngx_rtmp_compliance_lock_cmd_t *ngx_rtmp_compliance_fleet_lock_cmd(
    uint64_t id, ngx_uint_t op, ngx_str_t *key, ngx_str_t *value);
static void ngx_rtmp_compliance_fleet_lock_send(
    ngx_rtmp_compliance_main_conf_t *mcf, redisAsyncContext *ac,
    ngx_rtmp_compliance_lock_cmd_t *c);
static ngx_uint_t ngx_rtmp_compliance_fleet_takeover(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_lock_cmd_t *c);
static void ngx_rtmp_compliance_fleet_on_lock(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_rtmp_compliance_fleet_tick(ngx_event_t *ev);
static void ngx_rtmp_compliance_fleet_connect(
    ngx_rtmp_compliance_main_conf_t *mcf);
static void ngx_rtmp_compliance_fleet_release(
    ngx_rtmp_compliance_main_conf_t *mcf);
static void ngx_rtmp_compliance_fleet_reconnect(ngx_event_t *ev);
static void ngx_rtmp_compliance_fleet_wait(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_msec_t extra);
static void ngx_rtmp_compliance_fleet_timeout(ngx_event_t *ev);
static void ngx_rtmp_compliance_fleet_down(
    ngx_rtmp_compliance_main_conf_t *mcf, const char *why);
static void ngx_rtmp_compliance_fleet_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_rtmp_compliance_fleet_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_rtmp_compliance_fleet_next(
    ngx_rtmp_compliance_main_conf_t *mcf);
static void ngx_rtmp_compliance_fleet_on_xadd(redisAsyncContext *ac,
    void *r, void *privdata);
static ngx_int_t ngx_rtmp_compliance_fleet_checkpoint(
    ngx_rtmp_compliance_main_conf_t *mcf, redisAsyncContext *ac);
static void ngx_rtmp_compliance_fleet_on_checkpoint(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_rtmp_compliance_fleet_witness_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_str_t *id, redisReply *kv);
static void ngx_rtmp_compliance_fleet_on_xread(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_rtmp_compliance_fleet_close(void);
static redisReply *ngx_rtmp_compliance_fleet_reply(redisAsyncContext *ac,
    void *r, const char *what, ngx_uint_t reconnect);
static void ngx_rtmp_compliance_fleet_on_setup(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_rtmp_compliance_fleet_own_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_str_t *uid);
static void ngx_rtmp_compliance_fleet_apply_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, redisReply *entry, time_t now);
static void ngx_rtmp_compliance_fleet_read_handler(ngx_event_t *ev);
static void ngx_rtmp_compliance_fleet_write_handler(ngx_event_t *ev);
static void ngx_rtmp_compliance_fleet_event(void *privdata,
    ngx_uint_t write, ngx_uint_t add);
static void ngx_rtmp_compliance_fleet_add_read(void *privdata);
static void ngx_rtmp_compliance_fleet_del_read(void *privdata);
static void ngx_rtmp_compliance_fleet_add_write(void *privdata);
static void ngx_rtmp_compliance_fleet_del_write(void *privdata);
static void ngx_rtmp_compliance_fleet_cleanup(void *privdata);


static ngx_rtmp_compliance_redis_t   ngx_rtmp_compliance_conn;
static ngx_event_t                   ngx_rtmp_compliance_fleet_tick_ev;
static ngx_event_t                   ngx_rtmp_compliance_fleet_ev;
static ngx_event_t                   ngx_rtmp_compliance_fleet_wd;
static ngx_msec_t                    ngx_rtmp_compliance_fleet_backoff;
static uint64_t                      ngx_rtmp_compliance_fleet_ck_seq;


/*
 * compliance_redis HOST:PORT|unix:PATH [key=PREFIX] [password=FILE]
 *     [db=N]
 */

char *
ngx_rtmp_compliance_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_compliance_main_conf_t *mcf = conf;

    u_char                       *p;
    ngx_str_t                    *value, prefix, file;
    ngx_uint_t                    i;
    ngx_rtmp_compliance_fleet_t  *fl;

    fl = mcf->fleet;

    if (fl->enabled) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_str_set(&prefix, "compliance");
    fl->db = 0;

    if (ngx_rtmp_compliance_redis_address(cf, fl, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0
            && value[i].len > 4 && value[i].len < 128)
        {
            prefix.data = value[i].data + 4;
            prefix.len = value[i].len - 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            file.data = value[i].data + 8;
            file.len = value[i].len - 8;

            fl->timeout = ngx_parse_time(&file, 0);
            if (fl->timeout == (ngx_msec_t) NGX_ERROR || fl->timeout < 100) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "compliance_redis: \"%V\" is not a time "
                                   "of 100ms or more", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "room_lock=", 10) == 0) {
            file.data = value[i].data + 10;
            file.len = value[i].len - 10;

            if (file.len == 2 && ngx_strncmp(file.data, "on", 2) == 0) {
                fl->room_lock = 1;

            } else if (file.len == 3
                       && ngx_strncmp(file.data, "off", 3) == 0)
            {
                fl->room_lock = 0;

            } else {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            fl->db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (fl->db == NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            file.data = value[i].data + 9;
            file.len = value[i].len - 9;

            if (ngx_rtmp_compliance_redis_password(cf, fl, &file)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (fl->timeout == 0) {
        fl->timeout = NGX_RTMP_COMPLIANCE_FLEET_TIMEOUT;
    }

    fl->key.len = prefix.len + sizeof(":orders") - 1;
    fl->key.data = ngx_pnalloc(cf->pool, fl->key.len + 1);
    if (fl->key.data == NULL) {
        return NGX_CONF_ERROR;
    }

    fl->prefix = prefix;

    p = ngx_cpymem(fl->key.data, prefix.data, prefix.len);
    ngx_memcpy(p, ":orders", sizeof(":orders"));

    fl->enabled = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * HOST:PORT, resolved now (hiredis would resolve a name with a blocking
 * call), or unix:PATH
 */

static ngx_int_t
ngx_rtmp_compliance_redis_address(ngx_conf_t *cf,
    ngx_rtmp_compliance_fleet_t *fl, ngx_str_t *addr)
{
    ngx_url_t  u;

    if (ngx_strncmp(addr->data, "unix:", 5) == 0) {
        fl->unix_path.len = addr->len - 5;
        fl->unix_path.data = ngx_pnalloc(cf->pool, fl->unix_path.len + 1);
        if (fl->unix_path.data == NULL) {
            return NGX_ERROR;
        }

        ngx_cpystrn(fl->unix_path.data, addr->data + 5,
                    fl->unix_path.len + 1);

    } else {
        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = *addr;
        u.default_port = 6379;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid Redis address \"%V\"%s%s",
                               addr, u.err ? ": " : "",
                               u.err ? u.err : "");
            return NGX_ERROR;
        }

        fl->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (fl->host.data == NULL) {
            return NGX_ERROR;
        }

        fl->host.len = ngx_sock_ntop(u.addrs[0].sockaddr,
                                     u.addrs[0].socklen, fl->host.data,
                                     NGX_SOCKADDR_STRLEN, 0);
        fl->host.data[fl->host.len] = '\0';
        fl->port = u.port;
    }

    return NGX_OK;
}


/* password=FILE: the password is the file's first line */

static ngx_int_t
ngx_rtmp_compliance_redis_password(ngx_conf_t *cf,
    ngx_rtmp_compliance_fleet_t *fl, ngx_str_t *file)
{
    u_char  *p, *last;
    size_t   size;

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_rtmp_compliance_file_read(cf, file, 255, "Redis password",
                                      &size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = p + size;

    while (last > p && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    if (last == p) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis password file \"%V\" is empty", file);
        return NGX_ERROR;
    }

    fl->password.data = p;
    fl->password.len = last - p;

    return NGX_OK;
}


/*
 * an order change made through this node's API goes to the outbox and
 * the state file; the zone's mutex is held
 */

ngx_int_t
ngx_rtmp_compliance_fleet_publish_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_uint_t what,
    ngx_rtmp_compliance_order_t *o, ngx_log_t *log)
{
    char       *s;
    json_t     *j, *rec;
    ngx_int_t   rc;
    ngx_str_t   uid, json;

    if (!mcf->fleet->enabled) {
        return NGX_OK;
    }

    uid.data = ngx_rtmp_compliance_order_uid(o);
    uid.len = o->uid_len;

    j = (what == NGX_RTMP_COMPLIANCE_FLEET_CREATE)
        ? ngx_rtmp_compliance_order_json(o) : json_object();
    if (j == NULL) {
        return NGX_ERROR;
    }

    /* the id is this node's own; the others make theirs */
    (void) json_object_del(j, "id");

    s = json_dumps(j, JSON_COMPACT);
    rec = s ? json_pack("{s:s, s:s, s:s%, s:O}", "op", "outbox",
                        "what", what == NGX_RTMP_COMPLIANCE_FLEET_CREATE
                                ? "create" : "lift",
                        "uid", uid.data, uid.len, "order", j)
            : NULL;

    rc = ngx_rtmp_compliance_state_append(mcf, rec, log);

    json_decref(j);

    if (rc == NGX_OK) {
        json.data = (u_char *) s;
        json.len = ngx_strlen(s);

        rc = ngx_rtmp_compliance_outbox_add_locked(mcf->zone, what, &uid,
                                                   &json);
    }

    free(s);

    return rc;
}


/* -- the connection: one per node, in the worker that owns it -- */

ngx_int_t
ngx_rtmp_compliance_fleet_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_event_t  *ev;

    if (!mcf->fleet->enabled || mcf->zone == NULL || !mcf->enabled) {
        return NGX_OK;
    }

    ev = &ngx_rtmp_compliance_fleet_tick_ev;

    ev->handler = ngx_rtmp_compliance_fleet_tick;
    ev->log = cycle->log;
    ev->data = mcf;
    ev->cancelable = 1;

    ngx_add_timer(ev, mcf->recheck);

    return NGX_OK;
}


/*
 * every compliance_recheck: the worker that owns the node's connection
 * keeps it up, another takes it over from a worker that died; the owner's
 * tick is not cancelable, so that a worker that stops hands it over
 */

static void
ngx_rtmp_compliance_fleet_tick(ngx_event_t *ev)
{
    ngx_pid_t                         owner;
    ngx_rtmp_compliance_shctx_t      *sh;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ev->data;

    if (ngx_exiting) {
        /* an old worker after a reload: the new ones take over */

        ngx_rtmp_compliance_fleet_close();
        ngx_rtmp_compliance_fleet_release(mcf);
        return;
    }

    sh = mcf->zone->sh;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    owner = sh->fleet_owner;

    if (owner != ngx_pid
        && (owner == 0 || (kill(owner, 0) == -1 && ngx_errno == NGX_ESRCH)))
    {
        sh->fleet_owner = ngx_pid;
        sh->fleet_connected = 0;
        owner = ngx_pid;

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "compliance_redis: worker %P holds this node's "
                      "connection", ngx_pid);
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (owner == ngx_pid && ngx_rtmp_compliance_conn.ac == NULL
        && !ngx_rtmp_compliance_fleet_ev.timer_set)
    {
        ngx_rtmp_compliance_fleet_connect(mcf);
    }

    ev->cancelable = (owner != ngx_pid);

    ngx_add_timer(ev, mcf->recheck);
}


static void
ngx_rtmp_compliance_fleet_release(ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (mcf->zone->sh->fleet_owner == ngx_pid) {
        mcf->zone->sh->fleet_owner = 0;
        mcf->zone->sh->fleet_connected = 0;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
}


void
ngx_rtmp_compliance_fleet_exit(ngx_rtmp_compliance_main_conf_t *mcf)
{
    if (!mcf->fleet->enabled || mcf->zone->sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (mcf->zone->sh->fleet_owner == ngx_pid) {
        mcf->zone->sh->fleet_owner = 0;
        mcf->zone->sh->fleet_connected = 0;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (ngx_rtmp_compliance_fleet_ev.timer_set) {
        ngx_del_timer(&ngx_rtmp_compliance_fleet_ev);
    }

    ngx_rtmp_compliance_fleet_close();
}


/* this worker's connection closed, with no reconnection: the worker goes */

static void
ngx_rtmp_compliance_fleet_close(void)
{
    if (ngx_rtmp_compliance_conn.ac) {
        ngx_rtmp_compliance_conn.ac->onDisconnect = NULL;
        redisAsyncFree(ngx_rtmp_compliance_conn.ac);
        ngx_rtmp_compliance_conn.ac = NULL;
    }

    if (ngx_rtmp_compliance_fleet_wd.timer_set) {
        ngx_del_timer(&ngx_rtmp_compliance_fleet_wd);
    }
}


static void
ngx_rtmp_compliance_fleet_connect(ngx_rtmp_compliance_main_conf_t *mcf)
{
    redisAsyncContext            *ac;
    ngx_connection_t             *c;
    ngx_rtmp_compliance_fleet_t  *fl;

    fl = mcf->fleet;

    ngx_rtmp_compliance_fleet_ev.handler = ngx_rtmp_compliance_fleet_reconnect;
    ngx_rtmp_compliance_fleet_ev.data = mcf;
    ngx_rtmp_compliance_fleet_ev.log = ngx_cycle->log;
    ngx_rtmp_compliance_fleet_ev.cancelable = 1;

    ngx_rtmp_compliance_fleet_wd.handler = ngx_rtmp_compliance_fleet_timeout;
    ngx_rtmp_compliance_fleet_wd.data = mcf;
    ngx_rtmp_compliance_fleet_wd.log = ngx_cycle->log;
    ngx_rtmp_compliance_fleet_wd.cancelable = 1;

    if (fl->unix_path.len) {
        ac = redisAsyncConnectUnix((char *) fl->unix_path.data);

    } else {
        ac = redisAsyncConnect((char *) fl->host.data, fl->port);
    }

    if (ac == NULL) {
        ngx_rtmp_compliance_fleet_down(mcf, "out of memory");
        return;
    }

    if (ac->err) {
        ngx_rtmp_compliance_fleet_down(mcf, ac->errstr);
        redisAsyncFree(ac);
        return;
    }

    c = ngx_get_connection(ac->c.fd, ngx_cycle->log);
    if (c == NULL) {
        ngx_rtmp_compliance_fleet_down(mcf, "no free connection");
        redisAsyncFree(ac);
        return;
    }

    c->data = mcf;
    c->read->handler = ngx_rtmp_compliance_fleet_read_handler;
    c->write->handler = ngx_rtmp_compliance_fleet_write_handler;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;

    ngx_rtmp_compliance_conn.ac = ac;
    ngx_rtmp_compliance_conn.c = c;

    ac->data = mcf;
    ac->ev.data = &ngx_rtmp_compliance_conn;
    ac->ev.addRead = ngx_rtmp_compliance_fleet_add_read;
    ac->ev.delRead = ngx_rtmp_compliance_fleet_del_read;
    ac->ev.addWrite = ngx_rtmp_compliance_fleet_add_write;
    ac->ev.delWrite = ngx_rtmp_compliance_fleet_del_write;
    ac->ev.cleanup = ngx_rtmp_compliance_fleet_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_rtmp_compliance_fleet_on_connect);
    redisAsyncSetDisconnectCallback(ac,
                                    ngx_rtmp_compliance_fleet_on_disconnect);

    /* hiredis waits for the connect by asking for write readiness */
    ngx_rtmp_compliance_fleet_add_write(&ngx_rtmp_compliance_conn);

    ngx_rtmp_compliance_fleet_wait(mcf, 0);
}


/*
 * Redis must answer each command within the timeout (XREAD: after its
 * block): a Redis that hangs (stopped, swapping, a network that drops
 * packets without a reset) is an outage like a closed connection, not a
 * silence that leaves the node deaf to the fleet
 */

static void
ngx_rtmp_compliance_fleet_wait(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_msec_t extra)
{
    ngx_add_timer(&ngx_rtmp_compliance_fleet_wd, mcf->fleet->timeout + extra);
}


static void
ngx_rtmp_compliance_fleet_timeout(ngx_event_t *ev)
{
    redisAsyncContext                *ac;
    ngx_rtmp_compliance_main_conf_t  *mcf;
    char                              why[64];

    mcf = ev->data;
    ac = ngx_rtmp_compliance_conn.ac;

    if (ac == NULL) {
        return;
    }

    /* the outage is reported here: no disconnect callback */

    ac->onDisconnect = NULL;
    ngx_rtmp_compliance_conn.ac = NULL;
    redisAsyncFree(ac);

    ngx_snprintf((u_char *) why, sizeof(why), "no answer within %M ms%Z",
                 mcf->fleet->timeout);

    ngx_rtmp_compliance_fleet_down(mcf, why);
}


static void
ngx_rtmp_compliance_fleet_reconnect(ngx_event_t *ev)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ev->data;

    if (ngx_rtmp_compliance_conn.ac == NULL && !ngx_exiting) {
        ngx_rtmp_compliance_fleet_connect(mcf);
    }
}


/* logged once per outage, then retried with backoff */

static void
ngx_rtmp_compliance_fleet_down(ngx_rtmp_compliance_main_conf_t *mcf,
    const char *why)
{
    ngx_rtmp_compliance_shctx_t  *sh;

    sh = mcf->zone->sh;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (!sh->fleet_down_logged) {
        sh->fleet_down_logged = 1;

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "compliance_redis: Redis is unreachable (%s); this "
                      "node keeps enforcing its orders and retries", why);
    }

    sh->fleet_connected = 0;

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    ngx_rtmp_compliance_fleet_backoff = ngx_rtmp_compliance_fleet_backoff
        ? ngx_min(2 * ngx_rtmp_compliance_fleet_backoff,
                  NGX_RTMP_COMPLIANCE_FLEET_BACKOFF)
        : 1000;

    if (!ngx_exiting && !ngx_rtmp_compliance_fleet_ev.timer_set) {
        ngx_rtmp_compliance_fleet_ev.handler =
                                          ngx_rtmp_compliance_fleet_reconnect;
        ngx_rtmp_compliance_fleet_ev.data = mcf;
        ngx_rtmp_compliance_fleet_ev.log = ngx_cycle->log;
        ngx_rtmp_compliance_fleet_ev.cancelable = 1;

        ngx_add_timer(&ngx_rtmp_compliance_fleet_ev,
                      ngx_rtmp_compliance_fleet_backoff);
    }
}


static void
ngx_rtmp_compliance_fleet_on_connect(const redisAsyncContext *cac,
    int status)
{
    redisAsyncContext                *ac;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    ac = (redisAsyncContext *) cac;
    mcf = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        ngx_rtmp_compliance_conn.ac = NULL;
        ngx_rtmp_compliance_fleet_down(mcf, ac->errstr);
        return;
    }

    if (mcf->fleet->password.len) {
        redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_setup, NULL,
                          "AUTH %b", mcf->fleet->password.data,
                          mcf->fleet->password.len);
    }

    if (mcf->fleet->db) {
        redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_setup, NULL,
                          "SELECT %d", (int) mcf->fleet->db);
    }

    redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_setup, mcf, "PING");

    ngx_rtmp_compliance_fleet_wait(mcf, 0);
}


/*
 * a command's reply; NULL when there is none (the connection is gone) or
 * it is an error, which is logged naming WHAT and, where RECONNECT is
 * set, ends the connection (to reconnect with backoff)
 */

static redisReply *
ngx_rtmp_compliance_fleet_reply(redisAsyncContext *ac, void *r,
    const char *what, ngx_uint_t reconnect)
{
    redisReply  *reply = r;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return reply;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0, "compliance_redis: %s%*s",
                  what, (size_t) reply->len, reply->str);

    if (reconnect) {
        redisAsyncDisconnect(ac);
    }

    return NULL;
}


/* AUTH, SELECT, then PING: its answer starts the work */

static void
ngx_rtmp_compliance_fleet_on_setup(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                       *reply;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    reply = ngx_rtmp_compliance_fleet_reply(ac, r, "", 1);
    mcf = ac->data;

    if (reply == NULL || privdata == NULL) {
        return;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    mcf->zone->sh->fleet_connected = 1;

    if (mcf->zone->sh->fleet_down_logged) {
        mcf->zone->sh->fleet_down_logged = 0;
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "compliance_redis: connected again; catching up from "
                      "stream id \"%s\"", mcf->zone->sh->fleet_last_id);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "compliance_redis: connected, stream \"%V\" from id "
                      "\"%s\"", &mcf->fleet->key, mcf->zone->sh->fleet_last_id);
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    ngx_rtmp_compliance_fleet_backoff = 0;

    ngx_rtmp_compliance_fleet_next(mcf);
}


static void
ngx_rtmp_compliance_fleet_on_disconnect(const redisAsyncContext *cac,
    int status)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = cac->data;

    ngx_rtmp_compliance_conn.ac = NULL;

    if (ngx_rtmp_compliance_fleet_wd.timer_set) {
        ngx_del_timer(&ngx_rtmp_compliance_fleet_wd);
    }

    if (ngx_exiting) {
        /* a worker that goes gives the connection to another one */
        ngx_rtmp_compliance_fleet_release(mcf);
        return;
    }

    ngx_rtmp_compliance_fleet_down(mcf, status == REDIS_OK
                                        ? "disconnected"
                                        : (cac->errstr[0] ? cac->errstr
                                                          : "error"));
}


/* publish the outbox first, then read what the fleet did */

static void
ngx_rtmp_compliance_fleet_next(ngx_rtmp_compliance_main_conf_t *mcf)
{
    u_char                        *uid, *json;
    size_t                         uid_len, json_len;
    ngx_uint_t                     what;
    ngx_queue_t                   *q;
    redisAsyncContext             *ac;
    ngx_rtmp_compliance_outbox_t  *e;
    u_char                         last[NGX_RTMP_COMPLIANCE_STREAM_ID];

    ac = ngx_rtmp_compliance_conn.ac;

    if (ac == NULL) {
        return;
    }

    uid = NULL;
    json = NULL;
    what = 0;
    uid_len = 0;
    json_len = 0;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (!ngx_queue_empty(&mcf->zone->sh->outbox)) {
        q = ngx_queue_head(&mcf->zone->sh->outbox);
        e = ngx_queue_data(q, ngx_rtmp_compliance_outbox_t, queue);

        uid = ngx_alloc(e->uid_len + e->json_len + 1, ngx_cycle->log);

        if (uid) {
            what = e->what;
            uid_len = e->uid_len;
            json_len = e->json_len;
            ngx_memcpy(uid, e->data, uid_len + json_len);
            json = uid + uid_len;
        }
    }

    ngx_cpystrn(last, mcf->zone->sh->fleet_last_id, sizeof(last));

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (uid) {
        redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_xadd,
                          (void *) (uintptr_t) what,
                          "XADD %b * op %s uid %b origin %b order %b",
                          mcf->fleet->key.data, mcf->fleet->key.len,
                          what == NGX_RTMP_COMPLIANCE_FLEET_CREATE
                          ? "create" : "lift",
                          uid, uid_len,
                          mcf->node.data, mcf->node.len,
                          json, json_len);

        /* the callback needs the uid: kept in the context's data chain */
        mcf->fleet->pending = uid;
        mcf->fleet->pending_len = uid_len;

        ngx_rtmp_compliance_fleet_wait(mcf, 0);
        return;
    }

    if (ngx_rtmp_compliance_fleet_checkpoint(mcf, ac) == NGX_OK) {
        ngx_rtmp_compliance_fleet_wait(mcf, 0);
        return;
    }

    if (mcf->fleet->room_lock) {
        ngx_rtmp_compliance_fleet_locks(mcf, ac);
    }

    redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_xread, NULL,
                      "XREAD COUNT %d BLOCK %d STREAMS %b %s",
                      NGX_RTMP_COMPLIANCE_FLEET_COUNT,
                      NGX_RTMP_COMPLIANCE_FLEET_BLOCK,
                      mcf->fleet->key.data, mcf->fleet->key.len, last);

    ngx_rtmp_compliance_fleet_wait(mcf, NGX_RTMP_COMPLIANCE_FLEET_BLOCK);
}


static void
ngx_rtmp_compliance_fleet_on_xadd(redisAsyncContext *ac, void *r,
    void *privdata)
{
    json_t                           *rec;
    ngx_str_t                         uid;
    ngx_uint_t                        what;
    redisReply                       *reply;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    /* READONLY, OOM...: reconnect with backoff, and try again */

    reply = ngx_rtmp_compliance_fleet_reply(ac, r, "XADD: ", 1);
    mcf = ac->data;
    what = (uintptr_t) privdata;

    uid.data = mcf->fleet->pending;
    uid.len = mcf->fleet->pending_len;

    if (reply == NULL) {
        ngx_free(mcf->fleet->pending);
        mcf->fleet->pending = NULL;
        return;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ngx_rtmp_compliance_outbox_remove_locked(mcf->zone, what, &uid);

    rec = json_pack("{s:s, s:s, s:s%}", "op", "published",
                    "what", what == NGX_RTMP_COMPLIANCE_FLEET_CREATE
                            ? "create" : "lift",
                    "uid", uid.data, uid.len);

    if (ngx_rtmp_compliance_state_append(mcf, rec, ngx_cycle->log)
        != NGX_OK)
    {
        /* published twice at worst: applying is idempotent by uid */
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance_redis: could not record the publication "
                      "of \"%V\"", &uid);
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    ngx_free(mcf->fleet->pending);
    mcf->fleet->pending = NULL;

    ngx_rtmp_compliance_fleet_next(mcf);
}


/*
 * compliance_audit_sign: this node's newest checkpoint goes on the stream
 * for the other nodes to witness (an older one not yet published is
 * covered by it).  NGX_OK: an XADD is on its way
 */

static ngx_int_t
ngx_rtmp_compliance_fleet_checkpoint(ngx_rtmp_compliance_main_conf_t *mcf,
    redisAsyncContext *ac)
{
    uint64_t                      seq;
    ngx_rtmp_compliance_audit_t  *a;
    ngx_rtmp_compliance_shctx_t  *sh;
    u_char                        hash[NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN];
    u_char                        sig[NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN];
    u_char                        ts[NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN];

    a = mcf->audit;
    sh = mcf->zone->sh;

    if (a->sign_key == NULL || a->dir.len == 0) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    seq = sh->audit_checkpoint_seq;

    if (seq > 1 && seq != sh->fleet_checkpoint_seq) {
        ngx_memcpy(hash, sh->audit_checkpoint_hash, sizeof(hash));
        ngx_memcpy(sig, sh->audit_checkpoint_sig, sizeof(sig));
        ngx_memcpy(ts, sh->audit_checkpoint_ts, sizeof(ts));

    } else {
        seq = 0;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (seq == 0) {
        return NGX_DECLINED;
    }

    /* it signed the record before it */
    ngx_rtmp_compliance_fleet_ck_seq = seq;

    redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_checkpoint, NULL,
                      NGX_RTMP_COMPLIANCE_WITNESS_XADD,
                      mcf->fleet->key.data, mcf->fleet->key.len,
                      a->node.data, a->node.len,
                      (unsigned long long) (seq - 1),
                      hash, sizeof(hash), ts, sizeof(ts),
                      a->sign_fp, (size_t) NGX_RTMP_COMPLIANCE_WITNESS_KEY_LEN,
                      sig, sizeof(sig));

    return NGX_OK;
}


static void
ngx_rtmp_compliance_fleet_on_checkpoint(redisAsyncContext *ac, void *r,
    void *privdata)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    if (ngx_rtmp_compliance_fleet_reply(ac, r, "XADD of a checkpoint: ", 1)
        == NULL)
    {
        return;
    }

    mcf = ac->data;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);
    mcf->zone->sh->fleet_checkpoint_seq = ngx_rtmp_compliance_fleet_ck_seq;
    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    ngx_rtmp_compliance_fleet_next(mcf);
}


/*
 * another node's checkpoint read from the stream: checked, and written
 * into this node's chain as a witness record; the zone's mutex is held
 */

static void
ngx_rtmp_compliance_fleet_witness_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_str_t *id, redisReply *kv)
{
    json_t                         *j;
    size_t                          i, n;
    ngx_int_t                       rc;
    const char                     *why;
    ngx_str_t                      *node;
    ngx_rtmp_compliance_witness_t   w;
    ngx_str_t                       f[2 * NGX_RTMP_COMPLIANCE_WITNESS_FIELDS];

    n = kv->elements / 2;

    for (i = 0; i < n && i < NGX_RTMP_COMPLIANCE_WITNESS_FIELDS; i++) {
        if (kv->element[2 * i]->type != REDIS_REPLY_STRING
            || kv->element[2 * i + 1]->type != REDIS_REPLY_STRING)
        {
            ngx_str_null(&f[2 * i]);
            ngx_str_null(&f[2 * i + 1]);
            continue;
        }

        f[2 * i].data = (u_char *) kv->element[2 * i]->str;
        f[2 * i].len = kv->element[2 * i]->len;
        f[2 * i + 1].data = (u_char *) kv->element[2 * i + 1]->str;
        f[2 * i + 1].len = kv->element[2 * i + 1]->len;
    }

    if (ngx_rtmp_compliance_witness_parse(&w, f, n, &why) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance_redis: checkpoint entry \"%V\" skipped: "
                      "%s", id, why);
        return;
    }

    node = &mcf->audit->node;

    if (mcf->audit->dir.len == 0) {
        /* no audit log here: nothing to write it into */
        return;
    }

    if (w.origin.len == node->len
        && ngx_strncmp(w.origin.data, node->data, node->len) == 0)
    {
        /* this node's own */
        return;
    }

    j = ngx_rtmp_compliance_witness_json(&w);
    rc = j ? ngx_rtmp_compliance_audit_locked(
                 NGX_RTMP_COMPLIANCE_AUDIT_EV_WITNESS, j, ngx_cycle->log)
           : NGX_ERROR;
    json_decref(j);

    if (rc == NGX_OK) {
        mcf->zone->sh->fleet_witnesses++;
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "compliance_redis: the witness of \"%V\" seq %uL was not "
                  "written", &w.origin, w.seq);
}


static void
ngx_rtmp_compliance_fleet_on_xread(redisAsyncContext *ac, void *r,
    void *privdata)
{
    time_t                            now;
    json_t                           *rec;
    size_t                            i;
    redisReply                       *reply, *entries, *id;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    /* READONLY, OOM...: reconnect with backoff, and read again */

    reply = ngx_rtmp_compliance_fleet_reply(ac, r, "XREAD: ", 1);
    mcf = ac->data;

    if (reply == NULL) {
        return;
    }

    /* [[key, [[id, [field, value, ...]], ...]]] or nil after the block */

    if (reply->type == REDIS_REPLY_NIL) {
        /* nothing new within the block: caught up */
        mcf->zone->sh->fleet_lag_ms = 0;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1
        && reply->element[0]->type == REDIS_REPLY_ARRAY
        && reply->element[0]->elements == 2
        && reply->element[0]->element[1]->type == REDIS_REPLY_ARRAY)
    {
        entries = reply->element[0]->element[1];
        now = ngx_time();

        ngx_shmtx_lock(&mcf->zone->shpool->mutex);

        for (i = 0; i < entries->elements; i++) {
            ngx_rtmp_compliance_fleet_apply_locked(mcf, entries->element[i],
                                                   now);
        }

        if (entries->elements) {
            id = entries->element[entries->elements - 1]->element[0];

            rec = json_pack("{s:s, s:s}", "op", "stream", "id",
                            mcf->zone->sh->fleet_last_id);

            if (ngx_rtmp_compliance_state_append(mcf, rec, ngx_cycle->log)
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                              "compliance_redis: could not record the "
                              "stream id \"%*s\"", (size_t) id->len,
                              id->str);
            }
        }

        ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
    }

    ngx_rtmp_compliance_fleet_next(mcf);
}


/*
 * an entry this node published ("NODE:ID") with an id it has not reached:
 * its state file was lost or restored from an older copy.  Its ids go on
 * past it, so that its next orders do not take uids the fleet already
 * has (they would be skipped everywhere as known)
 */

static void
ngx_rtmp_compliance_fleet_own_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_str_t *uid)
{
    off_t    n;
    json_t  *rec;

    if (uid->len <= mcf->node.len + 1
        || ngx_strncmp(uid->data, mcf->node.data, mcf->node.len) != 0
        || uid->data[mcf->node.len] != ':')
    {
        return;
    }

    n = ngx_atoof(uid->data + mcf->node.len + 1,
                  uid->len - mcf->node.len - 1);

    if (n == NGX_ERROR || (uint64_t) n < mcf->zone->sh->next_order
        || (uint64_t) n >= (uint64_t) INT64_MAX - 1)
    {
        return;
    }

    mcf->zone->sh->next_order = (uint64_t) n + 1;

    rec = json_pack("{s:s, s:I}", "op", "next",
                    "id", (json_int_t) mcf->zone->sh->next_order);

    if (ngx_rtmp_compliance_state_append(mcf, rec, ngx_cycle->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance_redis: could not record the next order "
                      "id %uL", mcf->zone->sh->next_order);
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "compliance_redis: the stream has \"%V\", published by "
                  "this node with an id it had not reached (a lost or "
                  "older state file?): order ids go on from %uL",
                  uid, mcf->zone->sh->next_order);
}


/* one stream entry: [id, [field, value, ...]] */

static void
ngx_rtmp_compliance_fleet_apply_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    redisReply *entry, time_t now)
{
    char                               *end;
    size_t                              i;
    uint64_t                            now_ms;
    ngx_str_t                           field, value;
    ngx_time_t                         *tp;
    redisReply                         *id, *kv;
    ngx_rtmp_compliance_shctx_t        *sh;
    ngx_rtmp_compliance_fleet_entry_t   e;

    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
        || entry->element[0]->type != REDIS_REPLY_STRING
        || entry->element[1]->type != REDIS_REPLY_ARRAY)
    {
        return;
    }

    id = entry->element[0];
    kv = entry->element[1];
    sh = mcf->zone->sh;

    if (id->len >= NGX_RTMP_COMPLIANCE_STREAM_ID) {
        return;
    }

    ngx_memcpy(sh->fleet_last_id, id->str, id->len);
    sh->fleet_last_id[id->len] = '\0';
    sh->fleet_last_ms = (uint64_t) strtoull(id->str, &end, 10);
    sh->fleet_entries++;

    tp = ngx_timeofday();
    now_ms = (uint64_t) tp->sec * 1000 + tp->msec;
    sh->fleet_lag_ms = now_ms > sh->fleet_last_ms
                       ? now_ms - sh->fleet_last_ms : 0;

    ngx_memzero(&e, sizeof(ngx_rtmp_compliance_fleet_entry_t));

    e.id.data = (u_char *) id->str;
    e.id.len = id->len;
    e.written = (time_t) (sh->fleet_last_ms / 1000);

    for (i = 0; i + 1 < kv->elements; i += 2) {
        if (kv->element[i]->type != REDIS_REPLY_STRING
            || kv->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        field.data = (u_char *) kv->element[i]->str;
        field.len = kv->element[i]->len;
        value.data = (u_char *) kv->element[i + 1]->str;
        value.len = kv->element[i + 1]->len;

        if (field.len == 2 && ngx_strncmp(field.data, "op", 2) == 0) {
            e.op = value;

        } else if (field.len == 3 && ngx_strncmp(field.data, "uid", 3) == 0) {
            e.uid = value;

        } else if (field.len == 5
                   && ngx_strncmp(field.data, "order", 5) == 0)
        {
            e.order = value;
        }
    }

    if (e.op.len == sizeof(NGX_RTMP_COMPLIANCE_WITNESS_OP) - 1
        && ngx_strncmp(e.op.data, NGX_RTMP_COMPLIANCE_WITNESS_OP,
                       e.op.len) == 0)
    {
        ngx_rtmp_compliance_fleet_witness_locked(mcf, &e.id, kv);
        return;
    }

    if (e.uid.len == 0 || e.uid.len > NGX_RTMP_COMPLIANCE_UID_MAX) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance_redis: stream entry \"%V\" has no valid "
                      "uid, skipped", &e.id);
        return;
    }

    ngx_rtmp_compliance_fleet_own_locked(mcf, &e.uid);

    mcf->fleet->entry(mcf, &e, now);
}


/* -- hiredis in nginx's event loop (level-triggered) -- */

static void
ngx_rtmp_compliance_fleet_read_handler(ngx_event_t *ev)
{
    if (ngx_rtmp_compliance_conn.ac) {
        redisAsyncHandleRead(ngx_rtmp_compliance_conn.ac);
    }
}


static void
ngx_rtmp_compliance_fleet_write_handler(ngx_event_t *ev)
{
    if (ngx_rtmp_compliance_conn.ac) {
        redisAsyncHandleWrite(ngx_rtmp_compliance_conn.ac);
    }
}


/* hiredis's four hooks: one of the connection's events in or out */

static void
ngx_rtmp_compliance_fleet_event(void *privdata, ngx_uint_t write,
    ngx_uint_t add)
{
    ngx_event_t                  *ev;
    ngx_rtmp_compliance_redis_t  *r = privdata;

    if (r->c == NULL) {
        return;
    }

    ev = write ? r->c->write : r->c->read;

    if (add && !ev->active) {
        (void) ngx_add_event(ev, write ? NGX_WRITE_EVENT : NGX_READ_EVENT,
                             NGX_LEVEL_EVENT);

    } else if (!add && ev->active) {
        (void) ngx_del_event(ev, write ? NGX_WRITE_EVENT : NGX_READ_EVENT, 0);
    }
}


/* hiredis' four event hooks: each is one case of _fleet_event() */

#define NGX_RTMP_COMPLIANCE_FLEET_HOOK(name, write, add)                     \
    static void                                                              \
    ngx_rtmp_compliance_fleet_##name(void *privdata)                         \
    {                                                                        \
        ngx_rtmp_compliance_fleet_event(privdata, write, add);               \
    }

NGX_RTMP_COMPLIANCE_FLEET_HOOK(add_read, 0, 1)
NGX_RTMP_COMPLIANCE_FLEET_HOOK(del_read, 0, 0)
NGX_RTMP_COMPLIANCE_FLEET_HOOK(add_write, 1, 1)
NGX_RTMP_COMPLIANCE_FLEET_HOOK(del_write, 1, 0)


/* hiredis closes the socket itself: the connection is only given back */

static void
ngx_rtmp_compliance_fleet_cleanup(void *privdata)
{
    ngx_rtmp_compliance_redis_t  *r = privdata;

    if (r->c == NULL) {
        return;
    }

    ngx_rtmp_compliance_fleet_del_read(r);
    ngx_rtmp_compliance_fleet_del_write(r);

    ngx_free_connection(r->c);
    r->c->fd = (ngx_socket_t) -1;
    r->c = NULL;
}


/* -- room locks: one live publisher a room across the fleet -- */

/*
 * KEYS[1] PREFIX:room:APP/ROOM, ARGV[1] NODE|SESSION|PERSON, ARGV[2] the
 * person, ARGV[3] the lock's time to live (ms), ARGV[4] "1" where the
 * same person may take the room over: "ok", "taken", or the holder
 */

#define NGX_RTMP_COMPLIANCE_LOCK_ACQUIRE                                      \
    "local v = redis.call('GET', KEYS[1]) "                                   \
    "if v == false or v == ARGV[1] then "                                     \
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 'ok' end "     \
    "local p = string.match(v, '^[^|]*|[^|]*|(.*)$') "                        \
    "if ARGV[4] == '1' and p == ARGV[2] then "                                \
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 'taken' end "  \
    "return v"

/* "ok" while the lock is ours (taken again where it expired), else its
 * holder */

#define NGX_RTMP_COMPLIANCE_LOCK_REFRESH                                      \
    "local v = redis.call('GET', KEYS[1]) "                                   \
    "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) "           \
    "return 'ok' end "                                                        \
    "if v == false then "                                                     \
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'ok' end "     \
    "return v"

#define NGX_RTMP_COMPLIANCE_LOCK_RELEASE                                      \
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "                          \
    "return redis.call('DEL', KEYS[1]) end return 0"

#define NGX_RTMP_COMPLIANCE_LOCK_TTL      10000    /* ms */
#define NGX_RTMP_COMPLIANCE_LOCK_REFRESH_MS  2000  /* ms */
#define NGX_RTMP_COMPLIANCE_LOCK_BATCH    128      /* commands a round */

#define NGX_RTMP_COMPLIANCE_LOCK_OP_ACQUIRE  1
#define NGX_RTMP_COMPLIANCE_LOCK_OP_REFRESH  2
#define NGX_RTMP_COMPLIANCE_LOCK_OP_RELEASE  3


static ngx_msec_t  ngx_rtmp_compliance_lock_refreshed;


/*
 * a publisher is admitted where room_lock=on: the owner of the node's
 * connection takes its room's lock; while Redis cannot be reached the
 * admission goes on without it (counted, logged once an outage)
 */

void
ngx_rtmp_compliance_fleet_lock_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_session_t *ss)
{
    ngx_rtmp_compliance_shctx_t  *sh;

    if (!mcf->fleet->enabled || !mcf->fleet->room_lock) {
        return;
    }

    sh = mcf->zone->sh;

    ss->lock = NGX_RTMP_COMPLIANCE_LOCK_WANTED;
    sh->lock_wanted = 1;

    if (sh->fleet_connected) {
        sh->lock_down_logged = 0;
        return;
    }

    sh->lock_skipped++;

    if (!sh->lock_down_logged) {
        sh->lock_down_logged = 1;
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "compliance_redis: Redis cannot be reached, "
                      "publishers are admitted without the fleet's room "
                      "lock until it can");
    }
}


/* the session goes: its room's lock, if it holds one, is released */

void
ngx_rtmp_compliance_fleet_unlock_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_session_t *ss)
{
    ngx_str_t  key, value;
    u_char     kbuf[NGX_RTMP_COMPLIANCE_LOCK_KEY_MAX];
    u_char     vbuf[NGX_RTMP_COMPLIANCE_LOCK_VALUE_MAX];

    if (ss->lock != NGX_RTMP_COMPLIANCE_LOCK_HELD) {
        return;
    }

    ss->lock = NGX_RTMP_COMPLIANCE_LOCK_NONE;

    ngx_rtmp_compliance_fleet_lock_names(mcf, ss, kbuf, &key, vbuf, &value);

    (void) ngx_rtmp_compliance_outbox_add_locked(mcf->zone,
                                             NGX_RTMP_COMPLIANCE_FLEET_UNLOCK,
                                             &key, &value);
}


/* PREFIX:room:APP/ROOM and NODE|SESSION|PERSON */

static void
ngx_rtmp_compliance_fleet_lock_names(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_session_t *ss, u_char *kbuf, ngx_str_t *key,
    u_char *vbuf, ngx_str_t *value)
{
    ngx_str_t  app, room, person;

    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_APP, &app);
    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_ROOM, &room);
    ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_PERSON,
                                    &person);

    key->data = kbuf;
    key->len = ngx_snprintf(kbuf, NGX_RTMP_COMPLIANCE_LOCK_KEY_MAX,
                            "%V:room:%V/%V", &mcf->fleet->prefix, &app,
                            &room)
               - kbuf;

    value->data = vbuf;
    value->len = ngx_snprintf(vbuf, NGX_RTMP_COMPLIANCE_LOCK_VALUE_MAX,
                              "%V|%uL|%V", &mcf->node, ss->id, &person)
                 - vbuf;
}


/*
 * a round of the connection's loop: the locks to take (new publishers),
 * to keep (every 2 s) and to release, sent before the loop's XREAD
 */

static void
ngx_rtmp_compliance_fleet_locks(ngx_rtmp_compliance_main_conf_t *mcf,
    redisAsyncContext *ac)
{
    ngx_uint_t                       n, refresh;
    ngx_queue_t                     *q;
    ngx_rbtree_node_t               *node, *root, *sentinel;
    ngx_rtmp_compliance_shctx_t     *sh;
    ngx_rtmp_compliance_outbox_t    *e;
    ngx_rtmp_compliance_session_t   *ss;
    ngx_rtmp_compliance_lock_cmd_t  *cmd[NGX_RTMP_COMPLIANCE_LOCK_BATCH];
    ngx_str_t                        key, value;
    u_char                           kbuf[NGX_RTMP_COMPLIANCE_LOCK_KEY_MAX];
    u_char                           vbuf[NGX_RTMP_COMPLIANCE_LOCK_VALUE_MAX];

    sh = mcf->zone->sh;
    n = 0;

    refresh = (ngx_current_msec - ngx_rtmp_compliance_lock_refreshed
               >= NGX_RTMP_COMPLIANCE_LOCK_REFRESH_MS);

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    while (!ngx_queue_empty(&sh->unlocks)
           && n < NGX_RTMP_COMPLIANCE_LOCK_BATCH)
    {
        q = ngx_queue_head(&sh->unlocks);
        e = ngx_queue_data(q, ngx_rtmp_compliance_outbox_t, queue);

        key.data = e->data;
        key.len = e->uid_len;
        value.data = e->data + e->uid_len;
        value.len = e->json_len;

        cmd[n] = ngx_rtmp_compliance_fleet_lock_cmd(0,
                                          NGX_RTMP_COMPLIANCE_LOCK_OP_RELEASE,
                                          &key, &value);
        n += (cmd[n] != NULL);

        ngx_queue_remove(q);
        ngx_slab_free_locked(mcf->zone->shpool, e);
    }

    root = sh->sessions.root;
    sentinel = sh->sessions.sentinel;

    if ((sh->lock_wanted || refresh) && root != sentinel) {
        sh->lock_wanted = 0;

        for (node = ngx_rbtree_min(root, sentinel);
             node && n < NGX_RTMP_COMPLIANCE_LOCK_BATCH;
             node = ngx_rbtree_next(&sh->sessions, node))
        {
            ss = (ngx_rtmp_compliance_session_t *) node;

            if (ss->drop
                || !(ss->lock == NGX_RTMP_COMPLIANCE_LOCK_WANTED
                     || (refresh && ss->lock == NGX_RTMP_COMPLIANCE_LOCK_HELD)))
            {
                continue;
            }

            ngx_rtmp_compliance_fleet_lock_names(mcf, ss, kbuf, &key, vbuf,
                                                 &value);

            cmd[n] = ngx_rtmp_compliance_fleet_lock_cmd(ss->id,
                         ss->lock == NGX_RTMP_COMPLIANCE_LOCK_WANTED
                         ? NGX_RTMP_COMPLIANCE_LOCK_OP_ACQUIRE
                         : NGX_RTMP_COMPLIANCE_LOCK_OP_REFRESH,
                         &key, &value);
            n += (cmd[n] != NULL);
        }

        if (node) {
            /* more than a round takes: the rest in the next one */
            sh->lock_wanted = 1;
        }
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    if (refresh) {
        ngx_rtmp_compliance_lock_refreshed = ngx_current_msec;
    }

    while (n--) {
        ngx_rtmp_compliance_fleet_lock_send(mcf, ac, cmd[n]);
    }
}


static ngx_rtmp_compliance_lock_cmd_t *
ngx_rtmp_compliance_fleet_lock_cmd(uint64_t id, ngx_uint_t op,
    ngx_str_t *key, ngx_str_t *value)
{
    ngx_rtmp_compliance_lock_cmd_t  *c;

    c = ngx_alloc(sizeof(ngx_rtmp_compliance_lock_cmd_t) + key->len
                  + value->len, ngx_cycle->log);
    if (c == NULL) {
        return NULL;
    }

    c->id = id;
    c->op = op;
    c->key_len = key->len;
    c->value_len = value->len;
    ngx_memcpy(c->data, key->data, key->len);
    ngx_memcpy(c->data + key->len, value->data, value->len);

    return c;
}


static void
ngx_rtmp_compliance_fleet_lock_send(ngx_rtmp_compliance_main_conf_t *mcf,
    redisAsyncContext *ac, ngx_rtmp_compliance_lock_cmd_t *c)
{
    u_char     *key, *value, *person;
    size_t      person_len;
    ngx_int_t   rc;

    key = c->data;
    value = c->data + c->key_len;

    /* the person: what follows the value's second '|' */

    person = ngx_strlchr(value, value + c->value_len, '|');
    person = person ? ngx_strlchr(person + 1, value + c->value_len, '|')
                    : NULL;
    person = person ? person + 1 : value + c->value_len;
    person_len = value + c->value_len - person;

    switch (c->op) {

    case NGX_RTMP_COMPLIANCE_LOCK_OP_ACQUIRE:
        rc = redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_lock, c,
                               "EVAL %s 1 %b %b %b %d %s",
                               NGX_RTMP_COMPLIANCE_LOCK_ACQUIRE,
                               key, c->key_len, value, c->value_len,
                               person, person_len,
                               NGX_RTMP_COMPLIANCE_LOCK_TTL,
                               ngx_rtmp_compliance_fleet_takeover(mcf, c)
                               ? "1" : "0");
        break;

    case NGX_RTMP_COMPLIANCE_LOCK_OP_REFRESH:
        rc = redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_lock, c,
                               "EVAL %s 1 %b %b %d",
                               NGX_RTMP_COMPLIANCE_LOCK_REFRESH,
                               key, c->key_len, value, c->value_len,
                               NGX_RTMP_COMPLIANCE_LOCK_TTL);
        break;

    default: /* release */
        rc = redisAsyncCommand(ac, ngx_rtmp_compliance_fleet_on_lock, c,
                               "EVAL %s 1 %b %b",
                               NGX_RTMP_COMPLIANCE_LOCK_RELEASE,
                               key, c->key_len, value, c->value_len);
    }

    if (rc != REDIS_OK) {
        ngx_free(c);
    }
}


/* may the same person take the room over (compliance_room_takeover)? */

static ngx_uint_t
ngx_rtmp_compliance_fleet_takeover(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_lock_cmd_t *c)
{
    ngx_uint_t                      takeover;
    ngx_rtmp_compliance_session_t  *ss;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, c->id);
    takeover = (ss == NULL || ss->takeover);

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return takeover;
}


/*
 * a lock's answer: "ok" or "taken" (the room is this session's), or the
 * holder "NODE|SESSION|PERSON": the same person took the room over on
 * another node (the session is dropped, replaced), or another person has
 * it live (the session is dropped, room_busy)
 */

static void
ngx_rtmp_compliance_fleet_on_lock(redisAsyncContext *ac, void *r,
    void *privdata)
{
    u_char                           *p, *holder;
    size_t                            len;
    ngx_str_t                         person, key, value;
    redisReply                       *reply;
    ngx_rtmp_compliance_lock_cmd_t   *c;
    ngx_rtmp_compliance_session_t    *ss;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    reply = ngx_rtmp_compliance_fleet_reply(ac, r, "room lock: ", 0);
    mcf = ac->data;
    c = privdata;

    if (reply == NULL
        || c->op == NGX_RTMP_COMPLIANCE_LOCK_OP_RELEASE
        || reply->type != REDIS_REPLY_STRING)
    {
        ngx_free(c);
        return;
    }

    holder = (u_char *) reply->str;
    len = reply->len;

    key.data = c->data;
    key.len = c->key_len;
    value.data = c->data + c->key_len;
    value.len = c->value_len;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    ss = ngx_rtmp_compliance_session_find_locked(mcf->zone, c->id);

    if ((len == 2 && ngx_strncmp(holder, "ok", 2) == 0)
        || (len == 5 && ngx_strncmp(holder, "taken", 5) == 0))
    {
        if (ss && ss->lock != NGX_RTMP_COMPLIANCE_LOCK_NONE) {
            ss->lock = NGX_RTMP_COMPLIANCE_LOCK_HELD;

        } else {
            /* the session ended meanwhile: the lock goes too */
            (void) ngx_rtmp_compliance_outbox_add_locked(mcf->zone,
                                             NGX_RTMP_COMPLIANCE_FLEET_UNLOCK,
                                             &key, &value);
        }

    } else if (ss && ss->drop == 0) {
        p = ngx_strlchr(holder, holder + len, '|');
        p = p ? ngx_strlchr(p + 1, holder + len, '|') : NULL;
        p = p ? p + 1 : holder + len;

        ngx_rtmp_compliance_session_get(ss, NGX_RTMP_COMPLIANCE_S_PERSON,
                                        &person);

        ss->lock = NGX_RTMP_COMPLIANCE_LOCK_NONE;
        ss->drop = (c->op == NGX_RTMP_COMPLIANCE_LOCK_OP_REFRESH
                    && person.len == (size_t) (holder + len - p)
                    && ngx_memcmp(person.data, p, person.len) == 0)
                   ? NGX_RTMP_COMPLIANCE_REPLACED
                   : NGX_RTMP_COMPLIANCE_ROOM_BUSY;
        ss->order = 0;
        mcf->zone->sh->marks++;
        mcf->zone->sh->lock_busy += (ss->drop == NGX_RTMP_COMPLIANCE_ROOM_BUSY);

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "compliance_redis: room lock \"%V\" is held by "
                      "\"%*s\": session %uL is dropped (%V)", &key, len,
                      holder, c->id, &ngx_rtmp_compliance_reasons[ss->drop]);
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    ngx_free(c);
}
