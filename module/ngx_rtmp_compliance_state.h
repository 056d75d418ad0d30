
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The state file: the journal of order changes.
 */


#ifndef _NGX_RTMP_COMPLIANCE_STATE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_STATE_H_INCLUDED_


#include <jansson.h>
#include "ngx_rtmp_compliance.h"


ngx_int_t ngx_rtmp_compliance_state_load(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_state_test(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_workers_can_write(ngx_cycle_t *cycle,
    const char *directive, ngx_str_t *path, ngx_uint_t made, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_state_append(
    ngx_rtmp_compliance_main_conf_t *mcf, json_t *j, ngx_log_t *log);


#endif /* _NGX_RTMP_COMPLIANCE_STATE_H_INCLUDED_ */
