
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the parser of a fleet checkpoint (ngx_rtmp_compliance_witness_
 * parse), the stream entry another node published, as the fleet reader
 * hands it over: the entry's fields and values, here the input split at
 * NUL bytes into field, value, field, value ... (an odd last piece is
 * dropped, as hiredis' pairs are read).
 *
 * Checks beyond memory safety: a refusal says why; an accepted entry has
 * op "checkpoint", an origin of 1..64 bytes with no control or invisible
 * characters, a seq of 1..2^63-1, a hash of 64 and a key of 32 and a sig
 * of 128 lowercase hex digits, a ts of the record's form, each pointing
 * into the input; its witness record (ngx_rtmp_compliance_witness_json)
 * is made and holds those values; and the entry as the fleet writes it
 * (the seven fields in their order, seq in decimal) parses again to the
 * same witness.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_witness.h"
#include "ngx_rtmp_compliance_text.h"
#include "ngx_rtmp_compliance_audit_format.h"
#include "fuzz.h"


#define FUZZ_PIECES  (2 * NGX_RTMP_COMPLIANCE_WITNESS_FIELDS + 2)


static void fuzz_check_hex(u_char *p, size_t n, const char *name);
static void fuzz_check_accepted(ngx_rtmp_compliance_witness_t *w,
    const uint8_t *data, size_t size);
static void fuzz_check_json(ngx_rtmp_compliance_witness_t *w);
static void fuzz_round_trip(ngx_rtmp_compliance_witness_t *w);


static void
fuzz_check_hex(u_char *p, size_t n, const char *name)
{
    size_t  i;

    FUZZ_CHECK(p != NULL, "%s is not set", name);

    for (i = 0; i < n; i++) {
        FUZZ_CHECK((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a'
                   && p[i] <= 'f'), "%s: byte %zu is not lowercase hex",
                   name, i);
    }
}


#define FUZZ_IN(p, n, data, size)                                            \
    ((const uint8_t *) (p) >= (data)                                         \
     && (const uint8_t *) (p) + (n) <= (data) + (size))


static void
fuzz_check_accepted(ngx_rtmp_compliance_witness_t *w, const uint8_t *data,
    size_t size)
{
    size_t  i;

    FUZZ_CHECK(w->origin.len >= 1
               && w->origin.len <= NGX_RTMP_COMPLIANCE_WITNESS_NODE_MAX,
               "origin of %zu bytes", w->origin.len);
    FUZZ_CHECK(ngx_rtmp_compliance_text_check(w->origin.data, w->origin.len,
                   NGX_RTMP_COMPLIANCE_TEXT_NAME) == NULL,
               "origin holds a character a name refuses");
    FUZZ_CHECK(w->seq >= 1 && w->seq <= (uint64_t) INT64_MAX,
               "seq %llu", (unsigned long long) w->seq);

    fuzz_check_hex(w->hash, NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN, "hash");
    fuzz_check_hex(w->key, NGX_RTMP_COMPLIANCE_WITNESS_KEY_LEN, "key");
    fuzz_check_hex(w->sig, NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN, "sig");

    FUZZ_CHECK(w->ts != NULL, "ts is not set");

    for (i = 0; i < NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN; i++) {
        FUZZ_CHECK(("dddd-dd-ddTdd:dd:dd.dddZ"[i] == 'd')
                   ? (w->ts[i] >= '0' && w->ts[i] <= '9')
                   : (w->ts[i] == (u_char) "dddd-dd-ddTdd:dd:dd.dddZ"[i]),
                   "ts: byte %zu", i);
    }

    FUZZ_CHECK(FUZZ_IN(w->origin.data, w->origin.len, data, size)
               && FUZZ_IN(w->hash, NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN, data,
                          size)
               && FUZZ_IN(w->ts, NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN, data,
                          size)
               && FUZZ_IN(w->key, NGX_RTMP_COMPLIANCE_WITNESS_KEY_LEN, data,
                          size)
               && FUZZ_IN(w->sig, NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN, data,
                          size),
               "a value outside the input");
}


static void
fuzz_check_json(ngx_rtmp_compliance_witness_t *w)
{
    json_t      *j, *v;
    const char  *s;

    j = ngx_rtmp_compliance_witness_json(w);
    FUZZ_CHECK(j != NULL, "no witness record for an accepted entry");

    s = json_string_value(json_object_get(j, "origin"));
    FUZZ_CHECK(s && json_string_length(json_object_get(j, "origin"))
                    == w->origin.len
               && memcmp(s, w->origin.data, w->origin.len) == 0,
               "the record's origin differs");

    v = json_object_get(j, "signed_seq");
    FUZZ_CHECK(json_is_integer(v)
               && (uint64_t) json_integer_value(v) == w->seq,
               "the record's signed_seq differs");

    s = json_string_value(json_object_get(j, "signed_hash"));
    FUZZ_CHECK(s && strlen(s) == NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN
               && memcmp(s, w->hash, NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN) == 0,
               "the record's signed_hash differs");

    s = json_string_value(json_object_get(j, "sig"));
    FUZZ_CHECK(s && strlen(s) == NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN,
               "the record's sig differs");

    json_decref(j);
}


/* the entry as the fleet's XADD writes it parses to the same witness */

static void
fuzz_round_trip(ngx_rtmp_compliance_witness_t *w)
{
    size_t                         i;
    u_char                         seq[NGX_INT64_LEN + 1];
    const char                    *why;
    ngx_str_t                      kv[14];
    ngx_rtmp_compliance_witness_t  again;

    static const char  *names[] = { "op", "origin", "seq", "hash", "ts",
                                    "key", "sig" };
    u_char             *values[] = {
        (u_char *) NGX_RTMP_COMPLIANCE_WITNESS_OP, w->origin.data, seq,
        w->hash, w->ts, w->key, w->sig
    };
    size_t              lens[] = {
        sizeof(NGX_RTMP_COMPLIANCE_WITNESS_OP) - 1, w->origin.len, 0,
        NGX_RTMP_COMPLIANCE_AUDIT_HEX_LEN, NGX_RTMP_COMPLIANCE_AUDIT_TS_LEN,
        NGX_RTMP_COMPLIANCE_WITNESS_KEY_LEN,
        NGX_RTMP_COMPLIANCE_WITNESS_SIG_LEN
    };

    lens[2] = ngx_sprintf(seq, "%uL", w->seq) - seq;

    for (i = 0; i < 7; i++) {
        kv[2 * i].data = (u_char *) names[i];
        kv[2 * i].len = strlen(names[i]);
        kv[2 * i + 1].data = values[i];
        kv[2 * i + 1].len = lens[i];
    }

    FUZZ_CHECK(ngx_rtmp_compliance_witness_parse(&again, kv, 7, &why)
               == NGX_OK, "the entry written again is refused: %s", why);
    FUZZ_CHECK(again.seq == w->seq && again.origin.len == w->origin.len
               && again.hash == w->hash && again.sig == w->sig
               && again.key == w->key && again.ts == w->ts,
               "the entry written again parses to another witness");
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                         *p, *end, *nul, *copy;
    ngx_int_t                       rc;
    ngx_uint_t                      n;
    const char                     *why;
    ngx_str_t                       kv[FUZZ_PIECES];
    ngx_rtmp_compliance_witness_t   w;

    /* a copy of its own size: ASan sees a read past any value */
    copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy != NULL, "no memory");
    memcpy(copy, data, size);

    p = copy;
    end = copy + size;
    n = 0;

    while (p < end && n < FUZZ_PIECES) {
        nul = memchr(p, '\0', end - p);
        kv[n].data = p;
        kv[n].len = (nul ? nul : end) - p;
        n++;
        p = nul ? nul + 1 : end;
    }

    why = NULL;
    rc = ngx_rtmp_compliance_witness_parse(&w, kv, n / 2, &why);

    if (rc != NGX_OK) {
        FUZZ_CHECK(rc == NGX_DECLINED, "parse returned %d", (int) rc);
        FUZZ_CHECK(why != NULL && why[0] != '\0', "a refusal without why");
        FUZZ_TRACE("refused: %s", why);
        free(copy);
        return 0;
    }

    FUZZ_CHECK(why == NULL, "accepted, with why \"%s\"", why);

    fuzz_check_accepted(&w, copy, size);
    fuzz_check_json(&w);
    fuzz_round_trip(&w);

    free(copy);

    return 0;
}
