/*
 * loadgen.c -- the RTMP load generator of the ngx_rtmp_compliance benchmark
 * (bench/run drives it; see docs/performance.md).
 *
 * It speaks real RTMP over TCP: the simple handshake, chunked messages in
 * both directions, AMF0 commands (connect, createStream, publish or play)
 * and it reads the server's onStatus.  Every client socket has TCP_NODELAY
 * and TCP_QUICKACK (re-armed after every read): nginx-rtmp never sets
 * TCP_NODELAY, so a client without quick ACKs waits ~40 ms per admission
 * on Nagle + delayed ACK.
 *
 * Subcommands (all loops are bounded in count and in time):
 *
 *   mint   --alg HS256|RS256|ES256 --key FILE --n N [--prefix r]
 *          [--scope publish|play] [--room R] [--groups G] [--tier T]
 *          [--ttl S] [--kid K]
 *       N lines "ROOM TOKEN" on stdout.  Publish tokens: room PREFIX<i>,
 *       sub h<i>, pid g<i % G> (G = --groups, default N), op op1, mcn
 *       mcn1, idv face.  Play tokens (--scope play): room R for all.
 *
 *   run    --port P --mode publish|play --conc C --duration S [--max N]
 *          [--tokens FILE | --rooms N --prefix r] [--play-name NAME]
 *          [--feeder NAME] [--pid MASTER]... [--threads T] [--label L]
 *          [--reject-every K] [--no-quickack] [--no-nodelay]
 *       C concurrent clients, each opening sessions back to back for S
 *       seconds (or N sessions): connect, handshake, connect, createStream,
 *       publish/play, wait for the onStatus, close.  Prints one line of
 *       key=value: admitted, rejected, errors, rate (admissions/s),
 *       latency p50/p99 (ms, from connect(2) to the onStatus), and the CPU
 *       time that the nginx processes (each --pid master and its children,
 *       from /proc/PID/stat) used, per admission.
 *
 *   drop   --port P --tokens FILE --n N --groups G --http-port H
 *          [--api /compliance/] [--gap-ms MS] [--timeout S]
 *       Opens N publishers (tokens' pid g0..g{G-1}) and holds them; then
 *       POSTs a suspend order on person:gK for each group K, one every
 *       ~gap-ms (jittered), and measures, for every publisher, the time from
 *       its group's POST reply to its connection being closed by nginx.
 *       --hold-until-reject: open publishers until one is refused and
 *       report how many were admitted (zone sizing).
 *
 *   fill   --http-port H [--api /compliance/] [--max N]
 *       POSTs orders (keep-alive) until the API answers 507 zone_full;
 *       prints how many were stored.
 */

#define _GNU_SOURCE

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>


#define HS_SIZE         1536
#define MAX_CS          16
#define MAX_MSG         (1024 * 1024)
#define OUT_CHUNK       4096
#define CONN_TIMEOUT_MS 10000
#define HARD_LIMIT_S    600


enum { S_CONNECTING = 1, S_HANDSHAKE, S_CONNECT, S_CREATE, S_STATUS, S_LIVE,
       S_DONE };

enum { R_NONE = 0, R_ADMITTED, R_REJECTED, R_ERROR, R_TIMEOUT };


typedef struct {
    int             used;
    uint32_t        csid;
    uint32_t        len;
    uint32_t        have;
    uint8_t         type;
    uint32_t        sid;
    uint32_t        ts;
    int             ext;
    uint8_t        *buf;
    uint32_t        cap;
} chunkstream_t;


typedef struct conn_s {
    int             fd;
    int             state;
    int             result;
    int             slot;
    int             idx;            /* token/room index */
    int             feeder;
    int             notoken;
    double          t0;
    double          tclose;
    uint8_t        *rbuf;
    size_t          rlen;
    size_t          rcap;
    size_t          hs_have;
    uint32_t        in_chunk;
    uint32_t        stream_id;
    chunkstream_t   cs[MAX_CS];
    char            code[96];
    char            reason[64];
    int             closed;
} conn_t;


/* options */

static const char  *o_host = "127.0.0.1";
static int          o_port;
static int          o_http_port;
static const char  *o_api = "/compliance/";
static const char  *o_app = "live";
static const char  *o_mode = "publish";
static int          o_conc = 1;
static double       o_duration = 5;
static long         o_max = 0;
static const char  *o_tokens;
static int          o_rooms = 1024;
static const char  *o_prefix = "r";
static const char  *o_play_name;
static const char  *o_feeder;
static int          o_pids[8];
static int          o_npids;
static int          o_threads = 1;
static const char  *o_label = "run";
static int          o_reject_every;
static int          o_quickack = 1;
static int          o_nodelay = 1;
static int          o_n = 0;
static int          o_groups = 0;
static int          o_gap_ms = 700;
static double       o_timeout = 20;
static int          o_hold_until_reject;
static const char  *o_alg = "HS256";
static const char  *o_key;
static const char  *o_scope = "publish";
static const char  *o_room = "feed";
static const char  *o_tier = "basic";
static long         o_ttl = 7200;
static const char  *o_kid;
static unsigned     o_seed = 1;
static double       o_warmup = 0;
static int          o_metrics;
static int          o_settle_ms = 300;
static int          o_srcs = 8;

/* tokens */

static char       **tok_room;
static char       **tok_token;
static int          ntok;

/* shared counters */

static volatile int g_stop;
static volatile double g_tmeas = 1e300;   /* sessions started before are warm-up */
static long         g_started;
static long         g_admitted;
static long         g_rejected;
static long         g_errors;
static long         g_timeouts;
static long         g_room_next;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_CODES 16
static char         g_code[MAX_CODES][96];
static long         g_code_n[MAX_CODES];


static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}


static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}


static void
count_code(const char *code)
{
    int i;

    pthread_mutex_lock(&g_lock);

    for (i = 0; i < MAX_CODES; i++) {
        if (g_code_n[i] && strcmp(g_code[i], code) == 0) {
            g_code_n[i]++;
            break;
        }

        if (g_code_n[i] == 0) {
            snprintf(g_code[i], sizeof(g_code[i]), "%s", code);
            g_code_n[i] = 1;
            break;
        }
    }

    pthread_mutex_unlock(&g_lock);
}


/* ---------------------------------------------------------------- cpu */

static long
proc_ticks(int pid, int *ppid)
{
    char            path[64], buf[1024], *p;
    int             fd;
    ssize_t         n;
    unsigned long   ut = 0, st = 0;
    int             pp = 0;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }

    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }

    /* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt
     *   cmajflt utime stime" */
    if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &pp, &ut, &st) != 3)
    {
        return -1;
    }

    if (ppid) {
        *ppid = pp;
    }

    return (long) (ut + st);
}


/* utime+stime in ms of a master and all its children */

static double
tree_cpu_ms(int master)
{
    DIR            *d;
    struct dirent  *de;
    long            t, total = 0;
    int             pid, pp;
    long            hz = sysconf(_SC_CLK_TCK);

    if (master <= 0) {
        return 0;
    }

    t = proc_ticks(master, NULL);
    if (t > 0) {
        total += t;
    }

    d = opendir("/proc");
    if (d == NULL) {
        return total * 1000.0 / hz;
    }

    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char) de->d_name[0])) {
            continue;
        }

        pid = atoi(de->d_name);
        t = proc_ticks(pid, &pp);

        if (t > 0 && pp == master) {
            total += t;
        }
    }

    closedir(d);

    return total * 1000.0 / hz;
}


/* the system's jiffies: all, idle (+iowait), softirq */

