
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The audit log: JSON Lines segments, one hash chain per node.
 *
 * Every record is written under the zone's mutex, so all workers extend
 * one chain: seq and the previous record's hash live in the zone.  A
 * record's hash is SHA-256 over its line up to ,"hash": with a closing
 * brace; docs/audit.md has the exact definition.  When a new zone is made
 * (start, not reload) the master finds the end of the chain in the newest
 * segment, cuts a torn last line, and writes an audit.start record.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/pem.h>
#include <sys/file.h>
#include "ngx_rtmp_compliance_audit.h"
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_json.h"
#include "ngx_rtmp_compliance_key.h"
#include "ngx_rtmp_compliance_audit_format.h"


#define NGX_RTMP_COMPLIANCE_AUDIT_TAIL           65536
#define NGX_RTMP_COMPLIANCE_AUDIT_SYNC           1000   /* batch, ms */


/* the parameters that are one word */

typedef struct {
    ngx_str_t                       name;
    size_t                          offset;
    ngx_uint_t                      value;
} ngx_rtmp_compliance_word_t;


static char *ngx_rtmp_compliance_fields_json(ngx_rtmp_compliance_fields_t *f,
    json_t *fields, ngx_log_t *log);
static EVP_PKEY *ngx_rtmp_compliance_audit_sign_key(ngx_conf_t *cf,
    ngx_rtmp_compliance_audit_t *a);
static ngx_int_t ngx_rtmp_compliance_audit_retention(ngx_conf_t *cf,
    ngx_str_t *param, time_t *retention);
static ngx_int_t ngx_rtmp_compliance_audit_newest(ngx_str_t *path,
    ngx_log_t *log, u_char *newest, size_t size);
static u_char *ngx_rtmp_compliance_audit_cut(ngx_fd_t fd, u_char *path,
    u_char *buf, u_char *last, off_t size, off_t from,
    ngx_uint_t *recovered, ngx_log_t *log);
static ngx_int_t ngx_rtmp_compliance_audit_head(
    ngx_rtmp_compliance_shctx_t *sh, u_char *line, size_t len);
static ngx_msec_t ngx_rtmp_compliance_audit_when_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, u_char *segment, ngx_log_t *log);
static ngx_int_t ngx_rtmp_compliance_audit_append(
    ngx_rtmp_compliance_audit_t *a, u_char *segment, struct iovec *iov,
    size_t total, ngx_log_t *log);
static ngx_uint_t ngx_rtmp_compliance_audit_is_hash(u_char *p);
static ngx_int_t ngx_rtmp_compliance_audit_write_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, const char *event, u_char *members,
    size_t mlen, ngx_log_t *log);
static void ngx_rtmp_compliance_audit_segment(
    ngx_rtmp_compliance_audit_t *a, ngx_msec_t ms, u_char *name);
static ngx_int_t ngx_rtmp_compliance_audit_tail(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log,
    ngx_uint_t *recovered);
static void ngx_rtmp_compliance_audit_sync(ngx_event_t *ev);
static void ngx_rtmp_compliance_audit_chown(
    ngx_rtmp_compliance_main_conf_t *mcf, u_char *path, ngx_log_t *log);
static void ngx_rtmp_compliance_audit_sign_cleanup(void *data);
static ngx_int_t ngx_rtmp_compliance_audit_checkpoint_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log);
static void ngx_rtmp_compliance_audit_checkpoint_timer(ngx_event_t *ev);
static ngx_msec_t ngx_rtmp_compliance_audit_period_end(
    ngx_rtmp_compliance_audit_t *a, ngx_msec_t ms);


/* the parameters that are one word */

static ngx_rtmp_compliance_word_t  ngx_rtmp_compliance_audit_words[] = {
    { ngx_string("fsync=off"),
      offsetof(ngx_rtmp_compliance_audit_t, fsync),
      NGX_RTMP_COMPLIANCE_FSYNC_OFF },
    { ngx_string("fsync=batch"),
      offsetof(ngx_rtmp_compliance_audit_t, fsync),
      NGX_RTMP_COMPLIANCE_FSYNC_BATCH },
    { ngx_string("fsync=always"),
      offsetof(ngx_rtmp_compliance_audit_t, fsync),
      NGX_RTMP_COMPLIANCE_FSYNC_ALWAYS },
    { ngx_string("rotate=daily"),
      offsetof(ngx_rtmp_compliance_audit_t, rotate), 0 },
    { ngx_string("rotate=hourly"),
      offsetof(ngx_rtmp_compliance_audit_t, rotate), 1 },
    { ngx_string("on_error=refuse"),
      offsetof(ngx_rtmp_compliance_audit_t, refuse), 1 },
    { ngx_string("on_error=continue"),
      offsetof(ngx_rtmp_compliance_audit_t, refuse), 0 },
    { ngx_null_string, 0, 0 }
};


/*
 * compliance_audit_log DIR [retention=3y] [fsync=off|batch|always]
 *     [rotate=daily|hourly] [on_error=refuse|continue] [node=NAME]
 */

