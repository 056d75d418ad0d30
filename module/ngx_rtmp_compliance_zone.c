
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The shared zone: orders (by id, by expiry, by target) and live sessions
 * of every worker.  Functions named *_locked expect the zone's mutex held.
 * The zone is kept across reloads (the limit_req recipe); a new zone loads
 * the orders from the state file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_zone.h"


/* a tree of the zone's, with the sentinel of its own name */
#define ngx_rtmp_compliance_tree_init(sh, tree, insert)                      \
    ngx_rbtree_init(&(sh)->tree, &(sh)->tree##_sentinel, insert)


static ngx_int_t ngx_rtmp_compliance_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_rtmp_compliance_seen_init(ngx_rtmp_compliance_zone_t *zone,
    size_t size);
static ngx_uint_t ngx_rtmp_compliance_zone_differs(ngx_str_t *a,
    ngx_str_t *b);
static ngx_int_t ngx_rtmp_compliance_zone_resized(ngx_shm_zone_t *shm_zone,
    ngx_log_t *log);
static ngx_rtmp_compliance_target_t *ngx_rtmp_compliance_target_get_locked(
    ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_spec_t *spec);
static void ngx_rtmp_compliance_order_copy(ngx_rtmp_compliance_order_t *o,
    ngx_rtmp_compliance_order_spec_t *spec);
static ngx_str_node_t *ngx_rtmp_compliance_node_get_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rbtree_t *tree, ngx_str_t *key,
    size_t data_off, ngx_uint_t create);
static ngx_rbtree_node_t *ngx_rtmp_compliance_lookup(ngx_rbtree_t *tree,
    uint64_t id);
static ngx_rtmp_compliance_room_t *ngx_rtmp_compliance_room_get_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *app, ngx_str_t *room,
    ngx_uint_t create);
static void ngx_rtmp_compliance_subjects_copy(u_short *len, u_char *p,
    ngx_str_t *subjects);
static void ngx_rtmp_compliance_target_free_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_target_t *t);
static ngx_rtmp_compliance_order_t *ngx_rtmp_compliance_order_find_in_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *subjects, time_t now,
    ngx_uint_t reverify);



ngx_str_t  ngx_rtmp_compliance_targets[] = {
    ngx_string("person"),
    ngx_string("host"),
    ngx_string("room"),
    ngx_string("op"),
    ngx_string("mcn"),
    ngx_string("token"),
    ngx_null_string
};


ngx_str_t  ngx_rtmp_compliance_actions[] = {
    ngx_null_string,
    ngx_string("warn"),
    ngx_string("restrict"),
    ngx_string("suspend"),
    ngx_string("ban"),
    ngx_string("reverify"),
    ngx_null_string
};


char *
ngx_rtmp_compliance_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_compliance_main_conf_t *ccmcf = conf;

    ssize_t                      size;
    ngx_str_t                   *value;
    ngx_rtmp_compliance_zone_t  *zone;

    value = cf->args->elts;

    if (ccmcf->shm_zone) {
        return "is duplicate";
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (64 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small, at least %uzk "
                           "are required", &value[1],
                           64 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_rtmp_compliance_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    ccmcf->shm_zone = ngx_shared_memory_add(cf, &value[1], size,
                                            &ngx_rtmp_compliance_module);
    if (ccmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ccmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &value[1]);
        return NGX_CONF_ERROR;
    }

    ccmcf->zone = zone;
    ccmcf->shm_zone->init = ngx_rtmp_compliance_init_zone;
    ccmcf->shm_zone->data = zone;

    return NGX_CONF_OK;
}


/*
 * at postconfiguration: what the zone keeps for others, so that a reload
 * can tell whether it changed (the state file that journals its orders,
 * the audit log whose chain head it holds), and its node's name
 */

void
ngx_rtmp_compliance_zone_conf(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *journal, ngx_str_t *audit, ngx_str_t *node, ngx_uint_t fleet)
{
    zone->journal = *journal;
    zone->audit = *audit;
    zone->node = *node;
    zone->loads = (journal->len || audit->len);
    zone->fleet = fleet;
}