static void
sys_jiffies(double *all, double *idle, double *soft)
{
    FILE               *f;
    unsigned long long  v[10] = { 0 };
    int                 i;

    *all = *idle = *soft = 0;

    f = fopen("/proc/stat", "r");
    if (f == NULL) {
        return;
    }

    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
    {
        for (i = 0; i < 8; i++) {
            *all += v[i];
        }

        *idle = v[3] + v[4];
        *soft = v[6];
    }

    fclose(f);
}


/* VmRSS in kB of the children of a master */

static long
tree_rss_kb(int master)
{
    DIR            *d;
    struct dirent  *de;
    char            path[64], line[256];
    FILE           *f;
    long            total = 0, kb;
    int             pid, pp;

    d = opendir("/proc");
    if (d == NULL) {
        return 0;
    }

    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char) de->d_name[0])) {
            continue;
        }

        pid = atoi(de->d_name);

        if (proc_ticks(pid, &pp) < 0 || pp != master) {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }

        while (fgets(line, sizeof(line), f)) {
            if (sscanf(line, "VmRSS: %ld", &kb) == 1) {
                total += kb;
            }
        }

        fclose(f);
    }

    closedir(d);
    return total;
}


static double
self_cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec * 1000.0 + ru.ru_utime.tv_usec / 1000.0
           + ru.ru_stime.tv_sec * 1000.0 + ru.ru_stime.tv_usec / 1000.0;
}


/* ---------------------------------------------------------------- AMF0 */

typedef struct {
    uint8_t  *p;
    uint8_t  *end;
} amf_t;


static void
w8(uint8_t **p, uint8_t v)
{
    *(*p)++ = v;
}


static void
w16(uint8_t **p, uint16_t v)
{
    w8(p, v >> 8);
    w8(p, v & 0xff);
}


static void
amf_str(uint8_t **p, const char *s)
{
    size_t n = strlen(s);

    w8(p, 0x02);
    w16(p, (uint16_t) n);
    memcpy(*p, s, n);
    *p += n;
}


static void
amf_num(uint8_t **p, double d)
{
    uint64_t v;
    int      i;

    memcpy(&v, &d, 8);
    w8(p, 0x00);

    for (i = 7; i >= 0; i--) {
        w8(p, (v >> (i * 8)) & 0xff);
    }
}


static void
amf_key(uint8_t **p, const char *k)
{
    size_t n = strlen(k);

    w16(p, (uint16_t) n);
    memcpy(*p, k, n);
    *p += n;
}


static int amf_skip(amf_t *a, int depth);


static int
amf_skip_props(amf_t *a, int depth)
{
    uint16_t n;
    int      i;

    for (i = 0; i < 4096; i++) {
        if (a->end - a->p < 3) {
            return -1;
        }

        n = (a->p[0] << 8) | a->p[1];

        if (n == 0 && a->p[2] == 0x09) {
            a->p += 3;
            return 0;
        }

        if (a->end - a->p < 2 + n) {
            return -1;
        }

        a->p += 2 + n;

        if (amf_skip(a, depth + 1) != 0) {
            return -1;
        }
    }

    return -1;
}


static int
amf_skip(amf_t *a, int depth)
{
    uint32_t n, i;
    uint8_t  t;

    if (depth > 16 || a->p >= a->end) {
        return -1;
    }

    t = *a->p++;

    switch (t) {
    case 0x00:
        if (a->end - a->p < 8) return -1;
        a->p += 8;
        return 0;
    case 0x01:
        if (a->end - a->p < 1) return -1;
        a->p += 1;
        return 0;
    case 0x02:
        if (a->end - a->p < 2) return -1;
        n = (a->p[0] << 8) | a->p[1];
        if ((uint32_t) (a->end - a->p) < 2 + n) return -1;
        a->p += 2 + n;
        return 0;
    case 0x03:
        return amf_skip_props(a, depth);
    case 0x05:
    case 0x06:
        return 0;
    case 0x08:
        if (a->end - a->p < 4) return -1;
        a->p += 4;
        return amf_skip_props(a, depth);
    case 0x0a:
        if (a->end - a->p < 4) return -1;
        n = ((uint32_t) a->p[0] << 24) | (a->p[1] << 16) | (a->p[2] << 8)
            | a->p[3];
        a->p += 4;
        for (i = 0; i < n && i < 4096; i++) {
            if (amf_skip(a, depth + 1) != 0) return -1;
        }
        return 0;
    case 0x0c:
        if (a->end - a->p < 4) return -1;
        n = ((uint32_t) a->p[0] << 24) | (a->p[1] << 16) | (a->p[2] << 8)
            | a->p[3];
        if ((uint32_t) (a->end - a->p) < 4 + n) return -1;
        a->p += 4 + n;
        return 0;
    default:
        return -1;
    }
}


static int
amf_read_str(amf_t *a, char *out, size_t size)
{
    uint16_t n;

    if (a->end - a->p < 3 || a->p[0] != 0x02) {
        return -1;
    }

    n = (a->p[1] << 8) | a->p[2];
    if (a->end - a->p < 3 + n) {
        return -1;
    }

    if (out) {
        size_t m = n < size - 1 ? n : size - 1;
        memcpy(out, a->p + 3, m);
        out[m] = '\0';
    }

    a->p += 3 + n;
    return 0;
}


static int
amf_read_num(amf_t *a, double *d)
{
    uint64_t v = 0;
    int      i;

    if (a->end - a->p < 9 || a->p[0] != 0x00) {
        return -1;
    }

    for (i = 1; i <= 8; i++) {
        v = (v << 8) | a->p[i];
    }

    memcpy(d, &v, 8);
    a->p += 9;
    return 0;
}


/* finds string property KEY in the object at a->p (does not advance) */

static int
amf_obj_get(amf_t *a0, const char *key, char *out, size_t size)
{
    amf_t     a = *a0;
    uint16_t  n;
    size_t    kl = strlen(key);
    int       i;

    if (a.p >= a.end || (a.p[0] != 0x03 && a.p[0] != 0x08)) {
        return -1;
    }

    a.p += a.p[0] == 0x08 ? 5 : 1;

    for (i = 0; i < 256; i++) {
        if (a.end - a.p < 3) {
            return -1;
        }

        n = (a.p[0] << 8) | a.p[1];
        if (n == 0 && a.p[2] == 0x09) {
            return -1;
        }

        if (a.end - a.p < 2 + n) {
            return -1;
        }

        if (n == kl && memcmp(a.p + 2, key, kl) == 0) {
            a.p += 2 + n;
            return amf_read_str(&a, out, size);
        }

        a.p += 2 + n;

        if (amf_skip(&a, 1) != 0) {
            return -1;
        }
    }

    return -1;
}


/* ---------------------------------------------------------------- RTMP out */

static int
send_all(int fd, const uint8_t *b, size_t n)
{
    size_t  done = 0;
    ssize_t r;
    int     spins = 0;

    while (done < n) {
        r = send(fd, b + done, n - done, MSG_NOSIGNAL);

        if (r > 0) {
            done += r;
            continue;
        }

        if (r == -1 && (errno == EAGAIN || errno == EINTR) && spins++ < 1000)
        {
            usleep(100);
            continue;
        }

        return -1;
    }

    return 0;
}


/* one message on CSID, split in OUT_CHUNK chunks, appended at *p */

