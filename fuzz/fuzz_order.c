
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Fuzzes the order parser (ngx_rtmp_compliance_order_parse) the way two
 * of its callers use it: the control API's POST body (json_loadb with
 * JSON_REJECT_DUPLICATES, then NGX_RTMP_COMPLIANCE_PARSE_API) and a line
 * of the state file ({"op":"create","order":{...}}: the "order" member,
 * NGX_RTMP_COMPLIANCE_PARSE_STATE).  Every input is run both ways, and
 * as a state-file line when it has "op".
 *
 * An accepted order is then stored by the module's zone code
 * (ngx_rtmp_compliance_order_add_locked, into a new zone of its own made
 * as nginx makes it: stubs_zone.c), written back with
 * ngx_rtmp_compliance_order_json, as the state file holds it
 * (JSON_COMPACT), and read again as a state-file order: it must come
 * back the same, with the id and the fleet-wide uid the zone gave it,
 * since that is what a restart does with it.  It is then deleted, which
 * must leave the zone as empty as it was.
 *
 * Checks beyond memory safety: a rejection leaves a NUL-terminated
 * detail; an accepted order keeps the documented limits (target kind and
 * ID of 1..256 bytes, action, reason 1..512, ref up to 128, a tier for
 * restrict and only for it, no control characters, a ban without end,
 * any other action with an end in range, an id from the state file).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_compliance_order_json.h"
#include "fuzz.h"
#include "fuzz_zone.h"


#define FUZZ_DURATION_MAX  (10 * 366 * 86400)


static void fuzz_check_text(ngx_str_t *s, size_t min, size_t max,
    const char *name);
static void fuzz_check_spec(ngx_rtmp_compliance_order_spec_t *spec,
    ngx_uint_t mode, time_t now);
static ngx_uint_t fuzz_str_eq(ngx_str_t *a, ngx_str_t *b);
static void fuzz_check_stored(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_t *o, uint64_t id, ngx_str_t *uid);
static void fuzz_read_back(ngx_rtmp_compliance_order_t *o,
    ngx_rtmp_compliance_order_spec_t *given, ngx_str_t *uid, time_t now);
static void fuzz_round_trip(ngx_rtmp_compliance_order_spec_t *spec,
    time_t now);
static void fuzz_parse(json_t *obj, ngx_uint_t mode, time_t now);


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
fuzz_check_spec(ngx_rtmp_compliance_order_spec_t *spec, ngx_uint_t mode,
    time_t now)
{
    FUZZ_CHECK(spec->kind < NGX_RTMP_COMPLIANCE_T_MAX, "kind %lu",
               (unsigned long) spec->kind);
    FUZZ_CHECK(spec->action >= NGX_RTMP_COMPLIANCE_WARN
               && spec->action <= NGX_RTMP_COMPLIANCE_REVERIFY, "action %lu",
               (unsigned long) spec->action);

    if (spec->action == NGX_RTMP_COMPLIANCE_REVERIFY) {
        FUZZ_CHECK(spec->within > 0
                   && spec->within <= NGX_RTMP_COMPLIANCE_WITHIN_MAX,
                   "within %ld", (long) spec->within);

    } else {
        FUZZ_CHECK(spec->within == 0, "within on %lu",
                   (unsigned long) spec->action);
    }

    fuzz_check_text(&spec->target, 1, NGX_RTMP_COMPLIANCE_CLAIM_MAX,
                    "target");
    fuzz_check_text(&spec->reason, 1, NGX_RTMP_COMPLIANCE_REASON_LEN,
                    "reason");
    fuzz_check_text(&spec->ref, 0, NGX_RTMP_COMPLIANCE_REF_LEN, "ref");
    fuzz_check_text(&spec->tier, 0, NGX_RTMP_COMPLIANCE_CLAIM_MAX, "tier");
    fuzz_check_text(&spec->uid, 0, NGX_RTMP_COMPLIANCE_UID_MAX, "uid");

    FUZZ_CHECK((spec->action == NGX_RTMP_COMPLIANCE_RESTRICT)
               == (spec->tier.len != 0), "a tier not with restrict");

    if (spec->action == NGX_RTMP_COMPLIANCE_BAN) {
        FUZZ_CHECK(spec->until == 0, "a ban with an end");

    } else {
        FUZZ_CHECK(spec->until > 0 && spec->until <= now + FUZZ_DURATION_MAX,
                   "until %ld", (long) spec->until);
    }

    if (mode == NGX_RTMP_COMPLIANCE_PARSE_STATE) {
        FUZZ_CHECK(spec->id > 0, "a stored order without id");

    } else {
        FUZZ_CHECK(spec->id == 0 && spec->created == now,
                   "an API order with an id or a creation time");
        FUZZ_CHECK(spec->until == 0 || spec->until > now,
                   "an API order that has ended");
        FUZZ_CHECK(spec->uid.len == 0, "an API order with a uid");
    }
}


