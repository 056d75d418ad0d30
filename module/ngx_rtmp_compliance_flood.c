
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Rejection floods.  A client refused again and again must not fill the
 * audit log (kept three years) and the error log: per client address,
 * kind (publish, play) and reason, the first "burst" rejections of a
 * window are written as they are; after them a rejection is written only
 * if its token is one the window has not seen (every distinct token
 * keeps its own record), and the others are folded: counted, not
 * written.  When the window ends (this worker's timer, the next rejection
 * of any client, the worker's exit) a publish.reject.summary or
 * play.reject.summary record and an error log line at the rejections'
 * level say how many were folded and over what span.  Every rejection is
 * still counted in compliance_rejections_total, the folded ones also in
 * compliance_rejections_folded_total.  Admissions never pass here.
 *
 * The windows are kept in the shared zone, so that the limit holds
 * across workers: a tree by key and a queue in the order the windows
 * began (oldest first, so the ended ones are at its head), at most a
 * sixteenth of the zone; when it is full the oldest window ends early.
 * Without a zone each worker keeps its own.  Summaries are collected
 * under the zone's mutex and written once it is released: the audit
 * writer takes the same mutex.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include "ngx_rtmp_compliance_flood.h"
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_audit_format.h"


#define NGX_RTMP_COMPLIANCE_FLOOD_ADDR    64     /* bytes of an address */
#define NGX_RTMP_COMPLIANCE_FLOOD_TOKENS  32     /* remembered a window */
#define NGX_RTMP_COMPLIANCE_FLOOD_KEYS    1024   /* windows at most */
#define NGX_RTMP_COMPLIANCE_FLOOD_BATCH   16     /* summaries a lock */

#define NGX_RTMP_COMPLIANCE_FLOOD_BURST_MAX   1000000
#define NGX_RTMP_COMPLIANCE_FLOOD_WINDOW_MAX  86400000   /* ms, 1d */

#define NGX_RTMP_COMPLIANCE_FLOOD_TS_LEN  (sizeof("YYYY-MM-DDTHH:MM:SS.mmmZ"))


/* the window of one kind, reason and address */

typedef struct {
    ngx_str_node_t                  sn;          /* kind reason addr */
    ngx_queue_t                     queue;
    uint64_t                        start;       /* ms since the epoch */
    ngx_uint_t                      written;
    uint64_t                        tokens[NGX_RTMP_COMPLIANCE_FLOOD_TOKENS];
    ngx_uint_t                      ntokens;     /* ever remembered */
    ngx_uint_t                      folded;
    uint64_t                        first;       /* of the folded ones */
    uint64_t                        last;
    ngx_uint_t                      level;       /* of the error log */
    u_char                          data[1];
} ngx_rtmp_compliance_flood_node_t;


typedef struct {
    ngx_rbtree_t                    tree;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     queue;       /* the oldest first */
    ngx_uint_t                      n;
    ngx_uint_t                      max;
    ngx_uint_t                      folded[2];   /* by kind */
} ngx_rtmp_compliance_flood_shctx_t;


/* a window's summary, to be written once the mutex is released */

typedef struct {
    ngx_uint_t                      kind;
    ngx_uint_t                      reason;
    u_char                          addr[NGX_RTMP_COMPLIANCE_FLOOD_ADDR];
    size_t                          addr_len;
    ngx_uint_t                      folded;
    uint64_t                        first;
    uint64_t                        last;
    ngx_uint_t                      level;
} ngx_rtmp_compliance_flood_summary_t;


static ngx_rtmp_compliance_flood_t *ngx_rtmp_compliance_flood_conf(void);
static uint64_t ngx_rtmp_compliance_flood_now(void);
static ngx_rtmp_compliance_flood_shctx_t *ngx_rtmp_compliance_flood_lock(
    void);
static void ngx_rtmp_compliance_flood_unlock(void);
static ngx_uint_t ngx_rtmp_compliance_flood_expire_locked(
    ngx_rtmp_compliance_flood_shctx_t *fsh, uint64_t now, ngx_msec_t window,
    ngx_rtmp_compliance_flood_summary_t *sum, ngx_uint_t n);
static ngx_rtmp_compliance_flood_node_t *ngx_rtmp_compliance_flood_add_locked(
    ngx_rtmp_compliance_flood_shctx_t *fsh, ngx_str_t *key, uint32_t hash,
    ngx_uint_t level, uint64_t now, ngx_rtmp_compliance_flood_summary_t *sum,
    ngx_uint_t *n);
static void *ngx_rtmp_compliance_flood_alloc_locked(size_t size);
static void ngx_rtmp_compliance_flood_delete_locked(
    ngx_rtmp_compliance_flood_shctx_t *fsh,
    ngx_rtmp_compliance_flood_node_t *fn);
static ngx_uint_t ngx_rtmp_compliance_flood_count_locked(
    ngx_rtmp_compliance_flood_node_t *fn, ngx_uint_t burst, ngx_int_t token,
    uint64_t now);
static void ngx_rtmp_compliance_flood_collect(
    ngx_rtmp_compliance_flood_node_t *fn,
    ngx_rtmp_compliance_flood_summary_t *s);
static void ngx_rtmp_compliance_flood_write(
    ngx_rtmp_compliance_flood_summary_t *sum, ngx_uint_t n);
static void ngx_rtmp_compliance_flood_arm(ngx_msec_t ms);
static void ngx_rtmp_compliance_flood_timer(ngx_event_t *ev);


static ngx_rtmp_compliance_flood_t  ngx_rtmp_compliance_flood_default = {
    NGX_RTMP_COMPLIANCE_FLOOD_BURST,
    NGX_RTMP_COMPLIANCE_FLOOD_WINDOW
};

/* the windows of a worker without a zone */
static ngx_rtmp_compliance_flood_shctx_t  ngx_rtmp_compliance_flood_local;

static ngx_event_t  ngx_rtmp_compliance_flood_ev;


/* compliance_reject_summary off | [burst=N] [window=TIME] */

char *
ngx_rtmp_compliance_reject_summary(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_rtmp_compliance_main_conf_t *mcf = conf;

    ngx_int_t                     n;
    ngx_str_t                    *value, v;
    ngx_uint_t                    i;
    ngx_rtmp_compliance_flood_t  *fl;

    if (mcf->flood) {
        return "is duplicate";
    }

    fl = ngx_palloc(cf->pool, sizeof(ngx_rtmp_compliance_flood_t));
    if (fl == NULL) {
        return NGX_CONF_ERROR;
    }

    *fl = ngx_rtmp_compliance_flood_default;
    mcf->flood = fl;

    value = cf->args->elts;

    if (cf->args->nelts == 2 && value[1].len == 3
        && ngx_strncmp(value[1].data, "off", 3) == 0)
    {
        fl->burst = 0;
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n < 1
                || n > NGX_RTMP_COMPLIANCE_FLOOD_BURST_MAX)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\", it must be 1 to "
                                   "%d", &value[i],
                                   NGX_RTMP_COMPLIANCE_FLOOD_BURST_MAX);
                return NGX_CONF_ERROR;
            }

            fl->burst = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "window=", 7) == 0) {
            v.data = value[i].data + 7;
            v.len = value[i].len - 7;

            n = ngx_parse_time(&v, 0);

            if (n == NGX_ERROR || n < 1000
                || n > NGX_RTMP_COMPLIANCE_FLOOD_WINDOW_MAX)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid window \"%V\", it must be 1s to "
                                   "1d", &value[i]);
                return NGX_CONF_ERROR;
            }

            fl->window = (ngx_msec_t) n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * a rejection: 1 to write its record and error log line, 0 when it is
 * folded into its window's summary (it has been counted)
 */

