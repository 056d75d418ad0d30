
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Orders as JSON: parsing and checking what the API, the state file and
 * the fleet's stream give, and writing a stored order out.  The same
 * form is used by all three.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_order_json.h"
#include "ngx_rtmp_compliance_text.h"


#define NGX_RTMP_COMPLIANCE_DURATION_MAX  (10 * 366 * 86400)


typedef struct {
    const char                      *name;
    ngx_str_t                       *s;
    ngx_uint_t                       refuse;    /* text classes refused */
} ngx_rtmp_compliance_order_text_t;


static ngx_int_t ngx_rtmp_compliance_order_str(json_t *obj, const char *name,
    size_t max, ngx_str_t *s, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_fields(json_t *obj,
    ngx_uint_t mode, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_target_kind(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size);
static ngx_uint_t ngx_rtmp_compliance_order_name(ngx_str_t *names,
    ngx_uint_t first, u_char *name, size_t len);
static ngx_int_t ngx_rtmp_compliance_order_action(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_texts(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_times(json_t *obj,
    ngx_uint_t mode, ngx_rtmp_compliance_order_spec_t *spec, time_t now,
    u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_within(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_stored(json_t *obj,
    ngx_uint_t mode, ngx_rtmp_compliance_order_spec_t *spec, time_t now,
    u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_shown(
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_seconds(json_t *v,
    const char *name, time_t max, time_t *secs, u_char *detail, size_t size);
static ngx_int_t ngx_rtmp_compliance_order_set(json_t *j, const char *name,
    u_char *data, size_t len);


/*
 * fills spec from a JSON object.  mode: NGX_RTMP_COMPLIANCE_PARSE_API (a
 * new order: "duration" allowed, "until" in the future, no text that
 * hides or reorders characters), _STATE (the state
 * file: "id", "created", "uid"), _FLEET (the Redis stream: the API's
 * fields and "created"; an "until" already past is taken, the caller
 * skips such an order).  The strings of spec point into obj.  NGX_ERROR:
 * detail says why.
 */

ngx_int_t
ngx_rtmp_compliance_order_parse(json_t *obj, ngx_uint_t mode,
    ngx_rtmp_compliance_order_spec_t *spec, time_t now, u_char *detail,
    size_t size)
{
    ngx_memzero(spec, sizeof(ngx_rtmp_compliance_order_spec_t));

    if (!json_is_object(obj)) {
        ngx_snprintf(detail, size, "an order is a JSON object%Z");
        return NGX_ERROR;
    }

    if (ngx_rtmp_compliance_order_fields(obj, mode, detail, size) != NGX_OK
        || ngx_rtmp_compliance_order_target_kind(obj, spec, detail, size)
           != NGX_OK
        || ngx_rtmp_compliance_order_action(obj, spec, detail, size)
           != NGX_OK
        || ngx_rtmp_compliance_order_texts(obj, spec, detail, size) != NGX_OK
        || ngx_rtmp_compliance_order_times(obj, mode, spec, now, detail,
                                           size)
           != NGX_OK
        || ngx_rtmp_compliance_order_within(obj, spec, detail, size)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_rtmp_compliance_order_stored(obj, mode, spec, now, detail, size)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * a new order is shown as it is; orders stored or streamed before
     * are kept as they were taken
     */

    return (mode == NGX_RTMP_COMPLIANCE_PARSE_API)
           ? ngx_rtmp_compliance_order_shown(spec, detail, size) : NGX_OK;
}


/* no field the mode does not know */

static ngx_int_t
ngx_rtmp_compliance_order_fields(json_t *obj, ngx_uint_t mode,
    u_char *detail, size_t size)
{
    json_t       *v;
    ngx_uint_t    i;
    const char   *key, **fields;

    static const char  *api_fields[] = {
        "target", "action", "until", "duration", "reason", "ref", "tier",
        "within", NULL
    };

    static const char  *state_fields[] = {
        "id", "target", "action", "created", "until", "reason", "ref",
        "tier", "uid", "by", "within", NULL
    };

    static const char  *fleet_fields[] = {
        "target", "action", "created", "until", "duration", "reason", "ref",
        "tier", "uid", "by", "within", NULL
    };

    fields = (mode == NGX_RTMP_COMPLIANCE_PARSE_STATE) ? state_fields
             : (mode == NGX_RTMP_COMPLIANCE_PARSE_FLEET) ? fleet_fields
             : api_fields;

    json_object_foreach(obj, key, v) {
        for (i = 0; fields[i]; i++) {
            if (ngx_strcmp(key, fields[i]) == 0) {
                break;
            }
        }

        if (fields[i] == NULL) {
            ngx_snprintf(detail, size, "unknown field \"%*s\"%Z",
                         ngx_min(ngx_strlen(key), 64), key);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* "target": KIND:ID */

static ngx_int_t
ngx_rtmp_compliance_order_target_kind(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size)
{
    u_char      *colon;
    ngx_int_t    rc;
    ngx_str_t    s;
    ngx_uint_t   i;

    rc = ngx_rtmp_compliance_order_str(obj, "target",
                                       NGX_RTMP_COMPLIANCE_CLAIM_MAX + 16,
                                       &s, detail, size);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    colon = rc == NGX_OK ? ngx_strlchr(s.data, s.data + s.len, ':') : NULL;

    if (colon == NULL) {
        ngx_snprintf(detail, size, "\"target\" must be KIND:ID, KIND one of "
                     "person, host, room, op, mcn, token%Z");
        return NGX_ERROR;
    }

    i = ngx_rtmp_compliance_order_name(ngx_rtmp_compliance_targets, 0,
                                       s.data, colon - s.data);

    spec->target.data = colon + 1;
    spec->target.len = s.data + s.len - spec->target.data;

    if (ngx_rtmp_compliance_targets[i].len == 0
        || spec->target.len == 0
        || spec->target.len > NGX_RTMP_COMPLIANCE_CLAIM_MAX)
    {
        ngx_snprintf(detail, size, "\"target\" must be KIND:ID, KIND one of "
                     "person, host, room, op, mcn, token, ID 1 to %d "
                     "bytes%Z", NGX_RTMP_COMPLIANCE_CLAIM_MAX);
        return NGX_ERROR;
    }

    spec->kind = i;

    return NGX_OK;
}


/* the index of a name in a table that ends with an empty one */

static ngx_uint_t
ngx_rtmp_compliance_order_name(ngx_str_t *names, ngx_uint_t first,
    u_char *name, size_t len)
{
    ngx_uint_t  i;

    for (i = first; names[i].len; i++) {
        if (names[i].len == len
            && ngx_strncmp(names[i].data, name, len) == 0)
        {
            break;
        }
    }

    return i;
}


static ngx_int_t
ngx_rtmp_compliance_order_action(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size)
{
    ngx_int_t    rc;
    ngx_str_t    s;
    ngx_uint_t   i;

    rc = ngx_rtmp_compliance_order_str(obj, "action", 16, &s, detail, size);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    i = ngx_rtmp_compliance_order_name(ngx_rtmp_compliance_actions, 1,
                                       s.data, s.len);

    if (ngx_rtmp_compliance_actions[i].len == 0) {
        ngx_snprintf(detail, size, "\"action\" must be warn, restrict, "
                     "suspend or ban (or reverify)%Z");
        return NGX_ERROR;
    }

    spec->action = i;

    return NGX_OK;
}


/* "reason", "ref" and, for restrict only, "tier" */

static ngx_int_t
ngx_rtmp_compliance_order_texts(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size)
{
    ngx_int_t  rc;

    if (ngx_rtmp_compliance_order_str(obj, "reason",
                                      NGX_RTMP_COMPLIANCE_REASON_LEN,
                                      &spec->reason, detail, size)
        != NGX_OK)
    {
        if (spec->reason.len == 0) {
            ngx_snprintf(detail, size, "\"reason\" is required%Z");
        }

        return NGX_ERROR;
    }

    if (ngx_rtmp_compliance_order_str(obj, "ref", NGX_RTMP_COMPLIANCE_REF_LEN,
                                      &spec->ref, detail, size)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    rc = ngx_rtmp_compliance_order_str(obj, "tier",
                                       NGX_RTMP_COMPLIANCE_CLAIM_MAX,
                                       &spec->tier, detail, size);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if ((spec->action == NGX_RTMP_COMPLIANCE_RESTRICT) != (rc == NGX_OK)) {
        ngx_snprintf(detail, size, "\"tier\" is required for restrict and "
                     "only for it%Z");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "until" or "duration"; none for a ban */

static ngx_int_t
ngx_rtmp_compliance_order_times(json_t *obj, ngx_uint_t mode,
    ngx_rtmp_compliance_order_spec_t *spec, time_t now, u_char *detail,
    size_t size)
{
    json_t      *u, *d;
    json_int_t   n;

    u = json_object_get(obj, "until");
    d = json_object_get(obj, "duration");

    if (u && json_is_null(u)) {
        u = NULL;
    }

    if (u && d) {
        ngx_snprintf(detail, size, "give \"until\" or \"duration\", "
                     "not both%Z");
        return NGX_ERROR;
    }

    if (spec->action == NGX_RTMP_COMPLIANCE_BAN) {
        if (u || d) {
            ngx_snprintf(detail, size, "a ban has no end; lift it with "
                         "DELETE%Z");
            return NGX_ERROR;
        }

    } else if (u == NULL && d == NULL
               && spec->action != NGX_RTMP_COMPLIANCE_REVERIFY)
    {
        ngx_snprintf(detail, size, "\"until\" or \"duration\" is required "
                     "for %V%Z", &ngx_rtmp_compliance_actions[spec->action]);
        return NGX_ERROR;
    }

    if (u == NULL && d == NULL && spec->action == NGX_RTMP_COMPLIANCE_REVERIFY)
    {
        spec->until = now + NGX_RTMP_COMPLIANCE_ORDER_DEFAULT;
    }

    if (d) {
        if (ngx_rtmp_compliance_order_seconds(d, "duration",
                                              NGX_RTMP_COMPLIANCE_DURATION_MAX,
                                              &spec->until, detail, size)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        spec->until += now;
    }

    if (u) {
        n = json_is_integer(u) ? json_integer_value(u) : 0;

        if (mode == NGX_RTMP_COMPLIANCE_PARSE_API && n <= now) {
            ngx_snprintf(detail, size, "\"until\" must be epoch seconds in "
                         "the future%Z");
            return NGX_ERROR;
        }

        if (n <= 0 || n > now + NGX_RTMP_COMPLIANCE_DURATION_MAX) {
            ngx_snprintf(detail, size, "\"until\" is out of range%Z");
            return NGX_ERROR;
        }

        spec->until = (time_t) n;
    }

    return NGX_OK;
}


/* "within": a reverify order's, in seconds, and only its */

static ngx_int_t
ngx_rtmp_compliance_order_within(json_t *obj,
    ngx_rtmp_compliance_order_spec_t *spec, u_char *detail, size_t size)
{
    json_t  *w;

    w = json_object_get(obj, "within");

    if (w && json_is_null(w)) {
        w = NULL;
    }

    if (spec->action != NGX_RTMP_COMPLIANCE_REVERIFY) {
        if (w) {
            ngx_snprintf(detail, size, "\"within\" is for reverify "
                         "only%Z");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (w == NULL) {
        spec->within = NGX_RTMP_COMPLIANCE_WITHIN_DEFAULT;
        return NGX_OK;
    }

    return ngx_rtmp_compliance_order_seconds(w, "within",
                                             NGX_RTMP_COMPLIANCE_WITHIN_MAX,
                                             &spec->within, detail, size);
}


/*
 * "created"; what only the state file has: "id", "uid"; and the
 * moderator, "by", of an order stored or streamed (the API's comes from
 * compliance_api_actor, never from the body)
 */

static ngx_int_t
ngx_rtmp_compliance_order_stored(json_t *obj, ngx_uint_t mode,
    ngx_rtmp_compliance_order_spec_t *spec, time_t now, u_char *detail,
    size_t size)
{
    json_t      *v;
    json_int_t   n;

    spec->created = now;

    if (mode != NGX_RTMP_COMPLIANCE_PARSE_API
        && ngx_rtmp_compliance_order_str(obj, "by",
                                         NGX_RTMP_COMPLIANCE_BY_MAX,
                                         &spec->by, detail, size)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (mode == NGX_RTMP_COMPLIANCE_PARSE_FLEET) {
        v = json_object_get(obj, "created");
        if (v && json_is_integer(v) && json_integer_value(v) > 0) {
            spec->created = (time_t) json_integer_value(v);
        }
    }

    if (mode == NGX_RTMP_COMPLIANCE_PARSE_STATE) {
        v = json_object_get(obj, "id");
        n = (v && json_is_integer(v)) ? json_integer_value(v) : 0;

        if (n <= 0) {
            ngx_snprintf(detail, size, "\"id\" is missing%Z");
            return NGX_ERROR;
        }

        spec->id = (uint64_t) n;

        v = json_object_get(obj, "created");
        if (v && json_is_integer(v)) {
            spec->created = (time_t) json_integer_value(v);
        }

        if (ngx_rtmp_compliance_order_str(obj, "uid",
                                          NGX_RTMP_COMPLIANCE_UID_MAX,
                                          &spec->uid, detail, size)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * nothing in the target or the tier (names) and the reason or the ref
 * (free text) that a moderator would not see as it is
 */

static ngx_int_t
ngx_rtmp_compliance_order_shown(ngx_rtmp_compliance_order_spec_t *spec,
    u_char *detail, size_t size)
{
    u_char                            *p, *q, *last;
    ngx_rtmp_compliance_order_text_t  *f;

    ngx_rtmp_compliance_order_text_t  fields[] = {
        { "target", &spec->target, NGX_RTMP_COMPLIANCE_TEXT_NAME },
        { "tier",   &spec->tier,   NGX_RTMP_COMPLIANCE_TEXT_NAME },
        { "reason", &spec->reason, NGX_RTMP_COMPLIANCE_TEXT_PROSE },
        { "ref",    &spec->ref,    NGX_RTMP_COMPLIANCE_TEXT_PROSE },
        { NULL, NULL, 0 }
    };

    for (f = fields; f->name; f++) {
        p = ngx_rtmp_compliance_text_check(f->s->data, f->s->len, f->refuse);

        if (p) {
            last = detail + size - 1;
            q = ngx_slprintf(detail, last, "\"%s\" has ", f->name);
            q = ngx_rtmp_compliance_text_what(q, last, p,
                                              f->s->data + f->s->len);
            *q = '\0';

            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_compliance_order_str(json_t *obj, const char *name, size_t max,
    ngx_str_t *s, u_char *detail, size_t size)
{
    json_t      *v;
    const char  *p;

    ngx_str_null(s);

    v = json_object_get(obj, name);

    if (v == NULL || json_is_null(v)) {
        return NGX_DECLINED;
    }

    if (!json_is_string(v)) {
        ngx_snprintf(detail, size, "\"%s\" must be a string%Z", name);
        return NGX_ERROR;
    }

    p = json_string_value(v);
    s->len = json_string_length(v);
    s->data = (u_char *) p;

    if (s->len > max) {
        ngx_snprintf(detail, size, "\"%s\" is longer than %uz bytes%Z",
                     name, max);
        return NGX_ERROR;
    }

    if (ngx_rtmp_compliance_text_check(s->data, s->len,
                                       NGX_RTMP_COMPLIANCE_TEXT_CONTROL)
        != NULL)
    {
        ngx_snprintf(detail, size, "\"%s\" has control characters%Z",
                     name);
        return NGX_ERROR;
    }

    return s->len ? NGX_OK : NGX_DECLINED;
}


/* "duration" and "within": whole seconds, 1 to max */

static ngx_int_t
ngx_rtmp_compliance_order_seconds(json_t *v, const char *name, time_t max,
    time_t *secs, u_char *detail, size_t size)
{
    json_int_t  n;

    n = json_is_integer(v) ? json_integer_value(v) : 0;

    if (n <= 0 || n > max) {
        ngx_snprintf(detail, size, "\"%s\" must be whole seconds, 1 to "
                     "%T%Z", name, max);
        return NGX_ERROR;
    }

    *secs = (time_t) n;

    return NGX_OK;
}


json_t *
ngx_rtmp_compliance_order_json(ngx_rtmp_compliance_order_t *o)
{
    u_char  *p;
    json_t  *j;
    u_char   target[NGX_RTMP_COMPLIANCE_CLAIM_MAX + 16];

    p = ngx_cpymem(target, ngx_rtmp_compliance_targets[o->kind].data,
                   ngx_rtmp_compliance_targets[o->kind].len);
    *p++ = ':';
    p = ngx_cpymem(p, ngx_rtmp_compliance_order_target(o), o->target_len);

    j = json_pack("{s:I, s:s%, s:s%, s:I, s:o, s:s%, s:s%}",
                  "id", (json_int_t) o->id,
                  "target", target, (size_t) (p - target),
                  "action", ngx_rtmp_compliance_actions[o->action].data,
                  ngx_rtmp_compliance_actions[o->action].len,
                  "created", (json_int_t) o->created,
                  "until", o->until ? json_integer(o->until) : json_null(),
                  "reason", ngx_rtmp_compliance_order_reason(o),
                  (size_t) o->reason_len,
                  "ref", ngx_rtmp_compliance_order_ref(o),
                  (size_t) o->ref_len);

    if (j
        && (ngx_rtmp_compliance_order_set(j, "uid",
                                          ngx_rtmp_compliance_order_uid(o),
                                          o->uid_len)
            != NGX_OK
            || ngx_rtmp_compliance_order_set(j, "by",
                                             ngx_rtmp_compliance_order_by(o),
                                             o->by_len)
               != NGX_OK
            || ngx_rtmp_compliance_order_set(j, "tier",
                                             ngx_rtmp_compliance_order_tier(o),
                                             o->tier_len)
               != NGX_OK
            || (o->action == NGX_RTMP_COMPLIANCE_REVERIFY
                && json_object_set_new(j, "within",
                                       json_integer((json_int_t) o->within))
                   != 0)))
    {
        json_decref(j);
        return NULL;
    }

    return j;
}


/* a string field where it is not empty */

static ngx_int_t
ngx_rtmp_compliance_order_set(json_t *j, const char *name, u_char *data,
    size_t len)
{
    if (len == 0) {
        return NGX_OK;
    }

    return json_object_set_new(j, name, json_stringn((char *) data, len)) == 0
           ? NGX_OK : NGX_ERROR;
}