static void
put_msg(uint8_t **p, uint32_t csid, uint8_t type, uint32_t sid,
    const uint8_t *body, uint32_t len)
{
    uint32_t off = 0, n;

    w8(p, (uint8_t) csid);  /* fmt 0 */
    w8(p, 0); w8(p, 0); w8(p, 0);                     /* timestamp */
    w8(p, (len >> 16) & 0xff); w8(p, (len >> 8) & 0xff); w8(p, len & 0xff);
    w8(p, type);
    w8(p, sid & 0xff); w8(p, (sid >> 8) & 0xff);      /* little endian */
    w8(p, (sid >> 16) & 0xff); w8(p, (sid >> 24) & 0xff);

    for ( ;; ) {
        n = len - off < OUT_CHUNK ? len - off : OUT_CHUNK;
        memcpy(*p, body + off, n);
        *p += n;
        off += n;

        if (off >= len) {
            break;
        }

        w8(p, 0xc0 | (uint8_t) csid);                 /* fmt 3 */
    }
}


static void
quickack(int fd)
{
    int one = 1;

    if (o_quickack) {
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }
}


static int
send_connect(conn_t *c, const uint8_t *s1)
{
    uint8_t   out[HS_SIZE + 8192], body[2048], *p, *b;
    char      tcurl[256];

    p = out;
    memcpy(p, s1, HS_SIZE);          /* C2 echoes S1 */
    p += HS_SIZE;

    /* set chunk size */
    b = body;
    w8(&b, 0); w8(&b, 0); w8(&b, (OUT_CHUNK >> 8) & 0xff);
    w8(&b, OUT_CHUNK & 0xff);
    put_msg(&p, 2, 1, 0, body, 4);

    snprintf(tcurl, sizeof(tcurl), "rtmp://%s:%d/%s", o_host, o_port, o_app);

    b = body;
    amf_str(&b, "connect");
    amf_num(&b, 1);
    w8(&b, 0x03);
    amf_key(&b, "app"); amf_str(&b, o_app);
    amf_key(&b, "type"); amf_str(&b, "nonprivate");
    amf_key(&b, "flashVer"); amf_str(&b, "FMLE/3.0 (compatible; loadgen)");
    amf_key(&b, "tcUrl"); amf_str(&b, tcurl);
    w8(&b, 0); w8(&b, 0); w8(&b, 0x09);
    put_msg(&p, 3, 20, 0, body, (uint32_t) (b - body));

    return send_all(c->fd, out, p - out);
}


static int
send_create(conn_t *c)
{
    uint8_t out[256], body[128], *p = out, *b = body;

    amf_str(&b, "createStream");
    amf_num(&b, 2);
    w8(&b, 0x05);
    put_msg(&p, 3, 20, 0, body, (uint32_t) (b - body));

    return send_all(c->fd, out, p - out);
}


static int
send_start(conn_t *c)
{
    uint8_t   out[12288], body[8192], *p = out, *b = body;
    char      name[6144];
    int       publish = c->feeder || strcmp(o_mode, "publish") == 0;
    const char *nm;

    if (c->feeder) {
        nm = o_feeder;

    } else if (!publish) {
        nm = o_play_name ? o_play_name : "feed";
        if (ntok) {
            snprintf(name, sizeof(name), "%s?token=%s", nm,
                     tok_token[c->idx % ntok]);
            nm = name;
        }

    } else if (ntok) {
        if (c->notoken) {
            snprintf(name, sizeof(name), "%s", tok_room[c->idx % ntok]);
        } else {
            snprintf(name, sizeof(name), "%s?token=%s",
                     tok_room[c->idx % ntok], tok_token[c->idx % ntok]);
        }
        nm = name;

    } else {
        snprintf(name, sizeof(name), "%s%d", o_prefix, c->idx % o_rooms);
        nm = name;
    }

    amf_str(&b, publish ? "publish" : "play");
    amf_num(&b, 0);
    w8(&b, 0x05);
    amf_str(&b, nm);

    if (publish) {
        amf_str(&b, "live");
    } else {
        amf_num(&b, -2000);
    }

    put_msg(&p, 8, 20, c->stream_id, body, (uint32_t) (b - body));

    return send_all(c->fd, out, p - out);
}


/* ---------------------------------------------------------------- RTMP in */

static chunkstream_t *
cs_get(conn_t *c, uint32_t csid)
{
    int i, free_i = -1;

    for (i = 0; i < MAX_CS; i++) {
        if (c->cs[i].used && c->cs[i].csid == csid) {
            return &c->cs[i];
        }

        if (!c->cs[i].used && free_i < 0) {
            free_i = i;
        }
    }

    if (free_i < 0) {
        return NULL;
    }

    memset(&c->cs[free_i], 0, sizeof(chunkstream_t));
    c->cs[free_i].used = 1;
    c->cs[free_i].csid = csid;
    return &c->cs[free_i];
}


/* returns -1 on a protocol error, 0 otherwise */

static int
handle_msg(conn_t *c, chunkstream_t *cs)
{
    uint8_t   *m = cs->buf;
    uint32_t   n = cs->len;
    amf_t      a;
    char       name[64], level[32];
    double     txn, sid;

    switch (cs->type) {

    case 1:     /* set chunk size */
        if (n >= 4) {
            c->in_chunk = (((uint32_t) m[0] << 24) | (m[1] << 16) | (m[2] << 8)
                           | m[3]) & 0x7fffffff;
            if (c->in_chunk < 1 || c->in_chunk > MAX_MSG) {
                return -1;
            }
        }
        return 0;

    case 4:     /* user control: answer pings */
        if (n >= 6 && m[0] == 0 && m[1] == 6) {
            uint8_t out[64], body[6], *p = out;

            body[0] = 0; body[1] = 7;
            memcpy(body + 2, m + 2, 4);
            put_msg(&p, 2, 4, 0, body, 6);
            (void) send_all(c->fd, out, p - out);
        }
        return 0;

    case 20:
        break;

    default:
        return 0;
    }

    a.p = m;
    a.end = m + n;

    if (amf_read_str(&a, name, sizeof(name)) != 0) {
        return -1;
    }

    if (amf_read_num(&a, &txn) != 0) {
        txn = 0;
    }

    if (strcmp(name, "_result") == 0 || strcmp(name, "_error") == 0) {

        if (strcmp(name, "_error") == 0) {
            c->result = R_REJECTED;
            snprintf(c->code, sizeof(c->code), "_error");
            return 0;
        }

        if (c->state == S_CONNECT && txn == 1) {
            c->state = S_CREATE;
            return send_create(c);
        }

        if (c->state == S_CREATE && txn == 2) {
            if (amf_skip(&a, 0) != 0 || amf_read_num(&a, &sid) != 0) {
                return -1;
            }

            c->stream_id = (uint32_t) sid;
            c->state = S_STATUS;
            return send_start(c);
        }

        return 0;
    }

    if (strcmp(name, "onStatus") != 0) {
        return 0;
    }

    if (amf_skip(&a, 0) != 0) {     /* null */
        return -1;
    }

    level[0] = '\0';
    c->code[0] = '\0';
    (void) amf_obj_get(&a, "level", level, sizeof(level));
    (void) amf_obj_get(&a, "code", c->code, sizeof(c->code));

    if (c->state == S_LIVE) {
        return 0;
    }

    if (strcmp(level, "error") == 0) {
        char desc[256], *colon;

        desc[0] = '\0';
        (void) amf_obj_get(&a, "description", desc, sizeof(desc));
        colon = strchr(desc, ':');
        if (colon) {
            *colon = '\0';
        }

        snprintf(c->reason, sizeof(c->reason), "%s", desc);
        c->result = R_REJECTED;
        return 0;
    }

    n = strlen(c->code);

    if (n > 6 && strcmp(c->code + n - 6, ".Start") == 0) {
        c->result = R_ADMITTED;
    }

    return 0;
}