ngx_uint_t
ngx_rtmp_compliance_flood_fold(ngx_str_t *addr, ngx_uint_t kind,
    ngx_uint_t reason, ngx_uint_t level, u_char *hash)
{
    uint32_t                              crc;
    uint64_t                              now, end;
    ngx_int_t                             token;
    ngx_str_t                             key;
    ngx_uint_t                            n, write;
    ngx_rbtree_node_t                    *node;
    ngx_rtmp_compliance_flood_t          *conf;
    ngx_rtmp_compliance_flood_node_t     *fn;
    ngx_rtmp_compliance_flood_shctx_t    *fsh;
    ngx_rtmp_compliance_flood_summary_t   sum[NGX_RTMP_COMPLIANCE_FLOOD_BATCH];
    u_char                                data[2
                                             + NGX_RTMP_COMPLIANCE_FLOOD_ADDR];

    conf = ngx_rtmp_compliance_flood_conf();

    if (conf->burst == 0) {
        return 1;
    }

    now = ngx_rtmp_compliance_flood_now();

    data[0] = (u_char) kind;
    data[1] = (u_char) reason;
    key.len = ngx_min(addr->len, NGX_RTMP_COMPLIANCE_FLOOD_ADDR);
    ngx_memcpy(data + 2, addr->data, key.len);
    key.len += 2;
    key.data = data;

    crc = ngx_crc32_short(key.data, key.len);

    /* the token's hash as a number, NGX_ERROR: none */
    token = hash[0] ? ngx_hextoi(hash, ngx_strlen(hash)) : NGX_ERROR;

    fsh = ngx_rtmp_compliance_flood_lock();
    if (fsh == NULL) {
        return 1;
    }

    n = ngx_rtmp_compliance_flood_expire_locked(fsh, now, conf->window, sum,
                                                0);

    node = (ngx_rbtree_node_t *) ngx_str_rbtree_lookup(&fsh->tree, &key, crc);

    if (node) {
        fn = (ngx_rtmp_compliance_flood_node_t *) node;

    } else {
        fn = ngx_rtmp_compliance_flood_add_locked(fsh, &key, crc, level, now,
                                                  sum, &n);
    }

    /* no room for its window: written, as without the rule */
    write = fn ? ngx_rtmp_compliance_flood_count_locked(fn, conf->burst,
                                                        token, now)
               : 1;
    end = 0;

    if (!write) {
        fsh->folded[kind ? 1 : 0]++;
        end = fn->start + conf->window;
    }

    ngx_rtmp_compliance_flood_unlock();

    ngx_rtmp_compliance_flood_write(sum, n);

    if (!write) {
        ngx_rtmp_compliance_flood_arm(end > now ? end - now : 1);
    }

    return write;
}


