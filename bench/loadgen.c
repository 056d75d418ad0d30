/*
 * loadgen.c -- the RTMP load generator of the ngx_rtmp_compliance benchmark
 * (bench/run drives it; see docs/performance.md).
 *
 * It speaks real RTMP over TCP: the simple handshake, chunked messages in
 * both directions, AMF0 commands (connect, createStream, publish or play)
 * and it reads the server's onStatus.  The protocol is lib/rtmp_proto.c,
 * the test suite's client speaks it too; this file does the sockets.
 * "mint" signs with lib/jws_sign.c, as compliance-token does.  Every client socket has TCP_NODELAY
 * and TCP_QUICKACK (re-armed after every read): nginx-rtmp never sets
 * TCP_NODELAY, so a client without quick ACKs waits ~40 ms per admission
 * on Nagle + delayed ACK.
 *
 * Subcommands (all loops are bounded in count and in time):
 *
 *   mint   --alg HS256|RS256|ES256|EdDSA --key FILE --n N [--prefix r]
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
 *   run    --mode flv --port P --http-port H --feeder NAME ...
 *       HTTP-FLV viewers of nginx-http-flv-module instead: each session is
 *       GET /live?port=P&app=APP&stream=NAME[&token=T] on the HTTP port
 *       (HTTP/1.1, as flv.js asks), read until the FLV header and the
 *       first tag have come (admitted) or the answer is another status
 *       (a 403's X-Compliance-Reason is its rejection reason), then
 *       closed.  The feeder publishes over RTMP on P and sends two video
 *       key frames, so that the fork's gop_cache (on) has one to give a
 *       viewer at once; latency is from connect(2) to the first tag.
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
 *
 *   storm  --port P --n N [--tokens FILE | --rooms N --prefix r]
 *          [--pid MASTER]... [--timeout S]
 *       Opens N publishers at once (every connect(2) issued before any
 *       reply is read: an ingest's restart) and holds them; prints the
 *       time from the first connect to the last Publish.Start (all_ms),
 *       admission latency p50/p99/max, nginx's CPU per admission and
 *       syn_retx: the sessions whose connect took >= 0.9 s (their SYN was
 *       dropped by a full listen queue and sent again).
 *
 *   watch  --port P --n V --rooms R --prefix r --duration S
 *          [--pid MASTER]... [--timeout S]
 *       Opens V players of the rooms PREFIX0..PREFIX{R-1} (round robin;
 *       the publishers are someone else's, e.g. ffmpeg), waits 1 s, then
 *       for S seconds counts what they receive and nginx's CPU: prints
 *       bytes, mbit_s and cpu_ms_per_mb (CPU per relayed megabyte).
 *
 *   get    --http-port H --path PATH --conc C --duration S [--pid MASTER]
 *       C threads, each GETting PATH on a keep-alive connection back to
 *       back for S seconds (the HLS playlist refreshes); prints ok (200),
 *       other, the rate of 200s and the nginx CPU time per request.
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

#include "jws_sign.h"
#include "rtmp_proto.h"


#define MAX_CS          16
#define MAX_MSG         (1024 * 1024)
#define OUT_CHUNK       4096
#define CSID_COMMAND    3
#define CSID_STREAM     8
#define CSID_VIDEO      6
#define HTTP_HEAD_MAX   16384
#define AMF_NODES       64
#define AMF_VALUES      8
#define CONN_TIMEOUT_MS 10000
#define HARD_LIMIT_S    600


enum { S_CONNECTING = 1, S_HANDSHAKE, S_CONNECT, S_CREATE, S_STATUS, S_LIVE,
       S_DONE, S_HTTP };

enum { R_NONE = 0, R_ADMITTED, R_REJECTED, R_ERROR, R_TIMEOUT };


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
    uint32_t        stream_id;
    rtmp_chunk_reader_t  in;
    char            code[96];
    char            reason[64];
    int             closed;
    long            bytes;          /* received while live (watch) */
    double          tconn;          /* connect(2) completed */
} conn_t;


/* options */

static const char  *o_host = "127.0.0.1";
static int          o_port;
static int          o_http_port;
static const char  *o_api = "/compliance/";
static const char  *o_path = "/";
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
static int          o_flv;          /* --mode flv: HTTP-FLV viewers */
static int          o_play_rooms;   /* watch: play PREFIX<i % rooms> */

/* every option: how its value is read, and where it goes */

