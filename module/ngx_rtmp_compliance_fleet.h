
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The fleet: order changes shared between nodes through a Redis stream.
 */


#ifndef _NGX_RTMP_COMPLIANCE_FLEET_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_FLEET_H_INCLUDED_


#include "ngx_rtmp_compliance_zone.h"


/*
 * an order change read from the stream: op "create" or "lift", the
 * fleet-wide uid and the order's JSON ("create"); the zone's mutex is held
 */

typedef struct {
    ngx_str_t                       id;          /* the stream entry's */
    ngx_str_t                       op;          /* "create", "lift" */
    ngx_str_t                       uid;
    ngx_str_t                       order;       /* JSON, for "create" */
    time_t                          written;     /* the entry's id, 0:
                                                    not known */
} ngx_rtmp_compliance_fleet_entry_t;

typedef void (*ngx_rtmp_compliance_fleet_entry_pt)(
    ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_rtmp_compliance_fleet_entry_t *e, time_t now);


struct ngx_rtmp_compliance_fleet_s {
    ngx_flag_t                      enabled;
    ngx_str_t                       host;        /* an IP address */
    in_port_t                       port;
    ngx_str_t                       unix_path;
    ngx_str_t                       key;         /* PREFIX:orders */
    ngx_str_t                       password;
    ngx_int_t                       db;
    ngx_msec_t                      timeout;     /* an answer, at most */
    ngx_flag_t                      room_lock;   /* room_lock=on */
    ngx_str_t                       prefix;      /* key=PREFIX */
    u_char                         *pending;     /* XADD's uid */
    size_t                          pending_len;
    ngx_rtmp_compliance_fleet_entry_pt  entry;   /* what to do with an
                                                    order change read */
};


char *ngx_rtmp_compliance_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_rtmp_compliance_fleet_publish_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_uint_t what,
    ngx_rtmp_compliance_order_t *o, ngx_log_t *log);
void ngx_rtmp_compliance_fleet_lock_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_session_t *ss);
void ngx_rtmp_compliance_fleet_unlock_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_rtmp_compliance_session_t *ss);
ngx_int_t ngx_rtmp_compliance_fleet_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf);
void ngx_rtmp_compliance_fleet_exit(ngx_rtmp_compliance_main_conf_t *mcf);


#endif /* _NGX_RTMP_COMPLIANCE_FLEET_H_INCLUDED_ */