char *
ngx_rtmp_compliance_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_rtmp_compliance_main_conf_t *mcf = conf;

    ngx_int_t                      rc;
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_rtmp_compliance_audit_t   *a;
    ngx_rtmp_compliance_word_t    *w;

    a = mcf->audit;

    if (a->dir.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    a->dir = value[1];

    if (ngx_conf_full_name(cf->cycle, &a->dir, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    while (a->dir.len > 1 && a->dir.data[a->dir.len - 1] == '/') {
        a->dir.len--;
    }

    a->retention = NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN;
    a->fsync = NGX_RTMP_COMPLIANCE_FSYNC_BATCH;
    a->rotate = 0;
    a->refuse = 1;
    a->node = cf->cycle->hostname;
    a->fd = NGX_INVALID_FILE;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "retention=", 10) == 0) {
            rc = ngx_rtmp_compliance_audit_retention(cf, &value[i],
                                                     &a->retention);

            if (rc == NGX_DECLINED) {
                goto invalid;
            }

            if (rc != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        for (w = ngx_rtmp_compliance_audit_words; w->name.len; w++) {
            if (w->name.len == value[i].len
                && ngx_strncmp(w->name.data, value[i].data, w->name.len) == 0)
            {
                *(ngx_uint_t *) ((char *) a + w->offset) = w->value;
                break;
            }
        }

        if (w->name.len) {
            continue;
        }

        if (ngx_strncmp(value[i].data, "node=", 5) == 0) {
            a->node.data = value[i].data + 5;
            a->node.len = value[i].len - 5;

            if (a->node.len == 0 || a->node.len > 64) {
                goto invalid;
            }

            /* the node's name in order ids too */
            mcf->node = a->node;

            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * compliance_audit_sign KEYFILE [interval=1m]: an Ed25519 private key in
 * PEM, which only its owner may read, read here by the master
 */

char *
ngx_rtmp_compliance_audit_sign(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_rtmp_compliance_main_conf_t *mcf = conf;

    EVP_PKEY                     *pkey;
    ngx_str_t                    *value, v;
    ngx_msec_t                    interval;
    ngx_rtmp_compliance_audit_t  *a;

    a = mcf->audit;
    value = cf->args->elts;

    if (a->sign_file.data) {
        return "is duplicate";
    }

    if (a->dir.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_audit_sign\" requires "
                           "\"compliance_audit_log\" before it");
        return NGX_CONF_ERROR;
    }

    interval = 60000;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "interval=", 9) != 0) {
            goto invalid;
        }

        v.data = value[2].data + 9;
        v.len = value[2].len - 9;

        interval = ngx_parse_time(&v, 0);

        if (interval == (ngx_msec_t) NGX_ERROR || interval < 1000
            || interval > 86400000)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" (1s .. 24h)",
                               &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    a->sign_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &a->sign_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    pkey = ngx_rtmp_compliance_audit_sign_key(cf, a);
    if (pkey == NULL) {
        return NGX_CONF_ERROR;
    }

    a->sign_key = pkey;
    a->sign_interval = interval;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[2]);
    return NGX_CONF_ERROR;
}


/*
 * the signing key: a file only its owner can read, an Ed25519 private
 * key in PEM; its fingerprint into a->sign_fp.  Freed with the cycle.
 */

static EVP_PKEY *
ngx_rtmp_compliance_audit_sign_key(ngx_conf_t *cf,
    ngx_rtmp_compliance_audit_t *a)
{
    BIO                 *bio;
    size_t               len;
    EVP_PKEY            *pkey;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;
    u_char               raw[32], md[SHA256_DIGEST_LENGTH];

    if (ngx_file_info(a->sign_file.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "compliance_audit_sign: the key \"%V\" cannot "
                           "be read", &a->sign_file);
        return NULL;
    }

    if (fi.st_mode & 077) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "compliance_audit_sign: the key \"%V\" can be "
                           "read by group or others (mode 0%ui%ui%ui): "
                           "chmod 600 it", &a->sign_file,
                           (ngx_uint_t) (fi.st_mode >> 6) & 7,
                           (ngx_uint_t) (fi.st_mode >> 3) & 7,
                           (ngx_uint_t) fi.st_mode & 7);
        return NULL;
    }

    /* the key is freed with the cycle's pool */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    bio = BIO_new_file((char *) a->sign_file.data, "r");
    pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);

    cln->handler = ngx_rtmp_compliance_audit_sign_cleanup;
    cln->data = pkey;

    if (pkey == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "compliance_audit_sign: \"%V\" is not a PEM "
                           "private key", &a->sign_file);
        return NULL;
    }

    len = sizeof(raw);

    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519
        || EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1
        || len != sizeof(raw))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "compliance_audit_sign: \"%V\" is not an "
                           "Ed25519 private key (openssl genpkey "
                           "-algorithm ed25519)", &a->sign_file);
        return NULL;
    }

    /* the fingerprint: SHA-256 of the raw public key, its first 16 bytes */

    if (EVP_Digest(raw, len, md, NULL, EVP_sha256(), NULL) != 1) {
        return NULL;
    }

    ngx_hex_dump(a->sign_fp, md, 16);
    a->sign_fp[32] = '\0';

    return pkey;
}


static void
ngx_rtmp_compliance_audit_sign_cleanup(void *data)
{
    EVP_PKEY_free(data);
}


/*
 * retention=Ny or Nd: NGX_OK; NGX_DECLINED, not a retention; NGX_ERROR,
 * under the three years the Measures require (said)
 */

