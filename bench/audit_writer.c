
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * bench/audit_writer.c -- the audit log's writer alone, without RTMP
 * sessions (make bench: audit_records_per_s).
 *
 *   audit_writer DIR N [SECONDS]
 *
 * Links the module's own writer (ngx_rtmp_compliance_audit.c) with nginx's
 * core objects and the fuzz targets' stubs (fuzz/stubs.c, stubs_zone.c:
 * the zone made as nginx makes it, in this process), as the fuzz targets
 * link module code (bench/writer.mk; stubs_state.c: the core module's
 * index, no thread pools).  It starts the log as the master
 * does (the directory, its lock, the chain's end, audit.start), then
 * writes N publish.accept records with the members a publish's record
 * has, the zone's mutex taken for each as a worker takes it, and
 * fsync=batch as the worker's timer does it (fdatasync once a second
 * when something was written), nginx's time updated every 64 records (an
 * event loop's turn).  Stops after N records or SECONDS (default 20).
 *
 * Prints one line: records=N secs=S records_per_s=R cpu_us_per_record=C
 * errors=E.  The directory then holds a chain that compliance-audit
 * verify accepts (bench/run checks it).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <sys/resource.h>
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_key.h"
#include "ngx_rtmp_compliance_audit_format.h"
#include "fuzz.h"
#include "fuzz_zone.h"


/*
 * ngx_process_cycle.c (the audit.start record's pid) and
 * ngx_event_timer.c (the writer's timers, which no event loop runs here)
 */
ngx_pid_t      ngx_parent;
ngx_rbtree_t   ngx_event_timer_rbtree;

/* ngx_rtmp_compliance_module.c: the module's configuration */
ngx_rtmp_compliance_main_conf_t  *ngx_rtmp_compliance_main;


static double
ngx_rtmp_compliance_writer_cpu(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);

    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static double
ngx_rtmp_compliance_writer_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* the members of a publish.accept record (gate.c writes these) */

static ngx_int_t
ngx_rtmp_compliance_writer_record(ngx_uint_t i, ngx_log_t *log)
{
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_rtmp_compliance_fields_t   f;
    u_char                         buf[NGX_RTMP_COMPLIANCE_FIELDS_SIZE];
    u_char                         room[32], sub[32], jti[40];

    ngx_rtmp_compliance_fields_init(&f, buf, sizeof(buf), log);

    p = ngx_sprintf(room, "r%ui", i % 1024);
    ngx_rtmp_compliance_field_str(&f, "room", room, p - room);
    p = ngx_sprintf(sub, "h%ui", i % 1024);
    ngx_rtmp_compliance_field_str(&f, "sub", sub, p - sub);
    ngx_rtmp_compliance_field_str(&f, "pid", (u_char *) "g7", 2);
    ngx_rtmp_compliance_field_str(&f, "op", (u_char *) "op1", 3);
    ngx_rtmp_compliance_field_str(&f, "mcn", (u_char *) "mcn1", 4);
    ngx_rtmp_compliance_field_lit(&f, "tier", "\"basic\"");
    ngx_rtmp_compliance_field_str(&f, "idv", (u_char *) "face", 4);
    p = ngx_sprintf(jti, "bench-%016xL", (uint64_t) i);
    ngx_rtmp_compliance_field_str(&f, "jti", jti, p - jti);
    ngx_rtmp_compliance_field_str(&f, "addr", (u_char *) "127.0.1.3", 9);
    ngx_rtmp_compliance_field_int(&f, "session", (int64_t) i);
    ngx_rtmp_compliance_field_int(&f, "worker", (int64_t) ngx_pid);

    rc = ngx_rtmp_compliance_audit_fields(
             NGX_RTMP_COMPLIANCE_AUDIT_EV_PUBLISH_ACCEPT, &f, log);

    ngx_rtmp_compliance_fields_free(&f);

    return rc;
}