/* parses what is in c->rbuf; returns -1 on error */

static int
parse_chunks(conn_t *c)
{
    uint8_t        *p = c->rbuf, *end = c->rbuf + c->rlen, *q;
    uint32_t        csid, fmt, hl, ts, take;
    chunkstream_t  *cs;

    while (p < end && c->result == R_NONE) {
        q = p;
        fmt = *q >> 6;
        csid = *q & 0x3f;
        q++;

        if (csid == 0) {
            if (end - q < 1) break;
            csid = 64 + q[0];
            q++;
        } else if (csid == 1) {
            if (end - q < 2) break;
            csid = 64 + q[0] + q[1] * 256;
            q += 2;
        }

        hl = fmt == 0 ? 11 : fmt == 1 ? 7 : fmt == 2 ? 3 : 0;
        if ((uint32_t) (end - q) < hl) break;

        cs = cs_get(c, csid);
        if (cs == NULL) {
            return -1;
        }

        if (fmt < 3) {
            ts = ((uint32_t) q[0] << 16) | (q[1] << 8) | q[2];
            cs->ext = ts == 0xffffff;

            if (fmt <= 1) {
                if (cs->have) {
                    return -1;      /* new header amid a message */
                }
                cs->len = ((uint32_t) q[3] << 16) | (q[4] << 8) | q[5];
                cs->type = q[6];
                if (cs->len > MAX_MSG) {
                    return -1;
                }
            }

            if (fmt == 0) {
                cs->sid = q[7] | (q[8] << 8) | (q[9] << 16)
                          | ((uint32_t) q[10] << 24);
            }
        }

        q += hl;

        if (cs->ext) {
            if (end - q < 4) break;
            q += 4;
        }

        if (cs->cap < cs->len || cs->buf == NULL) {
            uint32_t cap = cs->len < 256 ? 256 : cs->len;
            uint8_t *nb = realloc(cs->buf, cap);
            if (nb == NULL) {
                return -1;
            }
            cs->buf = nb;
            cs->cap = cap;
        }

        take = cs->len - cs->have;
        if (take > c->in_chunk) {
            take = c->in_chunk;
        }

        if ((uint32_t) (end - q) < take) break;

        memcpy(cs->buf + cs->have, q, take);
        cs->have += take;
        q += take;
        p = q;

        if (cs->have == cs->len) {
            cs->have = 0;
            if (handle_msg(c, cs) != 0) {
                return -1;
            }
        }
    }

    if (p > c->rbuf) {
        memmove(c->rbuf, p, end - p);
        c->rlen = end - p;
    }

    return 0;
}


/* ---------------------------------------------------------------- tokens */

static void
load_tokens(const char *file)
{
    FILE   *f;
    char   *line = NULL, *sp;
    size_t  cap = 0;
    ssize_t n;
    int     alloc = 0;

    f = fopen(file, "r");
    if (f == NULL) {
        die("cannot open %s: %s", file, strerror(errno));
    }

    while ((n = getline(&line, &cap, f)) > 0 && ntok < 1000000) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }

        sp = strchr(line, ' ');
        if (sp == NULL) {
            continue;
        }

        *sp = '\0';

        if (ntok == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            tok_room = realloc(tok_room, alloc * sizeof(char *));
            tok_token = realloc(tok_token, alloc * sizeof(char *));
            if (tok_room == NULL || tok_token == NULL) {
                die("out of memory");
            }
        }

        tok_room[ntok] = strdup(line);
        tok_token[ntok] = strdup(sp + 1);
        ntok++;
    }

    free(line);
    fclose(f);

    if (ntok == 0) {
        die("no tokens in %s", file);
    }
}


/* ---------------------------------------------------------------- run */

static double metrics_value(const char *name);

typedef struct {
    int         id;
    int         nslots;
    conn_t     *slots;
    double     *lat;
    long        nlat;
    long        caplat;
    double      t_end;
    double      t_last;
    int         ep;
} worker_t;


static void
conn_close(worker_t *w, conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
}


static int
conn_open(worker_t *w, conn_t *c)
{
    struct sockaddr_in  sin;
    struct epoll_event  ev;
    int                 one = 1, i;
    long                k;

    for (i = 0; i < MAX_CS; i++) {
        c->cs[i].used = 0;
        c->cs[i].have = 0;
    }

    c->rlen = 0;
    c->hs_have = 0;
    c->in_chunk = 128;
    c->result = R_NONE;
    c->code[0] = '\0';
    c->reason[0] = '\0';
    c->closed = 0;

    if (!c->feeder) {
        pthread_mutex_lock(&g_lock);
        k = g_room_next++;
        g_started++;
        pthread_mutex_unlock(&g_lock);

        c->idx = (int) (k % (ntok ? ntok : o_rooms));
        c->notoken = o_reject_every > 0 && (k % o_reject_every) == 0;
    }

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd == -1) {
        return -1;
    }

    if (o_nodelay) {
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }

    quickack(c->fd);

    if (o_srcs > 0 && strncmp(o_host, "127.", 4) == 0) {
        /* spread the client ports over 127.0.1.1..N: no port runs out */
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(0x7f000101 + (uint32_t) (c->slot % o_srcs));
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                   sizeof(one));
        (void) bind(c->fd, (struct sockaddr *) &sin, sizeof(sin));
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(o_port);
    inet_pton(AF_INET, o_host, &sin.sin_addr);

    c->t0 = now_ms();
    c->state = S_CONNECTING;

    if (connect(c->fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        && errno != EINPROGRESS)
    {
        close(c->fd);
        c->fd = -1;
        return -1;
    }

    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.ptr = c;

    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }

    return 0;
}


/* I/O on C; returns 1 when the session is over (c->result set) */

static int
conn_io(worker_t *w, conn_t *c, uint32_t events)
{
    struct epoll_event  ev;
    uint8_t             c0c1[1 + HS_SIZE];
    int                 err = 0, i;
    socklen_t           el = sizeof(err);
    ssize_t             n;

    if (c->state == S_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            return 0;
        }

        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            c->result = R_ERROR;
            snprintf(c->code, sizeof(c->code), "connect:%s", strerror(err));
            return 1;
        }

        c0c1[0] = 3;
        memset(c0c1 + 1, 0, 8);
        for (i = 9; i < 1 + HS_SIZE; i++) {
            c0c1[i] = (uint8_t) (i * 131 + c->slot);
        }

        if (send_all(c->fd, c0c1, sizeof(c0c1)) != 0) {
            c->result = R_ERROR;
            snprintf(c->code, sizeof(c->code), "send");
            return 1;
        }

        c->state = S_HANDSHAKE;
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = c;
        epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
        return 0;
    }

    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
        return 0;
    }

    for (i = 0; i < 64; i++) {
        if (c->rcap - c->rlen < 8192) {
            size_t   cap = c->rcap ? c->rcap * 2 : 16384;
            uint8_t *nb;

            if (cap > MAX_MSG * 2) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "overflow");
                return 1;
            }

            nb = realloc(c->rbuf, cap);
            if (nb == NULL) {
                c->result = R_ERROR;
                return 1;
            }
            c->rbuf = nb;
            c->rcap = cap;
        }

        n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);

        if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
            c->closed = 1;
            c->tclose = now_ms();
            if (c->state == S_LIVE) {
                return 1;
            }
            if (c->result == R_NONE) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "closed");
            }
            return 1;
        }

        if (n == -1) {
            break;
        }

        quickack(c->fd);
        c->rlen += n;

        if (c->state == S_HANDSHAKE) {
            if (c->rlen < 1 + 2 * HS_SIZE) {
                continue;
            }

            if (send_connect(c, c->rbuf + 1) != 0) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "send");
                return 1;
            }

            memmove(c->rbuf, c->rbuf + 1 + 2 * HS_SIZE,
                    c->rlen - 1 - 2 * HS_SIZE);
            c->rlen -= 1 + 2 * HS_SIZE;
            c->state = S_CONNECT;
        }

        if (c->state == S_LIVE) {
            /* media or pings: parse for pings, drop the rest */
            if (parse_chunks(c) != 0) {
                c->rlen = 0;
            }
            continue;
        }

        if (parse_chunks(c) != 0) {
            c->result = R_ERROR;
            snprintf(c->code, sizeof(c->code), "protocol");
            return 1;
        }

        if (c->result != R_NONE) {
            return 1;
        }
    }

    return 0;
}


