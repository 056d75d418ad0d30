
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_GATE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_GATE_H_INCLUDED_


#include "ngx_rtmp_compliance.h"


ngx_int_t ngx_rtmp_compliance_gate_init(ngx_conf_t *cf,
    ngx_rtmp_core_main_conf_t *cmcf);
void ngx_rtmp_compliance_gate_backlog(ngx_cycle_t *cycle, ngx_int_t backlog);
ngx_rtmp_compliance_ctx_t *ngx_rtmp_compliance_get_ctx(
    ngx_rtmp_session_t *s);
ngx_int_t ngx_rtmp_compliance_set_room(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_str_t *room);
ngx_uint_t ngx_rtmp_compliance_gate_player(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_ctx_t *ctx,
    ngx_str_t *token, u_char *detail, size_t size);
ngx_int_t ngx_rtmp_compliance_gate_live(ngx_rtmp_session_t *s,
    ngx_int_t rc);
ngx_int_t ngx_rtmp_compliance_gate_outcome(ngx_rtmp_session_t *s,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_int_t state);
ngx_int_t ngx_rtmp_compliance_reject(ngx_rtmp_session_t *s, ngx_uint_t play,
    ngx_rtmp_compliance_ctx_t *ctx, ngx_uint_t reason, u_char *detail);


#endif /* _NGX_RTMP_COMPLIANCE_GATE_H_INCLUDED_ */