/*
 * builds the zone, or takes over the running server's (a reload): the
 * orders in it are journaled in the state file of the configuration that
 * made it, so that file cannot change with a reload, and a zone made
 * anew by a reload would have to load one: both want a restart.  Loading
 * the journal into a new zone is the module's (init_module), not ours.
 */

static ngx_int_t
ngx_rtmp_compliance_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_rtmp_compliance_zone_t  *ozone = data;

    size_t                        len;
    ngx_rtmp_compliance_zone_t   *zone;
    ngx_rtmp_compliance_shctx_t  *sh;

    zone = shm_zone->data;

    if (ozone == NULL
        && ngx_rtmp_compliance_zone_resized(shm_zone, shm_zone->shm.log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ozone) {
        if (ngx_rtmp_compliance_zone_differs(&ozone->journal,
                                             &zone->journal))
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "compliance_state cannot change on reload "
                          "(\"%V\" to \"%V\"): the orders in force are "
                          "journaled in the first; restart nginx to use "
                          "another file",
                          &ozone->journal, &zone->journal);
            return NGX_ERROR;
        }

        if (ngx_rtmp_compliance_zone_differs(&ozone->audit, &zone->audit)) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "compliance_audit_log cannot be added, moved or "
                          "removed on reload (\"%V\" to \"%V\"): the "
                          "chain's head is in the running zone and its "
                          "writer lock with the running workers; restart "
                          "nginx to change it", &ozone->audit, &zone->audit);
            return NGX_ERROR;
        }

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    if (zone->loads && ngx_cycle->conf_ctx && !ngx_test_config) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "compliance_zone \"%V\" is new in this "
                      "configuration: restart nginx, so that its orders "
                      "are loaded from the state file and the audit log "
                      "is opened", &shm_zone->shm.name);
        return NGX_ERROR;
    }

    sh = ngx_slab_calloc(zone->shpool, sizeof(ngx_rtmp_compliance_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    zone->sh = sh;
    zone->shpool->data = sh;
    zone->fresh = 1;

    /* orders by id and expiry, sessions by id; the rest by name */

    ngx_rtmp_compliance_tree_init(sh, orders, ngx_rbtree_insert_value);
    ngx_rtmp_compliance_tree_init(sh, expiry, ngx_rbtree_insert_value);
    ngx_rtmp_compliance_tree_init(sh, targets, ngx_str_rbtree_insert_value);
    ngx_rtmp_compliance_tree_init(sh, sessions, ngx_rbtree_insert_value);
    ngx_rtmp_compliance_tree_init(sh, rooms, ngx_str_rbtree_insert_value);
    ngx_rtmp_compliance_tree_init(sh, uids, ngx_str_rbtree_insert_value);

    sh->next_order = 1;
    sh->next_session = 1;

    ngx_queue_init(&sh->outbox);
    ngx_queue_init(&sh->unlocks);

    if (ngx_rtmp_compliance_seen_init(zone, shm_zone->shm.size) != NGX_OK) {
        return NGX_ERROR;
    }
    ngx_cpystrn(sh->fleet_last_id, (u_char *) "0", 2);

    len = sizeof(" in compliance_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in compliance_zone \"%V\"%Z",
                &shm_zone->shm.name);

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * a count of the order targets in each hash bucket, a byte each (a 64th
 * of the zone, from 1k to 1M buckets): the subjects of a session that no
 * order targets are mostly found absent without a walk of the tree; with
 * 10,000 orders in a 64m zone a session's six subjects find one of their
 * buckets taken 6 % of the time (63 % with 64k buckets)
 */

static ngx_int_t
ngx_rtmp_compliance_seen_init(ngx_rtmp_compliance_zone_t *zone, size_t size)
{
    size_t  n;

    for (n = 1048576; n > 1024 && n > size / 64; n /= 2) {
        /* void */
    }

    zone->sh->seen = ngx_slab_calloc(zone->shpool, n);
    if (zone->sh->seen == NULL) {
        return NGX_ERROR;
    }

    zone->sh->seen_mask = (uint32_t) n - 1;

    return NGX_OK;
}


static ngx_uint_t
ngx_rtmp_compliance_zone_differs(ngx_str_t *a, ngx_str_t *b)
{
    return a->len != b->len
           || (a->len && ngx_strncmp(a->data, b->data, a->len) != 0);
}


/*
 * nginx makes a new zone when its size changes on reload: the live
 * sessions of the running workers would be lost from view, so the reload
 * is refused
 */

static ngx_int_t
ngx_rtmp_compliance_zone_resized(ngx_shm_zone_t *shm_zone, ngx_log_t *log)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *oz;

    /* at start ngx_cycle is nginx's blank init cycle */

    if (ngx_cycle == NULL || ngx_cycle->shared_memory.part.elts == NULL) {
        return NGX_OK;
    }

    part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
    oz = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            oz = part->elts;
            i = 0;
        }

        if (oz[i].tag == shm_zone->tag
            && oz[i].shm.name.len == shm_zone->shm.name.len
            && ngx_strncmp(oz[i].shm.name.data, shm_zone->shm.name.data,
                           shm_zone->shm.name.len) == 0
            && oz[i].shm.size != shm_zone->shm.size)
        {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "compliance_zone \"%V\" cannot change its size "
                          "on reload (live sessions are in it); restart "
                          "nginx to resize it", &shm_zone->shm.name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* ids are 64-bit: the rbtree key holds them on 64-bit platforms */

static ngx_rbtree_node_t *
ngx_rtmp_compliance_lookup(ngx_rbtree_t *tree, uint64_t id)
{
    ngx_rbtree_node_t  *node, *sentinel;

    node = tree->root;
    sentinel = tree->sentinel;

    while (node != sentinel) {
        if ((ngx_rbtree_key_t) id < node->key) {
            node = node->left;

        } else if ((ngx_rbtree_key_t) id > node->key) {
            node = node->right;

        } else {
            return node;
        }
    }

    return NULL;
}


ngx_rtmp_compliance_order_t *
ngx_rtmp_compliance_order_find_locked(ngx_rtmp_compliance_zone_t *zone,
    uint64_t id)
{
    return (ngx_rtmp_compliance_order_t *)
           ngx_rtmp_compliance_lookup(&zone->sh->orders, id);
}


/*
 * stores an order; NULL when the zone is full (or, for a new order, when
 * the ids that the state file can hold are used up).  The target key is
 * "kind:id", its hash ngx_crc32_short over the key.
 */

ngx_rtmp_compliance_order_t *
ngx_rtmp_compliance_order_add_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_spec_t *spec)
{
    size_t                         len;
    uint64_t                       id;
    ngx_rtmp_compliance_order_t   *o;
    ngx_rtmp_compliance_target_t  *t;
    u_char                         uid[NGX_RTMP_COMPLIANCE_UID_MAX];

    if (spec->id == 0 && zone->sh->next_order >= (uint64_t) INT64_MAX) {
        /* no id left whose next id the state file could hold */
        return NULL;
    }

    t = ngx_rtmp_compliance_target_get_locked(zone, spec);
    if (t == NULL) {
        return NULL;
    }

    id = spec->id ? spec->id : zone->sh->next_order;

    if (spec->uid.len == 0) {
        /* made here: NODE:ID is unique in the fleet */
        spec->uid.data = uid;
        spec->uid.len = ngx_snprintf(uid, sizeof(uid), "%V:%uL",
                                     &zone->node, id)
                        - uid;
    }

    len = spec->target.len + spec->reason.len + spec->ref.len
          + spec->tier.len + spec->uid.len + spec->by.len;

    o = ngx_slab_alloc_locked(zone->shpool,
                              sizeof(ngx_rtmp_compliance_order_t) + len);
    if (o == NULL) {
        ngx_rtmp_compliance_target_free_locked(zone, t);

        return NULL;
    }

    /* a failed allocation used no id */

    if (spec->id == 0) {
        spec->id = zone->sh->next_order++;

    } else if (spec->id >= zone->sh->next_order) {
        zone->sh->next_order = spec->id + 1;
    }

    ngx_rtmp_compliance_order_copy(o, spec);
    o->target_node = t;

    /* not the stack buffer above: the caller may read it */
    spec->uid.data = ngx_rtmp_compliance_order_uid(o);

    o->node.key = (ngx_rbtree_key_t) o->id;
    ngx_rbtree_insert(&zone->sh->orders, &o->node);

    if (o->until) {
        o->expiry.key = (ngx_rbtree_key_t) o->until;
        ngx_rbtree_insert(&zone->sh->expiry, &o->expiry);
    }

    ngx_queue_insert_tail(&t->orders, &o->queue);

    o->uid_node.str.data = ngx_rtmp_compliance_order_uid(o);
    o->uid_node.str.len = o->uid_len;
    o->uid_node.node.key = ngx_crc32_short(o->uid_node.str.data,
                                           o->uid_node.str.len);
    ngx_rbtree_insert(&zone->sh->uids, &o->uid_node.node);

    zone->sh->norders++;
    zone->sh->nreverify += (o->action == NGX_RTMP_COMPLIANCE_REVERIFY);
    zone->sh->generation++;

    return o;
}


/* the orders of one target ("kind:id"), made where there are none yet */

static ngx_rtmp_compliance_target_t *
ngx_rtmp_compliance_target_get_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_spec_t *spec)
{
    u_char                        *p;
    ngx_str_t                      key;
    ngx_rtmp_compliance_target_t  *t;
    u_char                         buf[NGX_RTMP_COMPLIANCE_CLAIM_MAX + 16];

    p = ngx_cpymem(buf, ngx_rtmp_compliance_targets[spec->kind].data,
                   ngx_rtmp_compliance_targets[spec->kind].len);
    *p++ = ':';
    p = ngx_cpymem(p, spec->target.data, spec->target.len);

    key.data = buf;
    key.len = p - buf;

    t = (ngx_rtmp_compliance_target_t *)
        ngx_rtmp_compliance_node_get_locked(zone, &zone->sh->targets, &key,
                                       offsetof(ngx_rtmp_compliance_target_t,
                                                data), 1);

    if (t && t->orders.next == NULL) {
        /* just made */
        ngx_queue_init(&t->orders);

        if (zone->sh->seen[t->sn.node.key & zone->sh->seen_mask] < 255) {
            zone->sh->seen[t->sn.node.key & zone->sh->seen_mask]++;
        }
    }

    return t;
}