static void
record(worker_t *w, conn_t *c, double t)
{
    if (c->t0 < g_tmeas) {
        return;                 /* a warm-up session */
    }

    pthread_mutex_lock(&g_lock);

    switch (c->result) {
    case R_ADMITTED:
        g_admitted++;
        break;
    case R_REJECTED:
        g_rejected++;
        break;
    case R_TIMEOUT:
        g_timeouts++;
        break;
    default:
        g_errors++;
    }

    pthread_mutex_unlock(&g_lock);

    if (c->result == R_REJECTED) {
        char key[160];
        snprintf(key, sizeof(key), "%s%s%s", c->code,
                 c->reason[0] ? "/" : "", c->reason);
        count_code(key);

    } else if (c->result != R_ADMITTED) {
        count_code(c->result == R_TIMEOUT ? "timeout" : c->code);
    }

    if (c->result == R_ADMITTED && w->nlat < w->caplat) {
        w->lat[w->nlat++] = t - c->t0;
    }

    w->t_last = t;
}


static void *
run_thread(void *arg)
{
    worker_t           *w = arg;
    struct epoll_event  evs[256];
    int                 i, n, active = 0;
    double              t;
    conn_t             *c;

    for (i = 0; i < w->nslots; i++) {
        c = &w->slots[i];
        c->slot = i;
        c->fd = -1;

        if (o_max && g_started >= o_max) {
            continue;
        }

        if (conn_open(w, c) == 0) {
            active++;
        } else {
            pthread_mutex_lock(&g_lock);
            g_errors++;
            pthread_mutex_unlock(&g_lock);
        }
    }

    while (active > 0) {
        n = epoll_wait(w->ep, evs, 256, 100);
        t = now_ms();

        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;

            if (c->fd < 0 || !conn_io(w, c, evs[i].events)) {
                continue;
            }

            record(w, c, now_ms());
            conn_close(w, c);
            active--;

            if (!g_stop && t < w->t_end && (!o_max || g_started < o_max)) {
                if (conn_open(w, c) == 0) {
                    active++;
                }
            }
        }

        /* timeouts; a scan every round is cheap enough for a few hundred */
        for (i = 0; i < w->nslots; i++) {
            c = &w->slots[i];

            if (c->fd >= 0 && t - c->t0 > CONN_TIMEOUT_MS) {
                c->result = R_TIMEOUT;
                record(w, c, t);
                conn_close(w, c);
                active--;

                if (!g_stop && t < w->t_end && (!o_max || g_started < o_max))
                {
                    if (conn_open(w, c) == 0) {
                        active++;
                    }
                }
            }
        }

        if (t > w->t_end + CONN_TIMEOUT_MS + 2000) {
            break;
        }
    }

    return NULL;
}


static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static double
pct(double *v, long n, double p)
{
    long i;

    if (n == 0) {
        return 0;
    }

    i = (long) ceil(p / 100.0 * n) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return v[i];
}


/* opens one publisher and waits for its Publish.Start (the feeder) */

static conn_t *
open_feeder(void)
{
    worker_t            w;
    conn_t             *c;
    struct epoll_event  ev;
    double              t0 = now_ms();
    int                 n;

    memset(&w, 0, sizeof(w));
    w.ep = epoll_create1(EPOLL_CLOEXEC);

    c = calloc(1, sizeof(conn_t));
    c->feeder = 1;
    c->idx = 0;

    if (conn_open(&w, c) != 0) {
        die("feeder: cannot connect");
    }

    while (now_ms() - t0 < 5000) {
        n = epoll_wait(w.ep, &ev, 1, 100);
        if (n == 1 && conn_io(&w, c, ev.events)) {
            break;
        }
    }

    if (c->result != R_ADMITTED) {
        die("feeder %s: not admitted (%s %s)", o_feeder, c->code, c->reason);
    }

    c->state = S_LIVE;
    epoll_ctl(w.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(w.ep);
    return c;
}


static int
cmd_run(void)
{
    pthread_t   th[64];
    worker_t   *ws;
    int         i, per;
    double      t_start, t_stop, cpu0[8], cpu1[8], self0, self1, wall;
    double     *all;
    long        nall = 0, j;
    double      cpu_total = 0, p50, p99, mean = 0;
    double      sa0, si0, ss0, sa1, si1, ss1, rec0, rec1;
    conn_t     *feeder = NULL;

    if (o_tokens) {
        load_tokens(o_tokens);
    }

    if (o_feeder) {
        feeder = open_feeder();
    }

    if (o_threads < 1) o_threads = 1;
    if (o_threads > 64) o_threads = 64;
    if (o_conc < o_threads) o_threads = o_conc;

    ws = calloc(o_threads, sizeof(worker_t));

    t_start = now_ms();

    for (i = 0; i < o_threads; i++) {
        per = o_conc / o_threads + (i < o_conc % o_threads);
        ws[i].id = i;
        ws[i].nslots = per;
        ws[i].slots = calloc(per, sizeof(conn_t));
        ws[i].caplat = 4000000 / o_threads;
        ws[i].lat = malloc(ws[i].caplat * sizeof(double));
        ws[i].t_end = t_start + (o_warmup + o_duration) * 1000;
        ws[i].ep = epoll_create1(EPOLL_CLOEXEC);

        if (ws[i].slots == NULL || ws[i].lat == NULL || ws[i].ep < 0) {
            die("out of memory");
        }

        pthread_create(&th[i], NULL, run_thread, &ws[i]);
    }

    if (o_warmup > 0) {
        usleep((useconds_t) (o_warmup * 1e6));
    }

    for (i = 0; i < o_npids; i++) {
        cpu0[i] = tree_cpu_ms(o_pids[i]);
    }

    self0 = self_cpu_ms();
    rec0 = o_metrics ? metrics_value("compliance_audit_records_total") : 0;
    sys_jiffies(&sa0, &si0, &ss0);
    t_start = now_ms();
    g_tmeas = t_start;
    t_stop = t_start;

    for (i = 0; i < o_threads; i++) {
        pthread_join(th[i], NULL);
        if (ws[i].t_last > t_stop) {
            t_stop = ws[i].t_last;
        }
        nall += ws[i].nlat;
    }

    /* let nginx finish the sessions' ends before the CPU is read */
    usleep((useconds_t) o_settle_ms * 1000);

    for (i = 0; i < o_npids; i++) {
        cpu1[i] = tree_cpu_ms(o_pids[i]);
        cpu_total += cpu1[i] - cpu0[i];
    }

    self1 = self_cpu_ms();
    rec1 = o_metrics ? metrics_value("compliance_audit_records_total") : 0;
    sys_jiffies(&sa1, &si1, &ss1);
    wall = (t_stop - t_start) / 1000.0;

    all = malloc((nall + 1) * sizeof(double));
    nall = 0;
    for (i = 0; i < o_threads; i++) {
        for (j = 0; j < ws[i].nlat; j++) {
            all[nall++] = ws[i].lat[j];
            mean += ws[i].lat[j];
        }
    }

    qsort(all, nall, sizeof(double), cmp_double);
    p50 = pct(all, nall, 50);
    p99 = pct(all, nall, 99);
    mean = nall ? mean / nall : 0;

    printf("label=%s mode=%s conc=%d secs=%.3f admitted=%ld rejected=%ld "
           "errors=%ld timeouts=%ld rate=%.1f p50_ms=%.3f p99_ms=%.3f "
           "mean_ms=%.3f max_ms=%.3f",
           o_label, o_mode, o_conc, wall, g_admitted, g_rejected, g_errors,
           g_timeouts, wall > 0 ? g_admitted / wall : 0, p50, p99, mean,
           nall ? all[nall - 1] : 0);

    for (i = 0; i < o_npids; i++) {
        printf(" cpu%d_ms=%.0f", i, cpu1[i] - cpu0[i]);
    }

    printf(" cpu_ms=%.0f cpu_us_per_adm=%.2f cpu_us_per_session=%.2f "
           "nginx_util=%.3f loadgen_cpu_ms=%.0f",
           cpu_total,
           g_admitted ? cpu_total * 1000.0 / g_admitted : 0,
           (g_admitted + g_rejected)
               ? cpu_total * 1000.0 / (g_admitted + g_rejected) : 0,
           wall > 0 ? cpu_total / 1000.0 / wall : 0, self1 - self0);

    if (o_metrics) {
        /* records per second of the measured window: the sessions' ends
         * written during the settle time belong to measured sessions */
        printf(" audit_records=%.0f audit_rps=%.1f", rec1 - rec0,
               wall > 0 ? (rec1 - rec0) / wall : 0);
    }

    if (sa1 > sa0 && wall > 0) {
        double hz = (double) sysconf(_SC_CLK_TCK);
        double busy_ms = ((sa1 - sa0) - (si1 - si0) - (ss1 - ss0)) * 1000 / hz;

        /* what other processes used: the machine's busy time (less
         * softirqs) less ours; the window includes the settle time */
        printf(" sys_busy=%.3f sys_softirq=%.3f other_util=%.3f",
               1 - (si1 - si0) / (sa1 - sa0), (ss1 - ss0) / (sa1 - sa0),
               (busy_ms - cpu_total - (self1 - self0))
                   / (wall * 1000 + o_settle_ms));
    }

    for (i = 0; i < MAX_CODES && g_code_n[i]; i++) {
        printf(" code[%s]=%ld", g_code[i], g_code_n[i]);
    }

    printf("\n");
    fflush(stdout);

    if (feeder) {
        close(feeder->fd);
    }

    return 0;
}


/* ---------------------------------------------------------------- HTTP */

static int
http_connect(void)
{
    struct sockaddr_in sin;
    int                fd, one = 1;
    struct timeval     tv = { 10, 0 };

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(o_http_port);
    inet_pton(AF_INET, o_host, &sin.sin_addr);

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        close(fd);
        return -1;
    }

    return fd;
}