static ngx_uint_t
fuzz_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


/* the order stored by the zone is found by its id and uid */

static void
fuzz_check_stored(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_t *o, uint64_t id, ngx_str_t *uid)
{
    FUZZ_CHECK(o != NULL, "an accepted order is not stored in an empty zone");

    FUZZ_CHECK(o->id == id && zone->sh->next_order == id + 1
               && zone->sh->norders == 1,
               "order %lu stored as %lu, next_order %lu, %lu orders",
               (unsigned long) id, (unsigned long) o->id,
               (unsigned long) zone->sh->next_order,
               (unsigned long) zone->sh->norders);

    FUZZ_CHECK(ngx_rtmp_compliance_order_find_locked(zone, id) == o
               && ngx_rtmp_compliance_order_find_uid_locked(zone, uid) == o,
               "the order stored is not found by its id and its uid");
}


/* the state file's line of a stored order, read back at the next start */

static void
fuzz_read_back(ngx_rtmp_compliance_order_t *o,
    ngx_rtmp_compliance_order_spec_t *given, ngx_str_t *uid, time_t now)
{
    char                              *s;
    json_t                            *j, *rec, *back;
    ngx_int_t                          rc;
    json_error_t                       err;
    ngx_rtmp_compliance_order_spec_t   again;
    u_char                             detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

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

    rc = ngx_rtmp_compliance_order_parse(json_object_get(back, "order"),
                                         NGX_RTMP_COMPLIANCE_PARSE_STATE,
                                         &again, now, detail,
                                         sizeof(detail));

    FUZZ_CHECK(rc == NGX_OK, "a stored order is refused when read back: "
               "%.*s: %s", (int) sizeof(detail), detail, s);

    FUZZ_CHECK(again.id == o->id && again.kind == given->kind
               && again.action == given->action
               && again.created == given->created
               && again.until == given->until
               && again.within == given->within
               && fuzz_str_eq(&again.target, &given->target)
               && fuzz_str_eq(&again.reason, &given->reason)
               && fuzz_str_eq(&again.ref, &given->ref)
               && fuzz_str_eq(&again.tier, &given->tier)
               && fuzz_str_eq(&again.uid, uid),
               "the order read back is not the order stored: %s", s);

    json_decref(back);
    free(s);
    json_decref(rec);
    json_decref(j);
}


/*
 * stored in a new zone, written to the state file and read back, then
 * deleted (lifted): the zone is empty again, every page given back
 */