static ngx_int_t
ngx_rtmp_compliance_audit_retention(ngx_conf_t *cf, ngx_str_t *param,
    time_t *retention)
{
    time_t     n, unit;
    ngx_str_t  v;

    v.data = param->data + sizeof("retention=") - 1;
    v.len = param->len - (sizeof("retention=") - 1);

    if (v.len < 2) {
        return NGX_DECLINED;
    }

    switch (v.data[v.len - 1]) {
    case 'y':
        unit = NGX_RTMP_COMPLIANCE_AUDIT_YEAR_DAYS * 86400;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return NGX_DECLINED;
    }

    n = ngx_atotm(v.data, v.len - 1);

    if (n == NGX_ERROR || n > 100 * 366) {
        return NGX_DECLINED;
    }

    *retention = n * unit;

    if (*retention < NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "audit retention \"%V\" is under the 3 years "
                           "(1095d) the Measures require "
                           "(直播电商监督管理办法: 不少于三年)", &v);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "audit-20261128.jsonl" or "audit-20261128T17.jsonl" */

static void
ngx_rtmp_compliance_audit_segment(ngx_rtmp_compliance_audit_t *a,
    ngx_msec_t ms, u_char *name)
{
    ngx_tm_t  tm;

    ngx_gmtime((time_t) (ms / 1000), &tm);

    if (a->rotate) {
        ngx_sprintf(name, NGX_RTMP_COMPLIANCE_AUDIT_HOURLY_FMT "%Z",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour);

    } else {
        ngx_sprintf(name, NGX_RTMP_COMPLIANCE_AUDIT_DAILY_FMT "%Z",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday);
    }
}


static void
ngx_rtmp_compliance_audit_chown(ngx_rtmp_compliance_main_conf_t *mcf,
    u_char *path, ngx_log_t *log)
{
    ngx_core_conf_t  *ccf;

    if (geteuid() != 0) {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(mcf->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT
        && chown((char *) path, ccf->user, ccf->group) == -1)
    {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "compliance_audit_log: chown(\"%s\") failed", path);
    }
}


/*
 * the master, for a new zone: the end of the chain from the newest
 * segment, then an audit.start record
 */

ngx_int_t
ngx_rtmp_compliance_audit_init(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    ngx_fd_t                      fd;
    ngx_uint_t                    recovered;
    ngx_rtmp_compliance_audit_t  *a;
    u_char                        path[NGX_MAX_PATH];

    a = mcf->audit;

    if (a->dir.len == 0) {
        return NGX_OK;
    }

    if (a->dir.len + 32 >= NGX_MAX_PATH) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_audit_log: \"%V\" is too long", &a->dir);
        return NGX_ERROR;
    }

    ngx_sprintf(path, "%V%Z", &a->dir);

    if (ngx_create_dir(path, 0750) == NGX_FILE_ERROR
        && ngx_errno != NGX_EEXIST)
    {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_create_dir_n " \"%s\" "
                      "failed", path);
        return NGX_ERROR;
    }

    /* workers make the new segments */
    ngx_rtmp_compliance_audit_chown(mcf, path, log);

    /*
     * one writer per directory: a second nginx (a binary upgrade, or two
     * servers sharing it) would fork the chain
     */

    ngx_sprintf(path, "%V/" NGX_RTMP_COMPLIANCE_AUDIT_LOCK "%Z", &a->dir);

    fd = ngx_open_file(path, NGX_FILE_RDWR, NGX_FILE_CREATE_OR_OPEN,
                       NGX_FILE_OWNER_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_open_file_n " \"%s\" "
                      "failed", path);
        return NGX_ERROR;
    }

    if (flock(fd, LOCK_EX|LOCK_NB) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: another nginx writes to \"%V\" "
                      "(a binary upgrade needs a restart instead: the chain "
                      "has one writer)", &a->dir);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    /* held, and inherited by the workers, for as long as the master runs */

    if (ngx_rtmp_compliance_audit_tail(mcf, log, &recovered) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the first worker writes audit.start, with the master's pid */

    mcf->zone->sh->audit_start = 1;
    mcf->zone->sh->audit_recovered = recovered;

    return NGX_OK;
}


/*
 * nginx -t: DIR, or the directory it is to be made in, must be there
 */

ngx_int_t
ngx_rtmp_compliance_audit_test(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log)
{
    u_char           *slash;
    size_t            len;
    ngx_file_info_t   fi;
    u_char            path[NGX_MAX_PATH];

    if (mcf->audit->dir.len == 0 || mcf->audit->dir.len >= NGX_MAX_PATH) {
        return NGX_OK;
    }

    ngx_sprintf(path, "%V%Z", &mcf->audit->dir);

    if (ngx_file_info(path, &fi) != NGX_FILE_ERROR) {
        if (ngx_is_dir(&fi)) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_audit_log: \"%s\" is not a directory",
                      path);
        return NGX_ERROR;
    }

    len = mcf->audit->dir.len;

    for (slash = path + len - 1; slash > path && *slash != '/'; slash--) {
        /* void */
    }

    *(slash > path ? slash : slash + 1) = '\0';

    if (ngx_file_info(path, &fi) == NGX_FILE_ERROR || !ngx_is_dir(&fi)) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: \"%V\" cannot be made: "
                      "\"%s\" is not a directory", &mcf->audit->dir, path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * finds the newest segment's last record: its seq and hash continue the
 * chain; a line cut short by a crash was never acknowledged and is cut
 */

static ngx_int_t
ngx_rtmp_compliance_audit_tail(ngx_rtmp_compliance_main_conf_t *mcf,
    ngx_log_t *log, ngx_uint_t *recovered)
{
    u_char                       *p, *last, *line, *buf;
    off_t                         size, from;
    ssize_t                       n;
    ngx_fd_t                      fd;
    ngx_int_t                     rc;
    ngx_rtmp_compliance_shctx_t  *sh;
    u_char                        newest[64], path[NGX_MAX_PATH];

    sh = mcf->zone->sh;
    *recovered = 0;

    if (ngx_rtmp_compliance_audit_newest(&mcf->audit->dir, log, newest,
                                         sizeof(newest))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh->audit_seq = 0;
    ngx_memset(sh->audit_prev, '0', sizeof(sh->audit_prev));

    if (newest[0] == '\0') {
        return NGX_OK;
    }

    ngx_cpystrn(sh->audit_segment, newest, sizeof(sh->audit_segment));

    ngx_sprintf(path, "%V/%s%Z", &mcf->audit->dir, newest);

    fd = ngx_open_file(path, NGX_FILE_RDWR, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_open_file_n " \"%s\" "
                      "failed", path);
        return NGX_ERROR;
    }

    size = lseek(fd, 0, SEEK_END);
    from = size > NGX_RTMP_COMPLIANCE_AUDIT_TAIL
           ? size - NGX_RTMP_COMPLIANCE_AUDIT_TAIL : 0;

    buf = ngx_alloc(NGX_RTMP_COMPLIANCE_AUDIT_TAIL + 1, log);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    n = pread(fd, buf, (size_t) (size - from), from);

    if (n != (ssize_t) (size - from)) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: reading \"%s\" failed", path);
        goto done;
    }

    last = buf + n;

    if (n && last[-1] != '\n') {
        p = ngx_rtmp_compliance_audit_cut(fd, path, buf, last, size, from,
                                          recovered, log);
        if (p == NULL) {
            goto done;
        }

        last = p;
    }

    if (last == buf) {
        /* an empty segment: nothing to continue from in it */
        rc = NGX_OK;
        goto done;
    }

    line = last - 1;

    while (line > buf && line[-1] != '\n') {
        line--;
    }

    rc = ngx_rtmp_compliance_audit_head(sh, line, last - line - 1);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_audit_log: the last record of \"%s\" "
                      "has no valid seq and hash; run "
                      "\"compliance-audit verify\" on the directory", path);
    }

done:

    ngx_free(buf);
    ngx_close_file(fd);

    return rc;
}


/* the name of the newest segment in directory path into newest ("": none) */