/* one request on a keep-alive connection; returns the status, or -1 */

static int
http_request(int *fdp, const char *method, const char *path,
    const char *body, char *resp, size_t rsize)
{
    char    req[2048];
    int     len, status = -1, tries;
    size_t  have = 0, need = 0;
    ssize_t n;
    char   *hend, *cl;

    for (tries = 0; tries < 2; tries++) {
        if (*fdp < 0) {
            *fdp = http_connect();
            if (*fdp < 0) {
                return -1;
            }
        }

        len = snprintf(req, sizeof(req),
                       "%s %s HTTP/1.1\r\nHost: localhost\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       method, path, body ? strlen(body) : 0,
                       body ? body : "");

        if (send_all(*fdp, (uint8_t *) req, len) != 0) {
            close(*fdp);
            *fdp = -1;
            continue;
        }

        have = 0;
        need = 0;

        for ( ;; ) {
            n = recv(*fdp, resp + have, rsize - 1 - have, 0);
            if (n <= 0) {
                break;
            }

            have += n;
            resp[have] = '\0';

            hend = strstr(resp, "\r\n\r\n");
            if (hend == NULL) {
                if (have >= rsize - 1) break;
                continue;
            }

            if (need == 0) {
                cl = strcasestr(resp, "Content-Length:");
                need = (hend - resp) + 4 + (cl ? strtoul(cl + 15, NULL, 10)
                                                : 0);
            }

            if (have >= need || have >= rsize - 1) {
                break;
            }
        }

        if (have == 0) {
            close(*fdp);
            *fdp = -1;
            continue;
        }

        if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
            status = -1;
        }

        if (strcasestr(resp, "Connection: close")) {
            close(*fdp);
            *fdp = -1;
        }

        return status;
    }

    return -1;
}


static double
metrics_value(const char *name)
{
    char    path[256], *resp, *p;
    int     fd = -1, st;
    size_t  n = strlen(name);
    double  v = -1;

    resp = malloc(262144);
    if (resp == NULL) {
        return -1;
    }

    snprintf(path, sizeof(path), "%smetrics", o_api);
    st = http_request(&fd, "GET", path, NULL, resp, 262144);

    if (fd >= 0) {
        close(fd);
    }

    for (p = resp; st == 200 && (p = strstr(p, name)) != NULL; p += n) {
        if ((p == resp || p[-1] == '\n') && p[n] == ' ') {
            v = atof(p + n + 1);
            break;
        }
    }

    free(resp);
    return v;
}


static int
cmd_fill(void)
{
    char    body[512], resp[8192], path[256];
    int     fd = -1, st = 0;
    long    i, stored = 0;
    double  t0 = now_ms();

    snprintf(path, sizeof(path), "%sorders", o_api);

    for (i = 0; i < (o_max ? o_max : 10000000); i++) {
        if (now_ms() - t0 > o_timeout * 1000) {
            break;
        }

        snprintf(body, sizeof(body),
                 "{\"target\":\"person:fill%ld\",\"action\":\"suspend\","
                 "\"duration\":86400,\"reason\":\"benchmark fill order %ld\","
                 "\"ref\":\"BENCH-%ld\"}", i, i, i);

        st = http_request(&fd, "POST", path, body, resp, sizeof(resp));

        if (st != 201) {
            break;
        }

        stored++;
    }

    printf("stored=%ld last_status=%d secs=%.3f\n", stored, st,
           (now_ms() - t0) / 1000.0);

    if (fd >= 0) close(fd);
    return 0;
}


/* ---------------------------------------------------------------- drop */

typedef struct {
    int     groups;
    double *reply;      /* per group: when the POST's reply was read */
    int    *status;
    int     done;
} poster_t;


