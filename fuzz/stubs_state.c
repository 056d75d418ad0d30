
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * What fuzz_state links beyond stubs.c: the nginx symbols of files it
 * does not link (nginx.c, ngx_cycle.c, the process cycle, the event
 * modules, ngx_inet.c, the thread pools), and the module's functions of
 * files it does not link (audit.c, session.c).
 *
 * The loader's path needs a few of them to do their ordinary, harmless
 * part: the zone is made by the harness, there is no audit log, this is
 * not "nginx -t".  Everything else is reached only by the fleet's
 * connection to Redis or by nginx's threads, which fuzz_state never
 * runs: those abort, so a call would show up as a crash.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include "ngx_rtmp_compliance.h"
#include "fuzz.h"


/* os/unix/ngx_posix_init.c: one CPU, ngx_shmtx_lock() does not spin */
ngx_int_t        ngx_ncpu = 1;

/* os/unix/ngx_process_cycle.c: the harness sets ngx_pid */
ngx_pid_t        ngx_pid;
ngx_uint_t       ngx_exiting;

/* ngx_cycle.c: not "nginx -t", the state file is loaded */
ngx_uint_t       ngx_test_config;

/*
 * nginx.c: state.c reads the core conf (user, group) by its index; the
 * harness's conf_ctx has it at 0
 */
ngx_module_t     ngx_core_module;

/* ngx_rtmp_compliance_module.c: only the zone's tag */
ngx_module_t     ngx_rtmp_compliance_module;

/* the event module's, used only by fleet.c's connection */
ngx_event_actions_t  ngx_event_actions;
ngx_rbtree_t         ngx_event_timer_rbtree;


#define FUZZ_ABORT(name)                                                     \
    fprintf(stderr, "fuzz stub: " name "() called\n");                       \
    abort()


/*
 * ngx_cycle.c: the zone as ngx_shared_memory_add() makes it for the
 * "compliance_zone" directive (from the configuration's pool, without
 * memory yet); the harness maps it and runs its init as ngx_init_cycle()
 * does
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
 * audit.c: the harness configures no compliance_audit_log, for which the
 * real function returns NGX_OK at once; it would write the log otherwise
 */

ngx_int_t
ngx_rtmp_compliance_audit_init(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    if (mcf->audit.dir.len) {
        FUZZ_ABORT("ngx_rtmp_compliance_audit_init with a directory");
    }

    return NGX_OK;
}


/* audit.c: "nginx -t" only */

ngx_int_t
ngx_rtmp_compliance_audit_test(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    FUZZ_ABORT("ngx_rtmp_compliance_audit_test");
}


/* session.c: fleet.c applies the orders it reads from Redis */

ngx_uint_t
ngx_rtmp_compliance_order_apply_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_order_t *o)
{
    FUZZ_ABORT("ngx_rtmp_compliance_order_apply_locked");
}


/* fleet.c's connection to Redis */

ngx_connection_t *
ngx_get_connection(ngx_socket_t s, ngx_log_t *log)
{
    FUZZ_ABORT("ngx_get_connection");
}


void
ngx_free_connection(ngx_connection_t *c)
{
    FUZZ_ABORT("ngx_free_connection");
}


ngx_int_t
ngx_parse_url(ngx_pool_t *pool, ngx_url_t *u)
{
    FUZZ_ABORT("ngx_parse_url");
}


size_t
ngx_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, ngx_uint_t port)
{
    FUZZ_ABORT("ngx_sock_ntop");
}


/* os/unix/ngx_files.c: reads through a thread pool, none is configured */

ngx_thread_task_t *
ngx_thread_task_alloc(ngx_pool_t *pool, size_t size)
{
    FUZZ_ABORT("ngx_thread_task_alloc");
}


/*
 * ngx_slab.c calls it after its "ngx_slab_free(): ..." alerts, a free of
 * a pointer the zone never gave out or gave out already: stop there
 */

void
ngx_debug_point(void)
{
    FUZZ_ABORT("ngx_debug_point (a slab error)");
}
