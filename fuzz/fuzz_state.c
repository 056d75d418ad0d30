
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the state file's loader, ngx_rtmp_compliance_state_load(), the
 * way nginx runs it when it makes a new zone: the input is the file's
 * bytes (JSON lines: next, create, lift, outbox, published, stream).
 *
 * The zone is made as nginx makes it (stubs_zone.c): the
 * "compliance_zone" directive's handler (ngx_rtmp_compliance_zone) with
 * "compliance_zone fuzz SIZE", what the module's postconfiguration tells
 * the zone, then what ngx_init_cycle() does (zeroed memory, the slab pool
 * as ngx_init_zone_pool() sets it up, the zone's own init); then, as the
 * module's init_module does for a zone just made, the state file is
 * loaded into it.  SIZE is 64 pages, the smallest the directive takes,
 * so that a file of some tens of kilobytes fills it and "the zone is too
 * small" is reached.  The fleet is on (compliance_redis: the zone keeps
 * the fleet's part), so the outbox and the stream position are kept and
 * written back.
 *
 * The file is written to a private temporary directory made once per
 * process (in /dev/shm when there is one, else $TMPDIR or /tmp; removed
 * at exit, left with the input's files after a crash); the time is fixed
 * (FUZZ_STATE_NOW), so that an input does the same on any day.
 *
 * Checks beyond memory safety, leaks and undefined behaviour:
 *   - the load succeeds (it fails only on I/O errors) and nginx logs no
 *     alert (a slab pool's internal error);
 *   - PATH.corrupt.TIME exists exactly when lines were refused
 *     (state_errors) and is the file as it was;
 *   - the zone is consistent: norders orders in the tree, each found by
 *     its uid, next_order above every id, no order that has ended,
 *     noutbox entries in the outbox;
 *   - the compacted file loads again into a fresh zone without an error,
 *     to the same orders (every field), next_order, outbox and stream
 *     position, and compacts to the same bytes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_state.h"
#include "fuzz.h"
#include "fuzz_zone.h"


#define FUZZ_STATE_NOW    1772323200        /* 2026-03-01T00:00:00Z */


typedef struct {
    ngx_pool_t                       *pool;
    ngx_rtmp_compliance_main_conf_t   mcf;
    ngx_int_t                         rc;          /* of the load */
} fuzz_state_zone_t;


static void fuzz_state_cleanup(void);
static void fuzz_state_write(const u_char *data, size_t size);
static u_char *fuzz_state_read(const char *path, size_t *size);
static void fuzz_state_unlink(const char *path);
static void fuzz_state_load(fuzz_state_zone_t *z);
static void fuzz_state_free(fuzz_state_zone_t *z);
static void fuzz_state_check_zone(ngx_rtmp_compliance_main_conf_t *mcf);
static void fuzz_state_compare(ngx_rtmp_compliance_main_conf_t *a,
    ngx_rtmp_compliance_main_conf_t *b);


static char             fuzz_state_dir[NGX_MAX_PATH];
static char             fuzz_state_path[NGX_MAX_PATH];
static char             fuzz_state_tmp[NGX_MAX_PATH];
static char             fuzz_state_corrupt[NGX_MAX_PATH];

/* the cycle of ctx->cycle: its conf_ctx holds the core conf at index 0 */
static ngx_cycle_t      fuzz_state_cycle;
static void            *fuzz_state_conf_ctx[1];
static ngx_core_conf_t  fuzz_state_ccf;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char  *tmp;

    ngx_rtmp_compliance_fuzz_init();

    /* a fixed "now": orders end relative to it */
    ((ngx_time_t *) ngx_cached_time)->sec = FUZZ_STATE_NOW;

    /* tmpfs if there is one: the fsync() of each compaction is free */

    tmp = getenv("TMPDIR");

    if (access("/dev/shm", W_OK) == 0) {
        tmp = "/dev/shm";

    } else if (tmp == NULL || tmp[0] != '/'
               || ngx_strlen(tmp) > NGX_MAX_PATH - 64)
    {
        tmp = "/tmp";
    }

    ngx_sprintf((u_char *) fuzz_state_dir, "%s/fuzz-state.XXXXXX%Z", tmp);
    FUZZ_CHECK(mkdtemp(fuzz_state_dir) != NULL, "mkdtemp(\"%s\"): %s",
               fuzz_state_dir, strerror(errno));

    ngx_sprintf((u_char *) fuzz_state_path, "%s/orders.jsonl%Z",
                fuzz_state_dir);
    ngx_sprintf((u_char *) fuzz_state_tmp, "%s.tmp%Z", fuzz_state_path);
    ngx_sprintf((u_char *) fuzz_state_corrupt, "%s.corrupt.%T%Z",
                fuzz_state_path, (time_t) FUZZ_STATE_NOW);

    atexit(fuzz_state_cleanup);

    /* "user" as the master runs: state.c gives the file to it */
    fuzz_state_ccf.user = geteuid();
    fuzz_state_ccf.group = getegid();
    fuzz_state_conf_ctx[0] = &fuzz_state_ccf;
    fuzz_state_cycle.conf_ctx = (void ****) fuzz_state_conf_ctx;
    fuzz_state_cycle.log = &ngx_rtmp_compliance_fuzz_log;

    return 0;
}


static void
fuzz_state_cleanup(void)
{
    unlink(fuzz_state_path);
    unlink(fuzz_state_tmp);
    unlink(fuzz_state_corrupt);
    rmdir(fuzz_state_dir);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char             *f1, *f2, *corrupt;
    size_t              n1, n2, nc;
    ngx_uint_t          bad;
    fuzz_state_zone_t   z1, z2;

    fuzz_state_unlink(fuzz_state_tmp);
    fuzz_state_unlink(fuzz_state_corrupt);
    fuzz_state_write(data, size);

    ngx_rtmp_compliance_fuzz_alerts = 0;

    /* the load */

    fuzz_state_load(&z1);

    FUZZ_CHECK(z1.rc == NGX_OK, "the load failed");
    FUZZ_CHECK(ngx_rtmp_compliance_fuzz_alerts == 0, "an alert was logged");

    bad = z1.mcf.zone->sh->state_errors;
    corrupt = fuzz_state_read(fuzz_state_corrupt, &nc);

    FUZZ_TRACE("state: %lu orders, next %lu, %lu outbox, %lu bad lines",
               (unsigned long) z1.mcf.zone->sh->norders,
               (unsigned long) z1.mcf.zone->sh->next_order,
               (unsigned long) z1.mcf.zone->sh->noutbox, (unsigned long) bad);

    if (bad) {
        FUZZ_CHECK(corrupt != NULL, "%lu bad lines, no .corrupt copy",
                   (unsigned long) bad);
        FUZZ_CHECK(nc == size && (size == 0 || memcmp(corrupt, data, size)
                                                == 0),
                   "the .corrupt copy is not the file as it was");

    } else {
        FUZZ_CHECK(corrupt == NULL, "a .corrupt copy without a bad line");
    }

    free(corrupt);

    fuzz_state_check_zone(&z1.mcf);

    f1 = fuzz_state_read(fuzz_state_path, &n1);
    FUZZ_CHECK(f1 != NULL, "no state file after the load");
    FUZZ_CHECK(access(fuzz_state_tmp, F_OK) != 0, "PATH.tmp is left");

    /* the compacted file, loaded again into a new zone */

    fuzz_state_unlink(fuzz_state_corrupt);

    fuzz_state_load(&z2);

    FUZZ_CHECK(z2.rc == NGX_OK, "the compacted file does not load");
    FUZZ_CHECK(ngx_rtmp_compliance_fuzz_alerts == 0, "an alert was logged");
    FUZZ_CHECK(z2.mcf.zone->sh->state_errors == 0,
               "the compacted file has %lu bad lines: %.*s",
               (unsigned long) z2.mcf.zone->sh->state_errors, (int) n1, f1);
    FUZZ_CHECK(access(fuzz_state_corrupt, F_OK) != 0,
               "a .corrupt copy of the compacted file");

    fuzz_state_check_zone(&z2.mcf);
    fuzz_state_compare(&z1.mcf, &z2.mcf);

    f2 = fuzz_state_read(fuzz_state_path, &n2);
    FUZZ_CHECK(f2 != NULL, "no state file after the second load");
    FUZZ_CHECK(n1 == n2 && memcmp(f1, f2, n1) == 0,
               "compacting the compacted file changes it:\n%.*s\n---\n%.*s",
               (int) n1, f1, (int) n2, f2);

    free(f1);
    free(f2);
    fuzz_state_free(&z1);
    fuzz_state_free(&z2);

    return 0;
}


static void
fuzz_state_write(const u_char *data, size_t size)
{
    int      fd;
    ssize_t  n;

    fd = open(fuzz_state_path, O_WRONLY|O_CREAT|O_TRUNC, 0600);
    FUZZ_CHECK(fd != -1, "open(\"%s\"): %s", fuzz_state_path,
               strerror(errno));

    while (size) {
        n = write(fd, data, size);
        FUZZ_CHECK(n > 0, "write(\"%s\"): %s", fuzz_state_path,
                   strerror(errno));
        data += n;
        size -= n;
    }

    FUZZ_CHECK(close(fd) == 0, "close(\"%s\"): %s", fuzz_state_path,
               strerror(errno));
}


/* the whole file, or NULL if there is none */

static u_char *
fuzz_state_read(const char *path, size_t *size)
{
    int           fd;
    u_char       *buf;
    ssize_t       n;
    struct stat   st;

    fd = open(path, O_RDONLY);

    if (fd == -1) {
        FUZZ_CHECK(errno == ENOENT, "open(\"%s\"): %s", path,
                   strerror(errno));
        return NULL;
    }

    FUZZ_CHECK(fstat(fd, &st) == 0, "fstat(\"%s\")", path);

    buf = malloc(st.st_size + 1);
    FUZZ_CHECK(buf != NULL, "malloc");

    n = read(fd, buf, st.st_size);
    FUZZ_CHECK(n == st.st_size, "read(\"%s\")", path);

    close(fd);

    *size = n;

    return buf;
}


static void
fuzz_state_unlink(const char *path)
{
    FUZZ_CHECK(unlink(path) == 0 || errno == ENOENT, "unlink(\"%s\"): %s",
               path, strerror(errno));
}


/*
 * nginx's start with "compliance_zone", "compliance_state PATH" and
 * "compliance_redis": the zone, then the module's init_module, which
 * loads the journal into a zone just made
 */

static void
fuzz_state_load(fuzz_state_zone_t *z)
{
    ngx_int_t                         rc;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    z->pool = ngx_rtmp_compliance_fuzz_pool();

    mcf = &z->mcf;
    ngx_memzero(mcf, sizeof(ngx_rtmp_compliance_main_conf_t));

    mcf->state.data = (u_char *) fuzz_state_path;
    mcf->state.len = ngx_strlen(fuzz_state_path);
    ngx_str_set(&mcf->node, "fuzz");
    mcf->cycle = &fuzz_state_cycle;
    mcf->state_fd = NGX_INVALID_FILE;

    rc = ngx_rtmp_compliance_fuzz_zone(mcf, z->pool, 1);

    FUZZ_CHECK(rc == NGX_OK, "the zone's init failed");
    FUZZ_CHECK(mcf->zone->fresh, "a new zone is not marked fresh");

    z->rc = ngx_rtmp_compliance_state_load(mcf,
                                           &ngx_rtmp_compliance_fuzz_log);
}


static void
fuzz_state_free(fuzz_state_zone_t *z)
{
    ngx_rtmp_compliance_fuzz_zone_free(&z->mcf);
    ngx_destroy_pool(z->pool);
}


static void
fuzz_state_check_zone(ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_str_t                      uid;
    ngx_uint_t                     n, r;
    ngx_queue_t                   *q;
    ngx_rbtree_node_t             *node;
    ngx_rtmp_compliance_order_t   *o;
    ngx_rtmp_compliance_shctx_t   *sh;
    ngx_rtmp_compliance_target_t  *t;

    sh = mcf->zone->sh;
    n = 0;
    r = 0;

    if (sh->orders.root != sh->orders.sentinel) {
        for (node = ngx_rbtree_min(sh->orders.root, sh->orders.sentinel);
             node;
             node = ngx_rbtree_next(&sh->orders, node))
        {
            o = (ngx_rtmp_compliance_order_t *) node;

            FUZZ_CHECK(node->key == (ngx_rbtree_key_t) o->id,
                       "order %lu under key %lu", (unsigned long) o->id,
                       (unsigned long) node->key);
            FUZZ_CHECK(o->id > 0 && o->id < sh->next_order,
                       "order %lu, next_order %lu", (unsigned long) o->id,
                       (unsigned long) sh->next_order);
            FUZZ_CHECK(o->until == 0 || o->until > FUZZ_STATE_NOW,
                       "order %lu ended at %ld", (unsigned long) o->id,
                       (long) o->until);
            FUZZ_CHECK(o->kind < NGX_RTMP_COMPLIANCE_T_MAX
                       && o->action >= NGX_RTMP_COMPLIANCE_WARN
                       && o->action <= NGX_RTMP_COMPLIANCE_REVERIFY,
                       "order %lu: kind %d, action %d",
                       (unsigned long) o->id, o->kind, o->action);
            FUZZ_CHECK(o->uid_len > 0, "order %lu has no uid",
                       (unsigned long) o->id);

            uid.data = ngx_rtmp_compliance_order_uid(o);
            uid.len = o->uid_len;

            FUZZ_CHECK(ngx_rtmp_compliance_order_find_uid_locked(mcf->zone,
                                                          &uid)
                       != NULL, "order %lu is not found by its uid",
                       (unsigned long) o->id);
            t = o->target_node;
            FUZZ_CHECK(sh->seen[t->sn.node.key & sh->seen_mask] > 0,
                       "order %lu: its target's bucket counts 0",
                       (unsigned long) o->id);
            n++;
            r += (o->action == NGX_RTMP_COMPLIANCE_REVERIFY);
        }
    }

    FUZZ_CHECK(n == sh->norders, "%lu orders in the tree, norders %lu",
               (unsigned long) n, (unsigned long) sh->norders);
    FUZZ_CHECK(r == sh->nreverify, "%lu reverify orders, nreverify %lu",
               (unsigned long) r, (unsigned long) sh->nreverify);

    n = 0;

    for (q = ngx_queue_head(&sh->outbox);
         q != ngx_queue_sentinel(&sh->outbox);
         q = ngx_queue_next(q))
    {
        n++;
    }

    FUZZ_CHECK(n == sh->noutbox, "%lu in the outbox, noutbox %lu",
               (unsigned long) n, (unsigned long) sh->noutbox);

    FUZZ_CHECK(ngx_strlen(sh->fleet_last_id) < NGX_RTMP_COMPLIANCE_STREAM_ID,
               "the stream id is not terminated");
}


/* the zones of a load and of the load of its compacted file */

static void
fuzz_state_compare(ngx_rtmp_compliance_main_conf_t *a,
    ngx_rtmp_compliance_main_conf_t *b)
{
    size_t                         len;
    ngx_queue_t                   *qa, *qb;
    ngx_rbtree_node_t             *na, *nb;
    ngx_rtmp_compliance_order_t   *oa, *ob;
    ngx_rtmp_compliance_shctx_t   *sa, *sb;
    ngx_rtmp_compliance_outbox_t  *ea, *eb;

    sa = a->zone->sh;
    sb = b->zone->sh;

    FUZZ_CHECK(sa->next_order == sb->next_order,
               "next_order %lu, then %lu", (unsigned long) sa->next_order,
               (unsigned long) sb->next_order);
    FUZZ_CHECK(sa->norders == sb->norders, "%lu orders, then %lu",
               (unsigned long) sa->norders, (unsigned long) sb->norders);
    FUZZ_CHECK(sa->noutbox == sb->noutbox, "%lu in the outbox, then %lu",
               (unsigned long) sa->noutbox, (unsigned long) sb->noutbox);
    FUZZ_CHECK(ngx_strcmp(sa->fleet_last_id, sb->fleet_last_id) == 0,
               "the stream id \"%s\", then \"%s\"", sa->fleet_last_id,
               sb->fleet_last_id);

    na = (sa->orders.root != sa->orders.sentinel)
         ? ngx_rbtree_min(sa->orders.root, sa->orders.sentinel) : NULL;
    nb = (sb->orders.root != sb->orders.sentinel)
         ? ngx_rbtree_min(sb->orders.root, sb->orders.sentinel) : NULL;

    while (na && nb) {
        oa = (ngx_rtmp_compliance_order_t *) na;
        ob = (ngx_rtmp_compliance_order_t *) nb;

        len = oa->target_len + oa->reason_len + oa->ref_len + oa->tier_len
              + oa->uid_len;

        FUZZ_CHECK(oa->id == ob->id && oa->created == ob->created
                   && oa->until == ob->until && oa->kind == ob->kind
                   && oa->action == ob->action
                   && oa->target_len == ob->target_len
                   && oa->reason_len == ob->reason_len
                   && oa->ref_len == ob->ref_len
                   && oa->tier_len == ob->tier_len
                   && oa->uid_len == ob->uid_len
                   && ngx_memcmp(oa->data, ob->data, len) == 0,
                   "order %lu is not the same after a restart",
                   (unsigned long) oa->id);

        na = ngx_rbtree_next(&sa->orders, na);
        nb = ngx_rbtree_next(&sb->orders, nb);
    }

    FUZZ_CHECK(na == NULL && nb == NULL, "the orders differ");

    qa = ngx_queue_head(&sa->outbox);
    qb = ngx_queue_head(&sb->outbox);

    while (qa != ngx_queue_sentinel(&sa->outbox)
           && qb != ngx_queue_sentinel(&sb->outbox))
    {
        ea = ngx_queue_data(qa, ngx_rtmp_compliance_outbox_t, queue);
        eb = ngx_queue_data(qb, ngx_rtmp_compliance_outbox_t, queue);

        FUZZ_CHECK(ea->what == eb->what && ea->uid_len == eb->uid_len
                   && ea->json_len == eb->json_len
                   && ngx_memcmp(ea->data, eb->data,
                                 ea->uid_len + ea->json_len) == 0,
                   "an outbox entry is not the same after a restart: "
                   "%.*s, then %.*s", (int) (ea->uid_len + ea->json_len),
                   ea->data, (int) (eb->uid_len + eb->json_len), eb->data);

        qa = ngx_queue_next(qa);
        qb = ngx_queue_next(qb);
    }

    FUZZ_CHECK(qa == ngx_queue_sentinel(&sa->outbox)
               && qb == ngx_queue_sentinel(&sb->outbox),
               "the outboxes differ");
}
