
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Rejection floods: repeated identical rejections are counted and
 * summarised instead of being logged and audited one by one
 * (compliance_reject_summary).
 */


#ifndef _NGX_RTMP_COMPLIANCE_FLOOD_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_FLOOD_H_INCLUDED_


#include "ngx_rtmp_compliance.h"


#define NGX_RTMP_COMPLIANCE_FLOOD_BURST   20
#define NGX_RTMP_COMPLIANCE_FLOOD_WINDOW  60000     /* ms */


/* compliance_reject_summary; mcf->flood, NULL: the defaults */

struct ngx_rtmp_compliance_flood_s {
    ngx_uint_t                      burst;       /* 0: off */
    ngx_msec_t                      window;
};


char *ngx_rtmp_compliance_reject_summary(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_uint_t ngx_rtmp_compliance_flood_fold(ngx_str_t *addr, ngx_uint_t kind,
    ngx_uint_t reason, ngx_uint_t level, u_char *hash);
void ngx_rtmp_compliance_flood_flush(ngx_uint_t all);
u_char *ngx_rtmp_compliance_flood_metrics(u_char *p, u_char *last);


#endif /* _NGX_RTMP_COMPLIANCE_FLOOD_H_INCLUDED_ */