/* a target without orders goes (a saturated bucket keeps its count) */

static void
ngx_rtmp_compliance_target_free_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_target_t *t)
{
    u_char  *seen;

    if (!ngx_queue_empty(&t->orders)) {
        return;
    }

    seen = &zone->sh->seen[t->sn.node.key & zone->sh->seen_mask];

    if (*seen < 255) {
        (*seen)--;
    }

    ngx_rbtree_delete(&zone->sh->targets, &t->sn.node);
    ngx_slab_free_locked(zone->shpool, t);
}


/* the spec's fields and strings into the order's one allocation */

static void
ngx_rtmp_compliance_order_copy(ngx_rtmp_compliance_order_t *o,
    ngx_rtmp_compliance_order_spec_t *spec)
{
    u_char  *p;

    o->id = spec->id;
    o->created = spec->created;
    o->until = spec->until;
    o->within = spec->within;
    o->kind = (u_char) spec->kind;
    o->action = (u_char) spec->action;
    o->target_len = (u_short) spec->target.len;
    o->reason_len = (u_short) spec->reason.len;
    o->ref_len = (u_short) spec->ref.len;
    o->tier_len = (u_short) spec->tier.len;
    o->uid_len = (u_short) spec->uid.len;
    o->by_len = (u_short) spec->by.len;

    /* empty strings may have no data: nothing is copied for them */

    p = o->data;

    if (spec->target.len) {
        p = ngx_cpymem(p, spec->target.data, spec->target.len);
    }

    if (spec->reason.len) {
        p = ngx_cpymem(p, spec->reason.data, spec->reason.len);
    }

    if (spec->ref.len) {
        p = ngx_cpymem(p, spec->ref.data, spec->ref.len);
    }

    if (spec->tier.len) {
        p = ngx_cpymem(p, spec->tier.data, spec->tier.len);
    }

    p = ngx_cpymem(p, spec->uid.data, spec->uid.len);

    if (spec->by.len) {
        ngx_memcpy(p, spec->by.data, spec->by.len);
    }
}


