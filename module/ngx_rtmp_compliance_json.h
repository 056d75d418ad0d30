
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The strict, allocation-free JSON reader of token headers and claims.
 */


#ifndef _NGX_RTMP_COMPLIANCE_JSON_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_JSON_H_INCLUDED_


#include "ngx_rtmp_compliance.h"



#define NGX_RTMP_COMPLIANCE_JSON_MEMBERS  64

typedef enum {
    NGX_RTMP_COMPLIANCE_JSON_STRING = 1,
    NGX_RTMP_COMPLIANCE_JSON_INTEGER,
    NGX_RTMP_COMPLIANCE_JSON_REAL,
    NGX_RTMP_COMPLIANCE_JSON_TRUE,
    NGX_RTMP_COMPLIANCE_JSON_FALSE,
    NGX_RTMP_COMPLIANCE_JSON_NULL,
    NGX_RTMP_COMPLIANCE_JSON_ARRAY,
    NGX_RTMP_COMPLIANCE_JSON_OBJECT
} ngx_rtmp_compliance_json_type_e;

typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      type;
    ngx_str_t                       str;         /* a string, unescaped;
                                                    an array or object:
                                                    its text */
    int64_t                         integer;
    double                          real;
} ngx_rtmp_compliance_jmember_t;

typedef struct {
    ngx_rtmp_compliance_jmember_t   member[NGX_RTMP_COMPLIANCE_JSON_MEMBERS];
    ngx_uint_t                      n;
} ngx_rtmp_compliance_jobject_t;

ngx_int_t ngx_rtmp_compliance_json_parse(u_char *in, size_t len, u_char *out,
    ngx_rtmp_compliance_jobject_t *obj);
ngx_rtmp_compliance_jmember_t *ngx_rtmp_compliance_json_get(
    ngx_rtmp_compliance_jobject_t *obj, const char *name);
ngx_uint_t ngx_rtmp_compliance_json_array_has(ngx_str_t *array,
    ngx_str_t *value, u_char *scratch);
size_t ngx_rtmp_compliance_utf8(u_char *p, u_char *last);


#endif /* _NGX_RTMP_COMPLIANCE_JSON_H_INCLUDED_ */