/*
 * the ended windows' summaries are written; all: every summary of a
 * window still going as well (at exit: the next window starts afresh
 * counting the folded ones)
 */

void
ngx_rtmp_compliance_flood_flush(ngx_uint_t all)
{
    uint64_t                              now, next, end;
    ngx_uint_t                            n;
    ngx_queue_t                          *q;
    ngx_rtmp_compliance_flood_t          *conf;
    ngx_rtmp_compliance_flood_node_t     *fn;
    ngx_rtmp_compliance_flood_shctx_t    *fsh;
    ngx_rtmp_compliance_flood_summary_t   sum[NGX_RTMP_COMPLIANCE_FLOOD_BATCH];

    conf = ngx_rtmp_compliance_flood_conf();
    now = ngx_rtmp_compliance_flood_now();

    do {
        fsh = ngx_rtmp_compliance_flood_lock();
        if (fsh == NULL) {
            return;
        }

        n = ngx_rtmp_compliance_flood_expire_locked(fsh, now, conf->window,
                                                    sum, 0);
        next = 0;

        for (q = ngx_queue_head(&fsh->queue);
             q != ngx_queue_sentinel(&fsh->queue);
             q = ngx_queue_next(q))
        {
            fn = ngx_queue_data(q, ngx_rtmp_compliance_flood_node_t, queue);

            if (fn->folded == 0) {
                continue;
            }

            if (!all) {
                /* the first to end of those with something to say */
                end = fn->start + conf->window;
                next = (end > now) ? end : now + 1;
                break;
            }

            if (n == NGX_RTMP_COMPLIANCE_FLOOD_BATCH) {
                break;
            }

            ngx_rtmp_compliance_flood_collect(fn, &sum[n++]);
            fn->folded = 0;
        }

        ngx_rtmp_compliance_flood_unlock();

        ngx_rtmp_compliance_flood_write(sum, n);

    } while (n == NGX_RTMP_COMPLIANCE_FLOOD_BATCH);

    if (next) {
        ngx_rtmp_compliance_flood_arm((ngx_msec_t) (next - now));
    }
}


/* compliance_rejections_folded_total, for the control API's metrics */