void
ngx_rtmp_compliance_order_delete_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_order_t *o)
{
    ngx_rtmp_compliance_target_t  *t;

    ngx_rbtree_delete(&zone->sh->orders, &o->node);

    if (o->until) {
        ngx_rbtree_delete(&zone->sh->expiry, &o->expiry);
    }

    ngx_queue_remove(&o->queue);
    ngx_rbtree_delete(&zone->sh->uids, &o->uid_node.node);

    t = o->target_node;

    ngx_rtmp_compliance_target_free_locked(zone, t);

    zone->sh->norders--;
    zone->sh->nreverify -= (o->action == NGX_RTMP_COMPLIANCE_REVERIFY);
    zone->sh->generation++;

    ngx_slab_free_locked(zone->shpool, o);
}


/* an order by its fleet-wide id */

ngx_rtmp_compliance_order_t *
ngx_rtmp_compliance_order_find_uid_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_str_t *uid)
{
    ngx_str_node_t  *sn;

    sn = ngx_str_rbtree_lookup(&zone->sh->uids, uid,
                               ngx_crc32_short(uid->data, uid->len));
    if (sn == NULL) {
        return NULL;
    }

    return (ngx_rtmp_compliance_order_t *)
           ((u_char *) sn - offsetof(ngx_rtmp_compliance_order_t, uid_node));
}