static ngx_int_t
ngx_rtmp_compliance_audit_newest(ngx_str_t *path, ngx_log_t *log,
    u_char *newest, size_t size)
{
    u_char     *p;
    ssize_t     n;
    ngx_dir_t   dir;

    newest[0] = '\0';

    if (ngx_open_dir(path, &dir) == NGX_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: " ngx_open_dir_n " \"%V\" "
                      "failed", path);
        return NGX_ERROR;
    }

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&dir) == NGX_ERROR) {
            break;
        }

        n = ngx_de_namelen(&dir);
        p = ngx_de_name(&dir);

        if (n < (ssize_t) NGX_RTMP_COMPLIANCE_AUDIT_DAILY_LEN
            || n >= (ssize_t) size
            || ngx_strncmp(p, NGX_RTMP_COMPLIANCE_AUDIT_PREFIX,
                           NGX_RTMP_COMPLIANCE_AUDIT_PREFIX_LEN) != 0
            || ngx_strncmp(p + n - NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX_LEN,
                           NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX,
                           NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX_LEN) != 0)
        {
            continue;
        }

        if (ngx_strcmp(p, newest) > 0) {
            ngx_cpystrn(newest, p, n + 1);
        }
    }

    ngx_close_dir(&dir);

    return NGX_OK;
}


/*
 * a torn last line (a crash while it was written) is cut from the file;
 * the new end of what was read, or NULL
 */

static u_char *
ngx_rtmp_compliance_audit_cut(ngx_fd_t fd, u_char *path, u_char *buf,
    u_char *last, off_t size, off_t from, ngx_uint_t *recovered,
    ngx_log_t *log)
{
    u_char  *p;

    p = last;

    while (p > buf && p[-1] != '\n') {
        p--;
    }

    if (p == buf && from > 0) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance_audit_log: the last line of \"%s\" "
                      "is longer than %d bytes", path,
                      NGX_RTMP_COMPLIANCE_AUDIT_TAIL);
        return NULL;
    }

    *recovered = last - p;

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "compliance_audit_log: \"%s\" ends with a partial "
                  "record of %ui bytes, cut", path, *recovered);

    if (ftruncate(fd, size - *recovered) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "compliance_audit_log: ftruncate(\"%s\") failed",
                      path);
        return NULL;
    }

    return p;
}


/* the chain goes on from the last record's seq and hash */

static ngx_int_t
ngx_rtmp_compliance_audit_head(ngx_rtmp_compliance_shctx_t *sh, u_char *line,
    size_t len)
{
    json_t     *j, *seq, *hash;
    ngx_int_t   rc;

    j = json_loadb((char *) line, len, 0, NULL);

    seq = j ? json_object_get(j, "seq") : NULL;
    hash = j ? json_object_get(j, "hash") : NULL;

    rc = NGX_ERROR;

    if (json_is_integer(seq) && json_integer_value(seq) > 0
        && json_is_string(hash)
        && json_string_length(hash) == NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN
        && ngx_rtmp_compliance_audit_is_hash((u_char *)
                                             json_string_value(hash)))
    {
        sh->audit_seq = json_integer_value(seq);
        ngx_memcpy(sh->audit_prev, json_string_value(hash),
                   NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN);
        rc = NGX_OK;
    }

    json_decref(j);

    return rc;
}


