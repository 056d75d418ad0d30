
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_HTTP_COMPLIANCE_API_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* "compliance_api": the location serves the control API */
char *ngx_http_compliance_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* postconfiguration: JSON error pages for the API locations */
ngx_int_t ngx_http_compliance_api_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_COMPLIANCE_API_H_INCLUDED_ */