/* the first order due to expire at or before now, or NULL */

ngx_rtmp_compliance_order_t *
ngx_rtmp_compliance_order_expired_locked(
    ngx_rtmp_compliance_zone_t *zone, time_t now)
{
    ngx_rbtree_node_t  *node;

    if (zone->sh->expiry.root == zone->sh->expiry.sentinel) {
        return NULL;
    }

    node = ngx_rbtree_min(zone->sh->expiry.root, zone->sh->expiry.sentinel);

    if ((time_t) node->key > now) {
        return NULL;
    }

    return (ngx_rtmp_compliance_order_t *)
           ((u_char *) node - offsetof(ngx_rtmp_compliance_order_t, expiry));
}


/*
 * the strongest order in force against any of the subjects (ban, then
 * suspend, restrict, warn); subjects[kind] may be empty.  Reverify
 * orders are not among them: see the next.
 */

ngx_rtmp_compliance_order_t *
ngx_rtmp_compliance_order_match_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *subjects, time_t now)
{
    return ngx_rtmp_compliance_order_find_in_locked(zone, subjects, now, 0);
}


/* the latest reverify order in force against any of the subjects */

ngx_rtmp_compliance_order_t *
ngx_rtmp_compliance_order_reverify_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *subjects, time_t now)
{
    return ngx_rtmp_compliance_order_find_in_locked(zone, subjects, now, 1);
}


static ngx_rtmp_compliance_order_t *
ngx_rtmp_compliance_order_find_in_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *subjects, time_t now, ngx_uint_t reverify)
{
    u_char                        *p;
    uint32_t                       hash;
    ngx_str_t                      key;
    ngx_uint_t                     k;
    ngx_queue_t                   *q;
    ngx_rtmp_compliance_order_t   *o, *best;
    ngx_rtmp_compliance_target_t  *t;
    u_char                         buf[NGX_RTMP_COMPLIANCE_CLAIM_MAX + 16];

    best = NULL;

    /* no order of the kind asked for: no walk of the targets */

    if ((reverify ? zone->sh->nreverify
                  : zone->sh->norders - zone->sh->nreverify)
        == 0)
    {
        return NULL;
    }

    for (k = 0; k < NGX_RTMP_COMPLIANCE_T_MAX; k++) {

        if (subjects[k].len == 0
            || subjects[k].len > NGX_RTMP_COMPLIANCE_CLAIM_MAX)
        {
            continue;
        }

        p = ngx_cpymem(buf, ngx_rtmp_compliance_targets[k].data,
                       ngx_rtmp_compliance_targets[k].len);
        *p++ = ':';
        p = ngx_cpymem(p, subjects[k].data, subjects[k].len);

        key.data = buf;
        key.len = p - buf;

        hash = ngx_crc32_short(key.data, key.len);

        if (zone->sh->seen[hash & zone->sh->seen_mask] == 0) {
            continue;
        }

        t = (ngx_rtmp_compliance_target_t *)
            ngx_str_rbtree_lookup(&zone->sh->targets, &key, hash);
        if (t == NULL) {
            continue;
        }

        for (q = ngx_queue_head(&t->orders);
             q != ngx_queue_sentinel(&t->orders);
             q = ngx_queue_next(q))
        {
            o = ngx_queue_data(q, ngx_rtmp_compliance_order_t, queue);

            if ((o->until && o->until <= now)
                || (o->action == NGX_RTMP_COMPLIANCE_REVERIFY) != reverify)
            {
                continue;
            }

            if (best == NULL
                || (reverify ? o->created > best->created
                             : o->action > best->action))
            {
                best = o;
            }
        }
    }

    return best;
}