u_char *
ngx_rtmp_compliance_flood_metrics(u_char *p, u_char *last)
{
    ngx_uint_t                          folded[2];
    ngx_rtmp_compliance_flood_shctx_t  *fsh;

    folded[0] = 0;
    folded[1] = 0;

    fsh = ngx_rtmp_compliance_flood_lock();

    if (fsh) {
        folded[0] = fsh->folded[0];
        folded[1] = fsh->folded[1];
        ngx_rtmp_compliance_flood_unlock();
    }

    return ngx_slprintf(p, last,
               "# HELP compliance_rejections_folded_total Rejections "
               "summarised instead of logged one by one "
               "(compliance_reject_summary); also in "
               "compliance_rejections_total.\n"
               "# TYPE compliance_rejections_folded_total counter\n"
               "compliance_rejections_folded_total{kind=\"publish\"} %ui\n"
               "compliance_rejections_folded_total{kind=\"play\"} %ui\n",
               folded[0], folded[1]);
}


static ngx_rtmp_compliance_flood_t *
ngx_rtmp_compliance_flood_conf(void)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->flood == NULL) {
        return &ngx_rtmp_compliance_flood_default;
    }

    return mcf->flood;
}


/* wall clock ms: the summaries' times, comparable across workers */

static uint64_t
ngx_rtmp_compliance_flood_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


/*
 * the windows, locked: the zone's (made at the first use) or, without a
 * zone, the worker's own; NULL if there is no room for them
 */

static ngx_rtmp_compliance_flood_shctx_t *
ngx_rtmp_compliance_flood_lock(void)
{
    size_t                              size;
    ngx_slab_pool_t                    *shpool;
    ngx_rtmp_compliance_main_conf_t    *mcf;
    ngx_rtmp_compliance_flood_shctx_t  *fsh;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL) {
        return NULL;
    }

    if (mcf->zone == NULL) {
        fsh = &ngx_rtmp_compliance_flood_local;

        if (fsh->max == 0) {
            ngx_rbtree_init(&fsh->tree, &fsh->sentinel,
                            ngx_str_rbtree_insert_value);
            ngx_queue_init(&fsh->queue);
            fsh->max = NGX_RTMP_COMPLIANCE_FLOOD_KEYS;
        }

        return fsh;
    }

    shpool = mcf->zone->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    fsh = mcf->zone->sh->flood;

    if (fsh) {
        return fsh;
    }

    fsh = ngx_rtmp_compliance_flood_alloc_locked(sizeof(*fsh));
    if (fsh == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NULL;
    }

    ngx_memzero(fsh, sizeof(*fsh));
    ngx_rbtree_init(&fsh->tree, &fsh->sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&fsh->queue);

    /* a sixteenth of the zone at most */

    size = (u_char *) shpool->end - (u_char *) shpool;
    fsh->max = size / 16 / (sizeof(ngx_rtmp_compliance_flood_node_t)
                            + 2 + NGX_RTMP_COMPLIANCE_FLOOD_ADDR);
    fsh->max = ngx_max(fsh->max, 1);
    fsh->max = ngx_min(fsh->max, NGX_RTMP_COMPLIANCE_FLOOD_KEYS);

    mcf->zone->sh->flood = fsh;

    return fsh;
}


static void
ngx_rtmp_compliance_flood_unlock(void)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf && mcf->zone) {
        ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
    }
}


/*
 * the windows that have ended are taken away, their summaries collected
 * into sum[n..]; the new n
 */

static ngx_uint_t
ngx_rtmp_compliance_flood_expire_locked(
    ngx_rtmp_compliance_flood_shctx_t *fsh, uint64_t now, ngx_msec_t window,
    ngx_rtmp_compliance_flood_summary_t *sum, ngx_uint_t n)
{
    ngx_queue_t                       *q;
    ngx_rtmp_compliance_flood_node_t  *fn;

    while (!ngx_queue_empty(&fsh->queue)) {
        q = ngx_queue_head(&fsh->queue);
        fn = ngx_queue_data(q, ngx_rtmp_compliance_flood_node_t, queue);

        /* a clock set back by more than a window ends it too */

        if (now < fn->start + window && now + window >= fn->start) {
            break;
        }

        if (fn->folded) {
            if (n == NGX_RTMP_COMPLIANCE_FLOOD_BATCH) {
                break;
            }

            ngx_rtmp_compliance_flood_collect(fn, &sum[n++]);
        }

        ngx_rtmp_compliance_flood_delete_locked(fsh, fn);
    }

    return n;
}