int
main(int argc, char **argv)
{
    double                            t0, t1, c0, c1, tsync, limit, t;
    ngx_uint_t                        i, n, errors;
    ngx_log_t                        *log;
    ngx_pool_t                       *pool;
    ngx_conf_t                        cf;
    ngx_rtmp_compliance_audit_t      *a;
    ngx_rtmp_compliance_main_conf_t  *mcf;
    static void                    ***conf_ctx[1];

    if (argc < 3) {
        fprintf(stderr, "usage: audit_writer DIR N [SECONDS]\n");
        return 2;
    }

    n = (ngx_uint_t) strtoul(argv[2], NULL, 10);
    limit = argc > 3 ? atof(argv[3]) : 20;

    if (n == 0 || limit <= 0 || limit > 300) {
        fprintf(stderr, "audit_writer: N > 0, SECONDS in (0, 300]\n");
        return 2;
    }

    ngx_rtmp_compliance_fuzz_init();

    log = &ngx_rtmp_compliance_fuzz_log;
    log->log_level = NGX_LOG_NOTICE;
    pool = ngx_rtmp_compliance_fuzz_pool();

    /* no "user" directive: the writer chowns nothing */
    ((ngx_cycle_t *) ngx_cycle)->conf_ctx = (void ****) conf_ctx;

    mcf = ngx_pcalloc(pool, sizeof(ngx_rtmp_compliance_main_conf_t));
    a = ngx_pcalloc(pool, sizeof(ngx_rtmp_compliance_audit_t));

    if (mcf == NULL || a == NULL) {
        return 1;
    }

    mcf->audit = a;
    mcf->cycle = (ngx_cycle_t *) ngx_cycle;
    ngx_str_set(&mcf->node, "bench");

    a->dir.data = (u_char *) argv[1];
    a->dir.len = ngx_strlen(argv[1]);
    ngx_str_set(&a->node, "bench");
    a->fsync = NGX_RTMP_COMPLIANCE_FSYNC_BATCH;
    a->fd = NGX_INVALID_FILE;

    if (ngx_rtmp_compliance_fuzz_zone(mcf, pool, 0) != NGX_OK) {
        fprintf(stderr, "audit_writer: the zone's init failed\n");
        return 1;
    }

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.cycle = (ngx_cycle_t *) ngx_cycle;
    cf.log = log;

    if (ngx_rtmp_compliance_sha256_init(&cf) != NGX_OK) {
        fprintf(stderr, "audit_writer: no SHA-256\n");
        return 1;
    }

    /* the master's start, then the first worker's audit.start */

    if (ngx_rtmp_compliance_audit_init(mcf, log) != NGX_OK) {
        fprintf(stderr, "audit_writer: the log could not be started in "
                "\"%s\" (FUZZ_LOG=1 says why)\n", argv[1]);
        return 1;
    }

    ngx_rtmp_compliance_main = mcf;

    if (ngx_rtmp_compliance_audit_init_process((ngx_cycle_t *) ngx_cycle,
                                               mcf)
        != NGX_OK)
    {
        return 1;
    }

    errors = 0;
    t0 = ngx_rtmp_compliance_writer_now();
    tsync = t0;
    c0 = ngx_rtmp_compliance_writer_cpu();

    for (i = 0; i < n; i++) {

        if (ngx_rtmp_compliance_writer_record(i, log) != NGX_OK) {
            errors++;
        }

        if ((i & 63) != 63) {
            continue;
        }

        /* an event loop's turn: the time, and the batch fsync timer */

        ngx_time_update();
        t = ngx_rtmp_compliance_writer_now();

        if (t - tsync >= 1.0) {
            if (a->dirty && a->fd != NGX_INVALID_FILE) {
                (void) fdatasync(a->fd);
                a->dirty = 0;
            }

            tsync = t;
        }

        if (t - t0 > limit) {
            i++;
            break;
        }
    }

    t1 = ngx_rtmp_compliance_writer_now();
    c1 = ngx_rtmp_compliance_writer_cpu();

    if (a->fd != NGX_INVALID_FILE) {
        (void) fdatasync(a->fd);
    }

    printf("records=%lu secs=%.3f records_per_s=%.0f cpu_us_per_record=%.2f "
           "errors=%lu\n", (unsigned long) i, t1 - t0,
           t1 > t0 ? i / (t1 - t0) : 0, i ? (c1 - c0) * 1e6 / i : 0,
           (unsigned long) errors);

    return errors ? 1 : 0;
}
