
/*
 * rtmp_client.c -- a small raw-socket RTMP client for the ngx_rtmp_compliance
 * test suite.
 *
 * It speaks just enough RTMP to publish or play one stream on nginx-rtmp:
 * the simple (digest-less) handshake, the chunk stream protocol in both
 * directions, protocol control and user control messages, and AMF0.  It
 * reports what the server said on stdout, one event per line:
 *
 *     connect: CODE
 *     status: LEVEL CODE DESCRIPTION
 *     metadata: {JSON}
 *     media: audio=N video=N bytes=N
 *     closed: by=server|client after_ms=N
 *
 * Exit codes: 0 started and ended by the client, 1 rejected (error-level
 * status), 2 connect/handshake/protocol error or closed before any status,
 * 3 timeout waiting for an answer, 4 started, then dropped by the server.
 *
 * The protocol itself (handshake, chunks, control messages, AMF0) is
 * lib/rtmp_proto.c, which bench/loadgen.c speaks too; this file is the
 * client around it: the socket, the session's steps and what it prints.
 *
 * Build (make tools):
 *   cc -O2 -g -Wall -Wextra -Ilib -o build/rtmp-client \
 *       t/client/rtmp_client.c lib/rtmp_proto.c
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "rtmp_proto.h"


#define EXIT_STARTED        0
#define EXIT_REJECTED       1
#define EXIT_PROTOCOL       2
#define EXIT_TIMEOUT        3
#define EXIT_DROPPED        4

#define RC_OK               0
#define RC_TIMEOUT         -1
#define RC_CLOSED          -2
#define RC_PROTOCOL        -3

#define MAX_IN_STREAMS      256
#define MAX_MESSAGE         (16 * 1024 * 1024)
#define RBUF_INITIAL        65536
#define RBUF_MAX            (MAX_MESSAGE + 64)
#define MAX_NAME            (16 * 1024 * 1024)
#define MAX_BITRATE         200000
#define DRAIN_MS            1000

#define AMF_MAX_NODES       8192
#define AMF_MAX_VALUES      32

#define CSID_COMMAND        3
#define CSID_AUDIO          4
#define CSID_DATA           5
#define CSID_VIDEO          6
#define CSID_STREAM         8

#define VIDEO_FPS           25
#define VIDEO_GOP           25
#define AUDIO_RATE          44100
#define AUDIO_SAMPLES       1024

#define AVC_IDR_9C          18
#define AVC_IDR_MB          69
#define AVC_IDR_SIZE        (sizeof(avc_idr_head) + AVC_IDR_9C + 1          \
                             + AVC_IDR_MB * sizeof(avc_idr_mb)              \
                             + sizeof(avc_idr_tail))


typedef struct {
    const char      *host;
    const char      *port;
    const char      *app;
    const char      *tcurl;
    const char      *name;
    size_t           name_len;
    int              play;
    long             tags;          /* -1: not given */
    long             duration;      /* ms, -1: not given */
    long             idle;          /* ms after connect with pings only,
                                       0: none */
    long             bitrate;       /* kbit/s */
    const char      *metadata;
    int              no_metadata;
    uint32_t         chunk_size;
    int              long_string;
    long             timeout;       /* ms */
    int              verbose;
} conf_t;


typedef struct {
    int              fd;

    uint8_t         *rbuf;
    size_t           rpos;
    size_t           rlast;
    size_t           rcap;

    uint64_t         in_bytes;
    uint64_t         in_last_ack;
    uint32_t         ack_window;
    uint32_t         out_chunk;

    rtmp_chunk_reader_t  in;

    double           next_tid;
    double           tid_connect;
    double           tid_create;

    int              connected;     /* 1: _result, -1: _error */
    int              created;       /* 1: _result, -1: failed */
    uint32_t         stream_id;
    int              started;
    int              rejected;
    int              closing;       /* the client started closing */
    int              eof;           /* the connection is gone */
    int              eof_by_server;

    int64_t          t_conn;
    int64_t          t_cmd;
    int64_t          t_closed;

    unsigned long    audio;
    unsigned long    video;
    uint64_t         media_bytes;
} state_t;


static conf_t       cf;
static state_t      st;
static rtmp_amf_t   amf_pool[AMF_MAX_NODES];


/*
 * A real (tiny) H.264 stream: 320x240 black, baseline, one IDR and 24 P
 * frames per GOP, so that ffmpeg/ffprobe can decode what we publish.  The
 * frames are padded with filler NAL units to reach the requested bitrate.
 */

static const uint8_t  avc_sps[] = {
    0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40,
    0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x83, 0xc5,
    0x0a, 0xa8,
};

static const uint8_t  avc_pps[] = {
    0x68, 0xce, 0x0f, 0xc8,
};

/*
 * The IDR slice: its header, then the macroblocks of the black frame,
 * which code alike (18 bytes 0x9c, 0x9d, then a 3-byte pattern 69 times),
 * and the end; avc_idr_init() writes it out into avc_idr.
 */

static const uint8_t  avc_idr_head[] = {
    0x65, 0x88, 0x84, 0x0c, 0xff, 0xff, 0xfc, 0x3d, 0x14, 0x00,
    0x04, 0x5b, 0x7c,
};

static const uint8_t  avc_idr_mb[] = { 0x75, 0xd7, 0x5d };
static const uint8_t  avc_idr_tail[] = { 0x75, 0xd7, 0x5e };

static uint8_t  avc_idr[AVC_IDR_SIZE];

static const uint8_t  avc_p[24][7] = {
    { 0x41, 0x9a, 0x20, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x40, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x60, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x80, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0xa0, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0xc0, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0xe0, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0x00, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0x20, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0x40, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0x60, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0x80, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0xa0, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0xc0, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0xe0, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x00, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x20, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x40, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x60, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0x80, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0xa0, 0x33, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0xc0, 0x2f, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9a, 0xe0, 0x2f, 0xc0, 0x25, 0xb0 },
    { 0x41, 0x9b, 0x00, 0x2b, 0xc0, 0x25, 0xb0 },
};

/* one silent AAC-LC frame, 44100 Hz mono; AudioSpecificConfig 0x12 0x08 */

static const uint8_t  aac_config[] = { 0x12, 0x08 };
static const uint8_t  aac_silence[] = { 0x01, 0x18, 0x20, 0x07 };


static int64_t
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
log_args(const char *fmt, va_list args)
{
    fprintf(stderr, "rtmp-client: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
}


/* the protocol trace of -v */

static void
logv(const char *fmt, ...)
{
    va_list  args;

    if (cf.verbose) {
        va_start(args, fmt);
        log_args(fmt, args);
        va_end(args);
    }
}


static void
logerr(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    log_args(fmt, args);
    va_end(args);
}


static void *
xmalloc(size_t size)
{
    void  *p;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        logerr("out of memory (%zu bytes)", size);
        exit(EXIT_PROTOCOL);
    }

    return p;
}


