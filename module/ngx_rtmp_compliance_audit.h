
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The audit log: one hash chain a node, written by every worker.
 */


#ifndef _NGX_RTMP_COMPLIANCE_AUDIT_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_AUDIT_H_INCLUDED_


#include <jansson.h>
#include <openssl/evp.h>
#include "ngx_rtmp_compliance.h"


#define NGX_RTMP_COMPLIANCE_FSYNC_OFF     0
#define NGX_RTMP_COMPLIANCE_FSYNC_BATCH   1
#define NGX_RTMP_COMPLIANCE_FSYNC_ALWAYS  2


struct ngx_rtmp_compliance_audit_s {
    ngx_str_t                       dir;
    ngx_str_t                       node;
    time_t                          retention;   /* seconds */
    ngx_uint_t                      fsync;
    ngx_uint_t                      rotate;      /* 1: hourly */
    ngx_uint_t                      refuse;      /* on_error=refuse */
    ngx_fd_t                        fd;          /* per worker */
    u_char                          segment[32];
    ngx_uint_t                      dirty;
    ngx_event_t                     sync_ev;

    /* compliance_audit_sign: the signed checkpoints */
    EVP_PKEY                       *sign_key;    /* Ed25519, NULL: off */
    ngx_str_t                       sign_file;
    ngx_msec_t                      sign_interval;
    u_char                          sign_fp[33]; /* the key's, hex */
    ngx_uint_t                      signing;     /* a checkpoint is
                                                    being written */
    ngx_event_t                     sign_ev;
};



/* an audit record's members being written: ,"name":value ... */
typedef struct {
    u_char                         *start;
    u_char                         *pos;
    u_char                         *end;
    u_char                         *heap;        /* start, if allocated */
    ngx_uint_t                      failed;      /* no memory */
    ngx_log_t                      *log;
} ngx_rtmp_compliance_fields_t;

#define NGX_RTMP_COMPLIANCE_FIELDS_SIZE  2048

void ngx_rtmp_compliance_fields_init(ngx_rtmp_compliance_fields_t *f,
    u_char *buf, size_t size, ngx_log_t *log);
void ngx_rtmp_compliance_fields_free(ngx_rtmp_compliance_fields_t *f);
void ngx_rtmp_compliance_field_str(ngx_rtmp_compliance_fields_t *f,
    const char *key, u_char *data, size_t len);
void ngx_rtmp_compliance_field_int(ngx_rtmp_compliance_fields_t *f,
    const char *key, int64_t v);
void ngx_rtmp_compliance_field_lit(ngx_rtmp_compliance_fields_t *f,
    const char *key, const char *text);
ngx_int_t ngx_rtmp_compliance_audit_fields(const char *event,
    ngx_rtmp_compliance_fields_t *f, ngx_log_t *log);

char *ngx_rtmp_compliance_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_rtmp_compliance_audit_sign(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_rtmp_compliance_audit_test(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_audit_init(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_audit_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf);
ngx_int_t ngx_rtmp_compliance_audit_timers_start(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf);
void ngx_rtmp_compliance_audit_exit_process(
    ngx_rtmp_compliance_main_conf_t *mcf);
u_char *ngx_rtmp_compliance_audit_ts(u_char *p, ngx_msec_t ms);
ngx_uint_t ngx_rtmp_compliance_audit_available(void);
ngx_uint_t ngx_rtmp_compliance_audit_enabled(void);

ngx_int_t ngx_rtmp_compliance_audit(const char *event, json_t *fields,
    ngx_log_t *log);
ngx_int_t ngx_rtmp_compliance_audit_locked(const char *event,
    json_t *fields, ngx_log_t *log);


#endif /* _NGX_RTMP_COMPLIANCE_AUDIT_H_INCLUDED_ */
