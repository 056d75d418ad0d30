
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * For the targets that do not link zone.c (fuzz_amf, fuzz_token,
 * fuzz_order): the one function of it that orders.c refers to.
 * fuzz_state links zone.c itself.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance.h"
#include "fuzz.h"


/* orders.c: used by order_hits, never fuzzed */

void
ngx_rtmp_compliance_session_get(ngx_rtmp_compliance_session_t *ss,
    ngx_uint_t n, ngx_str_t *s)
{
    fprintf(stderr, "fuzz stub: ngx_rtmp_compliance_session_get() called\n");
    abort();
}