/* the buffers exit on a failed allocation, as xmalloc() does */

static void
buf_check(const rtmp_buf_t *b)
{
    if (b->failed) {
        logerr("out of memory");
        exit(EXIT_PROTOCOL);
    }
}


static void
amf_name(rtmp_buf_t *b)
{
    rtmp_amf_string(b, cf.name, cf.name_len, cf.long_string);
}


/* network */

static void
quickack(void)
{
#ifdef TCP_QUICKACK
    int  on = 1;

    (void) setsockopt(st.fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
#endif
}


static void
mark_eof(void)
{
    if (st.eof) {
        return;
    }

    st.eof = 1;
    st.eof_by_server = !st.closing;

    if (!st.closing) {
        st.t_closed = now_ms();
    }
}


static int
net_connect(void)
{
    int               fd, rc, on, err;
    int64_t           deadline;
    socklen_t         len;
    struct pollfd     pfd;
    struct addrinfo   hints, *res, *ai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(cf.host, cf.port, &hints, &res);
    if (rc != 0) {
        logerr("cannot resolve %s:%s: %s", cf.host, cf.port,
               gai_strerror(rc));
        return RC_PROTOCOL;
    }

    deadline = now_ms() + cf.timeout;
    fd = -1;
    err = ECONNREFUSED;

    for (ai = res; ai; ai = ai->ai_next) {

        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1) {
            err = errno;
            continue;
        }

        on = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
#ifdef TCP_QUICKACK
        (void) setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
#endif

        (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }

        if (errno == EINPROGRESS) {
            pfd.fd = fd;
            pfd.events = POLLOUT;

            for ( ;; ) {
                int64_t  left = deadline - now_ms();

                rc = poll(&pfd, 1, left > 0 ? (int) left : 0);
                if (rc == -1 && errno == EINTR) {
                    continue;
                }
                break;
            }

            if (rc == 0) {
                close(fd);
                freeaddrinfo(res);
                logerr("connect to %s:%s timed out", cf.host, cf.port);
                return RC_TIMEOUT;
            }

            len = sizeof(err);
            if (rc > 0
                && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0
                && err == 0)
            {
                break;
            }

        } else {
            err = errno;
        }

        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);

    if (fd == -1) {
        logerr("cannot connect to %s:%s: %s", cf.host, cf.port,
               strerror(err));
        return RC_PROTOCOL;
    }

    st.fd = fd;

    return RC_OK;
}


/*
 * Reads what is available into the input buffer, waiting until the deadline
 * at most.  Returns the number of bytes read, RC_TIMEOUT or RC_CLOSED.
 */

static int
net_read(int64_t deadline)
{
    int            rc;
    size_t         cap;
    ssize_t        n;
    int64_t        left;
    uint8_t       *p;
    struct pollfd  pfd;

    if (st.eof) {
        return RC_CLOSED;
    }

    if (st.rpos == st.rlast) {
        st.rpos = 0;
        st.rlast = 0;
    }

    if (st.rlast == st.rcap) {

        if (st.rpos > 0) {
            memmove(st.rbuf, st.rbuf + st.rpos, st.rlast - st.rpos);
            st.rlast -= st.rpos;
            st.rpos = 0;

        } else {
            if (st.rcap >= RBUF_MAX) {
                logerr("input chunk too large");
                return RC_PROTOCOL;
            }

            cap = st.rcap ? st.rcap * 2 : RBUF_INITIAL;
            if (cap > RBUF_MAX) {
                cap = RBUF_MAX;
            }

            p = realloc(st.rbuf, cap);
            if (p == NULL) {
                logerr("out of memory");
                return RC_PROTOCOL;
            }

            st.rbuf = p;
            st.rcap = cap;
        }
    }

    pfd.fd = st.fd;
    pfd.events = POLLIN;

    for ( ;; ) {
        n = recv(st.fd, st.rbuf + st.rlast, st.rcap - st.rlast, 0);

        if (n > 0) {
            st.rlast += n;
            st.in_bytes += n;
            quickack();
            return (int) n;
        }

        if (n == 0) {
            logv("connection closed by peer");
            mark_eof();
            return RC_CLOSED;
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            logv("recv() failed: %s", strerror(errno));
            mark_eof();
            return RC_CLOSED;
        }

        left = deadline - now_ms();
        if (left < 0) {
            left = 0;
        }
        if (left > 1000000) {
            left = 1000000;
        }

        rc = poll(&pfd, 1, (int) left);

        if (rc == 0) {
            return RC_TIMEOUT;
        }

        if (rc == -1 && errno != EINTR) {
            logerr("poll() failed: %s", strerror(errno));
            return RC_PROTOCOL;
        }
    }
}


static int
net_write(const uint8_t *p, size_t len)
{
    int            rc;
    ssize_t        n;
    int64_t        deadline, left;
    struct pollfd  pfd;

    if (st.eof) {
        return RC_CLOSED;
    }

    deadline = now_ms() + cf.timeout;
    pfd.fd = st.fd;
    pfd.events = POLLOUT;

    while (len) {
        n = send(st.fd, p, len, MSG_NOSIGNAL);

        if (n > 0) {
            p += n;
            len -= n;
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
            logv("send() failed: %s", strerror(errno));
            if (!st.closing) {
                /* the peer reset the connection; what it said is still
                 * readable, so do not mark eof here */
                return RC_CLOSED;
            }
            mark_eof();
            return RC_CLOSED;
        }

        left = deadline - now_ms();
        if (left <= 0) {
            logerr("timed out writing to the server");
            return RC_TIMEOUT;
        }

        rc = poll(&pfd, 1, (int) left);
        if (rc == -1 && errno != EINTR) {
            logerr("poll() failed: %s", strerror(errno));
            return RC_PROTOCOL;
        }
    }

    return RC_OK;
}


/* chunk stream output */

/* writes what b holds and frees it */

static int
send_out(rtmp_buf_t *b)
{
    int  rc;

    buf_check(b);

    rc = net_write(b->data, b->len);

    rtmp_buf_free(b);

    return rc;
}


static int
send_message(uint32_t csid, uint8_t type, uint32_t msid, uint32_t ts,
    const uint8_t *data, size_t len)
{
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));

    if (rtmp_chunk_message(&b, st.out_chunk, csid, type, msid, ts, data, len)
        != RTMP_OK)
    {
        logerr("message too large (%zu bytes)", len);
        return RC_PROTOCOL;
    }

    return send_out(&b);
}


static int
send_buf(uint32_t csid, uint8_t type, uint32_t msid, rtmp_buf_t *b)
{
    int  rc;

    buf_check(b);

    rc = send_message(csid, type, msid, 0, b->data, b->len);
    rtmp_buf_free(b);

    return rc;
}


