
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the order parser (ngx_rtmp_compliance_order_parse) the way its
 * two callers use it: the control API's POST body (json_loadb with
 * JSON_REJECT_DUPLICATES, then stored=0) and a line of the state file
 * ({"op":"create","order":{...}}: the "order" member, stored=1).  Every
 * input is run both ways, and as a state-file line when it has "op".
 *
 * An accepted order is then stored as ngx_rtmp_compliance_order_add_locked
 * lays it out (one allocation, the strings after the struct), written
 * back with ngx_rtmp_compliance_order_json, as the state file holds it
 * (JSON_COMPACT), and read again with stored=1: it must come back the
 * same, since that is what a restart does with it.
 *
 * Checks beyond memory safety: a rejection leaves a NUL-terminated
 * detail; an accepted order keeps the documented limits (target kind and
 * ID of 1..256 bytes, action, reason 1..512, ref up to 128, a tier for
 * restrict and only for it, no control characters, a ban without end,
 * any other action with an end in range, an id from the state file).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_rtmp_compliance.h"
#include "fuzz.h"


#define FUZZ_DURATION_MAX  (10 * 366 * 86400)


static void
fuzz_check_text(ngx_str_t *s, size_t min, size_t max, const char *name)
{
    size_t  i;

    FUZZ_CHECK(s->len >= min && s->len <= max, "%s has %zu bytes", name,
               s->len);
    FUZZ_CHECK(s->len == 0 || s->data != NULL, "%s has no data", name);

    for (i = 0; i < s->len; i++) {
        FUZZ_CHECK(s->data[i] >= 0x20 && s->data[i] != 0x7f,
                   "%s has a control character", name);
    }
}


static void
fuzz_check_spec(ngx_rtmp_compliance_order_spec_t *spec, ngx_uint_t stored,
    time_t now)
{
    FUZZ_CHECK(spec->kind < NGX_RTMP_COMPLIANCE_T_MAX, "kind %lu",
               (unsigned long) spec->kind);
    FUZZ_CHECK(spec->action >= NGX_RTMP_COMPLIANCE_WARN
               && spec->action <= NGX_RTMP_COMPLIANCE_BAN, "action %lu",
               (unsigned long) spec->action);

    fuzz_check_text(&spec->target, 1, NGX_RTMP_COMPLIANCE_CLAIM_MAX,
                    "target");
    fuzz_check_text(&spec->reason, 1, NGX_RTMP_COMPLIANCE_REASON_LEN,
                    "reason");
    fuzz_check_text(&spec->ref, 0, NGX_RTMP_COMPLIANCE_REF_LEN, "ref");
    fuzz_check_text(&spec->tier, 0, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "tier");

    FUZZ_CHECK((spec->action == NGX_RTMP_COMPLIANCE_RESTRICT)
               == (spec->tier.len != 0), "a tier not with restrict");

    if (spec->action == NGX_RTMP_COMPLIANCE_BAN) {
        FUZZ_CHECK(spec->until == 0, "a ban with an end");

    } else {
        FUZZ_CHECK(spec->until > 0 && spec->until <= now + FUZZ_DURATION_MAX,
                   "until %ld", (long) spec->until);
    }

    if (stored) {
        FUZZ_CHECK(spec->id > 0, "a stored order without id");

    } else {
        FUZZ_CHECK(spec->id == 0 && spec->created == now,
                   "an API order with an id or a creation time");
        FUZZ_CHECK(spec->until == 0 || spec->until > now,
                   "an API order that has ended");
    }
}


static u_char *
fuzz_cpy(u_char *p, ngx_str_t *s)
{
    return s->len ? ngx_cpymem(p, s->data, s->len) : p;
}


/* as ngx_rtmp_compliance_order_add_locked() stores it */

static ngx_rtmp_compliance_order_t *
fuzz_order_store(ngx_rtmp_compliance_order_spec_t *spec)
{
    u_char                       *p;
    size_t                        len;
    ngx_rtmp_compliance_order_t  *o;

    len = spec->target.len + spec->reason.len + spec->ref.len
          + spec->tier.len;

    o = calloc(1, sizeof(ngx_rtmp_compliance_order_t) + len);
    FUZZ_CHECK(o != NULL, "calloc");

    o->id = spec->id;
    o->created = spec->created;
    o->until = spec->until;
    o->kind = (u_char) spec->kind;
    o->action = (u_char) spec->action;
    o->target_len = (u_short) spec->target.len;
    o->reason_len = (u_short) spec->reason.len;
    o->ref_len = (u_short) spec->ref.len;
    o->tier_len = (u_short) spec->tier.len;

    /*
     * add_locked copies an empty ref or tier from a NULL pointer (UBSan's
     * nonnull-attribute); that is reported from zone.c, not from here
     */
    p = fuzz_cpy(o->data, &spec->target);
    p = fuzz_cpy(p, &spec->reason);
    p = fuzz_cpy(p, &spec->ref);
    (void) fuzz_cpy(p, &spec->tier);

    return o;
}