static void *
poster_thread(void *arg)
{
    poster_t   *ps = arg;
    char        body[512], resp[8192], path[256];
    int         fd = -1, g;
    unsigned    seed = o_seed;

    snprintf(path, sizeof(path), "%sorders", o_api);

    for (g = 0; g < ps->groups && !g_stop; g++) {
        /* jitter, so that the POSTs fall anywhere in the recheck period */
        usleep((useconds_t) ((o_gap_ms / 2 + rand_r(&seed) % (o_gap_ms + 1))
                             * 1000));

        snprintf(body, sizeof(body),
                 "{\"target\":\"person:g%d\",\"action\":\"suspend\","
                 "\"duration\":3600,\"reason\":\"benchmark drop %d\","
                 "\"ref\":\"BENCH-DROP-%d\"}", g, g, g);

        ps->status[g] = http_request(&fd, "POST", path, body, resp,
                                     sizeof(resp));
        ps->reply[g] = now_ms();
    }

    ps->done = 1;

    if (fd >= 0) close(fd);
    return NULL;
}


static int
cmd_drop(void)
{
    worker_t            w;
    struct epoll_event  evs[256];
    conn_t             *cs;
    int                 i, n, opened = 0, pending = 0, live = 0, g;
    int                 refused = 0, errors = 0;
    double              t0, t;
    double             *lat;
    long                nlat = 0, nodrop = 0;
    poster_t            ps;
    pthread_t           pt;
    char                firstcode[160] = "";
    long                rss0, rss1;

    if (o_tokens == NULL) {
        die("drop: --tokens needed");
    }

    load_tokens(o_tokens);

    if (o_n <= 0 || o_n > ntok) {
        o_n = ntok;
    }

    if (o_groups <= 0) {
        o_groups = 1;
    }

    memset(&w, 0, sizeof(w));
    w.ep = epoll_create1(EPOLL_CLOEXEC);
    cs = calloc(o_n, sizeof(conn_t));
    lat = calloc(o_n, sizeof(double));

    /* open the publishers, 64 in flight at a time */

    rss0 = o_npids ? tree_rss_kb(o_pids[0]) : 0;
    t0 = now_ms();

    while ((live + refused + errors) < o_n && now_ms() - t0 < o_timeout * 1000)
    {
        while (opened < o_n && pending < 64
               && !(o_hold_until_reject && refused))
        {
            cs[opened].slot = opened;
            cs[opened].feeder = 0;
            g_room_next = opened;      /* token index = publisher index */

            if (conn_open(&w, &cs[opened]) != 0) {
                cs[opened].fd = -1;
                errors++;
            } else {
                pending++;
            }

            opened++;
        }

        if (o_hold_until_reject && refused && pending == 0) {
            break;
        }

        n = epoll_wait(w.ep, evs, 256, 100);

        for (i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;

            if (c->state == S_LIVE) {
                if (conn_io(&w, c, evs[i].events)) {
                    /* a live one went away before any order */
                    c->tclose = now_ms();
                    c->closed = 1;
                    conn_close(&w, c);
                    live--;
                    errors++;
                }
                continue;
            }

            if (!conn_io(&w, c, evs[i].events)) {
                continue;
            }

            pending--;

            if (c->result == R_ADMITTED) {
                c->state = S_LIVE;
                live++;

            } else {
                if (c->result == R_REJECTED) {
                    refused++;
                } else {
                    errors++;
                }

                if (firstcode[0] == '\0') {
                    snprintf(firstcode, sizeof(firstcode), "%s/%s", c->code,
                             c->reason);
                }

                conn_close(&w, c);
            }
        }
    }

    printf("opened=%d live=%d refused=%d errors=%d open_secs=%.3f",
           opened, live, refused, errors, (now_ms() - t0) / 1000.0);

    if (o_npids) {
        usleep(200000);
        rss1 = tree_rss_kb(o_pids[0]);
        printf(" rss0_kb=%ld rss1_kb=%ld", rss0, rss1);
    }

    if (firstcode[0]) {
        printf(" first_refusal=%s", firstcode);
    }

    if (o_hold_until_reject || live == 0) {
        printf("\n");
        for (i = 0; i < o_n; i++) {
            if (cs[i].fd >= 0) close(cs[i].fd);
        }
        return 0;
    }

    /* which workers the publishers landed on (GET sessions) */

    if (o_http_port > 0) {
        char   path[256], *resp, *p;
        int    fd = -1, st, k, nw = 0;
        long   wpid[64], wcnt[64], pid;

        resp = malloc(8 * 1024 * 1024);
        snprintf(path, sizeof(path), "%ssessions", o_api);
        st = resp ? http_request(&fd, "GET", path, NULL, resp,
                                 8 * 1024 * 1024)
                  : -1;
        if (fd >= 0) {
            close(fd);
        }

        for (p = resp; st == 200 && (p = strstr(p, "\"worker\":")) != NULL;
             p += 9)
        {
            pid = atol(p + 9);

            for (k = 0; k < nw && wpid[k] != pid; k++) { /* void */ }

            if (k == nw && nw < 64) {
                wpid[nw] = pid;
                wcnt[nw++] = 0;
            }

            if (k < nw) {
                wcnt[k]++;
            }
        }

        printf(" workers=");
        for (k = 0; k < nw; k++) {
            printf("%s%ld:%ld", k ? "," : "", wpid[k], wcnt[k]);
        }

        free(resp);
    }

    /* the orders */

    memset(&ps, 0, sizeof(ps));
    ps.groups = o_groups;
    ps.reply = calloc(o_groups, sizeof(double));
    ps.status = calloc(o_groups, sizeof(int));

    pthread_create(&pt, NULL, poster_thread, &ps);

    t0 = now_ms();

    while (live > 0 && now_ms() - t0 < o_timeout * 1000) {
        n = epoll_wait(w.ep, evs, 256, 50);
        t = now_ms();

        for (i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;

            if (c->fd >= 0 && conn_io(&w, c, evs[i].events)) {
                c->tclose = t;
                c->closed = 1;
                conn_close(&w, c);
                live--;
            }
        }
    }

    g_stop = 1;
    pthread_join(pt, NULL);

    for (i = 0; i < o_n; i++) {
        if (cs[i].result != R_ADMITTED) {
            continue;
        }

        g = i % o_groups;

        if (cs[i].closed && ps.reply[g] > 0 && ps.status[g] == 201) {
            lat[nlat++] = cs[i].tclose - ps.reply[g];
        } else {
            nodrop++;
        }

        if (cs[i].fd >= 0) {
            close(cs[i].fd);
        }
    }

    qsort(lat, nlat, sizeof(double), cmp_double);

    for (g = 0, n = 0; g < o_groups; g++) {
        n += ps.status[g] == 201;
    }

    printf(" orders=%d orders_ok=%d dropped=%ld not_dropped=%ld "
           "drop_p50_ms=%.1f drop_p99_ms=%.1f drop_max_ms=%.1f "
           "drop_min_ms=%.1f\n",
           o_groups, n, nlat, nodrop, pct(lat, nlat, 50), pct(lat, nlat, 99),
           nlat ? lat[nlat - 1] : 0, nlat ? lat[0] : 0);

    return 0;
}


/* ---------------------------------------------------------------- mint */

static size_t
b64url(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t   i, o = 0;
    uint32_t v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }

    if (n - i == 1) {
        v = in[i] << 16;
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
    } else if (n - i == 2) {
        v = (in[i] << 16) | (in[i + 1] << 8);
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
    }

    out[o] = '\0';
    return o;
}