static int
send_control(uint8_t type, uint32_t value)
{
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));
    rtmp_control(&b, st.out_chunk, type, value);

    return send_out(&b);
}


static int
send_user_control(uint16_t event, const uint8_t *data, size_t len)
{
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));
    rtmp_user_control(&b, st.out_chunk, event, data, len);

    return send_out(&b);
}


/* JSON output */

static size_t
utf8_seq(const uint8_t *p, size_t len)
{
    size_t   n, i;
    uint8_t  c;

    c = p[0];

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }

    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)
        || (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
    {
        return 0;
    }

    return n;
}


static void
json_string(const uint8_t *p, size_t len)
{
    size_t       i, n;
    uint8_t      c;
    const char  *e;

    /* the characters with a short escape, and their escapes */
    static const char  esc_in[] = "\"\\\n\r\t";
    static const char  esc_out[] = "\"\\nrt";

    putchar('"');

    for (i = 0; i < len; i++) {
        c = p[i];

        e = (c != '\0') ? strchr(esc_in, c) : NULL;
        if (e) {
            putchar('\\');
            putchar(esc_out[e - esc_in]);
            continue;
        }

        if (c < 0x20 || c == 0x7f) {
            printf("\\u%04x", c);
            continue;
        }

        if (c < 0x80) {
            putchar(c);
            continue;
        }

        n = utf8_seq(p + i, len - i);
        if (n == 0) {
            /* not UTF-8: take the byte as Latin-1 */
            printf("\\u%04x", c);
            continue;
        }

        fwrite(p + i, 1, n, stdout);
        i += n - 1;
    }

    putchar('"');
}


static void
json_number(double d)
{
    if (d - d != 0.0) {
        /* NaN or infinity: not JSON */
        fputs("null", stdout);

    } else if (d >= -1e15 && d <= 1e15 && d == (double) (long long) d) {
        printf("%lld", (long long) d);

    } else {
        printf("%.17g", d);
    }
}


static void
json_value(const rtmp_amf_t *n)
{
    size_t             len;
    const rtmp_amf_t  *c;

    switch (n->type) {

    case RTMP_AMF_NUMBER:
    case RTMP_AMF_DATE:
        json_number(n->num);
        break;

    case RTMP_AMF_BOOLEAN:
        fputs(n->num ? "true" : "false", stdout);
        break;

    case RTMP_AMF_STRING:
    case RTMP_AMF_LONG_STRING:
    case RTMP_AMF_XML_DOC:
        /* nginx-rtmp sends fixed-size, NUL padded strings (profile, level) */
        len = n->len;
        while (len && n->str[len - 1] == '\0') {
            len--;
        }
        json_string(n->str, len);
        break;

    case RTMP_AMF_OBJECT:
    case RTMP_AMF_ECMA_ARRAY:
    case RTMP_AMF_TYPED_OBJECT:
        putchar('{');
        for (c = n->child; c; c = c->next) {
            json_string(c->key, c->klen);
            putchar(':');
            json_value(c);
            if (c->next) {
                putchar(',');
            }
        }
        putchar('}');
        break;

    case RTMP_AMF_STRICT_ARRAY:
        putchar('[');
        for (c = n->child; c; c = c->next) {
            json_value(c);
            if (c->next) {
                putchar(',');
            }
        }
        putchar(']');
        break;

    default:
        fputs("null", stdout);
        break;
    }
}


/* prints one status line field, keeping the line a single line */

static void
print_field(const rtmp_amf_t *n)
{
    size_t  i, len;
    int     c;

    if (n == NULL) {
        putchar('-');
        return;
    }

    if (!rtmp_amf_is_string(n)) {
        json_value(n);
        return;
    }

    if (n->len == 0) {
        putchar('-');
        return;
    }

    for (i = 0; i < n->len; i++) {
        c = n->str[i];

        if (c < 0x80) {
            putchar((c < 0x20 || c == 0x7f) ? ' ' : c);
            continue;
        }

        len = utf8_seq(n->str + i, n->len - i);
        if (len == 0) {
            putchar('?');
            continue;
        }

        fwrite(n->str + i, 1, len, stdout);
        i += len - 1;
    }
}


static void
handle_status(const rtmp_amf_t *info)
{
    const char        *start;
    const rtmp_amf_t  *level, *code, *desc;

    level = rtmp_amf_member(info, "level");
    code = rtmp_amf_member(info, "code");
    desc = rtmp_amf_member(info, "description");

    fputs("status: ", stdout);
    print_field(level);
    putchar(' ');
    print_field(code);
    if (desc && (!rtmp_amf_is_string(desc) || desc->len)) {
        putchar(' ');
        print_field(desc);
    }
    putchar('\n');

    if (rtmp_amf_str_eq(level, "error")) {
        st.rejected = 1;
        return;
    }

    start = cf.play ? "NetStream.Play.Start" : "NetStream.Publish.Start";

    if (rtmp_amf_str_eq(code, start)) {
        st.started = 1;
    }
}


static void
print_metadata(const rtmp_amf_t *obj)
{
    fputs("metadata: ", stdout);

    if (rtmp_amf_is_object(obj)) {
        json_value(obj);
    } else {
        fputs("{}", stdout);
    }

    putchar('\n');
}


/* incoming messages */

static const rtmp_amf_t *
find_object(rtmp_amf_t **vals, int nvals, int from, int last)
{
    int                i;
    const rtmp_amf_t  *found;

    found = NULL;

    for (i = from; i < nvals; i++) {
        if (rtmp_amf_is_object(vals[i])) {
            found = vals[i];
            if (!last) {
                break;
            }
        }
    }

    return found;
}


/* onStatus, as a command or as data: its first object */

static void
on_status(rtmp_amf_t **vals, int nvals)
{
    const rtmp_amf_t  *info;

    info = find_object(vals, nvals, 1, 0);
    if (info) {
        handle_status(info);
    }
}