typedef enum {
    OPT_STR,                        /* const char *: the value itself */
    OPT_INT,                        /* int: atoi() */
    OPT_UNSIGNED,                   /* unsigned: atoi() */
    OPT_LONG,                       /* long: atol() */
    OPT_DOUBLE,                     /* double: atof() */
    OPT_PID,                        /* o_pids[]: atoi(), 8 at most */
    OPT_SET,                        /* int, no value: 1 */
    OPT_CLEAR                       /* int, no value: 0 */
} opt_type_e;

typedef struct {
    const char     *name;
    opt_type_e      type;
    void           *var;
} opt_t;

static const opt_t  options[] = {
    { "--host", OPT_STR, &o_host },
    { "--port", OPT_INT, &o_port },
    { "--http-port", OPT_INT, &o_http_port },
    { "--api", OPT_STR, &o_api },
    { "--path", OPT_STR, &o_path },
    { "--app", OPT_STR, &o_app },
    { "--mode", OPT_STR, &o_mode },
    { "--conc", OPT_INT, &o_conc },
    { "--duration", OPT_DOUBLE, &o_duration },
    { "--max", OPT_LONG, &o_max },
    { "--tokens", OPT_STR, &o_tokens },
    { "--rooms", OPT_INT, &o_rooms },
    { "--prefix", OPT_STR, &o_prefix },
    { "--play-name", OPT_STR, &o_play_name },
    { "--feeder", OPT_STR, &o_feeder },
    { "--pid", OPT_PID, o_pids },
    { "--threads", OPT_INT, &o_threads },
    { "--label", OPT_STR, &o_label },
    { "--reject-every", OPT_INT, &o_reject_every },
    { "--n", OPT_INT, &o_n },
    { "--groups", OPT_INT, &o_groups },
    { "--gap-ms", OPT_INT, &o_gap_ms },
    { "--timeout", OPT_DOUBLE, &o_timeout },
    { "--alg", OPT_STR, &o_alg },
    { "--key", OPT_STR, &o_key },
    { "--scope", OPT_STR, &o_scope },
    { "--room", OPT_STR, &o_room },
    { "--tier", OPT_STR, &o_tier },
    { "--ttl", OPT_LONG, &o_ttl },
    { "--kid", OPT_STR, &o_kid },
    { "--seed", OPT_UNSIGNED, &o_seed },
    { "--warmup", OPT_DOUBLE, &o_warmup },
    { "--settle-ms", OPT_INT, &o_settle_ms },
    { "--metrics", OPT_SET, &o_metrics },
    { "--src-addrs", OPT_INT, &o_srcs },
    { "--no-quickack", OPT_CLEAR, &o_quickack },
    { "--no-nodelay", OPT_CLEAR, &o_nodelay },
    { "--hold-until-reject", OPT_SET, &o_hold_until_reject },
    { NULL, OPT_STR, NULL }
};

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
static long         g_syn_retx;     /* storm: connects that took >= 0.9 s */
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


/* appends the command in body to out and sends out */

static int
send_command(conn_t *c, rtmp_buf_t *out, uint32_t csid, uint32_t sid,
    rtmp_buf_t *body)
{
    if (body->failed
        || rtmp_chunk_message(out, OUT_CHUNK, csid, RTMP_MSG_AMF0_CMD, sid, 0,
                              body->data, body->len) != RTMP_OK
        || out->failed)
    {
        return -1;
    }

    return send_all(c->fd, out->data, out->len);
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
    uint8_t     out[RTMP_HANDSHAKE_SIZE + 8192], body[2048];
    char        tcurl[256];
    rtmp_buf_t  o, b;

    rtmp_buf_init(&o, out, sizeof(out));
    rtmp_buf_put(&o, s1, RTMP_HANDSHAKE_SIZE);      /* C2 echoes S1 */

    rtmp_control(&o, RTMP_DEFAULT_CHUNK, RTMP_MSG_CHUNK_SIZE, OUT_CHUNK);

    snprintf(tcurl, sizeof(tcurl), "rtmp://%s:%d/%s", o_host, o_port, o_app);

    rtmp_buf_init(&b, body, sizeof(body));
    rtmp_amf_str(&b, "connect");
    rtmp_amf_number(&b, 1);
    rtmp_amf_object(&b);
    rtmp_amf_key(&b, "app", 3);
    rtmp_amf_str(&b, o_app);
    rtmp_amf_key(&b, "type", 4);
    rtmp_amf_str(&b, "nonprivate");
    rtmp_amf_key(&b, "flashVer", 8);
    rtmp_amf_str(&b, "FMLE/3.0 (compatible; loadgen)");
    rtmp_amf_key(&b, "tcUrl", 5);
    rtmp_amf_str(&b, tcurl);
    rtmp_amf_object_end(&b);

    return send_command(c, &o, CSID_COMMAND, 0, &b);
}


