
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The audit log's format: what its writer (ngx_rtmp_compliance_audit.c,
 * ngx_rtmp_compliance_record.c) and its readers (scripts/compliance-audit.c,
 * fuzz/fuzz_audit.c) must agree on, written once.  Macros only, no nginx
 * types: a tool needs libc (and OpenSSL for the hash) to use it.
 * docs/audit.md is the prose, with a worked example of the chain.
 */


#ifndef _NGX_RTMP_COMPLIANCE_AUDIT_FORMAT_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_AUDIT_FORMAT_H_INCLUDED_


/*
 * The files of DIR.  A segment is named after the UTC period it holds:
 * audit-YYYYMMDD.jsonl (rotate=daily) or audit-YYYYMMDDTHH.jsonl
 * (rotate=hourly).  The order of the names is the order of the chain
 * ('.' < 'T': a day's daily segment sorts before its hourly ones).  A name
 * of another form, or not a valid date, is no segment and is ignored.
 */

#define NGX_RTMP_COMPLIANCE_AUDIT_PREFIX      "audit-"
#define NGX_RTMP_COMPLIANCE_AUDIT_HOUR        "T"         /* before HH */
#define NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX      ".jsonl"

#define NGX_RTMP_COMPLIANCE_AUDIT_PREFIX_LEN                                  \
    (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREFIX) - 1)
#define NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX_LEN                                  \
    (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX) - 1)

/* the names' lengths, 20 and 23 */
#define NGX_RTMP_COMPLIANCE_AUDIT_DAILY_LEN                                   \
    (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREFIX "YYYYMMDD"                       \
            NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX) - 1)
#define NGX_RTMP_COMPLIANCE_AUDIT_HOURLY_LEN                                  \
    (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREFIX "YYYYMMDD"                       \
            NGX_RTMP_COMPLIANCE_AUDIT_HOUR "HH"                               \
            NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX) - 1)

/* the names of year, month, day (and hour), ints: printf(), ngx_sprintf() */
#define NGX_RTMP_COMPLIANCE_AUDIT_DAILY_FMT                                   \
    NGX_RTMP_COMPLIANCE_AUDIT_PREFIX "%4d%02d%02d"                            \
    NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX
#define NGX_RTMP_COMPLIANCE_AUDIT_HOURLY_FMT                                  \
    NGX_RTMP_COMPLIANCE_AUDIT_PREFIX "%4d%02d%02d"                            \
    NGX_RTMP_COMPLIANCE_AUDIT_HOUR "%02d" NGX_RTMP_COMPLIANCE_AUDIT_SUFFIX

/* the writer's lock (one writer a directory) and compliance-audit's files */
#define NGX_RTMP_COMPLIANCE_AUDIT_LOCK        ".writer"
#define NGX_RTMP_COMPLIANCE_AUDIT_PRUNE_LOG   "prune.log"
#define NGX_RTMP_COMPLIANCE_AUDIT_EXCERPT                                     \
    "ngx_rtmp_compliance-audit-excerpt/1"


/*
 * A record is one line, a flat JSON object without spaces whose first and
 * last members are fixed:
 *
 *   {"seq":N,"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ","event":"E","node":"NODE"
 *   then the event's members (,"name":value ...; docs/audit.md lists
 *   them), then ,"prev":"<64 hex>","hash":"<64 hex>"} and LF.
 *
 * The _KEY macros are the bytes before each value, a string's opening
 * quote included.
 */

#define NGX_RTMP_COMPLIANCE_AUDIT_SEQ         "seq"
#define NGX_RTMP_COMPLIANCE_AUDIT_TS          "ts"
#define NGX_RTMP_COMPLIANCE_AUDIT_EVENT       "event"
#define NGX_RTMP_COMPLIANCE_AUDIT_NODE        "node"
#define NGX_RTMP_COMPLIANCE_AUDIT_PREV        "prev"
#define NGX_RTMP_COMPLIANCE_AUDIT_HASH        "hash"

#define NGX_RTMP_COMPLIANCE_AUDIT_SEQ_KEY                                     \
    "{\"" NGX_RTMP_COMPLIANCE_AUDIT_SEQ "\":"
#define NGX_RTMP_COMPLIANCE_AUDIT_TS_KEY                                      \
    ",\"" NGX_RTMP_COMPLIANCE_AUDIT_TS "\":\""
#define NGX_RTMP_COMPLIANCE_AUDIT_EVENT_KEY                                   \
    ",\"" NGX_RTMP_COMPLIANCE_AUDIT_EVENT "\":\""
#define NGX_RTMP_COMPLIANCE_AUDIT_NODE_KEY                                    \
    ",\"" NGX_RTMP_COMPLIANCE_AUDIT_NODE "\":\""
#define NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY                                    \
    ",\"" NGX_RTMP_COMPLIANCE_AUDIT_PREV "\":\""
#define NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY                                    \
    ",\"" NGX_RTMP_COMPLIANCE_AUDIT_HASH "\":\""
#define NGX_RTMP_COMPLIANCE_AUDIT_END         "\"}"