static int
on_command(const uint8_t *p, size_t len)
{
    int                i, nvals, is_error;
    double             tid;
    rtmp_amf_t        *vals[AMF_MAX_VALUES];
    const rtmp_amf_t  *info, *code;

    nvals = rtmp_amf_read(p, len, amf_pool, AMF_MAX_NODES, vals,
                          AMF_MAX_VALUES);

    if (nvals < 1 || !rtmp_amf_is_string(vals[0])) {
        logv("ignored a malformed command");
        return RC_OK;
    }

    tid = (nvals > 1 && vals[1]->type == RTMP_AMF_NUMBER) ? vals[1]->num : 0;

    logv("command '%.*s' tid=%g", (int) vals[0]->len,
         (const char *) vals[0]->str, tid);

    is_error = rtmp_amf_str_eq(vals[0], "_error");

    if (is_error || rtmp_amf_str_eq(vals[0], "_result")) {

        info = find_object(vals, nvals, 2, 1);

        if (tid == st.tid_connect && st.connected == 0) {
            code = rtmp_amf_member(info, "code");

            fputs("connect: ", stdout);
            if (rtmp_amf_is_string(code) && code->len) {
                print_field(code);
            } else {
                fputs(is_error ? "_error" : "_result", stdout);
            }
            putchar('\n');

            st.connected = (is_error
                            || rtmp_amf_str_eq(rtmp_amf_member(info, "level"),
                                               "error"))
                           ? -1 : 1;
            return RC_OK;
        }

        if (tid == st.tid_create && st.created == 0) {

            if (!is_error) {
                for (i = 2; i < nvals; i++) {
                    if (vals[i]->type == RTMP_AMF_NUMBER) {
                        break;
                    }
                }

                if (i < nvals && vals[i]->num >= 0
                    && vals[i]->num < 4294967296.0)
                {
                    st.stream_id = (uint32_t) vals[i]->num;
                    st.created = 1;
                    return RC_OK;
                }

                logerr("createStream _result without a stream id");
                st.created = -1;
                return RC_OK;
            }

            st.created = -1;
        }

        if (is_error && info) {
            handle_status(info);
        }

        return RC_OK;
    }

    if (rtmp_amf_str_eq(vals[0], "onStatus")) {
        on_status(vals, nvals);
    }

    return RC_OK;
}


static int
on_data(const uint8_t *p, size_t len)
{
    int          nvals;
    rtmp_amf_t  *vals[AMF_MAX_VALUES];

    nvals = rtmp_amf_read(p, len, amf_pool, AMF_MAX_NODES, vals,
                          AMF_MAX_VALUES);

    if (nvals < 1 || !rtmp_amf_is_string(vals[0])) {
        logv("ignored a malformed data message");
        return RC_OK;
    }

    logv("data '%.*s'", (int) vals[0]->len, (const char *) vals[0]->str);

    if (rtmp_amf_str_eq(vals[0], "onMetaData")) {
        print_metadata(nvals > 1 ? vals[1] : NULL);
        return RC_OK;
    }

    if (rtmp_amf_str_eq(vals[0], "@setDataFrame")) {
        if (nvals > 1 && rtmp_amf_str_eq(vals[1], "onMetaData")) {
            print_metadata(nvals > 2 ? vals[2] : NULL);
        } else {
            print_metadata(nvals > 1 ? vals[1] : NULL);
        }
        return RC_OK;
    }

    if (rtmp_amf_str_eq(vals[0], "onStatus")) {
        on_status(vals, nvals);
    }

    return RC_OK;
}


static int on_message(uint8_t type, uint32_t msid, uint32_t ts,
    const uint8_t *p, size_t len, int nested);


static int
on_aggregate(const uint8_t *p, size_t len)
{
    int        rc;
    uint8_t    type;
    uint32_t   size, ts;

    while (len >= 11) {
        type = p[0];
        size = rtmp_get_be24(p + 1);
        ts = rtmp_get_be24(p + 4) | ((uint32_t) p[7] << 24);

        if (len - 11 < size) {
            logv("truncated aggregate message");
            break;
        }

        rc = on_message(type, 0, ts, p + 11, size, 1);
        if (rc != RC_OK) {
            return rc;
        }

        p += 11 + size;
        len -= 11 + size;

        if (len < 4) {
            break;
        }

        p += 4;
        len -= 4;
    }

    return RC_OK;
}


static int
on_message(uint8_t type, uint32_t msid, uint32_t ts, const uint8_t *p,
    size_t len, int nested)
{
    rtmp_message_t  m;

    logv("message type=%u msid=%u ts=%u len=%zu", type, msid, ts, len);

    switch (type) {

    case RTMP_MSG_CHUNK_SIZE:
    case RTMP_MSG_ABORT:
        m.type = type;
        m.data = p;
        m.len = len;

        if (rtmp_reader_control(&st.in, &m) != RTMP_OK) {
            logerr("%s", st.in.error);
            return RC_PROTOCOL;
        }
        return RC_OK;

    case RTMP_MSG_ACK:
    case RTMP_MSG_BANDWIDTH:
        return RC_OK;

    case RTMP_MSG_ACK_SIZE:
        if (len >= 4) {
            st.ack_window = rtmp_get_be32(p);
        }
        return RC_OK;

    case RTMP_MSG_USER:
        if (len >= 6 && rtmp_get_be16(p) == RTMP_UC_PING_REQUEST) {
            return send_user_control(RTMP_UC_PING_RESPONSE, p + 2, 4);
        }
        return RC_OK;

    case RTMP_MSG_AUDIO:
    case RTMP_MSG_VIDEO:
        if (type == RTMP_MSG_AUDIO) {
            st.audio++;
        } else {
            st.video++;
        }
        st.media_bytes += len;
        return RC_OK;

    case RTMP_MSG_AMF3_DATA:
    case RTMP_MSG_AMF3_CMD:
        /* AMF0 in an AMF3 message: after a 0 byte */
        if (len == 0 || p[0] != 0) {
            return RC_OK;
        }
        p++;
        len--;
        /* fall through */

    case RTMP_MSG_AMF0_DATA:
    case RTMP_MSG_AMF0_CMD:
        if (type == RTMP_MSG_AMF0_CMD || type == RTMP_MSG_AMF3_CMD) {
            return on_command(p, len);
        }
        return on_data(p, len);

    case RTMP_MSG_AGGREGATE:
        if (!nested) {
            return on_aggregate(p, len);
        }
        return RC_OK;

    default:
        return RC_OK;
    }
}


/* parses and dispatches all complete chunks in the input buffer */

static int
process_input(void)
{
    int             rc;
    size_t          used;
    rtmp_message_t  m;

    for ( ;; ) {
        rc = rtmp_read_message(&st.in, st.rbuf + st.rpos, st.rlast - st.rpos,
                               &used, &m);
        st.rpos += used;

        if (rc == RTMP_AGAIN) {
            break;
        }

        if (rc == RTMP_ERROR) {
            logerr("%s", st.in.error);
            return RC_PROTOCOL;
        }

        rc = on_message(m.type, m.msid, m.timestamp, m.data, m.len, 0);
        if (rc != RC_OK) {
            return rc;
        }
    }

    if (st.ack_window && st.in_bytes - st.in_last_ack >= st.ack_window) {
        st.in_last_ack = st.in_bytes;
        rc = send_control(RTMP_MSG_ACK, (uint32_t) st.in_bytes);
        if (rc == RC_PROTOCOL) {
            return rc;
        }
    }

    return RC_OK;
}


/* reads and processes input until cond() is true or an error-level status */

static int
wait_for(int (*cond)(void), long timeout)
{
    int      rc;
    int64_t  deadline;

    deadline = now_ms() + timeout;

    rc = process_input();
    if (rc != RC_OK) {
        return rc;
    }

    while (!cond() && !st.rejected) {
        rc = net_read(deadline);
        if (rc < 0) {
            return rc;
        }

        rc = process_input();
        if (rc != RC_OK) {
            return rc;
        }
    }

    return RC_OK;
}