ngx_rtmp_compliance_session_t *
ngx_rtmp_compliance_session_find_locked(
    ngx_rtmp_compliance_zone_t *zone, uint64_t id)
{
    return (ngx_rtmp_compliance_session_t *)
           ngx_rtmp_compliance_lookup(&zone->sh->sessions, id);
}


/* "app/room" as a key, into buf of 2 * NGX_RTMP_COMPLIANCE_CLAIM_MAX + 1 */

static void
ngx_rtmp_compliance_room_key(ngx_str_t *app, ngx_str_t *room, u_char *buf,
    ngx_str_t *key)
{
    u_char  *p;

    p = ngx_cpymem(buf, app->data,
                   ngx_min(app->len, NGX_RTMP_COMPLIANCE_CLAIM_MAX));
    *p++ = '/';
    p = ngx_cpymem(p, room->data,
                   ngx_min(room->len, NGX_RTMP_COMPLIANCE_CLAIM_MAX));

    key->data = buf;
    key->len = p - buf;
}


static ngx_rtmp_compliance_room_t *
ngx_rtmp_compliance_room_get_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *app, ngx_str_t *room, ngx_uint_t create)
{
    ngx_str_t  key;
    u_char     buf[2 * NGX_RTMP_COMPLIANCE_CLAIM_MAX + 1];

    ngx_rtmp_compliance_room_key(app, room, buf, &key);

    return (ngx_rtmp_compliance_room_t *)
           ngx_rtmp_compliance_node_get_locked(zone, &zone->sh->rooms, &key,
                                         offsetof(ngx_rtmp_compliance_room_t,
                                                  data), create);
}


/*
 * a node of a tree keyed by a string (a target, a room) that holds its
 * key at data_off; made, zeroed, where create says so and there is none
 */

static ngx_str_node_t *
ngx_rtmp_compliance_node_get_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rbtree_t *tree, ngx_str_t *key, size_t data_off, ngx_uint_t create)
{
    u_char          *data;
    uint32_t         hash;
    ngx_str_node_t  *sn;

    hash = ngx_crc32_short(key->data, key->len);

    sn = ngx_str_rbtree_lookup(tree, key, hash);

    if (sn || !create) {
        return sn;
    }

    sn = ngx_slab_calloc_locked(zone->shpool, data_off + key->len);
    if (sn == NULL) {
        return NULL;
    }

    data = (u_char *) sn + data_off;
    ngx_memcpy(data, key->data, key->len);

    sn->str.data = data;
    sn->str.len = key->len;
    sn->node.key = hash;

    ngx_rbtree_insert(tree, &sn->node);

    return sn;
}


ngx_rtmp_compliance_room_t *
ngx_rtmp_compliance_room_find_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_str_t *app, ngx_str_t *room)
{
    return ngx_rtmp_compliance_room_get_locked(zone, app, room, 0);
}


/*
 * the players of a room whose publisher is dropped go with it, for its
 * reason and order; rtmp: RTMP players too (nginx-rtmp tells them itself
 * when the publisher goes on its own); the number marked
 */

