
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_SESSION_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_SESSION_H_INCLUDED_


#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_audit.h"


/* what a refresh returns beyond the reasons */
#define NGX_RTMP_COMPLIANCE_REFRESH_GONE       NGX_RTMP_COMPLIANCE_REASON_MAX
#define NGX_RTMP_COMPLIANCE_REFRESH_PLAYER     (NGX_RTMP_COMPLIANCE_REASON_MAX \
                                                + 1)
#define NGX_RTMP_COMPLIANCE_REFRESH_STALE      (NGX_RTMP_COMPLIANCE_REASON_MAX \
                                                + 2)


ngx_int_t ngx_rtmp_compliance_session_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf);
void ngx_rtmp_compliance_session_exit_process(void);
ngx_uint_t ngx_rtmp_compliance_session_admit(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_uint_t kind, u_char *detail, size_t size);
void ngx_rtmp_compliance_session_count(ngx_uint_t kind, ngx_uint_t reason);
void ngx_rtmp_compliance_session_close(ngx_rtmp_compliance_ctx_t *ctx);
void ngx_rtmp_compliance_session_end(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx);
ngx_uint_t ngx_rtmp_compliance_session_refresh(uint64_t id,
    ngx_str_t *token, ngx_str_t *by, ngx_pool_t *pool, ngx_log_t *log,
    u_char *detail, size_t size);
void ngx_rtmp_compliance_audit_session(ngx_rtmp_compliance_fields_t *f,
    ngx_rtmp_session_t *s, ngx_rtmp_compliance_ctx_t *ctx);


#endif /* _NGX_RTMP_COMPLIANCE_SESSION_H_INCLUDED_ */