/* reads and processes input until the deadline, the end or a rejection */

static int
service(int64_t deadline)
{
    int  rc;

    for ( ;; ) {
        rc = net_read(deadline);

        if (rc == RC_TIMEOUT) {
            return RC_OK;
        }

        if (rc < 0) {
            return rc;
        }

        rc = process_input();
        if (rc != RC_OK) {
            return rc;
        }

        if (st.rejected || now_ms() >= deadline) {
            return RC_OK;
        }
    }
}


/* reads until the server closes, at most ms milliseconds */

static void
drain(long ms)
{
    int      rc;
    int64_t  deadline;

    deadline = now_ms() + ms;

    while (!st.eof) {
        rc = net_read(deadline);
        if (rc < 0) {
            break;
        }

        if (process_input() != RC_OK) {
            break;
        }
    }
}


static int
cond_connected(void)
{
    return st.connected != 0;
}


static int
cond_created(void)
{
    return st.created != 0;
}


static int
cond_started(void)
{
    return st.started;
}


/* sends a command, then reads until its answer (cond) */

static int
request(int (*command)(void), int (*cond)(void))
{
    int  rc;

    rc = command();
    if (rc != RC_OK) {
        return rc;
    }

    return wait_for(cond, cf.timeout);
}


/* ending */

static int
finish(int code)
{
    int64_t  base;

    if (!st.eof && !st.closing) {
        st.closing = 1;
        st.t_closed = now_ms();
    }

    if (st.fd != -1) {
        close(st.fd);
        st.fd = -1;
    }

    base = st.t_cmd ? st.t_cmd : st.t_conn;

    printf("media: audio=%lu video=%lu bytes=%llu\n", st.audio, st.video,
           (unsigned long long) st.media_bytes);
    printf("closed: by=%s after_ms=%lld\n",
           (st.eof && st.eof_by_server) ? "server" : "client",
           (long long) (st.t_closed - base));

    fflush(stdout);

    return code;
}


static int
rejected(void)
{
    drain(DRAIN_MS);

    return finish(EXIT_REJECTED);
}


/* maps an error while negotiating (before the start status) */

static int
failed(int rc)
{
    if (st.rejected) {
        return rejected();
    }

    switch (rc) {

    case RC_TIMEOUT:
        logerr("timed out waiting for the server");
        return finish(EXIT_TIMEOUT);

    case RC_CLOSED:
        /* a reset while writing: read what the server said */
        drain(DRAIN_MS);
        if (st.rejected) {
            return finish(EXIT_REJECTED);
        }
        logerr("the server closed the connection");
        return finish(EXIT_PROTOCOL);

    default:
        return finish(EXIT_PROTOCOL);
    }
}


/* maps an error after the start status */

static int
dropped(int rc)
{
    if (rc == RC_CLOSED) {
        drain(DRAIN_MS);
    }

    if (st.rejected) {
        return rejected();
    }

    if (rc == RC_CLOSED) {
        return finish(EXIT_DROPPED);
    }

    if (rc == RC_TIMEOUT) {
        return finish(EXIT_TIMEOUT);
    }

    return finish(EXIT_PROTOCOL);
}


/* commands */

static double
tid(void)
{
    return st.next_tid++;
}


static int
send_connect(void)
{
    char        *tcurl;
    size_t       n;
    rtmp_buf_t   b;

    memset(&b, 0, sizeof(b));

    st.tid_connect = tid();

    rtmp_amf_str(&b, "connect");
    rtmp_amf_number(&b, st.tid_connect);

    rtmp_amf_object(&b);

    rtmp_amf_key(&b, "app", 3);
    rtmp_amf_str(&b, cf.app);

    rtmp_amf_key(&b, "type", 4);
    rtmp_amf_str(&b, "nonprivate");

    rtmp_amf_key(&b, "flashVer", 8);
    rtmp_amf_str(&b, "FMLE/3.0");

    rtmp_amf_key(&b, "tcUrl", 5);

    if (cf.tcurl) {
        rtmp_amf_str(&b, cf.tcurl);

    } else {
        n = strlen(cf.host) + strlen(cf.port) + strlen(cf.app) + 16;
        tcurl = xmalloc(n);
        snprintf(tcurl, n, "rtmp://%s:%s/%s", cf.host, cf.port, cf.app);
        rtmp_amf_str(&b, tcurl);
        free(tcurl);
    }

    rtmp_amf_object_end(&b);

    return send_buf(CSID_COMMAND, RTMP_MSG_AMF0_CMD, 0, &b);
}


static int
send_name_command(const char *name)
{
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));

    rtmp_amf_command(&b, name, tid());
    amf_name(&b);

    return send_buf(CSID_COMMAND, RTMP_MSG_AMF0_CMD, 0, &b);
}


static int
send_create_stream(void)
{
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));

    st.tid_create = tid();

    rtmp_amf_command(&b, "createStream", st.tid_create);

    return send_buf(CSID_COMMAND, RTMP_MSG_AMF0_CMD, 0, &b);
}


static int
send_stream_command(void)
{
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));

    rtmp_amf_command(&b, cf.play ? "play" : "publish", tid());
    amf_name(&b);

    if (!cf.play) {
        rtmp_amf_str(&b, "live");
    }

    return send_buf(CSID_STREAM, RTMP_MSG_AMF0_CMD, st.stream_id, &b);
}


static int
send_delete_stream(void)
{
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));

    rtmp_amf_command(&b, "deleteStream", tid());
    rtmp_amf_number(&b, st.stream_id);

    return send_buf(CSID_COMMAND, RTMP_MSG_AMF0_CMD, 0, &b);
}


static int
send_set_buflen(void)
{
    uint8_t  p[8];

    rtmp_set_be32(p, st.stream_id);
    rtmp_set_be32(p + 4, 3000);         /* ms */

    return send_user_control(RTMP_UC_SET_BUFLEN, p, 8);
}


/* metadata: "K=V,K=V"; a backslash escapes the next character */

static const char *
meta_token(const char *p, rtmp_buf_t *out, int stop_eq)
{
    out->len = 0;

    while (*p && *p != ',' && !(stop_eq && *p == '=')) {
        if (*p == '\\' && p[1]) {
            p++;
        }
        rtmp_buf_byte(out, (uint8_t) *p++);
    }

    buf_check(out);

    return p;
}