ngx_uint_t
ngx_rtmp_compliance_room_drop_locked(ngx_rtmp_compliance_room_t *r,
    ngx_uint_t reason, uint64_t order, ngx_uint_t rtmp)
{
    ngx_uint_t                      n;
    ngx_queue_t                    *q;
    ngx_rtmp_compliance_session_t  *ps;

    n = 0;

    for (q = ngx_queue_head(&r->players);
         q != ngx_queue_sentinel(&r->players);
         q = ngx_queue_next(q))
    {
        ps = ngx_queue_data(q, ngx_rtmp_compliance_session_t, in_room);

        if (ps->kind == NGX_RTMP_COMPLIANCE_PLAYER && ps->drop == 0
            && (rtmp || ps->proto != NGX_RTMP_COMPLIANCE_PROTO_RTMP))
        {
            ps->drop = (u_char) reason;
            ps->order = order;
            n++;
        }
    }

    return n;
}


void
ngx_rtmp_compliance_room_set_tier(ngx_rtmp_compliance_room_t *r,
    u_char *tier, size_t len)
{
    r->tier_len = (u_short) ngx_min(len, sizeof(r->tier));
    ngx_memcpy(r->tier, tier, r->tier_len);
}


/*
 * subjects: NGX_RTMP_COMPLIANCE_S_MAX strings; a session joins the room
 * of its app and stream: a publisher as the room's publisher, a player
 * as a viewer, in the room's players
 */

ngx_rtmp_compliance_session_t *
ngx_rtmp_compliance_session_add_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_uint_t kind, ngx_str_t *subjects)
{
    size_t                          len;
    ngx_uint_t                      i;
    ngx_rtmp_compliance_room_t     *r;
    ngx_rtmp_compliance_session_t  *ss;

    len = 0;

    for (i = 0; i < NGX_RTMP_COMPLIANCE_S_MAX; i++) {
        len += subjects[i].len;
    }

    r = ngx_rtmp_compliance_room_get_locked(zone,
                                          &subjects[NGX_RTMP_COMPLIANCE_S_APP],
                                          &subjects[NGX_RTMP_COMPLIANCE_S_ROOM],
                                          1);
    if (r == NULL) {
        return NULL;
    }

    if (r->players.next == NULL) {
        /* just made */
        ngx_queue_init(&r->players);
    }

    ss = ngx_slab_calloc_locked(zone->shpool,
                                sizeof(ngx_rtmp_compliance_session_t) + len);
    if (ss == NULL) {
        if (r->publisher == 0 && r->viewers == 0) {
            ngx_rbtree_delete(&zone->sh->rooms, &r->sn.node);
            ngx_slab_free_locked(zone->shpool, r);
        }

        return NULL;
    }

    ss->id = zone->sh->next_session++;
    ss->pid = ngx_pid;
    ss->kind = (u_char) kind;
    ss->started = ngx_time();
    ss->room = r;

    ngx_rtmp_compliance_subjects_copy(ss->len, ss->data, subjects);

    if (kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
        /* the admission refused or took over the room's last publisher */

        r->publisher = ss->id;
        ngx_rtmp_compliance_room_set_tier(r,
                                  subjects[NGX_RTMP_COMPLIANCE_S_TIER].data,
                                  subjects[NGX_RTMP_COMPLIANCE_S_TIER].len);

    } else {
        r->viewers++;
        ngx_queue_insert_tail(&r->players, &ss->in_room);
    }

    ss->node.key = (ngx_rbtree_key_t) ss->id;
    ngx_rbtree_insert(&zone->sh->sessions, &ss->node);

    zone->sh->nsessions[kind]++;

    return ss;
}


void
ngx_rtmp_compliance_session_delete_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_rtmp_compliance_session_t *ss)
{
    ngx_rtmp_compliance_room_t  *r;

    r = ss->room;

    if (ss->kind == NGX_RTMP_COMPLIANCE_PUBLISHER) {
        if (r->publisher == ss->id) {
            r->publisher = 0;
        }

    } else {
        ngx_queue_remove(&ss->in_room);

        if (r->viewers) {
            r->viewers--;
        }
    }

    if (r->publisher == 0 && r->viewers == 0) {
        ngx_rbtree_delete(&zone->sh->rooms, &r->sn.node);
        ngx_slab_free_locked(zone->shpool, r);
    }

    ngx_rbtree_delete(&zone->sh->sessions, &ss->node);
    zone->sh->nsessions[ss->kind]--;
    zone->sh->nproto[ss->proto]--;

    if (ss->subjects) {
        ngx_slab_free_locked(zone->shpool, ss->subjects);
    }

    ngx_slab_free_locked(zone->shpool, ss);
}


