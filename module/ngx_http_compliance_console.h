
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#ifndef _NGX_HTTP_COMPLIANCE_CONSOLE_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_CONSOLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * "compliance_console [API]": the location serves the console page; the
 * command's offset is that of its ngx_http_compliance_console_conf_t
 */
char *ngx_http_compliance_console(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_COMPLIANCE_CONSOLE_H_INCLUDED_ */
