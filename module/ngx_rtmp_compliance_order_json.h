
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_ORDER_JSON_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_ORDER_JSON_H_INCLUDED_


#include <jansson.h>
#include "ngx_rtmp_compliance_zone.h"


#define NGX_RTMP_COMPLIANCE_PARSE_API     0
#define NGX_RTMP_COMPLIANCE_PARSE_STATE   1
#define NGX_RTMP_COMPLIANCE_PARSE_FLEET   2


ngx_int_t ngx_rtmp_compliance_order_parse(json_t *obj, ngx_uint_t mode,
    ngx_rtmp_compliance_order_spec_t *spec, time_t now, u_char *detail,
    size_t size);
json_t *ngx_rtmp_compliance_order_json(ngx_rtmp_compliance_order_t *o);


#endif /* _NGX_RTMP_COMPLIANCE_ORDER_JSON_H_INCLUDED_ */