ngx_int_t
ngx_rtmp_compliance_audit_init_process(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf)
{
    json_t                       *f;
    ngx_rtmp_compliance_audit_t  *a;

    a = mcf->audit;
    a->fd = NGX_INVALID_FILE;
    a->segment[0] = '\0';
    a->dirty = 0;

    if (a->dir.len == 0 || mcf->zone->sh == NULL) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (mcf->zone->sh->audit_start) {
        f = json_pack("{s:i}", "pid", (int) ngx_parent);

        if (f && mcf->zone->sh->audit_recovered) {
            (void) json_object_set_new(f, "recovered_bytes",
                                json_integer(mcf->zone->sh->audit_recovered));
        }

        if (f == NULL
            || ngx_rtmp_compliance_audit_locked(
                   NGX_RTMP_COMPLIANCE_AUDIT_EV_START, f, cycle->log)
               != NGX_OK)
        {
            ngx_log_error(NGX_LOG_CRIT, cycle->log, 0,
                          "compliance_audit_log: audit.start was not "
                          "written");
        }

        json_decref(f);
        mcf->zone->sh->audit_start = 0;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_rtmp_compliance_audit_timers_start(ngx_cycle_t *cycle,
    ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_rtmp_compliance_audit_t  *a;

    a = mcf->audit;

    if (a->sign_key && a->dir.len && mcf->zone->sh
        && !a->sign_ev.timer_set)
    {
        a->sign_ev.handler = ngx_rtmp_compliance_audit_checkpoint_timer;
        a->sign_ev.log = cycle->log;
        a->sign_ev.data = mcf;
        a->sign_ev.cancelable = 1;

        ngx_add_timer(&a->sign_ev, 10);
    }

    if (a->dir.len == 0 || a->fsync != NGX_RTMP_COMPLIANCE_FSYNC_BATCH
        || a->sync_ev.timer_set)
    {
        return NGX_OK;
    }

    a->sync_ev.handler = ngx_rtmp_compliance_audit_sync;
    a->sync_ev.log = cycle->log;
    a->sync_ev.data = mcf;
    a->sync_ev.cancelable = 1;

    ngx_add_timer(&a->sync_ev, NGX_RTMP_COMPLIANCE_AUDIT_SYNC);

    return NGX_OK;
}


void
ngx_rtmp_compliance_audit_exit_process(ngx_rtmp_compliance_main_conf_t *mcf)
{
    ngx_rtmp_compliance_shctx_t  *sh;

    sh = mcf->zone ? mcf->zone->sh : NULL;

    if (mcf->audit->sign_key && mcf->audit->dir.len && sh) {
        /* shutdown: the first worker to exit signs what is there */

        ngx_time_update();

        ngx_shmtx_lock(&mcf->zone->shpool->mutex);

        if (sh->audit_checkpoint_seq != sh->audit_seq) {
            (void) ngx_rtmp_compliance_audit_checkpoint_locked(
                       mcf, ngx_cycle->log);
        }

        ngx_shmtx_unlock(&mcf->zone->shpool->mutex);
    }

    if (mcf->audit->fd != NGX_INVALID_FILE) {
        (void) fdatasync(mcf->audit->fd);
        ngx_close_file(mcf->audit->fd);
        mcf->audit->fd = NGX_INVALID_FILE;
    }
}


/*
 * compliance_audit_sign: a checkpoint record signs (node, seq, hash) of
 * the record before it, "NODE\nSEQ\nHASH" (docs/audit.md), with the
 * Ed25519 key; the mutex is held
 */

static ngx_int_t
ngx_rtmp_compliance_audit_checkpoint_locked(
    ngx_rtmp_compliance_main_conf_t *mcf, ngx_log_t *log)
{
    u_char                       *p;
    size_t                        siglen;
    ngx_int_t                     rc;
    EVP_MD_CTX                   *ctx;
    ngx_rtmp_compliance_audit_t  *a;
    ngx_rtmp_compliance_shctx_t  *sh;
    u_char                        sig[64], msg[256 + NGX_INT64_LEN + 72];
    u_char                        members[512];
    u_char                        hash[NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN];

    a = mcf->audit;
    sh = mcf->zone->sh;

    if (a->sign_key == NULL || a->signing || sh->audit_seq == 0) {
        return NGX_OK;
    }

    if (!ngx_rtmp_compliance_audit_is_hash(sh->audit_prev)) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(msg, a->node.data, ngx_min(a->node.len, 256));
    p = ngx_sprintf(p, "\n%uL\n", sh->audit_seq);
    p = ngx_cpymem(p, sh->audit_prev, NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN);

    siglen = sizeof(sig);
    ctx = EVP_MD_CTX_new();

    if (ctx == NULL
        || EVP_DigestSignInit(ctx, NULL, NULL, NULL, a->sign_key) != 1
        || EVP_DigestSign(ctx, sig, &siglen, msg, p - msg) != 1
        || siglen != sizeof(sig))
    {
        EVP_MD_CTX_free(ctx);
        ngx_log_error(NGX_LOG_CRIT, log, 0,
                      "compliance_audit_sign: signing a checkpoint failed");
        sh->audit_errors++;
        return NGX_ERROR;
    }

    EVP_MD_CTX_free(ctx);

    p = ngx_sprintf(members, ",\"signed_seq\":%uL,\"signed_hash\":\"",
                    sh->audit_seq);
    p = ngx_cpymem(p, sh->audit_prev, NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN);
    p = ngx_sprintf(p, "\",\"key\":\"%s\",\"interval_ms\":%M,\"sig\":\"",
                    a->sign_fp, a->sign_interval);
    p = ngx_hex_dump(p, sig, sizeof(sig));
    *p++ = '"';

    ngx_memcpy(hash, sh->audit_prev, NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN);

    a->signing = 1;
    rc = ngx_rtmp_compliance_audit_write_locked(
             mcf, NGX_RTMP_COMPLIANCE_AUDIT_EV_CHECKPOINT, members,
             p - members, log);
    a->signing = 0;

    if (rc == NGX_OK) {
        /* what the fleet publishes for the others to witness */
        sh->audit_checkpoint_ms = sh->audit_ms;
        sh->audit_checkpoint_seq = sh->audit_seq;
        ngx_memcpy(sh->audit_checkpoint_hash, hash,
                   NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN);
        ngx_hex_dump(sh->audit_checkpoint_sig, sig, sizeof(sig));
        (void) ngx_rtmp_compliance_audit_ts(sh->audit_checkpoint_ts,
                                            sh->audit_ms);
    }

    return rc;
}


/*
 * every worker's timer; the first whose timer finds the interval over
 * writes the checkpoint, the others see it in the zone and wait for the
 * next one.  Idle or not: a silent node proves that it was alive.
 */

static void
ngx_rtmp_compliance_audit_checkpoint_timer(ngx_event_t *ev)
{
    ngx_msec_t                        now, due, next;
    ngx_time_t                       *tp;
    ngx_rtmp_compliance_audit_t      *a;
    ngx_rtmp_compliance_shctx_t      *sh;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ev->data;
    a = mcf->audit;
    sh = mcf->zone->sh;

    tp = ngx_timeofday();
    now = (ngx_msec_t) tp->sec * 1000 + tp->msec;

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);

    if (sh->audit_checkpoint_ms == 0) {
        /* a new zone: the first checkpoint one interval after the start */
        sh->audit_checkpoint_ms = now;
    }

    due = sh->audit_checkpoint_ms + a->sign_interval;
    next = a->sign_interval;

    if (now + 20 >= due) {
        (void) ngx_rtmp_compliance_audit_checkpoint_locked(mcf, ev->log);

    } else {
        next = due - now;
    }

    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    ngx_add_timer(ev, ngx_max(next, 10));
}


/* a segment's period ends here (ms) */

static ngx_msec_t
ngx_rtmp_compliance_audit_period_end(ngx_rtmp_compliance_audit_t *a,
    ngx_msec_t ms)
{
    ngx_msec_t  unit;

    unit = a->rotate ? 3600000 : 86400000;

    return (ms / unit + 1) * unit;
}


/* fsync=batch: what a worker wrote is durable within a second */

static void
ngx_rtmp_compliance_audit_sync(ngx_event_t *ev)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ev->data;

    if (mcf->audit->dirty && mcf->audit->fd != NGX_INVALID_FILE) {
        if (fdatasync(mcf->audit->fd) == -1) {
            ngx_log_error(NGX_LOG_ERR, ev->log, ngx_errno,
                          "compliance_audit_log: fdatasync() failed");
        }

        mcf->audit->dirty = 0;
    }

    ngx_add_timer(ev, NGX_RTMP_COMPLIANCE_AUDIT_SYNC);
}


/*
 * A record is written as it goes to disk, without an intermediate JSON
 * object: the header, the event's members, ,"prev":"..." and, after the
 * hash over those bytes and a closing brace, ,"hash":"..."}\n.  The
 * members are ",\"name\":value" each: the helpers below write them into
 * a buffer that starts on the caller's stack and grows on the heap only
 * for unusually long values.
 */

static ngx_int_t ngx_rtmp_compliance_fields_reserve(
    ngx_rtmp_compliance_fields_t *f, size_t n);
