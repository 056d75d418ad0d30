
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * What the fuzz targets share: the process-wide set-up that nginx's own
 * start-up would do (page size, the cached time), a log, and a check
 * that aborts with a message, so that a broken invariant is a crash the
 * fuzzer keeps.
 *
 * A target that links no nginx code (fuzz_audit: the audit tool is a
 * standalone program) defines FUZZ_STANDALONE first and gets the checks
 * only.
 */


#ifndef _NGX_RTMP_COMPLIANCE_FUZZ_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_FUZZ_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_STANDALONE

#include <ngx_config.h>
#include <ngx_core.h>


extern ngx_log_t   ngx_rtmp_compliance_fuzz_log;
extern ngx_uint_t  ngx_rtmp_compliance_fuzz_verbose;
extern ngx_uint_t  ngx_rtmp_compliance_fuzz_alerts;


void ngx_rtmp_compliance_fuzz_init(void);
ngx_pool_t *ngx_rtmp_compliance_fuzz_pool(void);

#endif


/*
 * libFuzzer's entry points; stubs.c has a weak LLVMFuzzerInitialize()
 * that does only ngx_rtmp_compliance_fuzz_init(), for a target that
 * needs nothing more
 */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define FUZZ_CHECK(cond, ...)                                                \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: invariant broken: %s: ",                 \
                    __FILE__, __LINE__, #cond);                              \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            abort();                                                         \
        }                                                                    \
    } while (0)


/* a detail buffer of the module must hold a C string on every rejection */

#define FUZZ_TRACE(...)                                                      \
    do {                                                                     \
        if (ngx_rtmp_compliance_fuzz_verbose) {                              \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)


#define FUZZ_DETAIL_FILL   0xa5

#define FUZZ_CHECK_DETAIL(detail, size, what)                                \
    FUZZ_CHECK(memchr(detail, '\0', size) != NULL,                           \
               "%s left its detail without a NUL", what)


#endif /* _NGX_RTMP_COMPLIANCE_FUZZ_H_INCLUDED_ */