static int
cmd_mint(void)
{
    FILE           *f;
    EVP_PKEY       *pk = NULL;
    uint8_t         secret[4096], sig[1024], der[1024];
    size_t          slen = 0, siglen;
    char            hdr[256], claims[2048], input[8192], b64[4096], room[128];
    char            sigb64[2048];
    int             i, hs;
    long            now = (long) time(NULL);
    EVP_MD_CTX     *md;

    if (o_key == NULL) {
        die("mint: --key needed");
    }

    hs = strncmp(o_alg, "HS", 2) == 0;

    f = fopen(o_key, "r");
    if (f == NULL) {
        die("cannot open %s", o_key);
    }

    if (hs) {
        slen = fread(secret, 1, sizeof(secret), f);
        if (slen > 0 && secret[slen - 1] == '\n') slen--;
        if (slen > 0 && secret[slen - 1] == '\r') slen--;

    } else {
        pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        if (pk == NULL) {
            die("cannot read the private key %s", o_key);
        }
    }

    fclose(f);

    if (strcmp(o_alg, "HS256") && strcmp(o_alg, "RS256")
        && strcmp(o_alg, "ES256"))
    {
        die("mint: HS256, RS256 or ES256");
    }

    if (o_kid) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\","
                 "\"kid\":\"%s\"}", o_alg, o_kid);
    } else {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", o_alg);
    }

    if (o_groups <= 0) {
        o_groups = o_n;
    }

    md = EVP_MD_CTX_new();

    for (i = 0; i < o_n; i++) {
        if (strcmp(o_scope, "play") == 0) {
            snprintf(room, sizeof(room), "%s", o_room);
            snprintf(claims, sizeof(claims),
                     "{\"scope\":\"play\",\"room\":\"%s\",\"sub\":\"v%d\","
                     "\"iat\":%ld,\"exp\":%ld}", room, i, now, now + o_ttl);
        } else {
            snprintf(room, sizeof(room), "%s%d", o_prefix, i);
            snprintf(claims, sizeof(claims),
                     "{\"scope\":\"publish\",\"sub\":\"h%d\",\"pid\":\"g%d\","
                     "\"room\":\"%s\",\"op\":\"op1\",\"mcn\":\"mcn1\","
                     "\"tier\":\"%s\",\"idv\":\"face\",\"iat\":%ld,"
                     "\"exp\":%ld,\"jti\":\"bench%08d\"}",
                     i, i % o_groups, room, o_tier, now, now + o_ttl, i);
        }

        b64url((uint8_t *) hdr, strlen(hdr), b64);
        snprintf(input, sizeof(input), "%s.", b64);
        b64url((uint8_t *) claims, strlen(claims), b64);
        strncat(input, b64, sizeof(input) - strlen(input) - 1);

        if (hs) {
            unsigned int ml = 0;

            HMAC(EVP_sha256(), secret, (int) slen, (uint8_t *) input,
                 strlen(input), sig, &ml);
            siglen = ml;

        } else {
            siglen = sizeof(der);

            if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1
                || EVP_DigestSign(md, der, &siglen, (uint8_t *) input,
                                  strlen(input)) != 1)
            {
                die("signing failed");
            }

            if (o_alg[0] == 'R') {
                memcpy(sig, der, siglen);

            } else {
                const uint8_t   *dp = der;
                ECDSA_SIG       *es = d2i_ECDSA_SIG(NULL, &dp, (long) siglen);
                const BIGNUM    *r, *s;

                if (es == NULL) {
                    die("bad ECDSA signature");
                }

                ECDSA_SIG_get0(es, &r, &s);
                BN_bn2binpad(r, sig, 32);
                BN_bn2binpad(s, sig + 32, 32);
                ECDSA_SIG_free(es);
                siglen = 64;
            }
        }

        b64url(sig, siglen, sigb64);
        printf("%s %s.%s\n", room, input, sigb64);
    }

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);

    return 0;
}


/* ---------------------------------------------------------------- main */

static void
on_alarm(int sig)
{
    (void) sig;
    static const char msg[] = "loadgen: hard time limit reached\n";

    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing */
    }

    _exit(3);
}


int
main(int argc, char **argv)
{
    const char     *cmd;
    int             i;
    struct rlimit   rl;

    if (argc < 2) {
        fprintf(stderr, "usage: loadgen mint|run|drop|fill [options]\n");
        return 2;
    }

    cmd = argv[1];

    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define OPT(name) (strcmp(a, name) == 0 && v && ++i)

        if (OPT("--host")) o_host = v;
        else if (OPT("--port")) o_port = atoi(v);
        else if (OPT("--http-port")) o_http_port = atoi(v);
        else if (OPT("--api")) o_api = v;
        else if (OPT("--app")) o_app = v;
        else if (OPT("--mode")) o_mode = v;
        else if (OPT("--conc")) o_conc = atoi(v);
        else if (OPT("--duration")) o_duration = atof(v);
        else if (OPT("--max")) o_max = atol(v);
        else if (OPT("--tokens")) o_tokens = v;
        else if (OPT("--rooms")) o_rooms = atoi(v);
        else if (OPT("--prefix")) o_prefix = v;
        else if (OPT("--play-name")) o_play_name = v;
        else if (OPT("--feeder")) o_feeder = v;
        else if (OPT("--pid")) {
            if (o_npids < 8) o_pids[o_npids++] = atoi(v);
        }
        else if (OPT("--threads")) o_threads = atoi(v);
        else if (OPT("--label")) o_label = v;
        else if (OPT("--reject-every")) o_reject_every = atoi(v);
        else if (OPT("--n")) o_n = atoi(v);
        else if (OPT("--groups")) o_groups = atoi(v);
        else if (OPT("--gap-ms")) o_gap_ms = atoi(v);
        else if (OPT("--timeout")) o_timeout = atof(v);
        else if (OPT("--alg")) o_alg = v;
        else if (OPT("--key")) o_key = v;
        else if (OPT("--scope")) o_scope = v;
        else if (OPT("--room")) o_room = v;
        else if (OPT("--tier")) o_tier = v;
        else if (OPT("--ttl")) o_ttl = atol(v);
        else if (OPT("--kid")) o_kid = v;
        else if (OPT("--seed")) o_seed = (unsigned) atoi(v);
        else if (OPT("--warmup")) o_warmup = atof(v);
        else if (OPT("--settle-ms")) o_settle_ms = atoi(v);
        else if (strcmp(a, "--metrics") == 0) o_metrics = 1;
        else if (OPT("--src-addrs")) o_srcs = atoi(v);
        else if (strcmp(a, "--no-quickack") == 0) o_quickack = 0;
        else if (strcmp(a, "--no-nodelay") == 0) o_nodelay = 0;
        else if (strcmp(a, "--hold-until-reject") == 0) o_hold_until_reject = 1;
        else die("unknown or incomplete option %s", a);
    }

    if (o_duration <= 0 || o_duration > 300) {
        die("--duration must be in (0, 300]");
    }

    if (o_timeout <= 0 || o_timeout > 300) {
        die("--timeout must be in (0, 300]");
    }

    if (o_conc < 1 || o_conc > 20000) {
        die("--conc must be in [1, 20000]");
    }

    /* the hard limit: whatever happens, this process ends */
    signal(SIGALRM, on_alarm);
    alarm(HARD_LIMIT_S);
    signal(SIGPIPE, SIG_IGN);

    rl.rlim_cur = rl.rlim_max = 65536;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    if (strcmp(cmd, "mint") == 0) {
        if (o_n <= 0 || o_n > 1000000) die("mint: --n in [1, 1000000]");
        return cmd_mint();
    }

    if (strcmp(cmd, "fill") == 0) {
        if (o_http_port <= 0) die("fill: --http-port needed");
        return cmd_fill();
    }

    if (o_port <= 0) {
        die("--port needed");
    }

    if (strcmp(cmd, "run") == 0) {
        return cmd_run();
    }

    if (strcmp(cmd, "drop") == 0) {
        return cmd_drop();
    }

    die("unknown command %s", cmd);
    return 2;
}