static void ngx_rtmp_compliance_fields_key(ngx_rtmp_compliance_fields_t *f,
    const char *key);
static u_char *ngx_rtmp_compliance_json_escape(u_char *p, u_char *src,
    size_t len);
static ngx_int_t ngx_rtmp_compliance_audit_raw_locked(const char *event,
    ngx_rtmp_compliance_fields_t *f, ngx_log_t *log);


void
ngx_rtmp_compliance_fields_init(ngx_rtmp_compliance_fields_t *f, u_char *buf,
    size_t size, ngx_log_t *log)
{
    f->start = buf;
    f->pos = buf;
    f->end = buf + size;
    f->heap = NULL;
    f->failed = 0;
    f->log = log;
}


void
ngx_rtmp_compliance_fields_free(ngx_rtmp_compliance_fields_t *f)
{
    if (f->heap) {
        ngx_free(f->heap);
        f->heap = NULL;
    }
}


static ngx_int_t
ngx_rtmp_compliance_fields_reserve(ngx_rtmp_compliance_fields_t *f, size_t n)
{
    u_char  *p;
    size_t   used, size;

    if (f->failed) {
        return NGX_ERROR;
    }

    if ((size_t) (f->end - f->pos) >= n) {
        return NGX_OK;
    }

    used = f->pos - f->start;
    size = ngx_max(2 * (size_t) (f->end - f->start), used + n);

    p = ngx_alloc(size, f->log);
    if (p == NULL) {
        f->failed = 1;
        return NGX_ERROR;
    }

    ngx_memcpy(p, f->start, used);

    if (f->heap) {
        ngx_free(f->heap);
    }

    f->heap = p;
    f->start = p;
    f->pos = p + used;
    f->end = p + size;

    return NGX_OK;
}


/* ,"key": -- the names are the module's own, plain ASCII */

static void
ngx_rtmp_compliance_fields_key(ngx_rtmp_compliance_fields_t *f,
    const char *key)
{
    size_t  len;

    len = ngx_strlen(key);

    *f->pos++ = ',';
    *f->pos++ = '"';
    f->pos = ngx_cpymem(f->pos, key, len);
    *f->pos++ = '"';
    *f->pos++ = ':';
}


void
ngx_rtmp_compliance_field_str(ngx_rtmp_compliance_fields_t *f,
    const char *key, u_char *data, size_t len)
{
    if (ngx_rtmp_compliance_fields_reserve(f, ngx_strlen(key) + 6 * len + 8)
        != NGX_OK)
    {
        return;
    }

    ngx_rtmp_compliance_fields_key(f, key);

    *f->pos++ = '"';
    f->pos = ngx_rtmp_compliance_json_escape(f->pos, data, len);
    *f->pos++ = '"';
}


void
ngx_rtmp_compliance_field_int(ngx_rtmp_compliance_fields_t *f,
    const char *key, int64_t v)
{
    if (ngx_rtmp_compliance_fields_reserve(f, ngx_strlen(key) + NGX_INT64_LEN
                                              + 8)
        != NGX_OK)
    {
        return;
    }

    ngx_rtmp_compliance_fields_key(f, key);
    f->pos = ngx_sprintf(f->pos, "%L", v);
}


/* true, false or null: the text as given */

void
ngx_rtmp_compliance_field_lit(ngx_rtmp_compliance_fields_t *f,
    const char *key, const char *text)
{
    size_t  len;

    len = ngx_strlen(text);

    if (ngx_rtmp_compliance_fields_reserve(f, ngx_strlen(key) + len + 8)
        != NGX_OK)
    {
        return;
    }

    ngx_rtmp_compliance_fields_key(f, key);
    f->pos = ngx_cpymem(f->pos, text, len);
}


/*
 * a JSON string's contents; room for 6 bytes per byte of src.  Bytes that
 * are not UTF-8 (a stream name is any bytes a client sends) become
 * U+FFFD, so that the record stays valid JSON and is written
 */

static u_char *
ngx_rtmp_compliance_json_escape(u_char *p, u_char *src, size_t len)
{
    u_char         c, *last;
    size_t         n;
    static u_char  hex[] = "0123456789abcdef";

    last = src + len;

    while (src < last) {
        c = *src;

        if (c >= 0x20 && c < 0x80) {
            if (c == '"' || c == '\\') {
                *p++ = '\\';
            }

            *p++ = c;
            src++;
            continue;
        }

        if (c < 0x20) {
            *p++ = '\\';

            switch (c) {
            case '\n': *p++ = 'n'; break;
            case '\r': *p++ = 'r'; break;
            case '\t': *p++ = 't'; break;
            case '\b': *p++ = 'b'; break;
            case '\f': *p++ = 'f'; break;
            default:
                *p++ = 'u'; *p++ = '0'; *p++ = '0';
                *p++ = hex[c >> 4];
                *p++ = hex[c & 0xf];
            }

            src++;
            continue;
        }

        n = ngx_rtmp_compliance_utf8(src, last);

        if (n) {
            p = ngx_cpymem(p, src, n);
            src += n;
            continue;
        }

        p = ngx_cpymem(p, "\\ufffd", 6);
        src++;
    }

    return p;
}


/*
 * the record's time and segment: neither goes back, whichever worker
 * writes; a segment that closes ends with a checkpoint where records
 * are signed
 */

static ngx_msec_t
ngx_rtmp_compliance_audit_when_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    u_char *segment, ngx_log_t *log)
{
    ngx_msec_t                    ms;
    ngx_time_t                   *tp;
    ngx_rtmp_compliance_audit_t  *a;
    ngx_rtmp_compliance_shctx_t  *sh;

    a = mcf->audit;
    sh = mcf->zone->sh;

    tp = ngx_timeofday();
    ms = (ngx_msec_t) tp->sec * 1000 + tp->msec;

    /* one chain: time and segments never go back, whichever worker */

    if (ms < sh->audit_ms) {
        ms = sh->audit_ms;
    }

    ngx_rtmp_compliance_audit_segment(a, ms, segment);

    if (ngx_strcmp(segment, sh->audit_segment) < 0) {
        ngx_cpystrn(segment, sh->audit_segment, sizeof(sh->audit_segment));
    }

    if (a->sign_key && sh->audit_ms && sh->audit_segment[0]
        && ngx_strcmp(segment, sh->audit_segment) > 0)
    {
        /* the segment closes: its last record is a checkpoint */

        if (a->signing) {
            ms = ngx_rtmp_compliance_audit_period_end(a, sh->audit_ms) - 1;
            ngx_cpystrn(segment, sh->audit_segment, sizeof(sh->audit_segment));

        } else if (sh->audit_checkpoint_seq != sh->audit_seq) {
            (void) ngx_rtmp_compliance_audit_checkpoint_locked(mcf, log);
        }
    }

    return ms;
}


