
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * A file of the configuration (a key, a password) read whole when the
 * configuration is read.
 */


#ifndef _NGX_RTMP_COMPLIANCE_FILE_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_FILE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * FILE (a full name) into the configuration pool: NULL, said to nginx -t
 * naming WHAT ("key", ...), when it cannot be read, is empty or is over
 * MAX bytes
 */
u_char *ngx_rtmp_compliance_file_read(ngx_conf_t *cf, ngx_str_t *file,
    size_t max, const char *what, size_t *sizep);


#endif /* _NGX_RTMP_COMPLIANCE_FILE_H_INCLUDED_ */
