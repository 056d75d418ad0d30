
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_file.h"


u_char *
ngx_rtmp_compliance_file_read(ngx_conf_t *cf, ngx_str_t *file, size_t max,
    const char *what, size_t *sizep)
{
    size_t           size;
    u_char          *p;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", file);
        return NULL;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", file);
        ngx_close_file(fd);
        return NULL;
    }

    size = ngx_file_size(&fi);

    if (size == 0 || size > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s file \"%V\" is %s", what, file,
                           size ? "too large" : "empty");
        ngx_close_file(fd);
        return NULL;
    }

    p = ngx_pnalloc(cf->pool, size);
    if (p == NULL) {
        ngx_close_file(fd);
        return NULL;
    }

    n = ngx_read_fd(fd, p, size);

    if (n == -1 || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", file);
        ngx_close_file(fd);
        return NULL;
    }

    ngx_close_file(fd);

    *sizep = size;

    return p;
}