static int
send_create(conn_t *c)
{
    uint8_t     out[256], body[128];
    rtmp_buf_t  o, b;

    rtmp_buf_init(&o, out, sizeof(out));
    rtmp_buf_init(&b, body, sizeof(body));

    rtmp_amf_command(&b, "createStream", 2);

    return send_command(c, &o, CSID_COMMAND, 0, &b);
}


static int
send_start(conn_t *c)
{
    uint8_t     out[12288], body[8192];
    char        name[6144];
    int         publish = c->feeder || strcmp(o_mode, "publish") == 0;
    const char *nm;
    rtmp_buf_t  o, b;

    if (c->feeder) {
        nm = o_feeder;

    } else if (!publish && o_play_rooms) {
        snprintf(name, sizeof(name), "%s%d", o_prefix, c->idx % o_rooms);
        nm = name;

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

    rtmp_buf_init(&o, out, sizeof(out));
    rtmp_buf_init(&b, body, sizeof(body));

    rtmp_amf_command(&b, publish ? "publish" : "play", 0);
    rtmp_amf_str(&b, nm);

    if (publish) {
        rtmp_amf_str(&b, "live");
    } else {
        rtmp_amf_number(&b, -2000);
    }

    return send_command(c, &o, CSID_STREAM, c->stream_id, &b);
}


/* ---------------------------------------------------------------- RTMP in */

/* returns -1 on a protocol error, 0 otherwise */

static int
handle_msg(conn_t *c, const rtmp_message_t *m)
{
    int          n;
    size_t       len;
    char         level[32];
    rtmp_amf_t   pool[AMF_NODES], *v[AMF_VALUES], *info;
    double       txn;

    if (rtmp_reader_control(&c->in, m) != RTMP_OK) {
        return -1;
    }

    switch (m->type) {

    case RTMP_MSG_USER:     /* answer pings */
        if (m->len >= 6
            && rtmp_get_be16(m->data) == RTMP_UC_PING_REQUEST)
        {
            uint8_t     out[64];
            rtmp_buf_t  o;

            rtmp_buf_init(&o, out, sizeof(out));
            rtmp_user_control(&o, OUT_CHUNK, RTMP_UC_PING_RESPONSE,
                              m->data + 2, 4);
            (void) send_all(c->fd, o.data, o.len);
        }
        return 0;

    case RTMP_MSG_AMF0_CMD:
        break;

    default:
        return 0;
    }

    n = rtmp_amf_read(m->data, m->len, pool, AMF_NODES, v, AMF_VALUES);

    if (n < 1 || v[0]->type != RTMP_AMF_STRING) {
        return -1;
    }

    txn = (n > 1 && v[1]->type == RTMP_AMF_NUMBER) ? v[1]->num : 0;

    if (rtmp_amf_str_eq(v[0], "_error")) {
        c->result = R_REJECTED;
        snprintf(c->code, sizeof(c->code), "_error");
        return 0;
    }

    if (rtmp_amf_str_eq(v[0], "_result")) {

        if (c->state == S_CONNECT && txn == 1) {
            c->state = S_CREATE;
            return send_create(c);
        }

        if (c->state == S_CREATE && txn == 2) {
            /* the command object (null), then the stream id */
            if (n < 4 || v[3]->type != RTMP_AMF_NUMBER) {
                return -1;
            }

            c->stream_id = (uint32_t) v[3]->num;
            c->state = S_STATUS;
            return send_start(c);
        }

        return 0;
    }

    if (!rtmp_amf_str_eq(v[0], "onStatus")) {
        return 0;
    }

    if (n < 3) {            /* no null after the transaction id */
        return -1;
    }

    info = (n > 3) ? v[3] : NULL;

    level[0] = '\0';
    c->code[0] = '\0';
    (void) rtmp_amf_copy(rtmp_amf_member(info, "level"), level,
                         sizeof(level));
    (void) rtmp_amf_copy(rtmp_amf_member(info, "code"), c->code,
                         sizeof(c->code));

    if (c->state == S_LIVE) {
        return 0;
    }

    if (strcmp(level, "error") == 0) {
        char desc[256], *colon;

        desc[0] = '\0';
        (void) rtmp_amf_copy(rtmp_amf_member(info, "description"), desc,
                             sizeof(desc));
        colon = strchr(desc, ':');
        if (colon) {
            *colon = '\0';
        }

        snprintf(c->reason, sizeof(c->reason), "%s", desc);
        c->result = R_REJECTED;
        return 0;
    }

    len = strlen(c->code);

    if (len > 6 && strcmp(c->code + len - 6, ".Start") == 0) {
        c->result = R_ADMITTED;
    }

    return 0;
}


/* parses what is in c->rbuf; returns -1 on error */

static int
parse_chunks(conn_t *c)
{
    int             rc;
    size_t          pos, used;
    rtmp_message_t  m;

    pos = 0;
    rc = RTMP_AGAIN;

    while (c->result == R_NONE) {
        rc = rtmp_read_message(&c->in, c->rbuf + pos, c->rlen - pos, &used,
                               &m);
        pos += used;

        if (rc != RTMP_OK) {
            break;
        }

        if (handle_msg(c, &m) != 0) {
            rc = RTMP_ERROR;
            break;
        }
    }

    if (pos > 0) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= pos;
    }

    return (rc == RTMP_ERROR) ? -1 : 0;
}


