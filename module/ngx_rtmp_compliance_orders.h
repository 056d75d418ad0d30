
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_ORDERS_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_ORDERS_H_INCLUDED_


#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_fleet.h"


/* where an order change comes from */

#define NGX_RTMP_COMPLIANCE_ORIGIN_API    0
#define NGX_RTMP_COMPLIANCE_ORIGIN_FLEET  1


ngx_int_t ngx_rtmp_compliance_order_create_locked(
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_order_spec_t *spec, ngx_uint_t origin,
    ngx_log_t *log, ngx_rtmp_compliance_order_t **op);
ngx_int_t ngx_rtmp_compliance_order_lift_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_order_t *o,
    ngx_uint_t origin, ngx_str_t *by, ngx_log_t *log);
void ngx_rtmp_compliance_order_expire_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, time_t now);
void ngx_rtmp_compliance_order_fleet_entry(
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_fleet_entry_t *e, time_t now);
ngx_uint_t ngx_rtmp_compliance_order_apply_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_order_t *o);
ngx_uint_t ngx_rtmp_compliance_order_hits(ngx_rtmp_compliance_order_t *o,
    ngx_rtmp_compliance_session_t *ss);
void ngx_rtmp_compliance_order_targets(ngx_rtmp_compliance_session_t *ss,
    ngx_str_t *subjects, ngx_str_t *targets);


#endif /* _NGX_RTMP_COMPLIANCE_ORDERS_H_INCLUDED_ */
