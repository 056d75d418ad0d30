
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_RTMP_COMPLIANCE_TIER_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_TIER_H_INCLUDED_


#include "ngx_rtmp_compliance_zone.h"


struct ngx_rtmp_compliance_tier_s {
    ngx_str_t                       name;
    ngx_flag_t                      publish;
    ngx_uint_t                      max_viewers; /* 0: unlimited */
    time_t                          max_duration; /* seconds, 0: none */
    size_t                          max_bitrate; /* bits/s, 0: none */
    ngx_flag_t                      ai_host;
    ngx_flag_t                      viewer_token;
};


char *ngx_rtmp_compliance_tier(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_rtmp_compliance_tier_t *ngx_rtmp_compliance_tier_find(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_str_t *name);
ngx_int_t ngx_rtmp_compliance_tier_names_add(ngx_conf_t *cf,
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_app_conf_t *cacf);
ngx_uint_t ngx_rtmp_compliance_tier_check(ngx_rtmp_compliance_tier_t *t,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size);
ngx_uint_t ngx_rtmp_compliance_tier_play_token(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_str_t *app, ngx_str_t *room,
    ngx_str_t *token, ngx_uint_t oversize, ngx_pool_t *pool,
    ngx_rtmp_compliance_claims_t *cl, u_char *detail, size_t size);
ngx_uint_t ngx_rtmp_compliance_tier_player_locked(
    ngx_rtmp_compliance_app_conf_t *cacf, ngx_rtmp_compliance_room_t *r,
    ngx_rtmp_compliance_claims_t *cl, ngx_uint_t count,
    ngx_rtmp_compliance_tier_t **tp, u_char *detail, size_t size);


#endif /* _NGX_RTMP_COMPLIANCE_TIER_H_INCLUDED_ */