static ngx_uint_t
fuzz_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


/* stored, written to the state file, read back at the next start */

static void
fuzz_round_trip(ngx_rtmp_compliance_order_spec_t *spec, time_t now)
{
    char                              *s;
    json_t                            *j, *rec, *back;
    ngx_int_t                          rc;
    json_error_t                       err;
    ngx_rtmp_compliance_order_t       *o;
    ngx_rtmp_compliance_order_spec_t   again;
    u_char                             detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    if (spec->id == 0) {
        spec->id = 1;           /* add_locked gives the next id */
    }

    o = fuzz_order_store(spec);

    j = ngx_rtmp_compliance_order_json(o);
    FUZZ_CHECK(j != NULL, "order_json failed on an accepted order");

    rec = json_pack("{s:s, s:O}", "op", "create", "order", j);
    FUZZ_CHECK(rec != NULL, "json_pack");

    s = json_dumps(rec, JSON_COMPACT);
    FUZZ_CHECK(s != NULL, "json_dumps");
    FUZZ_CHECK(strchr(s, '\n') == NULL, "a state line with a newline");

    back = json_loadb(s, strlen(s), JSON_REJECT_DUPLICATES, &err);
    FUZZ_CHECK(back != NULL, "the state line does not load: %s: %s",
               err.text, s);

    ngx_memset(detail, FUZZ_DETAIL_FILL, sizeof(detail));

    rc = ngx_rtmp_compliance_order_parse(json_object_get(back, "order"), 1,
                                         &again, now, detail,
                                         sizeof(detail));

    FUZZ_CHECK(rc == NGX_OK, "a stored order is refused when read back: "
               "%.*s: %s", (int) sizeof(detail), detail, s);

    FUZZ_CHECK(again.id == spec->id && again.kind == spec->kind
               && again.action == spec->action
               && again.created == spec->created
               && again.until == spec->until
               && fuzz_str_eq(&again.target, &spec->target)
               && fuzz_str_eq(&again.reason, &spec->reason)
               && fuzz_str_eq(&again.ref, &spec->ref)
               && fuzz_str_eq(&again.tier, &spec->tier),
               "the order read back is not the order stored: %s", s);

    json_decref(back);
    free(s);
    json_decref(rec);
    json_decref(j);
    free(o);
}


static void
fuzz_parse(json_t *obj, ngx_uint_t stored, time_t now)
{
    ngx_int_t                          rc;
    ngx_rtmp_compliance_order_spec_t   spec;
    u_char                             detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ngx_memset(detail, FUZZ_DETAIL_FILL, sizeof(detail));
    ngx_memset(&spec, FUZZ_DETAIL_FILL, sizeof(spec));

    rc = ngx_rtmp_compliance_order_parse(obj, stored, &spec, now, detail,
                                         sizeof(detail));

    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "order_parse returned %ld",
               (long) rc);

    FUZZ_TRACE("order (%s): %s%s%.*s", stored ? "state" : "API",
               rc == NGX_OK ? "accepted" : "refused", rc ? ": " : "",
               rc ? (int) strnlen((char *) detail, sizeof(detail)) : 0,
               detail);

    if (rc != NGX_OK) {
        FUZZ_CHECK_DETAIL(detail, sizeof(detail), "order_parse");
        return;
    }

    fuzz_check_spec(&spec, stored, now);
    fuzz_round_trip(&spec, now);
}


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_rtmp_compliance_fuzz_init();
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    *copy;
    json_t  *j, *v;
    time_t   now;

    now = ngx_time();

    /* an exact copy: jansson must not read past the body it is given */
    copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy != NULL, "malloc");
    ngx_memcpy(copy, data, size);

    j = json_loadb(copy, size, JSON_REJECT_DUPLICATES, NULL);

    if (j != NULL) {
        /* the API */
        fuzz_parse(j, 0, now);

        /* the state file, the object itself and as a whole line */
        fuzz_parse(j, 1, now);

        v = json_object_get(j, "op");

        if (v != NULL && json_is_string(v)
            && ngx_strcmp(json_string_value(v), "create") == 0)
        {
            fuzz_parse(json_object_get(j, "order"), 1, now);
        }

        json_decref(j);
    }

    free(copy);

    return 0;
}