/* ---------------------------------------------------------------- HTTP-FLV */

/* the viewer's request, sent once its connect(2) is done */

static int
flv_request(conn_t *c)
{
    char        req[8192];
    const char *room = o_play_name ? o_play_name : "feed";
    int         len;

    len = snprintf(req, sizeof(req),
                   "GET /live?port=%d&app=%s&stream=%s%s%s HTTP/1.1\r\n"
                   "Host: %s:%d\r\nUser-Agent: loadgen\r\nAccept: */*\r\n"
                   "\r\n", o_port, o_app, room, ntok ? "&token=" : "",
                   ntok ? tok_token[c->idx % ntok] : "", o_host,
                   o_http_port);

    if (len < 0 || (size_t) len >= sizeof(req)) {
        return -1;
    }

    return send_all(c->fd, (uint8_t *) req, (size_t) len);
}


/* the value of header NAME in the NUL-terminated HEAD into OUT */

static void
flv_header_value(const char *head, const char *name, char *out, size_t size)
{
    const char *p = head;
    size_t      n = strlen(name), len;

    out[0] = '\0';

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;

        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            p += strspn(p, " \t");
            len = strcspn(p, "\r\n");
            len = len < size ? len : size - 1;
            memcpy(out, p, len);
            out[len] = '\0';
            return;
        }
    }
}


/*
 * the body of a 200 in P..END (chunked or not): 1 once the FLV header and
 * the first tag are whole (c->result set), 0 for more
 */

static int
flv_body(conn_t *c, const uint8_t *p, const uint8_t *end, int chunked)
{
    uint8_t         flv[24];
    size_t          got = 0, need = sizeof(flv), len, n, k;
    const uint8_t  *eol;

    while (got < need) {
        len = end - p;

        if (chunked) {
            eol = memmem(p, end - p, "\r\n", 2);
            if (eol == NULL) {
                return 0;
            }

            len = strtoul((const char *) p, NULL, 16);
            if (len == 0) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "flv:ended");
                return 1;
            }

            p = eol + 2;
        }

        n = (size_t) (end - p) < len ? (size_t) (end - p) : len;
        k = got < sizeof(flv) ? sizeof(flv) - got : 0;
        if (k > 0) {
            memcpy(flv + got, p, n < k ? n : k);
        }

        got += n;
        p += n;

        if (need == sizeof(flv) && got >= sizeof(flv)) {
            /* 13 bytes of FLV header, the tag's 11, its data, its size */
            need = 13 + 11 + rtmp_get_be24(flv + 14) + 4;
        }

        if (!chunked || n < len || end - p < 2) {
            break;
        }

        p += 2;                 /* the chunk's CRLF */
    }

    if (got < need) {
        return 0;
    }

    if (memcmp(flv, "FLV\x01", 4) != 0) {
        c->result = R_ERROR;
        snprintf(c->code, sizeof(c->code), "flv:not_flv");
        return 1;
    }

    c->result = R_ADMITTED;
    return 1;
}


/* the answer in c->rbuf: 1 once it is decided (c->result set), 0 for more */