/* a record's parts written to the segment, in one writev() */

static ngx_int_t
ngx_rtmp_compliance_audit_append(ngx_rtmp_compliance_audit_t *a,
    u_char *segment, struct iovec *iov, size_t total, ngx_log_t *log)
{
    ssize_t  n;
    u_char   path[NGX_MAX_PATH];

    if (a->fd == NGX_INVALID_FILE || ngx_strcmp(segment, a->segment) != 0) {

        if (a->fd != NGX_INVALID_FILE) {
            (void) fdatasync(a->fd);
            ngx_close_file(a->fd);
            a->fd = NGX_INVALID_FILE;
        }

        ngx_sprintf(path, "%V/%s%Z", &a->dir, segment);

        a->fd = ngx_open_file(path, NGX_FILE_APPEND, NGX_FILE_CREATE_OR_OPEN,
                              0640);
        if (a->fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                          "compliance_audit_log: " ngx_open_file_n " \"%s\" "
                          "failed", path);
            return NGX_ERROR;
        }

        ngx_cpystrn(a->segment, segment, sizeof(a->segment));
    }

    n = writev(a->fd, iov, 4);

    if (n >= 0 && (size_t) n != total) {
        /* a short write sets no errno: a full disk is the usual cause */
        ngx_set_errno(NGX_ENOSPC);
    }

    if ((size_t) n != total
        || (a->fsync == NGX_RTMP_COMPLIANCE_FSYNC_ALWAYS
            && fdatasync(a->fd) == -1))
    {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      "compliance_audit_log: writing \"%V/%s\" failed",
                      &a->dir, a->segment);

        if (n > 0) {
            /* leave no partial record behind */
            if (ftruncate(a->fd, lseek(a->fd, 0, SEEK_END) - n) == -1) {
                ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                              "compliance_audit_log: ftruncate() failed");
            }
        }

        ngx_close_file(a->fd);
        a->fd = NGX_INVALID_FILE;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* 64 lowercase hex digits */

static ngx_uint_t
ngx_rtmp_compliance_audit_is_hash(u_char *p)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


/* a record's ts, YYYY-MM-DDTHH:MM:SS.mmmZ (UTC) */

u_char *
ngx_rtmp_compliance_audit_ts(u_char *p, ngx_msec_t ms)
{
    ngx_tm_t  tm;

    ngx_gmtime((time_t) (ms / 1000), &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                       (ngx_msec_t) (ms % 1000));
}


/*
 * appends one record; the zone's mutex is held.  NGX_ERROR: the record
 * could not be written (counted, and the log is then "unavailable")
 */

static ngx_int_t
ngx_rtmp_compliance_audit_write_locked(ngx_rtmp_compliance_main_conf_t *mcf,
    const char *event, u_char *members, size_t mlen, ngx_log_t *log)
{
    u_char                       *p;
    size_t                        total;
    ngx_msec_t                    ms;
    struct iovec                  iov[4];
    ngx_rtmp_compliance_audit_t  *a;
    ngx_rtmp_compliance_shctx_t  *sh;
    u_char                        segment[32], md[SHA256_DIGEST_LENGTH];
    u_char                        head[128 + 6 * 256];
    u_char                        prev[NGX_RTMP_COMPLIANCE_AUDIT_PREV_TAIL];
    u_char                        hash[NGX_RTMP_COMPLIANCE_AUDIT_HASH_TAIL + 1];
    EVP_MD_CTX                   *mdctx;

    a = mcf->audit;
    sh = mcf->zone->sh;

    ms = ngx_rtmp_compliance_audit_when_locked(mcf, segment, log);

    p = ngx_sprintf(head, NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY "%uL"
                    NGX_RTMP_COMPLIANCE_AUDIT_TS_KEY, sh->audit_seq + 1);
    p = ngx_rtmp_compliance_audit_ts(p, ms);
    p = ngx_sprintf(p, "\"" NGX_RTMP_COMPLIANCE_AUDIT_EVENT_KEY "%s\""
                    NGX_RTMP_COMPLIANCE_AUDIT_NODE_KEY, event);
    p = ngx_rtmp_compliance_json_escape(p, a->node.data,
                                        ngx_min(a->node.len, 256));
    *p++ = '"';

    if (!ngx_rtmp_compliance_audit_is_hash(sh->audit_prev)) {
        /* a bug: a record linked to it could never be verified */
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "compliance_audit_log: the chain's head is not a "
                      "hash, \"%s\" is not written", event);
        goto failed;
    }

    ngx_memcpy(prev, NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY,
               sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY) - 1);
    ngx_memcpy(prev + sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY) - 1,
               sh->audit_prev, NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN);
    prev[sizeof(prev) - 1] = '"';

    mdctx = ngx_rtmp_compliance_sha256_ctx();

    if (mdctx == NULL
        || EVP_DigestInit_ex(mdctx, ngx_rtmp_compliance_sha256(), NULL) != 1
        || EVP_DigestUpdate(mdctx, head, p - head) != 1
        || EVP_DigestUpdate(mdctx, members, mlen) != 1
        || EVP_DigestUpdate(mdctx, prev, sizeof(prev)) != 1
        || EVP_DigestUpdate(mdctx, NGX_RTMP_COMPLIANCE_AUDIT_HASH_CLOSE, 1)
           != 1
        || EVP_DigestFinal_ex(mdctx, md, NULL) != 1)
    {
        goto failed;
    }

    ngx_memcpy(hash, NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY,
               sizeof(NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY) - 1);
    ngx_hex_dump(hash + sizeof(NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY) - 1, md,
                 SHA256_DIGEST_LENGTH);
    ngx_memcpy(hash + sizeof(hash) - 3, NGX_RTMP_COMPLIANCE_AUDIT_END "\n",
               3);

    iov[0].iov_base = head;
    iov[0].iov_len = p - head;
    iov[1].iov_base = members;
    iov[1].iov_len = mlen;
    iov[2].iov_base = prev;
    iov[2].iov_len = sizeof(prev);
    iov[3].iov_base = hash;
    iov[3].iov_len = sizeof(hash);

    total = (p - head) + mlen + sizeof(prev) + sizeof(hash);

    if (ngx_rtmp_compliance_audit_append(a, segment, iov, total, log)
        != NGX_OK)
    {
        goto failed;
    }

    a->dirty = 1;

    sh->audit_seq++;
    ngx_hex_dump(sh->audit_prev, md, SHA256_DIGEST_LENGTH);
    sh->audit_ms = ms;
    ngx_cpystrn(sh->audit_segment, segment, sizeof(sh->audit_segment));
    sh->audit_records++;

    return NGX_OK;