/*
 * a new window from now; when there are as many as may be, the oldest
 * ends early (its summary collected).  NULL: no room
 */

static ngx_rtmp_compliance_flood_node_t *
ngx_rtmp_compliance_flood_add_locked(ngx_rtmp_compliance_flood_shctx_t *fsh,
    ngx_str_t *key, uint32_t hash, ngx_uint_t level, uint64_t now,
    ngx_rtmp_compliance_flood_summary_t *sum, ngx_uint_t *n)
{
    size_t                             size;
    ngx_rtmp_compliance_flood_node_t  *fn;

    if (fsh->n >= fsh->max) {
        fn = ngx_queue_data(ngx_queue_head(&fsh->queue),
                            ngx_rtmp_compliance_flood_node_t, queue);

        if (fn->folded) {
            if (*n == NGX_RTMP_COMPLIANCE_FLOOD_BATCH) {
                return NULL;
            }

            ngx_rtmp_compliance_flood_collect(fn, &sum[(*n)++]);
        }

        ngx_rtmp_compliance_flood_delete_locked(fsh, fn);
    }

    size = offsetof(ngx_rtmp_compliance_flood_node_t, data) + key->len;

    fn = ngx_rtmp_compliance_flood_alloc_locked(size);
    if (fn == NULL) {
        return NULL;
    }

    ngx_memzero(fn, offsetof(ngx_rtmp_compliance_flood_node_t, data));
    ngx_memcpy(fn->data, key->data, key->len);

    fn->sn.node.key = hash;
    fn->sn.str.data = fn->data;
    fn->sn.str.len = key->len;
    fn->start = now;
    fn->level = level;

    ngx_rbtree_insert(&fsh->tree, &fn->sn.node);
    ngx_queue_insert_tail(&fsh->queue, &fn->queue);
    fsh->n++;

    return fn;
}


/* from the zone or, without one, the heap; a full zone logs nothing */

static void *
ngx_rtmp_compliance_flood_alloc_locked(size_t size)
{
    void             *p;
    ngx_uint_t        nomem;
    ngx_slab_pool_t  *shpool;

    if (ngx_rtmp_compliance_main->zone == NULL) {
        return ngx_alloc(size, ngx_cycle->log);
    }

    /* else a flood into a full zone would log a line a rejection */

    shpool = ngx_rtmp_compliance_main->zone->shpool;
    nomem = shpool->log_nomem;
    shpool->log_nomem = 0;

    p = ngx_slab_alloc_locked(shpool, size);

    shpool->log_nomem = nomem;

    return p;
}


static void
ngx_rtmp_compliance_flood_delete_locked(
    ngx_rtmp_compliance_flood_shctx_t *fsh,
    ngx_rtmp_compliance_flood_node_t *fn)
{
    ngx_rbtree_delete(&fsh->tree, &fn->sn.node);
    ngx_queue_remove(&fn->queue);
    fsh->n--;

    if (ngx_rtmp_compliance_main->zone) {
        ngx_slab_free_locked(ngx_rtmp_compliance_main->zone->shpool, fn);

    } else {
        ngx_free(fn);
    }
}


/*
 * one rejection in its window: written (1) while the burst lasts or for
 * a token the window has not seen, else folded (0)
 */

static ngx_uint_t
ngx_rtmp_compliance_flood_count_locked(ngx_rtmp_compliance_flood_node_t *fn,
    ngx_uint_t burst, ngx_int_t token, uint64_t now)
{
    ngx_uint_t  i, n, seen;

    seen = 0;

    if (token != NGX_ERROR) {
        n = ngx_min(fn->ntokens, NGX_RTMP_COMPLIANCE_FLOOD_TOKENS);

        for (i = 0; i < n; i++) {
            if (fn->tokens[i] == (uint64_t) token) {
                seen = 1;
                break;
            }
        }
    }

    if (fn->written < burst || (token != NGX_ERROR && !seen)) {
        fn->written++;

        if (token != NGX_ERROR && !seen) {
            /* the oldest is forgotten first */
            fn->tokens[fn->ntokens++ % NGX_RTMP_COMPLIANCE_FLOOD_TOKENS] =
                (uint64_t) token;
        }

        return 1;
    }

    if (fn->folded++ == 0) {
        fn->first = now;
    }

    fn->last = now;

    return 0;
}


