
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The few nginx symbols the fuzzed files reach beyond the nginx core
 * sources linked in (ngx_string.c, ngx_palloc.c, ngx_array.c,
 * ngx_times.c, os/unix/ngx_alloc.c and os/unix/ngx_time.c), and the
 * audit function of the module that orders.c refers to but the fuzzed
 * entry points never call.  What only some targets need is in
 * stubs_zone.c (the parser targets) and stubs_state.c (fuzz_state).
 *
 * The log functions really format their arguments (with nginx's own
 * ngx_vslprintf), so a bad format or argument in a log call of the
 * module is still caught; the text is printed only with FUZZ_LOG=1.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_rtmp_compliance.h"
#include "fuzz.h"


static ngx_cycle_t  ngx_rtmp_compliance_fuzz_cycle;

volatile ngx_cycle_t  *ngx_cycle = &ngx_rtmp_compliance_fuzz_cycle;

/* FUZZ_LOG=1: print the log and what the harnesses see */
ngx_uint_t  ngx_rtmp_compliance_fuzz_verbose;

/*
 * messages at "alert" logged so far: nginx's own internal errors (a free
 * of a pointer a slab pool never gave out, a failed close()); a harness
 * may require that there are none
 */
ngx_uint_t  ngx_rtmp_compliance_fuzz_alerts;

/* every level and every debug bit: each log call of the module formats */
ngx_log_t  ngx_rtmp_compliance_fuzz_log = {
    .log_level = NGX_LOG_DEBUG | NGX_LOG_DEBUG_ALL
};


static void
ngx_rtmp_compliance_fuzz_vlog(ngx_uint_t level, const char *what,
    ngx_err_t err, const char *fmt, va_list args)
{
    u_char  *p, *last;
    u_char   errstr[NGX_MAX_ERROR_STR];

    last = errstr + NGX_MAX_ERROR_STR;

    p = ngx_slprintf(errstr, last, "[%ui] %s: ", level, what);
    p = ngx_vslprintf(p, last, fmt, args);

    if (err && p < last) {
        p = ngx_slprintf(p, last, " (%d)", err);
    }

    if (level == NGX_LOG_ALERT) {
        ngx_rtmp_compliance_fuzz_alerts++;
    }

    if (ngx_rtmp_compliance_fuzz_verbose) {
        fprintf(stderr, "%.*s\n", (int) (p - errstr), errstr);
    }
}


/* the body of a log function: its arguments after fmt to fuzz_vlog() */

#define FUZZ_VLOG(level, what, err, fmt)                                     \
    do {                                                                     \
        va_list  args;                                                       \
                                                                             \
        va_start(args, fmt);                                                 \
        ngx_rtmp_compliance_fuzz_vlog(level, what, err, fmt, args);          \
        va_end(args);                                                        \
    } while (0)


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    FUZZ_VLOG(level, "log", err, fmt);
}


void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    FUZZ_VLOG(level, "conf", err, fmt);
}


/*
 * nginx makes a relative name absolute with the configuration prefix;
 * the harnesses give absolute names only, which nginx keeps as they are
 */

ngx_int_t
ngx_conf_full_name(ngx_cycle_t *cycle, ngx_str_t *name,
    ngx_uint_t conf_prefix)
{
    if (name->len && name->data[0] == '/') {
        return NGX_OK;
    }

    fprintf(stderr, "fuzz stub: ngx_conf_full_name(\"%.*s\"): "
            "relative names are not supported here\n",
            (int) name->len, name->data);

    return NGX_ERROR;
}


/*
 * orders.c: used by order_audit_locked, never fuzzed (no target writes
 * the audit log: the state file's loader does not audit); weak: the
 * bench's audit writer links the real one (bench/writer.mk)
 */

__attribute__((weak)) ngx_int_t
ngx_rtmp_compliance_audit_locked(const char *event, json_t *fields,
    ngx_log_t *log)
{
    fprintf(stderr, "fuzz stub: ngx_rtmp_compliance_audit_locked() "
            "called\n");
    abort();
}


/*
 * module.c: the reasons' strings (fuzz_token prints them), made from the
 * header's one list as module.c makes them
 */

#define NGX_RTMP_COMPLIANCE_FUZZ_REASON(name, text)  ngx_string(text),

ngx_str_t  ngx_rtmp_compliance_reasons[] = {
    NGX_RTMP_COMPLIANCE_REASONS(NGX_RTMP_COMPLIANCE_FUZZ_REASON)
    ngx_null_string
};


/*
 * what nginx's start-up does for these files: the page size
 * (ngx_os_init) and the cached time (ngx_time_init); the time is not
 * updated afterwards, as in a worker between two events
 */

void
ngx_rtmp_compliance_fuzz_init(void)
{
    static ngx_uint_t  done;

    if (done) {
        return;
    }

    done = 1;

    ngx_rtmp_compliance_fuzz_verbose = getenv("FUZZ_LOG") != NULL;

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    for (ngx_pagesize_shift = 0; (ngx_uint_t) 1 << ngx_pagesize_shift
                                 < ngx_pagesize; ngx_pagesize_shift++)
    {
        /* void */
    }

    ngx_time_init();

    ngx_rtmp_compliance_fuzz_cycle.log = &ngx_rtmp_compliance_fuzz_log;
}


/*
 * libFuzzer's set-up for a target that needs only nginx's (fuzz_amf); a
 * target with more to set up defines its own, which takes this one's
 * place
 */

__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_rtmp_compliance_fuzz_init();
    return 0;
}


/*
 * a fresh pool per input; the objects are built with NGX_DEBUG_PALLOC,
 * so every allocation is its own malloc() and AddressSanitizer sees an
 * overrun of any of them
 */

ngx_pool_t *
ngx_rtmp_compliance_fuzz_pool(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(1024, &ngx_rtmp_compliance_fuzz_log);

    if (pool == NULL) {
        fprintf(stderr, "fuzz: ngx_create_pool() failed\n");
        abort();
    }

    return pool;
}
