
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fleet witnesses: a node's signed checkpoint as the fleet's stream
 * carries it, and the witness record another node writes of it.  The
 * parser takes the stream entry's fields (network input) and nothing
 * else; fuzz/fuzz_witness.c runs it.
 */


#ifndef _NGX_RTMP_COMPLIANCE_WITNESS_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_WITNESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>


/* the stream entry: op checkpoint origin NODE seq N hash H ts T key K sig S */

#define NGX_RTMP_COMPLIANCE_WITNESS_OP      "checkpoint"

#define NGX_RTMP_COMPLIANCE_WITNESS_XADD                                      \
    "XADD %b * op " NGX_RTMP_COMPLIANCE_WITNESS_OP                           \
    " origin %b seq %llu hash %b ts %b key %b sig %b"

#define NGX_RTMP_COMPLIANCE_WITNESS_NODE_MAX   64      /* node=, at most */
#define NGX_RTMP_COMPLIANCE_WITNESS_KEY_LEN    32      /* fingerprint, hex */
#define NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN    128     /* Ed25519, hex */
#define NGX_RTMP_COMPLIANCE_WITNESS_FIELDS     16      /* pairs, at most */


typedef struct {
    ngx_str_t                       origin;      /* the node that signed */
    uint64_t                        seq;         /* it signed (seq, hash) */
    u_char                         *hash;        /* 64 hex */
    u_char                         *ts;          /* its checkpoint's */
    u_char                         *key;         /* 32 hex */
    u_char                         *sig;         /* 128 hex */
} ngx_rtmp_compliance_witness_t;


ngx_int_t ngx_rtmp_compliance_witness_parse(ngx_rtmp_compliance_witness_t *w,
    ngx_str_t *kv, ngx_uint_t n, const char **why);
json_t *ngx_rtmp_compliance_witness_json(ngx_rtmp_compliance_witness_t *w);


#endif /* _NGX_RTMP_COMPLIANCE_WITNESS_H_INCLUDED_ */