/* ts: UTC, milliseconds */
#define NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN                                      \
    (sizeof("YYYY-MM-DDTHH:MM:SS.mmmZ") - 1)


/*
 * The chain.  hash is the lowercase hex of SHA-256 over the line without
 * its last HASH_TAIL bytes (,"hash":"<hex>"}) followed by HASH_CLOSE, the
 * bytes as they are on disk; prev is the hash of the record before (seq
 * - 1, across segments), ZERO_HASH for seq 1.
 */

#define NGX_RTMP_COMPLIANCE_AUDIT_DIGEST      "SHA256"    /* EVP_MD_fetch */
#define NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN     64          /* 2 * 32 bytes */
#define NGX_RTMP_COMPLIANCE_AUDIT_HEX_DIGITS  "0123456789abcdef"
#define NGX_RTMP_COMPLIANCE_AUDIT_HASH_CLOSE  "}"

#define NGX_RTMP_COMPLIANCE_AUDIT_ZERO_HASH                                   \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* ,"prev":"<64 hex>" (74 bytes) and ,"hash":"<64 hex>"} (75): a line's end */
#define NGX_RTMP_COMPLIANCE_AUDIT_PREV_TAIL                                   \
    (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_PREV_KEY) - 1                           \
     + NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN + 1)
#define NGX_RTMP_COMPLIANCE_AUDIT_HASH_TAIL                                   \
    (sizeof(NGX_RTMP_COMPLIANCE_AUDIT_HASH_KEY) - 1                           \
     + NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN                                      \
     + sizeof(NGX_RTMP_COMPLIANCE_AUDIT_END) - 1)


/*
 * Retention: the Measures' three years (不少于三年), a year counted as
 * 365 days.  Neither the writer nor compliance-audit prune accepts less.
 */

#define NGX_RTMP_COMPLIANCE_AUDIT_YEAR_DAYS   365
#define NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN_DAYS                          \
    (3 * NGX_RTMP_COMPLIANCE_AUDIT_YEAR_DAYS)
#define NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN                               \
    (NGX_RTMP_COMPLIANCE_AUDIT_RETENTION_MIN_DAYS * 86400)      /* seconds */


/*
 * The events.  NGX_RTMP_COMPLIANCE_AUDIT_EVENTS(X) expands
 * X(ID, QUERY, NAMED) for each, in the order of compliance-audit verify's
 * "events:" line; NGX_RTMP_COMPLIANCE_AUDIT_EV(ID) is the event's name:
 *
 *   QUERY  1: in compliance-audit query's default --event set;
 *   NAMED  1: verify counts it by its name and query --event takes it;
 *          0: verify counts it under "other" (audit.resume).
 *
 * e.g. the names, in that order:
 *
 *   #define NAME(id, query, named)  NGX_RTMP_COMPLIANCE_AUDIT_EV(id),
 *   static const char *names[] = { NGX_RTMP_COMPLIANCE_AUDIT_EVENTS(NAME) };
 */

#define NGX_RTMP_COMPLIANCE_AUDIT_EV_START           "audit.start"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_GAP             "audit.gap"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_RESUME          "audit.resume"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_PUBLISH_ACCEPT  "publish.accept"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_PUBLISH_REJECT  "publish.reject"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_PLAY_ACCEPT     "play.accept"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_PLAY_REJECT     "play.reject"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_PUBLISH_SUMMARY "publish.reject.summary"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_PLAY_SUMMARY    "play.reject.summary"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_SESSION_END     "session.end"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_SESSION_REFRESH "session.refresh"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_ORDER_CREATE    "order.create"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_ORDER_LIFT      "order.lift"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_ORDER_EXPIRE    "order.expire"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_WARN_SENT       "warn.sent"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_RECORD_DONE     "record.done"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_CHECKPOINT      "checkpoint"
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_WITNESS         "witness"

/* the order.* events share their members */
#define NGX_RTMP_COMPLIANCE_AUDIT_EV_ORDER           "order."

#define NGX_RTMP_COMPLIANCE_AUDIT_EV(id)  NGX_RTMP_COMPLIANCE_AUDIT_EV_ ## id

#define NGX_RTMP_COMPLIANCE_AUDIT_EVENTS(X)                                   \
    X(START, 0, 1) X(GAP, 0, 1)                                               \
    X(PUBLISH_ACCEPT, 1, 1) X(PUBLISH_REJECT, 1, 1)                           \
    X(PLAY_ACCEPT, 1, 1) X(PLAY_REJECT, 1, 1) X(SESSION_END, 1, 1)            \
    X(PUBLISH_SUMMARY, 0, 1) X(PLAY_SUMMARY, 0, 1)                            \
    X(ORDER_CREATE, 0, 1) X(ORDER_LIFT, 0, 1) X(ORDER_EXPIRE, 0, 1)           \
    X(SESSION_REFRESH, 0, 1)                                                  \
    X(WARN_SENT, 0, 1) X(RECORD_DONE, 0, 1) X(CHECKPOINT, 0, 1)               \
    X(WITNESS, 0, 1) X(RESUME, 0, 0)


#endif /* _NGX_RTMP_COMPLIANCE_AUDIT_FORMAT_H_INCLUDED_ */