static void
meta_value(rtmp_buf_t *b, const char *v, size_t len)
{
    char    *end, tmp[64];
    double   d;

    if (len == 4 && memcmp(v, "true", 4) == 0) {
        rtmp_amf_boolean(b, 1);
        return;
    }

    if (len == 5 && memcmp(v, "false", 5) == 0) {
        rtmp_amf_boolean(b, 0);
        return;
    }

    if (len == 4 && memcmp(v, "null", 4) == 0) {
        rtmp_amf_null(b);
        return;
    }

    if (len > 0 && len < sizeof(tmp)) {
        memcpy(tmp, v, len);
        tmp[len] = '\0';
        errno = 0;
        d = strtod(tmp, &end);
        if (*end == '\0' && errno == 0 && strchr("0123456789+-.", tmp[0])) {
            rtmp_amf_number(b, d);
            return;
        }
    }

    rtmp_amf_string(b, v, len, 0);
}


static int
send_metadata(void)
{
    int          n;
    size_t       count_off;
    rtmp_buf_t   b, key, val;
    const char  *p;

    memset(&b, 0, sizeof(b));
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));

    rtmp_amf_str(&b, "@setDataFrame");
    rtmp_amf_str(&b, "onMetaData");

    count_off = b.len + 1;
    rtmp_amf_ecma_array(&b, 0);

    if (cf.metadata == NULL) {
        rtmp_amf_key(&b, "width", 5);
        rtmp_amf_number(&b, 320);
        rtmp_amf_key(&b, "height", 6);
        rtmp_amf_number(&b, 240);
        rtmp_amf_key(&b, "framerate", 9);
        rtmp_amf_number(&b, VIDEO_FPS);
        rtmp_amf_key(&b, "videocodecid", 12);
        rtmp_amf_number(&b, 7);
        rtmp_amf_key(&b, "audiocodecid", 12);
        rtmp_amf_number(&b, 10);
        n = 5;

    } else {
        n = 0;
        p = cf.metadata;

        while (*p) {
            p = meta_token(p, &key, 1);

            if (*p == '=') {
                p = meta_token(p + 1, &val, 0);
            } else {
                val.len = 0;
            }

            if (key.len) {
                rtmp_amf_key(&b, (const char *) key.data, key.len);
                meta_value(&b, val.data ? (const char *) val.data : "",
                           val.len);
                n++;
            }

            if (*p == ',') {
                p++;
            }
        }
    }

    rtmp_amf_object_end(&b);
    buf_check(&b);

    /* the ECMA array count */
    rtmp_set_be32(b.data + count_off, (uint32_t) n);

    rtmp_buf_free(&key);
    rtmp_buf_free(&val);

    return send_buf(CSID_DATA, RTMP_MSG_AMF0_DATA, st.stream_id, &b);
}


/* media */

static int
send_media(uint8_t type, uint32_t ts, rtmp_buf_t *b)
{
    int  rc;

    buf_check(b);

    rc = send_message(type == RTMP_MSG_AUDIO ? CSID_AUDIO : CSID_VIDEO, type,
                      st.stream_id, ts, b->data, b->len);

    if (rc == RC_OK) {
        if (type == RTMP_MSG_AUDIO) {
            st.audio++;
        } else {
            st.video++;
        }
        st.media_bytes += b->len;
    }

    b->len = 0;

    return rc;
}


static void
avc_idr_init(void)
{
    int       i;
    uint8_t  *p;

    p = avc_idr;

    memcpy(p, avc_idr_head, sizeof(avc_idr_head));
    p += sizeof(avc_idr_head);

    memset(p, 0x9c, AVC_IDR_9C);
    p += AVC_IDR_9C;
    *p++ = 0x9d;

    for (i = 0; i < AVC_IDR_MB; i++) {
        memcpy(p, avc_idr_mb, sizeof(avc_idr_mb));
        p += sizeof(avc_idr_mb);
    }

    memcpy(p, avc_idr_tail, sizeof(avc_idr_tail));
}


static void
put_nal(rtmp_buf_t *b, const uint8_t *nal, size_t len)
{
    rtmp_buf_be32(b, (uint32_t) len);
    rtmp_buf_put(b, nal, len);
}


static int
send_video_header(rtmp_buf_t *b)
{
    static const uint8_t  hdr[] = { 0x17, 0x00, 0x00, 0x00, 0x00 };

    rtmp_buf_put(b, hdr, sizeof(hdr));

    /* AVCDecoderConfigurationRecord */
    rtmp_buf_byte(b, 1);
    rtmp_buf_byte(b, avc_sps[1]);
    rtmp_buf_byte(b, avc_sps[2]);
    rtmp_buf_byte(b, avc_sps[3]);
    rtmp_buf_byte(b, 0xff);
    rtmp_buf_byte(b, 0xe1);
    rtmp_buf_be16(b, sizeof(avc_sps));
    rtmp_buf_put(b, avc_sps, sizeof(avc_sps));
    rtmp_buf_byte(b, 1);
    rtmp_buf_be16(b, sizeof(avc_pps));
    rtmp_buf_put(b, avc_pps, sizeof(avc_pps));

    return send_media(RTMP_MSG_VIDEO, 0, b);
}


static int
send_video_frame(rtmp_buf_t *b, unsigned long frame, uint32_t ts, size_t target)
{
    size_t    gop, filler;

    gop = frame % VIDEO_GOP;

    rtmp_buf_byte(b, gop == 0 ? 0x17 : 0x27);
    rtmp_buf_byte(b, 0x01);
    rtmp_buf_be24(b, 0);

    if (gop == 0) {
        put_nal(b, avc_idr, sizeof(avc_idr));
    } else {
        put_nal(b, avc_p[(gop - 1) % (sizeof(avc_p) / sizeof(avc_p[0]))],
                sizeof(avc_p[0]));
    }

    /* pad with a filler data NAL unit: 4 bytes length, type, 0xff..., 0x80 */

    if (target >= b->len + 6) {
        filler = target - b->len - 4;
        rtmp_buf_be32(b, (uint32_t) filler);
        rtmp_buf_byte(b, 0x0c);
        rtmp_buf_fill(b, 0xff, filler - 2);
        rtmp_buf_byte(b, 0x80);
    }

    return send_media(RTMP_MSG_VIDEO, ts, b);
}


static int
send_audio_header(rtmp_buf_t *b)
{
    rtmp_buf_byte(b, 0xaf);
    rtmp_buf_byte(b, 0x00);
    rtmp_buf_put(b, aac_config, sizeof(aac_config));

    return send_media(RTMP_MSG_AUDIO, 0, b);
}


static int
send_audio_frame(rtmp_buf_t *b, uint32_t ts)
{
    rtmp_buf_byte(b, 0xaf);
    rtmp_buf_byte(b, 0x01);
    rtmp_buf_put(b, aac_silence, sizeof(aac_silence));

    return send_media(RTMP_MSG_AUDIO, ts, b);
}


