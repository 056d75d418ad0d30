
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * What fuzz_state links beyond stubs.c and stubs_zone.c: the nginx
 * symbols that state.c and nginx's file code (ngx_file.c,
 * os/unix/ngx_files.c) reach in files it does not link (nginx.c, the
 * thread pools).  The core module's index is real (state.c reads the
 * core conf through it); a thread pool is never configured, so a call
 * of it aborts and shows up as a crash.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "fuzz.h"


/*
 * nginx.c: state.c reads the core conf (user, group) by its index; the
 * harness's conf_ctx has it at 0
 */
ngx_module_t  ngx_core_module;


/* os/unix/ngx_files.c: reads through a thread pool, none is configured */

ngx_thread_task_t *
ngx_thread_task_alloc(ngx_pool_t *pool, size_t size)
{
    fprintf(stderr, "fuzz stub: ngx_thread_task_alloc() called\n");
    abort();
}