static int
flv_answer(conn_t *c)
{
    char            head[HTTP_HEAD_MAX + 1], te[64];
    const uint8_t  *eoh;
    size_t          hlen;
    int             status;

    eoh = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);

    if (eoh == NULL) {
        if (c->rlen < HTTP_HEAD_MAX) {
            return 0;
        }

        c->result = R_ERROR;
        snprintf(c->code, sizeof(c->code), "http:header");
        return 1;
    }

    hlen = eoh + 2 - c->rbuf;
    if (hlen > HTTP_HEAD_MAX) {
        hlen = HTTP_HEAD_MAX;
    }

    memcpy(head, c->rbuf, hlen);
    head[hlen] = '\0';

    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1) {
        c->result = R_ERROR;
        snprintf(c->code, sizeof(c->code), "http:status");
        return 1;
    }

    if (status != 200) {
        /* the gate's refusal names its reason; anything else is not one */
        c->result = (status == 403) ? R_REJECTED : R_ERROR;
        snprintf(c->code, sizeof(c->code), "http:%d", status);
        flv_header_value(head, "X-Compliance-Reason", c->reason,
                         sizeof(c->reason));
        return 1;
    }

    flv_header_value(head, "Transfer-Encoding", te, sizeof(te));

    return flv_body(c, eoh + 4, c->rbuf + c->rlen,
                    strcasecmp(te, "chunked") == 0);
}


/*
 * the feeder's video: two key frames (Sorenson H.263: nothing to parse).
 * Two, because without metadata before it the fork's gop_cache drops a
 * publisher's first frame (its handler runs before the codec module's,
 * which has no context yet); it keeps the second.
 */