static int
client_close(void)
{
    int  rc;

    rc = RC_OK;

    if (!cf.play) {
        rc = send_name_command("FCUnpublish");
    }

    if (rc == RC_OK) {
        rc = send_delete_stream();
    }

    st.closing = 1;
    st.t_closed = now_ms();

    if (rc != RC_PROTOCOL) {
        /* read what the server still says until it closes its side */
        shutdown(st.fd, SHUT_WR);
        drain(cf.timeout < DRAIN_MS ? cf.timeout : DRAIN_MS);
    }

    return finish(st.rejected ? EXIT_REJECTED : EXIT_STARTED);
}


static int publish_tags(rtmp_buf_t *b);


/* what the server says until deadline: -1, or the exit code of the end */

static int
publish_service(int64_t deadline)
{
    int  rc;

    rc = service(deadline);
    if (rc != RC_OK) {
        return dropped(rc);
    }

    if (st.rejected) {
        return rejected();
    }

    return -1;
}


static int
publish_loop(void)
{
    int         code;
    rtmp_buf_t  b;

    memset(&b, 0, sizeof(b));

    code = publish_tags(&b);

    rtmp_buf_free(&b);

    return code;
}


static int
publish_tags(rtmp_buf_t *b)
{
    int            rc, code, paced, vhdr, ahdr, video;
    long           limit;
    size_t         target;
    int64_t        start, end, due, now;
    uint32_t       ts, vts, ats;
    unsigned long  sent, vframe, aframe;

    paced = (cf.duration >= 0);
    limit = (cf.tags >= 0) ? cf.tags : (paced ? -1 : 10);

    target = (size_t) (cf.bitrate * 1000 / 8);
    target = target > 300 ? (target - 300) / VIDEO_FPS : 0;

    if (!cf.no_metadata) {
        rc = send_metadata();
        if (rc != RC_OK) {
            return dropped(rc);
        }
    }

    start = now_ms();
    end = start + (paced ? cf.duration : 0);

    vhdr = 0;
    ahdr = 0;
    sent = 0;
    vframe = 0;
    aframe = 0;

    for ( ;; ) {

        if (limit >= 0 && sent >= (unsigned long) limit) {
            break;
        }

        if (paced && now_ms() >= end) {
            break;
        }

        /* the next tag in timestamp order, headers first */

        vts = (uint32_t) (vframe * 1000 / VIDEO_FPS);
        ats = (uint32_t) ((uint64_t) aframe * AUDIO_SAMPLES * 1000
                          / AUDIO_RATE);

        if (!vhdr || !ahdr) {
            ts = 0;
            video = !vhdr;

        } else {
            video = (vts <= ats);
            ts = video ? vts : ats;
        }

        if (paced) {
            due = start + ts;

            while ((now = now_ms()) < due && now < end) {
                code = publish_service(due < end ? due : end);
                if (code >= 0) {
                    return code;
                }
            }

            if (now >= end) {
                break;
            }
        }

        if (!vhdr) {
            rc = send_video_header(b);
            vhdr = 1;

        } else if (!ahdr) {
            rc = send_audio_header(b);
            ahdr = 1;

        } else if (video) {
            rc = send_video_frame(b, vframe, ts, target);
            vframe++;

        } else {
            rc = send_audio_frame(b, ts);
            aframe++;
        }

        if (rc != RC_OK) {
            return dropped(rc);
        }

        sent++;

        /* whatever the server said meanwhile */

        code = publish_service(now_ms());
        if (code >= 0) {
            return code;
        }
    }

    return client_close();
}


static int
play_loop(void)
{
    int            rc;
    int64_t        end, deadline, last, now;
    unsigned long  count;

    if (cf.duration < 0 && cf.tags < 0) {
        return client_close();
    }

    now = now_ms();
    end = now + (cf.duration >= 0 ? cf.duration : 0);
    last = now;

    for ( ;; ) {
        count = st.audio + st.video;

        if (cf.tags >= 0 && count >= (unsigned long) cf.tags) {
            break;
        }

        now = now_ms();

        if (cf.duration >= 0 && now >= end) {
            break;
        }

        deadline = (cf.duration >= 0) ? end : INT64_MAX;

        if (cf.tags >= 0 && last + cf.timeout < deadline) {
            deadline = last + cf.timeout;

            if (now >= deadline) {
                logerr("timed out waiting for media (%lu of %ld)", count,
                       cf.tags);
                return finish(EXIT_TIMEOUT);
            }
        }

        rc = net_read(deadline);

        if (rc == RC_TIMEOUT) {
            continue;
        }

        if (rc < 0) {
            return dropped(rc);
        }

        rc = process_input();
        if (rc != RC_OK) {
            return dropped(rc);
        }

        if (st.rejected) {
            return rejected();
        }

        if (st.audio + st.video != count) {
            last = now_ms();
        }
    }

    return client_close();
}


static int
handshake(void)
{
    int             rc;
    uint8_t         c0c1[RTMP_C0C1_SIZE];
    int64_t         deadline;
    const uint8_t  *s1;

    rtmp_handshake_c0c1(c0c1, (uint32_t) (time(NULL) ^ getpid()));

    rc = net_write(c0c1, sizeof(c0c1));
    if (rc != RC_OK) {
        return rc;
    }

    deadline = now_ms() + cf.timeout;

    for ( ;; ) {
        rc = rtmp_handshake_s0s1s2(st.rbuf + st.rpos, st.rlast - st.rpos,
                                   &s1);
        if (rc != RTMP_AGAIN) {
            break;
        }

        rc = net_read(deadline);
        if (rc < 0) {
            return rc;
        }
    }

    if (rc == RTMP_ERROR) {
        logerr("unexpected handshake version %u", st.rbuf[st.rpos]);
        return RC_PROTOCOL;
    }

    /* C2 echoes S1 */

    rc = net_write(s1, RTMP_HANDSHAKE_SIZE);
    if (rc != RC_OK) {
        return rc;
    }

    st.rpos += RTMP_S0S1S2_SIZE;

    return RC_OK;
}


static void
usage(FILE *f)
{
    fprintf(f,
"usage: rtmp-client -a APP -n NAME [options]\n"
"  -H, --host HOST       server host (default 127.0.0.1)\n"
"  -p, --port PORT       server port (default 1935)\n"
"  -a, --app APP         application sent in connect (may contain ?args)\n"
"  -t, --tcurl URL       tcUrl (default rtmp://HOST:PORT/APP)\n"
"  -n, --name NAME       stream name for publish/play (may contain ?args)\n"
"  -P, --play            play instead of publish\n"
"      --tags N          publish: media tags to send (default 10 without\n"
"                        --duration); play: stop after N media messages\n"
"      --duration MS     publish at real-time pace, or play, for MS ms\n"
"      --bitrate KBPS    publish: approximate bitrate (default 50)\n"
"      --metadata K=V,.. publish: onMetaData fields (numbers, true/false,\n"
"                        null or strings; backslash escapes , and =)\n"
"      --no-metadata     publish: send no @setDataFrame\n"
"      --chunk-size N    outbound chunk size (default 128)\n"
"      --long-string     send the stream name as an AMF0 long string\n"
"      --timeout MS      max wait for each server answer (default 5000)\n"
"      --idle MS         connect, then only pings for MS ms: no publish\n"
"                        or play (exit 0, or 4 if the server closes)\n"
"  -v, --verbose         protocol trace on stderr\n"
"  -h, --help            this help\n");
}