static void
ngx_rtmp_compliance_flood_collect(ngx_rtmp_compliance_flood_node_t *fn,
    ngx_rtmp_compliance_flood_summary_t *s)
{
    s->kind = fn->data[0];
    s->reason = fn->data[1];
    s->level = fn->level;
    s->folded = fn->folded;
    s->first = fn->first;
    s->last = fn->last;
    s->addr_len = fn->sn.str.len - 2;
    ngx_memcpy(s->addr, fn->data + 2, s->addr_len);
}


/* the summaries: an audit record and an error log line each */

static void
ngx_rtmp_compliance_flood_write(ngx_rtmp_compliance_flood_summary_t *sum,
    ngx_uint_t n)
{
    char                          *kind, *event;
    ngx_log_t                     *log;
    ngx_uint_t                     i;
    ngx_str_t                     *reason;
    ngx_rtmp_compliance_flood_t   *conf;
    ngx_rtmp_compliance_fields_t   f;
    u_char                         first[NGX_RTMP_COMPLIANCE_FLOOD_TS_LEN];
    u_char                         last[NGX_RTMP_COMPLIANCE_FLOOD_TS_LEN];
    u_char                         buf[512];

    conf = ngx_rtmp_compliance_flood_conf();
    log = ngx_cycle->log;

    for (i = 0; i < n; i++) {
        kind = sum[i].kind ? "play" : "publish";
        event = sum[i].kind ? NGX_RTMP_COMPLIANCE_AUDIT_EV_PLAY_SUMMARY
                            : NGX_RTMP_COMPLIANCE_AUDIT_EV_PUBLISH_SUMMARY;
        reason = &ngx_rtmp_compliance_reasons[sum[i].reason];

        *ngx_rtmp_compliance_audit_ts(first, (ngx_msec_t) sum[i].first)
            = '\0';
        *ngx_rtmp_compliance_audit_ts(last, (ngx_msec_t) sum[i].last) = '\0';

        ngx_log_error(sum[i].level, log, 0,
                      "compliance: %s rejections folded: %ui, reason: %V, "
                      "addr: \"%*s\", first: %s, last: %s, window: %Mms, "
                      "burst: %ui", kind, sum[i].folded, reason,
                      sum[i].addr_len, sum[i].addr, first, last,
                      conf->window, conf->burst);

        ngx_rtmp_compliance_fields_init(&f, buf, sizeof(buf), log);
        ngx_rtmp_compliance_field_str(&f, "kind", (u_char *) kind,
                                      ngx_strlen(kind));
        ngx_rtmp_compliance_field_str(&f, "addr", sum[i].addr,
                                      sum[i].addr_len);
        ngx_rtmp_compliance_field_str(&f, "reason", reason->data,
                                      reason->len);
        ngx_rtmp_compliance_field_int(&f, "folded", (int64_t) sum[i].folded);
        ngx_rtmp_compliance_field_str(&f, "first", first,
                                      ngx_strlen(first));
        ngx_rtmp_compliance_field_str(&f, "last", last, ngx_strlen(last));
        ngx_rtmp_compliance_field_int(&f, "window_ms",
                                      (int64_t) conf->window);
        ngx_rtmp_compliance_field_int(&f, "burst", (int64_t) conf->burst);

        if (ngx_rtmp_compliance_audit_fields(event, &f, log)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_CRIT, log, 0,
                          "compliance: the summary of %ui %s rejections "
                          "was not audited", sum[i].folded, kind);
        }

        ngx_rtmp_compliance_fields_free(&f);
    }
}


/* this worker's timer, to write a window's summary when it ends */

static void
ngx_rtmp_compliance_flood_arm(ngx_msec_t ms)
{
    ngx_event_t  *ev;

    ev = &ngx_rtmp_compliance_flood_ev;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (ev->timer_set
        && (ngx_msec_int_t) (ev->timer.key - ngx_current_msec - ms) <= 0)
    {
        /* it goes off before then */
        return;
    }

    ev->handler = ngx_rtmp_compliance_flood_timer;
    ev->log = ngx_cycle->log;
    ev->data = ngx_rtmp_compliance_main;
    ev->cancelable = 1;

    ngx_add_timer(ev, ms);
}


static void
ngx_rtmp_compliance_flood_timer(ngx_event_t *ev)
{
    ngx_rtmp_compliance_flood_flush(0);
}
