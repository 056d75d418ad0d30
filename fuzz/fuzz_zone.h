
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The module's shared zone for the targets that link zone.c (fuzz_order,
 * fuzz_state): made by the module's own code as nginx makes it, in
 * memory of the process (stubs_zone.c).
 */


#ifndef _NGX_RTMP_COMPLIANCE_FUZZ_ZONE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_FUZZ_ZONE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_zone.h"


/* compliance_zone's minimum, 64 pages */
#define NGX_RTMP_COMPLIANCE_FUZZ_ZONE_PAGES  64


ngx_int_t ngx_rtmp_compliance_fuzz_zone(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_pool_t *pool, ngx_uint_t fleet);
void ngx_rtmp_compliance_fuzz_zone_free(ngx_rtmp_compliance_main_conf_t *mcf);


#endif /* _NGX_RTMP_COMPLIANCE_FUZZ_ZONE_H_INCLUDED_ */