failed:

    sh->audit_errors++;

    return NGX_ERROR;
}


/*
 * one record, the mutex held; after a failure the next record that can be
 * written is preceded by an audit.gap record counting what was lost
 */

static ngx_int_t
ngx_rtmp_compliance_audit_raw_locked(const char *event,
    ngx_rtmp_compliance_fields_t *f, ngx_log_t *log)
{
    u_char                            *p;
    ngx_uint_t                         probe;
    ngx_int_t                          rc;
    ngx_rtmp_compliance_shctx_t       *sh;
    ngx_rtmp_compliance_main_conf_t   *mcf;
    u_char                             gap[sizeof(",\"lost\":")
                                           + NGX_INT64_LEN];

    mcf = ngx_rtmp_compliance_main;
    sh = mcf->zone->sh;

    /* the recheck timer's retry is no record of its own to lose */
    probe = (ngx_strcmp(event, NGX_RTMP_COMPLIANCE_AUDIT_EV_RESUME) == 0);

    if (f->failed) {
        /* no memory for the record's fields */
        sh->audit_errors++;
        sh->audit_lost += !probe;
        return NGX_ERROR;
    }

    if (sh->audit_lost) {
        p = ngx_sprintf(gap, ",\"lost\":%uL", sh->audit_lost);

        if (ngx_rtmp_compliance_audit_write_locked(
                mcf, NGX_RTMP_COMPLIANCE_AUDIT_EV_GAP, gap, p - gap, log)
            != NGX_OK)
        {
            sh->audit_lost += !probe;
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance_audit_log: writing again, %uL records "
                      "were lost", sh->audit_lost);

        sh->audit_lost = 0;
    }

    rc = ngx_rtmp_compliance_audit_write_locked(mcf, event, f->start,
                                                f->pos - f->start, log);

    if (rc != NGX_OK && !probe) {
        sh->audit_lost++;
    }

    return rc;
}


/* a record of the fields written with the helpers above */

ngx_int_t
ngx_rtmp_compliance_audit_fields(const char *event,
    ngx_rtmp_compliance_fields_t *f, ngx_log_t *log)
{
    ngx_int_t                         rc;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->zone == NULL || mcf->audit->dir.len == 0) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&mcf->zone->shpool->mutex);
    rc = ngx_rtmp_compliance_audit_raw_locked(event, f, log);
    ngx_shmtx_unlock(&mcf->zone->shpool->mutex);

    return rc;
}


/* a record of a JSON object's members (the less frequent events) */

ngx_int_t
ngx_rtmp_compliance_audit_locked(const char *event, json_t *fields,
    ngx_log_t *log)
{
    char                             *s;
    ngx_int_t                         rc;
    ngx_rtmp_compliance_fields_t      f;
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->zone == NULL || mcf->audit->dir.len == 0) {
        return NGX_OK;
    }

    s = ngx_rtmp_compliance_fields_json(&f, fields, log);
    rc = ngx_rtmp_compliance_audit_raw_locked(event, &f, log);
    free(s);

    return rc;
}


/*
 * the members of a JSON object as fields: {"a":1,"b":2} is written as
 * ,"a":1,"b":2; what it returns is to be freed once f is written
 */

static char *
ngx_rtmp_compliance_fields_json(ngx_rtmp_compliance_fields_t *f,
    json_t *fields, ngx_log_t *log)
{
    char    *s;
    size_t   len;

    s = fields ? json_dumps(fields, JSON_COMPACT|JSON_PRESERVE_ORDER) : NULL;
    len = s ? ngx_strlen(s) : 0;

    if (s && len > 2 && s[0] == '{' && s[len - 1] == '}') {
        s[0] = ',';
        ngx_rtmp_compliance_fields_init(f, (u_char *) s, len - 1, log);
        f->pos = f->end;

    } else {
        ngx_rtmp_compliance_fields_init(f, (u_char *) "", 0, log);
        f->failed = (s == NULL || len != 2);
    }

    return s;
}


ngx_int_t
ngx_rtmp_compliance_audit(const char *event, json_t *fields, ngx_log_t *log)
{
    char                          *s;
    ngx_int_t                      rc;
    ngx_rtmp_compliance_fields_t   f;

    s = ngx_rtmp_compliance_fields_json(&f, fields, log);
    rc = ngx_rtmp_compliance_audit_fields(event, &f, log);
    free(s);

    return rc;
}


ngx_uint_t
ngx_rtmp_compliance_audit_enabled(void)
{
    return ngx_rtmp_compliance_main && ngx_rtmp_compliance_main->zone
           && ngx_rtmp_compliance_main->audit->dir.len;
}


/* with on_error=refuse, may sessions be admitted now? */

ngx_uint_t
ngx_rtmp_compliance_audit_available(void)
{
    ngx_rtmp_compliance_main_conf_t  *mcf;

    mcf = ngx_rtmp_compliance_main;

    if (mcf == NULL || mcf->zone == NULL || mcf->audit->dir.len == 0
        || !mcf->audit->refuse)
    {
        return 1;
    }

    return mcf->zone->sh->audit_lost == 0;
}