static void
fuzz_round_trip(ngx_rtmp_compliance_order_spec_t *spec, time_t now)
{
    uint64_t                           id;
    ngx_str_t                          uid;
    ngx_uint_t                         pfree;
    ngx_pool_t                        *pool;
    ngx_rtmp_compliance_zone_t        *zone;
    ngx_rtmp_compliance_order_t       *o;
    ngx_rtmp_compliance_main_conf_t    mcf;
    ngx_rtmp_compliance_order_spec_t   given;
    u_char                             buf[NGX_RTMP_COMPLIANCE_UID_MAX];

    pool = ngx_rtmp_compliance_fuzz_pool();

    ngx_memzero(&mcf, sizeof(ngx_rtmp_compliance_main_conf_t));
    ngx_str_set(&mcf.node, "fuzz");
    mcf.state_fd = NGX_INVALID_FILE;

    FUZZ_CHECK(ngx_rtmp_compliance_fuzz_zone(&mcf, pool, 0) == NGX_OK,
               "the zone's init failed");

    zone = mcf.zone;
    pfree = zone->shpool->pfree;

    /*
     * add_locked sets the id and uid of a new order in spec: those of an
     * order of the state file are kept; a new one has a new zone's first
     * id and the documented NODE:ID (docs/api.md)
     */

    given = *spec;
    id = given.id ? given.id : 1;

    if (given.uid.len) {
        uid = given.uid;

    } else {
        uid.data = buf;
        uid.len = ngx_snprintf(buf, sizeof(buf), "%V:%uL", &mcf.node, id)
                  - buf;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    o = ngx_rtmp_compliance_order_add_locked(zone, spec);

    fuzz_check_stored(zone, o, id, &uid);
    fuzz_read_back(o, &given, &uid, now);

    ngx_rtmp_compliance_order_delete_locked(zone, o);

    FUZZ_CHECK(zone->sh->norders == 0
               && ngx_rtmp_compliance_order_find_locked(zone, id) == NULL
               && ngx_rtmp_compliance_order_find_uid_locked(zone, &uid)
                  == NULL
               && zone->sh->targets.root == zone->sh->targets.sentinel
               && zone->sh->expiry.root == zone->sh->expiry.sentinel,
               "a deleted order is left in the zone");
    FUZZ_CHECK(zone->shpool->pfree == pfree,
               "a deleted order leaves %ld pages used",
               (long) (pfree - zone->shpool->pfree));

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_rtmp_compliance_fuzz_zone_free(&mcf);
    ngx_destroy_pool(pool);
}


static void
fuzz_parse(json_t *obj, ngx_uint_t mode, time_t now)
{
    ngx_int_t                          rc;
    ngx_rtmp_compliance_order_spec_t   spec;
    u_char                             detail[NGX_RTMP_COMPLIANCE_DETAIL_MAX];

    ngx_memset(detail, FUZZ_DETAIL_FILL, sizeof(detail));
    ngx_memset(&spec, FUZZ_DETAIL_FILL, sizeof(spec));

    rc = ngx_rtmp_compliance_order_parse(obj, mode, &spec, now, detail,
                                         sizeof(detail));

    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "order_parse returned %ld",
               (long) rc);

    FUZZ_TRACE("order (%s): %s%s%.*s",
               mode == NGX_RTMP_COMPLIANCE_PARSE_STATE ? "state" : "API",
               rc == NGX_OK ? "accepted" : "refused", rc ? ": " : "",
               rc ? (int) strnlen((char *) detail, sizeof(detail)) : 0,
               detail);

    if (rc != NGX_OK) {
        FUZZ_CHECK_DETAIL(detail, sizeof(detail), "order_parse");
        return;
    }

    fuzz_check_spec(&spec, mode, now);
    fuzz_round_trip(&spec, now);
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
        fuzz_parse(j, NGX_RTMP_COMPLIANCE_PARSE_API, now);

        /* the state file, the object itself and as a whole line */
        fuzz_parse(j, NGX_RTMP_COMPLIANCE_PARSE_STATE, now);

        v = json_object_get(j, "op");

        if (v != NULL && json_is_string(v)
            && ngx_strcmp(json_string_value(v), "create") == 0)
        {
            fuzz_parse(json_object_get(j, "order"),
                       NGX_RTMP_COMPLIANCE_PARSE_STATE, now);
        }

        json_decref(j);
    }

    free(copy);

    return 0;
}
