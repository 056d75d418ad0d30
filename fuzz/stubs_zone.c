
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * For the targets that link the module's zone.c (fuzz_order, fuzz_state)
 * with nginx's slab pool, mutex, rbtree, crc32 and size parser: the
 * nginx symbols of the files they do not link (nginx.c, ngx_cycle.c, the
 * process cycle) that these reach, and the zone made as nginx makes it.
 *
 * The zone is the module's own: its directive's handler, its init, its
 * context and its shared part, in memory of this process (one process:
 * the mutex never waits).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_zone.h"
#include "fuzz.h"
#include "fuzz_zone.h"


static void ngx_rtmp_compliance_fuzz_zone_init(void);


/* os/unix/ngx_posix_init.c: one CPU, ngx_shmtx_lock() does not spin */
ngx_int_t        ngx_ncpu = 1;

/* os/unix/ngx_process_cycle.c: the mutex's owner, set once */
ngx_pid_t        ngx_pid;

/* ngx_cycle.c: not "nginx -t" */
ngx_uint_t       ngx_test_config;

/* ngx_rtmp_compliance_module.c: only the zone's tag */
ngx_module_t     ngx_rtmp_compliance_module;


#define FUZZ_ZONE_ABORT(name)                                                \
    fprintf(stderr, "fuzz stub: " name "() called\n");                       \
    abort()


/*
 * ngx_cycle.c: the zone as ngx_shared_memory_add() makes it for the
 * "compliance_zone" directive (from the configuration's pool, without
 * memory yet); ngx_rtmp_compliance_fuzz_zone() gives it its memory and
 * runs its init as ngx_init_cycle() does
 */

ngx_shm_zone_t *
ngx_shared_memory_add(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    void *tag)
{
    ngx_shm_zone_t  *shm_zone;

    shm_zone = ngx_pcalloc(cf->pool, sizeof(ngx_shm_zone_t));
    if (shm_zone == NULL) {
        return NULL;
    }

    shm_zone->shm.size = size;
    shm_zone->shm.name = *name;
    shm_zone->shm.log = cf->log;
    shm_zone->tag = tag;

    return shm_zone;
}


/*
 * ngx_slab.c calls it after its "ngx_slab_free(): ..." alerts, a free of
 * a pointer the zone never gave out or gave out already: stop there
 */

void
ngx_debug_point(void)
{
    FUZZ_ZONE_ABORT("ngx_debug_point (a slab error)");
}


/* what main() and ngx_init_cycle() do once before any zone is made */

static void
ngx_rtmp_compliance_fuzz_zone_init(void)
{
    static ngx_uint_t  done;

    if (done) {
        return;
    }

    done = 1;

    ngx_rtmp_compliance_fuzz_init();

    ngx_pid = getpid();
    ngx_slab_sizes_init();
}


/*
 * The zone of "compliance_zone fuzz SIZE" (SIZE: 64 pages, the least the
 * directive takes, so that a few tens of kilobytes of orders fill it) for
 * mcf, whose state and node are set: nginx's start with the module, up
 * to the zone's init, whose result is returned.  First the directive's
 * handler (mcf->shm_zone, mcf->zone), then what the module's
 * postconfiguration tells the zone (its journal, node, that it is loaded
 * when there is a journal, and whether it keeps the fleet's outbox and
 * position), then what ngx_init_cycle() does: zeroed memory, the slab
 * pool as ngx_init_zone_pool() sets it up, the zone's init.  Loading the
 * journal (the module's init_module) is the caller's.
 */

ngx_int_t
ngx_rtmp_compliance_fuzz_zone(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_pool_t *pool, ngx_uint_t fleet)
{
    char                        *rv;
    ngx_str_t                   *value, audit;
    ngx_conf_t                   cf;
    ngx_shm_zone_t              *shm_zone;
    ngx_slab_pool_t             *sp;
    ngx_rtmp_compliance_zone_t  *zone;
    u_char                       size[NGX_SIZE_T_LEN + 1];

    ngx_rtmp_compliance_fuzz_zone_init();

    /* compliance_zone fuzz SIZE; */

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.cycle = (ngx_cycle_t *) ngx_cycle;
    cf.log = &ngx_rtmp_compliance_fuzz_log;

    cf.args = ngx_array_create(pool, 3, sizeof(ngx_str_t));
    FUZZ_CHECK(cf.args != NULL, "ngx_array_create");

    value = ngx_array_push_n(cf.args, 3);
    FUZZ_CHECK(value != NULL, "ngx_array_push_n");

    ngx_str_set(&value[0], "compliance_zone");
    ngx_str_set(&value[1], "fuzz");
    value[2].data = size;
    value[2].len = ngx_sprintf(size, "%uz",
                               NGX_RTMP_COMPLIANCE_FUZZ_ZONE_PAGES
                               * ngx_pagesize)
                   - size;

    rv = ngx_rtmp_compliance_zone(&cf, NULL, mcf);
    FUZZ_CHECK(rv == NGX_CONF_OK, "compliance_zone: %s", rv);

    /* ngx_rtmp_compliance_postconfiguration() */

    zone = mcf->zone;
    FUZZ_CHECK(zone != NULL && mcf->shm_zone->data == zone,
               "compliance_zone made no zone context");

    ngx_str_null(&audit);
    ngx_rtmp_compliance_zone_conf(zone, &mcf->state, &audit, &mcf->node,
                                  fleet);

    /* ngx_init_cycle(): ngx_shm_alloc(), ngx_init_zone_pool(), init */

    shm_zone = mcf->shm_zone;

    shm_zone->shm.addr = calloc(1, shm_zone->shm.size);
    FUZZ_CHECK(shm_zone->shm.addr != NULL, "calloc");

    shm_zone->shm.log = &ngx_rtmp_compliance_fuzz_log;

    sp = (ngx_slab_pool_t *) shm_zone->shm.addr;
    sp->end = shm_zone->shm.addr + shm_zone->shm.size;
    sp->min_shift = 3;
    sp->addr = shm_zone->shm.addr;

    FUZZ_CHECK(ngx_shmtx_create(&sp->mutex, &sp->lock, NULL) == NGX_OK,
               "ngx_shmtx_create");

    ngx_slab_init(sp);

    return shm_zone->init(shm_zone, NULL);
}


/* the zone's memory; the context is in the caller's pool */

void
ngx_rtmp_compliance_fuzz_zone_free(ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_slab_pool_t  *sp;

    sp = (ngx_slab_pool_t *) mcf->shm_zone->shm.addr;

    ngx_shmtx_destroy(&sp->mutex);
    free(sp);

    mcf->shm_zone->shm.addr = NULL;
}