/*
 * --idle MS: after connect, neither publish nor play: a ping every second
 * until MS have passed (exit 0) or the server closes (EXIT_DROPPED)
 */

static int
idle_loop(void)
{
    int      rc;
    int64_t  end, next;
    uint8_t  ts[4];

    st.t_cmd = now_ms();
    end = st.t_cmd + cf.idle;

    while (!st.eof && now_ms() < end) {
        next = now_ms() + 1000;

        ts[0] = ts[1] = ts[2] = ts[3] = 0;

        rc = send_user_control(6, ts, sizeof(ts));    /* PingRequest */
        if (rc != RC_OK) {
            break;
        }

        rc = service(next < end ? next : end);
        if (rc != RC_OK) {
            break;
        }
    }

    if (st.eof) {
        return finish(EXIT_DROPPED);
    }

    return finish(EXIT_STARTED);
}


static long
parse_num(const char *opt, const char *s, long min, long max)
{
    long   v;
    char  *end;

    errno = 0;
    v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || errno || v < min || v > max) {
        logerr("invalid %s value \"%s\"", opt, s);
        exit(EXIT_PROTOCOL);
    }

    return v;
}


int
main(int argc, char **argv)
{
    int  c, rc;

    enum {
        OPT_TAGS = 256,
        OPT_DURATION,
        OPT_BITRATE,
        OPT_METADATA,
        OPT_NO_METADATA,
        OPT_CHUNK_SIZE,
        OPT_LONG_STRING,
        OPT_TIMEOUT,
        OPT_IDLE
    };

    static const struct option  opts[] = {
        { "host", required_argument, NULL, 'H' },
        { "port", required_argument, NULL, 'p' },
        { "app", required_argument, NULL, 'a' },
        { "tcurl", required_argument, NULL, 't' },
        { "name", required_argument, NULL, 'n' },
        { "play", no_argument, NULL, 'P' },
        { "tags", required_argument, NULL, OPT_TAGS },
        { "duration", required_argument, NULL, OPT_DURATION },
        { "bitrate", required_argument, NULL, OPT_BITRATE },
        { "metadata", required_argument, NULL, OPT_METADATA },
        { "no-metadata", no_argument, NULL, OPT_NO_METADATA },
        { "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
        { "long-string", no_argument, NULL, OPT_LONG_STRING },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "idle", required_argument, NULL, OPT_IDLE },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    avc_idr_init();

    cf.host = "127.0.0.1";
    cf.port = "1935";
    cf.tags = -1;
    cf.duration = -1;
    cf.bitrate = 50;
    cf.chunk_size = 128;
    cf.timeout = 5000;

    while ((c = getopt_long(argc, argv, "H:p:a:t:n:Pvh", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            cf.host = optarg;
            break;
        case 'p':
            cf.port = optarg;
            break;
        case 'a':
            cf.app = optarg;
            break;
        case 't':
            cf.tcurl = optarg;
            break;
        case 'n':
            cf.name = optarg;
            break;
        case 'P':
            cf.play = 1;
            break;
        case OPT_TAGS:
            cf.tags = parse_num("--tags", optarg, 0, 100000000);
            break;
        case OPT_DURATION:
            cf.duration = parse_num("--duration", optarg, 0, 86400000);
            break;
        case OPT_IDLE:
            cf.idle = parse_num("--idle", optarg, 1, 86400000);
            break;
        case OPT_BITRATE:
            cf.bitrate = parse_num("--bitrate", optarg, 0, MAX_BITRATE);
            break;
        case OPT_METADATA:
            cf.metadata = optarg;
            break;
        case OPT_NO_METADATA:
            cf.no_metadata = 1;
            break;
        case OPT_CHUNK_SIZE:
            cf.chunk_size = (uint32_t) parse_num("--chunk-size", optarg, 1,
                                                 0x7fffffff);
            break;
        case OPT_LONG_STRING:
            cf.long_string = 1;
            break;
        case OPT_TIMEOUT:
            cf.timeout = parse_num("--timeout", optarg, 1, 3600000);
            break;
        case 'v':
            cf.verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_PROTOCOL;
        }
    }

    if (optind != argc || cf.app == NULL || cf.name == NULL) {
        usage(stderr);
        return EXIT_PROTOCOL;
    }

    cf.name_len = strlen(cf.name);
    if (cf.name_len > MAX_NAME) {
        logerr("stream name too long");
        return EXIT_PROTOCOL;
    }

    st.fd = -1;
    st.out_chunk = RTMP_DEFAULT_CHUNK;
    rtmp_reader_init(&st.in, MAX_MESSAGE, MAX_IN_STREAMS);
    st.next_tid = 1;
    st.t_conn = now_ms();

    rc = net_connect();
    if (rc != RC_OK) {
        st.eof = 1;
        st.eof_by_server = 1;
        st.t_closed = now_ms();
        return finish(rc == RC_TIMEOUT ? EXIT_TIMEOUT : EXIT_PROTOCOL);
    }

    rc = handshake();
    if (rc != RC_OK) {
        return failed(rc);
    }

    if (cf.chunk_size != RTMP_DEFAULT_CHUNK) {
        rc = send_control(RTMP_MSG_CHUNK_SIZE, cf.chunk_size);
        if (rc != RC_OK) {
            return failed(rc);
        }
        st.out_chunk = cf.chunk_size;
    }

    rc = request(send_connect, cond_connected);
    if (rc != RC_OK || st.rejected) {
        return failed(rc);
    }

    if (st.connected < 0) {
        drain(DRAIN_MS);
        return finish(EXIT_PROTOCOL);
    }

    if (cf.idle) {
        return idle_loop();
    }

    if (!cf.play) {
        rc = send_name_command("releaseStream");
        if (rc == RC_OK) {
            rc = send_name_command("FCPublish");
        }
        if (rc != RC_OK) {
            return failed(rc);
        }
    }

    rc = request(send_create_stream, cond_created);
    if (rc != RC_OK || st.rejected) {
        return failed(rc);
    }

    if (st.created < 0) {
        drain(DRAIN_MS);
        return finish(st.rejected ? EXIT_REJECTED : EXIT_PROTOCOL);
    }

    if (cf.play) {
        rc = send_set_buflen();
        if (rc != RC_OK) {
            return failed(rc);
        }
    }

    st.t_cmd = now_ms();

    rc = request(send_stream_command, cond_started);
    if (rc != RC_OK || st.rejected) {
        return failed(rc);
    }

    return cf.play ? play_loop() : publish_loop();
}