/* one subject of a session in the zone, as its last refresh left it */

void
ngx_rtmp_compliance_session_get(ngx_rtmp_compliance_session_t *ss,
    ngx_uint_t n, ngx_str_t *s)
{
    u_char                          *p;
    u_short                         *len;
    ngx_uint_t                       i;
    ngx_rtmp_compliance_subjects_t  *sj;

    sj = ss->subjects;

    p = sj ? sj->data : ss->data;
    len = sj ? sj->len : ss->len;

    for (i = 0; i < n; i++) {
        p += len[i];
    }

    s->data = p;
    s->len = len[n];
}


/*
 * a refresh: the session's subjects (NGX_RTMP_COMPLIANCE_S_MAX strings)
 * are replaced, in an allocation of their own, so that the session stays
 * where its worker holds it; NGX_ERROR: the zone is full, nothing changed
 */

ngx_int_t
ngx_rtmp_compliance_session_set_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_rtmp_compliance_session_t *ss, ngx_str_t *subjects)
{
    size_t                           len;
    ngx_uint_t                       i;
    ngx_rtmp_compliance_subjects_t  *sj;

    len = 0;

    for (i = 0; i < NGX_RTMP_COMPLIANCE_S_MAX; i++) {
        len += subjects[i].len;
    }

    sj = ngx_slab_alloc_locked(zone->shpool,
                               sizeof(ngx_rtmp_compliance_subjects_t) + len);
    if (sj == NULL) {
        return NGX_ERROR;
    }

    ngx_rtmp_compliance_subjects_copy(sj->len, sj->data, subjects);

    if (ss->subjects) {
        ngx_slab_free_locked(zone->shpool, ss->subjects);
    }

    ss->subjects = sj;

    return NGX_OK;
}


static void
ngx_rtmp_compliance_subjects_copy(u_short *len, u_char *p,
    ngx_str_t *subjects)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_RTMP_COMPLIANCE_S_MAX; i++) {
        len[i] = (u_short) subjects[i].len;

        if (subjects[i].len) {
            p = ngx_cpymem(p, subjects[i].data, subjects[i].len);
        }
    }
}


/* the outbox: order changes this node has to publish to the fleet */

ngx_int_t
ngx_rtmp_compliance_outbox_add_locked(ngx_rtmp_compliance_zone_t *zone,
    ngx_uint_t what, ngx_str_t *uid, ngx_str_t *json)
{
    ngx_rtmp_compliance_outbox_t  *e;

    e = ngx_slab_alloc_locked(zone->shpool,
                              sizeof(ngx_rtmp_compliance_outbox_t)
                              + uid->len + json->len);
    if (e == NULL) {
        return NGX_ERROR;
    }

    e->what = what;
    e->uid_len = uid->len;
    e->json_len = json->len;
    ngx_memcpy(e->data, uid->data, uid->len);
    ngx_memcpy(e->data + uid->len, json->data, json->len);

    if (what == NGX_RTMP_COMPLIANCE_FLEET_UNLOCK) {
        ngx_queue_insert_tail(&zone->sh->unlocks, &e->queue);
        return NGX_OK;
    }

    ngx_queue_insert_tail(&zone->sh->outbox, &e->queue);
    zone->sh->noutbox++;

    return NGX_OK;
}


void
ngx_rtmp_compliance_outbox_remove_locked(
    ngx_rtmp_compliance_zone_t *zone, ngx_uint_t what, ngx_str_t *uid)
{
    ngx_queue_t                   *q;
    ngx_rtmp_compliance_outbox_t  *e;

    for (q = ngx_queue_head(&zone->sh->outbox);
         q != ngx_queue_sentinel(&zone->sh->outbox);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_rtmp_compliance_outbox_t, queue);

        if (e->what == what && e->uid_len == uid->len
            && ngx_memcmp(e->data, uid->data, uid->len) == 0)
        {
            ngx_queue_remove(q);
            ngx_slab_free_locked(zone->shpool, e);
            zone->sh->noutbox--;
            return;
        }
    }
}