static int
flv_feed_keyframes(conn_t *c)
{
    uint8_t     out[512], frame[128];
    uint32_t    ts;
    rtmp_buf_t  o;

    memset(frame, 0, sizeof(frame));
    frame[0] = 0x12;            /* key frame, codec 2 */
    frame[1] = 0x01;            /* (0 would look like a codec header) */

    rtmp_buf_init(&o, out, sizeof(out));

    for (ts = 0; ts <= 40; ts += 40) {
        if (rtmp_chunk_message(&o, OUT_CHUNK, CSID_VIDEO, RTMP_MSG_VIDEO,
                               c->stream_id, ts, frame, sizeof(frame))
            != RTMP_OK || o.failed)
        {
            return -1;
        }
    }

    return send_all(c->fd, o.data, o.len);
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
    int                 one = 1;
    long                k;

    if (c->in.max_streams == 0) {
        rtmp_reader_init(&c->in, MAX_MSG, MAX_CS);
    } else {
        rtmp_reader_reset(&c->in);
    }

    c->rlen = 0;
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
    sin.sin_port = htons(o_flv && !c->feeder ? o_http_port : o_port);
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
    uint8_t             c0c1[RTMP_C0C1_SIZE];
    int                 err = 0, i, rc;
    socklen_t           el = sizeof(err);
    ssize_t             n;
    const uint8_t      *s1;

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

        c->tconn = now_ms();

        if (o_flv && !c->feeder) {
            if (flv_request(c) != 0) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "send");
                return 1;
            }

            c->state = S_HTTP;

        } else {
            rtmp_handshake_c0c1(c0c1, (uint32_t) c->slot + 1);

            if (send_all(c->fd, c0c1, sizeof(c0c1)) != 0) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "send");
                return 1;
            }

            c->state = S_HANDSHAKE;
        }

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

        if (c->state == S_HTTP) {
            if (flv_answer(c)) {
                return 1;
            }

            continue;
        }

        if (c->state == S_HANDSHAKE) {
            rc = rtmp_handshake_s0s1s2(c->rbuf, c->rlen, &s1);

            if (rc == RTMP_AGAIN) {
                continue;
            }

            if (rc == RTMP_ERROR) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "handshake");
                return 1;
            }

            if (send_connect(c, s1) != 0) {
                c->result = R_ERROR;
                snprintf(c->code, sizeof(c->code), "send");
                return 1;
            }

            memmove(c->rbuf, c->rbuf + RTMP_S0S1S2_SIZE,
                    c->rlen - RTMP_S0S1S2_SIZE);
            c->rlen -= RTMP_S0S1S2_SIZE;
            c->state = S_CONNECT;
        }

        if (c->state == S_LIVE && o_play_rooms) {
            /* a watching player: the media is counted, not parsed */
            c->bytes += n;
            c->rlen = 0;
            continue;
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

    if (o_flv) {
        if (flv_feed_keyframes(c) != 0) {
            die("feeder %s: cannot send its key frames", o_feeder);
        }

        usleep(100000);         /* nginx has it before the first viewer */
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


/* ---------------------------------------------------------------- get */

#define GET_THREADS_MAX     64

typedef struct {
    long    ok;
    long    other;
} getter_t;


static void *
getter_thread(void *arg)
{
    getter_t  *g = arg;
    char       resp[65536];
    int        fd = -1, st;
    double     end = now_ms() + o_duration * 1000;

    while (!g_stop && now_ms() < end) {
        st = http_request(&fd, "GET", o_path, NULL, resp, sizeof(resp));

        if (st == 200) {
            g->ok++;

        } else {
            g->other++;
        }
    }

    if (fd >= 0) close(fd);
    return NULL;
}


static int
cmd_get(void)
{
    pthread_t  t[GET_THREADS_MAX];
    getter_t   g[GET_THREADS_MAX];
    int        i, n;
    long       ok = 0, other = 0;
    double     t0, secs, cpu0 = 0, cpu1 = 0;

    n = o_conc > GET_THREADS_MAX ? GET_THREADS_MAX : o_conc;
    memset(g, 0, sizeof(g));

    for (i = 0; i < o_npids; i++) cpu0 += tree_cpu_ms(o_pids[i]);
    t0 = now_ms();

    for (i = 0; i < n; i++) {
        if (pthread_create(&t[i], NULL, getter_thread, &g[i]) != 0) {
            die("get: pthread_create");
        }
    }

    for (i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        ok += g[i].ok;
        other += g[i].other;
    }

    secs = (now_ms() - t0) / 1000.0;
    for (i = 0; i < o_npids; i++) cpu1 += tree_cpu_ms(o_pids[i]);

    printf("ok=%ld other=%ld secs=%.3f rate=%.1f cpu_ms=%.0f "
           "cpu_us_per_req=%.2f\n", ok, other, secs, ok / secs, cpu1 - cpu0,
           ok ? (cpu1 - cpu0) * 1000 / ok : 0);

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



/* ---------------------------------------------------------------- storm */

/* the sum of every --pid master's tree */

static double
pids_cpu_ms(void)
{
    int     i;
    double  t = 0;

    for (i = 0; i < o_npids; i++) {
        t += tree_cpu_ms(o_pids[i]);
    }

    return t;
}


/*
 * opens o_n sessions (max inflight at a time, 0: all at once), until every
 * one is admitted, refused or failed or the timeout; *t_last is when the
 * last admission came.  Admitted ones are held (S_LIVE).
 */

static conn_t *
open_many(worker_t *w, int inflight, double *lat, long *nlat, int *live,
    int *refused, int *errors, double *t_last)
{
    struct epoll_event  evs[256];
    conn_t             *cs;
    int                 i, n, opened = 0, pending = 0;
    double              t0, t;

    cs = calloc(o_n, sizeof(conn_t));
    if (cs == NULL) {
        die("no memory");
    }

    g_room_next = 0;
    *live = *refused = *errors = 0;
    *nlat = 0;
    *t_last = 0;
    t0 = now_ms();

    while ((*live + *refused + *errors) < o_n
           && now_ms() - t0 < o_timeout * 1000)
    {
        while (opened < o_n && (inflight == 0 || pending < inflight)) {
            cs[opened].slot = opened;

            if (conn_open(w, &cs[opened]) != 0) {
                cs[opened].fd = -1;
                (*errors)++;
            } else {
                pending++;
            }

            opened++;
        }

        n = epoll_wait(w->ep, evs, 256, 100);
        t = now_ms();

        for (i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;

            if (c->state == S_LIVE) {
                if (conn_io(w, c, evs[i].events)) {
                    /* a live one went away */
                    conn_close(w, c);
                    (*live)--;
                    (*errors)++;
                }
                continue;
            }

            if (!conn_io(w, c, evs[i].events)) {
                continue;
            }

            pending--;

            if (c->result == R_ADMITTED) {
                c->state = S_LIVE;
                (*live)++;
                lat[(*nlat)++] = t - c->t0;
                *t_last = t;
                /* the SYN was dropped (a full listen queue) and resent */
                g_syn_retx += (c->tconn - c->t0 >= 900);
                continue;
            }

            if (c->result == R_REJECTED) {
                (*refused)++;
                count_code(c->code);
            } else {
                (*errors)++;
                count_code(c->code);
            }

            conn_close(w, c);
        }
    }

    return cs;
}


static void
print_codes(void)
{
    int  k;

    for (k = 0; k < MAX_CODES && g_code[k][0]; k++) {
        printf(" code[%s]=%ld", g_code[k], g_code_n[k]);
    }
}


static int
cmd_storm(void)
{
    worker_t   w;
    conn_t    *cs;
    int        i, live, refused, errors;
    long       nlat;
    double    *lat, t0, t_last, cpu0, cpu1;

    if (o_tokens) {
        load_tokens(o_tokens);
        if (o_n > ntok) {
            die("storm: --n %d but %d tokens", o_n, ntok);
        }
    }

    if (o_n <= 0) {
        die("storm: --n needed");
    }

    memset(&w, 0, sizeof(w));
    w.ep = epoll_create1(EPOLL_CLOEXEC);
    lat = calloc(o_n, sizeof(double));

    cpu0 = pids_cpu_ms();
    t0 = now_ms();

    cs = open_many(&w, 0, lat, &nlat, &live, &refused, &errors, &t_last);

    cpu1 = pids_cpu_ms();

    qsort(lat, nlat, sizeof(double), cmp_double);

    printf("n=%d admitted=%ld live=%d refused=%d errors=%d all_ms=%.1f "
           "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f cpu_ms=%.0f "
           "cpu_us_per_adm=%.1f syn_retx=%ld", o_n, nlat, live, refused,
           errors,
           nlat == o_n ? t_last - t0 : -1.0, pct(lat, nlat, 50),
           pct(lat, nlat, 99), nlat ? lat[nlat - 1] : 0, cpu1 - cpu0,
           nlat ? (cpu1 - cpu0) * 1000 / nlat : 0, g_syn_retx);
    print_codes();
    printf("\n");

    for (i = 0; i < o_n; i++) {
        if (cs[i].fd >= 0) close(cs[i].fd);
    }

    return 0;
}


/* ---------------------------------------------------------------- watch */

static int
cmd_watch(void)
{
    worker_t            w;
    struct epoll_event  evs[256];
    conn_t             *cs;
    int                 i, n, live, refused, errors, gone = 0;
    long                nlat, b0 = 0, b1 = 0;
    double             *lat, t_last, t0, t1 = 0, cpu0 = 0, cpu1 = 0, t;

    if (o_n <= 0) {
        die("watch: --n needed");
    }

    o_play_rooms = 1;
    o_mode = "play";

    memset(&w, 0, sizeof(w));
    w.ep = epoll_create1(EPOLL_CLOEXEC);
    lat = calloc(o_n, sizeof(double));

    cs = open_many(&w, 64, lat, &nlat, &live, &refused, &errors, &t_last);

    /* 1 s of warm-up, then the measured window */

    t0 = now_ms();

    for (int phase = 0; phase < 2; phase++) {
        double  end = now_ms() + (phase ? o_duration * 1000 : 1000);

        if (phase == 1) {
            for (i = 0, b0 = 0; i < o_n; i++) b0 += cs[i].bytes;
            cpu0 = pids_cpu_ms();
            t0 = now_ms();
        }

        while ((t = now_ms()) < end) {
            n = epoll_wait(w.ep, evs, 256, (int) (end - t) + 1);

            for (i = 0; i < n; i++) {
                conn_t *c = evs[i].data.ptr;

                if (c->fd >= 0 && conn_io(&w, c, evs[i].events)) {
                    conn_close(&w, c);
                    gone++;
                }
            }
        }
    }

    cpu1 = pids_cpu_ms();
    t1 = now_ms();

    for (i = 0; i < o_n; i++) {
        b1 += cs[i].bytes;
        if (cs[i].fd >= 0) close(cs[i].fd);
    }

    printf("players=%d live=%d refused=%d errors=%d gone=%d secs=%.3f "
           "bytes=%ld mbit_s=%.2f cpu_ms=%.0f cpu_ms_per_mb=%.3f", o_n,
           live, refused, errors, gone, (t1 - t0) / 1000, b1 - b0,
           (b1 - b0) * 8 / 1e6 / ((t1 - t0) / 1000), cpu1 - cpu0,
           b1 > b0 ? (cpu1 - cpu0) / ((b1 - b0) / 1e6) : 0);
    print_codes();
    printf("\n");

    return 0;
}

/* ---------------------------------------------------------------- mint */

#define MINT_KEY_MAX    (1024 * 1024)

static int
cmd_mint(void)
{
    FILE             *f;
    int               i;
    long              now = (long) time(NULL);
    char              hdr[256], claims[2048], room[128], *token;
    size_t            klen, len;
    uint8_t          *kbuf;
    jws_key_t         key;
    jws_err_t         err;
    const jws_alg_t  *alg;

    if (o_key == NULL) {
        die("mint: --key needed");
    }

    f = fopen(o_key, "r");
    if (f == NULL) {
        die("cannot open %s", o_key);
    }

    kbuf = malloc(MINT_KEY_MAX);
    if (kbuf == NULL) {
        die("out of memory");
    }

    klen = fread(kbuf, 1, MINT_KEY_MAX, f);
    fclose(f);

    if (strcmp(o_alg, "HS256") && strcmp(o_alg, "RS256")
        && strcmp(o_alg, "ES256") && strcmp(o_alg, "EdDSA"))
    {
        die("mint: HS256, RS256, ES256 or EdDSA");
    }

    alg = jws_alg(o_alg);

    if (jws_key_load(&key, alg, kbuf, klen, 0, o_key, &err) != JWS_OK
        || jws_key_check_curve(&key, o_key, &err) != JWS_OK)
    {
        die("%s", err.text);
    }

    if (jws_header(hdr, sizeof(hdr), o_alg, o_kid) >= sizeof(hdr)) {
        die("mint: --kid too long");
    }

    if (o_groups <= 0) {
        o_groups = o_n;
    }

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

        if (jws_compact(&key, hdr, strlen(hdr), claims, strlen(claims),
                        &token, &len, &err)
            != JWS_OK)
        {
            die("signing failed: %s", err.text);
        }

        printf("%s %s\n", room, token);
        free(token);
    }

    jws_key_free(&key);
    free(kbuf);

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


/*
 * the option argv[i] (its value argv[i + 1], if it takes one) into its
 * variable; returns the index of the last argument it used
 */

static int
parse_option(int argc, char **argv, int i)
{
    const opt_t  *o;
    const char   *v;

    for (o = options; o->name; o++) {
        if (strcmp(argv[i], o->name) == 0) {
            break;
        }
    }

    if (o->name == NULL) {
        die("unknown or incomplete option %s", argv[i]);
    }

    if (o->type == OPT_SET || o->type == OPT_CLEAR) {
        *(int *) o->var = o->type == OPT_SET;
        return i;
    }

    if (i + 1 == argc) {
        die("unknown or incomplete option %s", argv[i]);
    }

    v = argv[i + 1];

    switch (o->type) {
    case OPT_STR:
        *(const char **) o->var = v;
        break;
    case OPT_INT:
        *(int *) o->var = atoi(v);
        break;
    case OPT_UNSIGNED:
        *(unsigned *) o->var = (unsigned) atoi(v);
        break;
    case OPT_LONG:
        *(long *) o->var = atol(v);
        break;
    case OPT_DOUBLE:
        *(double *) o->var = atof(v);
        break;
    default: /* OPT_PID */
        if (o_npids < 8) o_pids[o_npids++] = atoi(v);
        break;
    }

    return i + 1;
}


int
main(int argc, char **argv)
{
    const char     *cmd;
    int             i;
    struct rlimit   rl;

    if (argc < 2) {
        fprintf(stderr, "usage: loadgen mint|run|drop|fill|storm|watch|get "
                "[options]\n");
        return 2;
    }

    cmd = argv[1];

    for (i = 2; i < argc; i++) {
        i = parse_option(argc, argv, i);
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

    if (strcmp(cmd, "get") == 0) {
        if (o_http_port <= 0) die("get: --http-port needed");
        return cmd_get();
    }

    if (o_port <= 0) {
        die("--port needed");
    }

    if (strcmp(cmd, "run") == 0) {
        o_flv = strcmp(o_mode, "flv") == 0;

        if (o_flv && (o_http_port <= 0 || o_feeder == NULL)) {
            die("run --mode flv: --http-port and --feeder needed");
        }

        return cmd_run();
    }

    if (strcmp(cmd, "drop") == 0) {
        return cmd_drop();
    }

    if (strcmp(cmd, "storm") == 0) {
        return cmd_storm();
    }

    if (strcmp(cmd, "watch") == 0) {
        return cmd_watch();
    }

    die("unknown command %s", cmd);
    return 2;
}
