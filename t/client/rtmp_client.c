
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
 * Build: cc -O2 -g -Wall -Wextra -o build/rtmp-client t/client/rtmp_client.c
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


#define EXIT_STARTED        0
#define EXIT_REJECTED       1
#define EXIT_PROTOCOL       2
#define EXIT_TIMEOUT        3
#define EXIT_DROPPED        4

#define RC_OK               0
#define RC_TIMEOUT         -1
#define RC_CLOSED          -2
#define RC_PROTOCOL        -3

#define HANDSHAKE_SIZE      1536
#define MAX_CSID            65599
#define MAX_IN_STREAMS      256
#define MAX_MESSAGE         (16 * 1024 * 1024)
#define RBUF_INITIAL        65536
#define RBUF_MAX            (MAX_MESSAGE + 64)
#define MAX_NAME            (16 * 1024 * 1024)
#define MAX_BITRATE         200000
#define DRAIN_MS            1000

#define AMF_MAX_NODES       8192
#define AMF_MAX_DEPTH       32
#define AMF_MAX_VALUES      32

#define CSID_CONTROL        2
#define CSID_COMMAND        3
#define CSID_AUDIO          4
#define CSID_DATA           5
#define CSID_VIDEO          6
#define CSID_STREAM         8

#define MSG_CHUNK_SIZE      1
#define MSG_ABORT           2
#define MSG_ACK             3
#define MSG_USER            4
#define MSG_ACK_SIZE        5
#define MSG_BANDWIDTH       6
#define MSG_AUDIO           8
#define MSG_VIDEO           9
#define MSG_AMF3_DATA       15
#define MSG_AMF3_CMD        17
#define MSG_AMF0_DATA       18
#define MSG_AMF0_CMD        20
#define MSG_AGGREGATE       22

#define UC_STREAM_BEGIN     0
#define UC_SET_BUFLEN       3
#define UC_PING_REQUEST     6
#define UC_PING_RESPONSE    7

#define AMF_NUMBER          0x00
#define AMF_BOOLEAN         0x01
#define AMF_STRING          0x02
#define AMF_OBJECT          0x03
#define AMF_NULL            0x05
#define AMF_UNDEFINED       0x06
#define AMF_REFERENCE       0x07
#define AMF_ECMA_ARRAY      0x08
#define AMF_OBJECT_END      0x09
#define AMF_STRICT_ARRAY    0x0a
#define AMF_DATE            0x0b
#define AMF_LONG_STRING     0x0c
#define AMF_XML_DOC         0x0f
#define AMF_TYPED_OBJECT    0x10

#define VIDEO_FPS           25
#define VIDEO_GOP           25
#define AUDIO_RATE          44100
#define AUDIO_SAMPLES       1024


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
    long             bitrate;       /* kbit/s */
    const char      *metadata;
    int              no_metadata;
    uint32_t         chunk_size;
    int              long_string;
    long             timeout;       /* ms */
    int              verbose;
} conf_t;


typedef struct {
    uint32_t         timestamp;
    uint32_t         delta;
    uint32_t         length;
    uint32_t         received;
    uint32_t         msid;
    uint8_t          type;
    uint8_t          ext;
    uint8_t         *buf;
} in_stream_t;


typedef struct {
    int              fd;

    uint8_t         *rbuf;
    size_t           rpos;
    size_t           rlast;
    size_t           rcap;

    uint64_t         in_bytes;
    uint64_t         in_last_ack;
    uint32_t         ack_window;
    uint32_t         in_chunk;
    uint32_t         out_chunk;

    in_stream_t     *in[MAX_CSID + 1];
    unsigned         nin;

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


typedef struct {
    uint8_t         *data;
    size_t           len;
    size_t           cap;
} buf_t;


typedef struct amf_node_s  amf_node_t;

struct amf_node_s {
    int              type;
    double           num;
    const uint8_t   *str;
    size_t           len;
    const uint8_t   *key;
    size_t           klen;
    amf_node_t      *child;
    amf_node_t      *next;
};


static conf_t       cf;
static state_t      st;
static amf_node_t   amf_pool[AMF_MAX_NODES];
static int          amf_used;


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

static const uint8_t  avc_idr[] = {
    0x65, 0x88, 0x84, 0x0c, 0xff, 0xff, 0xfc, 0x3d, 0x14, 0x00,
    0x04, 0x5b, 0x7c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c,
    0x9c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c, 0x9c,
    0x9c, 0x9d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7,
    0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d,
    0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75,
    0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7,
    0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d,
    0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75,
    0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7,
    0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d,
    0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75,
    0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7,
    0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d,
    0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75,
    0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7,
    0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d,
    0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75,
    0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7,
    0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d,
    0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75,
    0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7,
    0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d,
    0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75,
    0xd7, 0x5e,
};

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
logv(const char *fmt, ...)
{
    va_list  args;

    if (!cf.verbose) {
        return;
    }

    va_start(args, fmt);
    fprintf(stderr, "rtmp-client: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
    va_end(args);
}


static void
logerr(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    fprintf(stderr, "rtmp-client: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
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


static uint32_t
get_be16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}


static uint32_t
get_be24(const uint8_t *p)
{
    return ((uint32_t) p[0] << 16) | ((uint32_t) p[1] << 8) | p[2];
}


static uint32_t
get_be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


static uint32_t
get_le32(const uint8_t *p)
{
    return ((uint32_t) p[3] << 24) | ((uint32_t) p[2] << 16)
           | ((uint32_t) p[1] << 8) | p[0];
}


static double
get_double(const uint8_t *p)
{
    int       i;
    double    d;
    uint64_t  v;

    v = 0;
    for (i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }

    memcpy(&d, &v, sizeof(d));

    return d;
}


/* output buffers */

static void
buf_reserve(buf_t *b, size_t n)
{
    size_t    cap;
    uint8_t  *p;

    if (b->len + n <= b->cap) {
        return;
    }

    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) {
        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        logerr("out of memory");
        exit(EXIT_PROTOCOL);
    }

    b->data = p;
    b->cap = cap;
}


static void
buf_put(buf_t *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
}


static void
buf_byte(buf_t *b, uint8_t c)
{
    buf_put(b, &c, 1);
}


static void
buf_fill(buf_t *b, uint8_t c, size_t n)
{
    buf_reserve(b, n);
    memset(b->data + b->len, c, n);
    b->len += n;
}


static void
buf_be16(buf_t *b, uint32_t v)
{
    uint8_t  p[2];

    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
    buf_put(b, p, 2);
}


static void
buf_be24(buf_t *b, uint32_t v)
{
    uint8_t  p[3];

    p[0] = (uint8_t) (v >> 16);
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) v;
    buf_put(b, p, 3);
}


static void
buf_be32(buf_t *b, uint32_t v)
{
    uint8_t  p[4];

    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
    buf_put(b, p, 4);
}


static void
buf_le32(buf_t *b, uint32_t v)
{
    uint8_t  p[4];

    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
    buf_put(b, p, 4);
}


static void
buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}


/* AMF0 encoding */

static void
amf_number(buf_t *b, double d)
{
    int       i;
    uint8_t   p[8];
    uint64_t  v;

    memcpy(&v, &d, sizeof(v));
    for (i = 7; i >= 0; i--) {
        p[i] = (uint8_t) v;
        v >>= 8;
    }

    buf_byte(b, AMF_NUMBER);
    buf_put(b, p, 8);
}


static void
amf_boolean(buf_t *b, int v)
{
    buf_byte(b, AMF_BOOLEAN);
    buf_byte(b, v ? 1 : 0);
}


static void
amf_null(buf_t *b)
{
    buf_byte(b, AMF_NULL);
}


static void
amf_string_n(buf_t *b, const char *s, size_t len, int force_long)
{
    if (len > 0xffff || force_long) {
        buf_byte(b, AMF_LONG_STRING);
        buf_be32(b, (uint32_t) len);

    } else {
        buf_byte(b, AMF_STRING);
        buf_be16(b, (uint32_t) len);
    }

    buf_put(b, s, len);
}


static void
amf_string(buf_t *b, const char *s)
{
    amf_string_n(b, s, strlen(s), 0);
}


static void
amf_name(buf_t *b)
{
    amf_string_n(b, cf.name, cf.name_len, cf.long_string);
}


static void
amf_key(buf_t *b, const char *key, size_t len)
{
    if (len > 0xffff) {
        len = 0xffff;
    }

    buf_be16(b, (uint32_t) len);
    buf_put(b, key, len);
}


static void
amf_object_end(buf_t *b)
{
    buf_be16(b, 0);
    buf_byte(b, AMF_OBJECT_END);
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

static void
put_basic_header(buf_t *b, unsigned fmt, uint32_t csid)
{
    if (csid < 64) {
        buf_byte(b, (uint8_t) ((fmt << 6) | csid));

    } else if (csid < 320) {
        buf_byte(b, (uint8_t) (fmt << 6));
        buf_byte(b, (uint8_t) (csid - 64));

    } else {
        buf_byte(b, (uint8_t) ((fmt << 6) | 1));
        buf_byte(b, (uint8_t) ((csid - 64) & 0xff));
        buf_byte(b, (uint8_t) ((csid - 64) >> 8));
    }
}


static int
send_message(uint32_t csid, uint8_t type, uint32_t msid, uint32_t ts,
    const uint8_t *data, size_t len)
{
    int     rc, ext;
    size_t  off, n;
    buf_t   b;

    if (len > 0xffffff) {
        logerr("message too large (%zu bytes)", len);
        return RC_PROTOCOL;
    }

    memset(&b, 0, sizeof(b));
    buf_reserve(&b, len + (len / st.out_chunk + 1) * 7 + 18);

    ext = (ts >= 0xffffff);

    put_basic_header(&b, 0, csid);
    buf_be24(&b, ext ? 0xffffff : ts);
    buf_be24(&b, (uint32_t) len);
    buf_byte(&b, type);
    buf_le32(&b, msid);
    if (ext) {
        buf_be32(&b, ts);
    }

    off = 0;

    for ( ;; ) {
        n = len - off;
        if (n > st.out_chunk) {
            n = st.out_chunk;
        }

        buf_put(&b, data + off, n);
        off += n;

        if (off >= len) {
            break;
        }

        put_basic_header(&b, 3, csid);
        if (ext) {
            buf_be32(&b, ts);
        }
    }

    rc = net_write(b.data, b.len);

    buf_free(&b);

    return rc;
}


static int
send_buf(uint32_t csid, uint8_t type, uint32_t msid, buf_t *b)
{
    int  rc;

    rc = send_message(csid, type, msid, 0, b->data, b->len);
    buf_free(b);

    return rc;
}


static int
send_control(uint8_t type, uint32_t value)
{
    uint8_t  p[4];

    p[0] = (uint8_t) (value >> 24);
    p[1] = (uint8_t) (value >> 16);
    p[2] = (uint8_t) (value >> 8);
    p[3] = (uint8_t) value;

    return send_message(CSID_CONTROL, type, 0, 0, p, 4);
}


static int
send_user_control(uint16_t event, const uint8_t *data, size_t len)
{
    uint8_t  p[16];

    if (len > sizeof(p) - 2) {
        len = sizeof(p) - 2;
    }

    p[0] = (uint8_t) (event >> 8);
    p[1] = (uint8_t) event;
    memcpy(p + 2, data, len);

    return send_message(CSID_CONTROL, MSG_USER, 0, 0, p, len + 2);
}


/* AMF0 decoding */

static amf_node_t *
amf_alloc(int type)
{
    amf_node_t  *n;

    if (amf_used >= AMF_MAX_NODES) {
        return NULL;
    }

    n = &amf_pool[amf_used++];
    memset(n, 0, sizeof(*n));
    n->type = type;

    return n;
}


static amf_node_t *amf_read_value(const uint8_t **pp, const uint8_t *end,
    int depth);


static int
amf_read_members(const uint8_t **pp, const uint8_t *end, int depth,
    amf_node_t *parent)
{
    size_t           klen;
    const uint8_t   *p, *key;
    amf_node_t      *v, *last;

    p = *pp;
    last = NULL;

    for ( ;; ) {

        if (end - p < 2) {
            /* unterminated object: accept what we have */
            p = end;
            break;
        }

        klen = get_be16(p);

        if (klen == 0 && (end - p == 2 || p[2] == AMF_OBJECT_END)) {
            p += (end - p == 2) ? 2 : 3;
            break;
        }

        p += 2;

        if ((size_t) (end - p) < klen) {
            return -1;
        }

        key = p;
        p += klen;

        v = amf_read_value(&p, end, depth + 1);
        if (v == NULL) {
            return -1;
        }

        v->key = key;
        v->klen = klen;

        if (last) {
            last->next = v;
        } else {
            parent->child = v;
        }

        last = v;
    }

    *pp = p;

    return 0;
}


static amf_node_t *
amf_read_value(const uint8_t **pp, const uint8_t *end, int depth)
{
    size_t           len;
    uint32_t         count, i;
    amf_node_t      *n, *v, *last;
    const uint8_t   *p;

    p = *pp;

    if (p >= end || depth > AMF_MAX_DEPTH) {
        return NULL;
    }

    n = amf_alloc(*p++);
    if (n == NULL) {
        return NULL;
    }

    switch (n->type) {

    case AMF_NUMBER:
        if (end - p < 8) {
            return NULL;
        }
        n->num = get_double(p);
        p += 8;
        break;

    case AMF_BOOLEAN:
        if (end - p < 1) {
            return NULL;
        }
        n->num = (*p != 0);
        p++;
        break;

    case AMF_STRING:
        if (end - p < 2) {
            return NULL;
        }
        len = get_be16(p);
        p += 2;
        if ((size_t) (end - p) < len) {
            return NULL;
        }
        n->str = p;
        n->len = len;
        p += len;
        break;

    case AMF_LONG_STRING:
    case AMF_XML_DOC:
        if (end - p < 4) {
            return NULL;
        }
        len = get_be32(p);
        p += 4;
        if ((size_t) (end - p) < len) {
            return NULL;
        }
        n->str = p;
        n->len = len;
        p += len;
        break;

    case AMF_NULL:
    case AMF_UNDEFINED:
        break;

    case AMF_REFERENCE:
        if (end - p < 2) {
            return NULL;
        }
        p += 2;
        break;

    case AMF_DATE:
        if (end - p < 10) {
            return NULL;
        }
        n->num = get_double(p);
        p += 10;
        break;

    case AMF_TYPED_OBJECT:
        if (end - p < 2) {
            return NULL;
        }
        len = get_be16(p);
        p += 2;
        if ((size_t) (end - p) < len) {
            return NULL;
        }
        n->str = p;
        n->len = len;
        p += len;
        if (amf_read_members(&p, end, depth, n) != 0) {
            return NULL;
        }
        break;

    case AMF_ECMA_ARRAY:
        if (end - p < 4) {
            return NULL;
        }
        p += 4;
        if (amf_read_members(&p, end, depth, n) != 0) {
            return NULL;
        }
        break;

    case AMF_OBJECT:
        if (amf_read_members(&p, end, depth, n) != 0) {
            return NULL;
        }
        break;

    case AMF_STRICT_ARRAY:
        if (end - p < 4) {
            return NULL;
        }
        count = get_be32(p);
        p += 4;
        if (count > (size_t) (end - p)) {
            return NULL;
        }
        last = NULL;
        for (i = 0; i < count; i++) {
            v = amf_read_value(&p, end, depth + 1);
            if (v == NULL) {
                return NULL;
            }
            if (last) {
                last->next = v;
            } else {
                n->child = v;
            }
            last = v;
        }
        break;

    default:
        /* movieclip, unsupported, recordset, AMF3 switch, garbage */
        return NULL;
    }

    *pp = p;

    return n;
}


/* decodes up to max top level values; stops quietly at the first error */

static int
amf_read_all(const uint8_t *p, size_t len, amf_node_t **vals, int max)
{
    int              n;
    const uint8_t   *end;

    amf_used = 0;
    end = p + len;

    for (n = 0; n < max && p < end; n++) {
        vals[n] = amf_read_value(&p, end, 0);
        if (vals[n] == NULL) {
            break;
        }
    }

    return n;
}


static int
amf_is_string(const amf_node_t *n)
{
    return n && (n->type == AMF_STRING || n->type == AMF_LONG_STRING);
}


static int
amf_is_object(const amf_node_t *n)
{
    return n && (n->type == AMF_OBJECT || n->type == AMF_ECMA_ARRAY
                 || n->type == AMF_TYPED_OBJECT);
}


static int
amf_str_eq(const amf_node_t *n, const char *s)
{
    size_t  len;

    len = strlen(s);

    return amf_is_string(n) && n->len == len && memcmp(n->str, s, len) == 0;
}


static amf_node_t *
amf_member(const amf_node_t *obj, const char *key)
{
    size_t       len;
    amf_node_t  *n;

    if (!amf_is_object(obj)) {
        return NULL;
    }

    len = strlen(key);

    for (n = obj->child; n; n = n->next) {
        if (n->klen == len && memcmp(n->key, key, len) == 0) {
            return n;
        }
    }

    return NULL;
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
    size_t   i, n;
    uint8_t  c;

    putchar('"');

    for (i = 0; i < len; i++) {
        c = p[i];

        switch (c) {
        case '"':
            fputs("\\\"", stdout);
            continue;
        case '\\':
            fputs("\\\\", stdout);
            continue;
        case '\n':
            fputs("\\n", stdout);
            continue;
        case '\r':
            fputs("\\r", stdout);
            continue;
        case '\t':
            fputs("\\t", stdout);
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
json_value(const amf_node_t *n)
{
    size_t             len;
    const amf_node_t  *c;

    switch (n->type) {

    case AMF_NUMBER:
    case AMF_DATE:
        json_number(n->num);
        break;

    case AMF_BOOLEAN:
        fputs(n->num ? "true" : "false", stdout);
        break;

    case AMF_STRING:
    case AMF_LONG_STRING:
    case AMF_XML_DOC:
        /* nginx-rtmp sends fixed-size, NUL padded strings (profile, level) */
        len = n->len;
        while (len && n->str[len - 1] == '\0') {
            len--;
        }
        json_string(n->str, len);
        break;

    case AMF_OBJECT:
    case AMF_ECMA_ARRAY:
    case AMF_TYPED_OBJECT:
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

    case AMF_STRICT_ARRAY:
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
print_field(const amf_node_t *n)
{
    size_t  i, len;
    int     c;

    if (n == NULL) {
        putchar('-');
        return;
    }

    if (!amf_is_string(n)) {
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
handle_status(const amf_node_t *info)
{
    const char        *start;
    const amf_node_t  *level, *code, *desc;

    level = amf_member(info, "level");
    code = amf_member(info, "code");
    desc = amf_member(info, "description");

    fputs("status: ", stdout);
    print_field(level);
    putchar(' ');
    print_field(code);
    if (desc && (!amf_is_string(desc) || desc->len)) {
        putchar(' ');
        print_field(desc);
    }
    putchar('\n');

    if (amf_str_eq(level, "error")) {
        st.rejected = 1;
        return;
    }

    start = cf.play ? "NetStream.Play.Start" : "NetStream.Publish.Start";

    if (amf_str_eq(code, start)) {
        st.started = 1;
    }
}


static void
print_metadata(const amf_node_t *obj)
{
    fputs("metadata: ", stdout);

    if (amf_is_object(obj)) {
        json_value(obj);
    } else {
        fputs("{}", stdout);
    }

    putchar('\n');
}


/* incoming messages */

static const amf_node_t *
find_object(amf_node_t **vals, int nvals, int from, int last)
{
    int                i;
    const amf_node_t  *found;

    found = NULL;

    for (i = from; i < nvals; i++) {
        if (amf_is_object(vals[i])) {
            found = vals[i];
            if (!last) {
                break;
            }
        }
    }

    return found;
}


static int
on_command(const uint8_t *p, size_t len)
{
    int                i, nvals, is_error;
    double             tid;
    amf_node_t        *vals[AMF_MAX_VALUES];
    const amf_node_t  *info, *code;

    nvals = amf_read_all(p, len, vals, AMF_MAX_VALUES);

    if (nvals < 1 || !amf_is_string(vals[0])) {
        logv("ignored a malformed command");
        return RC_OK;
    }

    tid = (nvals > 1 && vals[1]->type == AMF_NUMBER) ? vals[1]->num : 0;

    logv("command '%.*s' tid=%g", (int) vals[0]->len,
         (const char *) vals[0]->str, tid);

    is_error = amf_str_eq(vals[0], "_error");

    if (is_error || amf_str_eq(vals[0], "_result")) {

        info = find_object(vals, nvals, 2, 1);

        if (tid == st.tid_connect && st.connected == 0) {
            code = amf_member(info, "code");

            fputs("connect: ", stdout);
            if (amf_is_string(code) && code->len) {
                print_field(code);
            } else {
                fputs(is_error ? "_error" : "_result", stdout);
            }
            putchar('\n');

            st.connected = (is_error
                            || amf_str_eq(amf_member(info, "level"), "error"))
                           ? -1 : 1;
            return RC_OK;
        }

        if (tid == st.tid_create && st.created == 0) {

            if (!is_error) {
                for (i = 2; i < nvals; i++) {
                    if (vals[i]->type == AMF_NUMBER) {
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

    if (amf_str_eq(vals[0], "onStatus")) {
        info = find_object(vals, nvals, 1, 0);
        if (info) {
            handle_status(info);
        }
        return RC_OK;
    }

    return RC_OK;
}


static int
on_data(const uint8_t *p, size_t len)
{
    int                nvals;
    amf_node_t        *vals[AMF_MAX_VALUES];
    const amf_node_t  *info;

    nvals = amf_read_all(p, len, vals, AMF_MAX_VALUES);

    if (nvals < 1 || !amf_is_string(vals[0])) {
        logv("ignored a malformed data message");
        return RC_OK;
    }

    logv("data '%.*s'", (int) vals[0]->len, (const char *) vals[0]->str);

    if (amf_str_eq(vals[0], "onMetaData")) {
        print_metadata(nvals > 1 ? vals[1] : NULL);
        return RC_OK;
    }

    if (amf_str_eq(vals[0], "@setDataFrame")) {
        if (nvals > 1 && amf_str_eq(vals[1], "onMetaData")) {
            print_metadata(nvals > 2 ? vals[2] : NULL);
        } else {
            print_metadata(nvals > 1 ? vals[1] : NULL);
        }
        return RC_OK;
    }

    if (amf_str_eq(vals[0], "onStatus")) {
        info = find_object(vals, nvals, 1, 0);
        if (info) {
            handle_status(info);
        }
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
        size = get_be24(p + 1);
        ts = get_be24(p + 4) | ((uint32_t) p[7] << 24);

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
    uint32_t  v;

    logv("message type=%u msid=%u ts=%u len=%zu", type, msid, ts, len);

    switch (type) {

    case MSG_CHUNK_SIZE:
        if (len < 4) {
            return RC_PROTOCOL;
        }
        v = get_be32(p) & 0x7fffffff;
        if (v == 0) {
            logerr("server set chunk size 0");
            return RC_PROTOCOL;
        }
        st.in_chunk = v;
        return RC_OK;

    case MSG_ABORT:
        if (len >= 4) {
            v = get_be32(p);
            if (v <= MAX_CSID && st.in[v]) {
                free(st.in[v]->buf);
                st.in[v]->buf = NULL;
                st.in[v]->received = 0;
            }
        }
        return RC_OK;

    case MSG_ACK:
    case MSG_BANDWIDTH:
        return RC_OK;

    case MSG_ACK_SIZE:
        if (len >= 4) {
            st.ack_window = get_be32(p);
        }
        return RC_OK;

    case MSG_USER:
        if (len >= 6 && get_be16(p) == UC_PING_REQUEST) {
            return send_user_control(UC_PING_RESPONSE, p + 2, 4);
        }
        return RC_OK;

    case MSG_AUDIO:
        st.audio++;
        st.media_bytes += len;
        return RC_OK;

    case MSG_VIDEO:
        st.video++;
        st.media_bytes += len;
        return RC_OK;

    case MSG_AMF3_DATA:
        if (len > 0 && p[0] == 0) {
            return on_data(p + 1, len - 1);
        }
        return RC_OK;

    case MSG_AMF0_DATA:
        return on_data(p, len);

    case MSG_AMF3_CMD:
        if (len > 0 && p[0] == 0) {
            return on_command(p + 1, len - 1);
        }
        return RC_OK;

    case MSG_AMF0_CMD:
        return on_command(p, len);

    case MSG_AGGREGATE:
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
    size_t          avail, hlen, mhlen, need, size;
    uint8_t         fmt;
    uint32_t        csid, ts, length, msid, received;
    uint8_t         type, ext;
    const uint8_t  *p, *h;
    in_stream_t    *s;

    for ( ;; ) {
        p = st.rbuf + st.rpos;
        avail = st.rlast - st.rpos;

        if (avail < 1) {
            break;
        }

        fmt = p[0] >> 6;
        csid = p[0] & 0x3f;
        hlen = 1;

        if (csid == 0) {
            if (avail < 2) {
                break;
            }
            csid = 64 + p[1];
            hlen = 2;

        } else if (csid == 1) {
            if (avail < 3) {
                break;
            }
            csid = 64 + p[1] + ((uint32_t) p[2] << 8);
            hlen = 3;
        }

        mhlen = (fmt == 0) ? 11 : (fmt == 1) ? 7 : (fmt == 2) ? 3 : 0;

        if (avail < hlen + mhlen) {
            break;
        }

        s = st.in[csid];

        if (s == NULL) {
            if (st.nin >= MAX_IN_STREAMS) {
                logerr("too many chunk streams");
                return RC_PROTOCOL;
            }

            s = xmalloc(sizeof(in_stream_t));
            memset(s, 0, sizeof(in_stream_t));
            st.in[csid] = s;
            st.nin++;
        }

        h = p + hlen;
        ts = 0;
        length = s->length;
        type = s->type;
        msid = s->msid;

        if (fmt <= 2) {
            ts = get_be24(h);
            ext = (ts == 0xffffff);
        } else {
            ext = s->ext;
        }

        if (fmt <= 1) {
            length = get_be24(h + 3);
            type = h[6];
        }

        if (fmt == 0) {
            msid = get_le32(h + 7);
        }

        need = hlen + mhlen + (ext ? 4 : 0);
        if (avail < need) {
            break;
        }

        if (ext) {
            ts = get_be32(p + hlen + mhlen);
        }

        received = s->received;

        if (received && fmt != 3) {
            logerr("chunk type %u in the middle of a message", fmt);
            return RC_PROTOCOL;
        }

        if (length > MAX_MESSAGE) {
            logerr("message too large (%u bytes)", length);
            return RC_PROTOCOL;
        }

        size = length - received;
        if (size > st.in_chunk) {
            size = st.in_chunk;
        }

        if (avail < need + size) {
            if (need + size > RBUF_MAX) {
                logerr("chunk too large");
                return RC_PROTOCOL;
            }
            break;
        }

        /* the whole chunk is here: commit */

        if (received == 0) {
            switch (fmt) {
            case 0:
                s->timestamp = ts;
                s->delta = 0;
                break;
            case 1:
            case 2:
                s->delta = ts;
                s->timestamp += ts;
                break;
            default:
                s->timestamp += s->delta;
                break;
            }

            if (fmt <= 2) {
                s->ext = ext;
            }

            s->length = length;
            s->type = type;
            s->msid = msid;

            free(s->buf);
            s->buf = xmalloc(length);
        }

        if (size) {
            memcpy(s->buf + received, p + need, size);
        }

        s->received += (uint32_t) size;
        st.rpos += need + size;

        if (s->received == s->length) {
            s->received = 0;

            rc = on_message(s->type, s->msid, s->timestamp, s->buf,
                            s->length, 0);

            free(s->buf);
            s->buf = NULL;

            if (rc != RC_OK) {
                return rc;
            }
        }
    }

    if (st.ack_window && st.in_bytes - st.in_last_ack >= st.ack_window) {
        st.in_last_ack = st.in_bytes;
        rc = send_control(MSG_ACK, (uint32_t) st.in_bytes);
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
    buf_t   b;
    char   *tcurl;
    size_t  n;

    memset(&b, 0, sizeof(b));

    st.tid_connect = tid();

    amf_string(&b, "connect");
    amf_number(&b, st.tid_connect);

    buf_byte(&b, AMF_OBJECT);

    amf_key(&b, "app", 3);
    amf_string(&b, cf.app);

    amf_key(&b, "type", 4);
    amf_string(&b, "nonprivate");

    amf_key(&b, "flashVer", 8);
    amf_string(&b, "FMLE/3.0");

    amf_key(&b, "tcUrl", 5);

    if (cf.tcurl) {
        amf_string(&b, cf.tcurl);

    } else {
        n = strlen(cf.host) + strlen(cf.port) + strlen(cf.app) + 16;
        tcurl = xmalloc(n);
        snprintf(tcurl, n, "rtmp://%s:%s/%s", cf.host, cf.port, cf.app);
        amf_string(&b, tcurl);
        free(tcurl);
    }

    amf_object_end(&b);

    return send_buf(CSID_COMMAND, MSG_AMF0_CMD, 0, &b);
}


static int
send_name_command(const char *name)
{
    buf_t  b;

    memset(&b, 0, sizeof(b));

    amf_string(&b, name);
    amf_number(&b, tid());
    amf_null(&b);
    amf_name(&b);

    return send_buf(CSID_COMMAND, MSG_AMF0_CMD, 0, &b);
}


static int
send_create_stream(void)
{
    buf_t  b;

    memset(&b, 0, sizeof(b));

    st.tid_create = tid();

    amf_string(&b, "createStream");
    amf_number(&b, st.tid_create);
    amf_null(&b);

    return send_buf(CSID_COMMAND, MSG_AMF0_CMD, 0, &b);
}


static int
send_stream_command(void)
{
    buf_t  b;

    memset(&b, 0, sizeof(b));

    amf_string(&b, cf.play ? "play" : "publish");
    amf_number(&b, tid());
    amf_null(&b);
    amf_name(&b);

    if (!cf.play) {
        amf_string(&b, "live");
    }

    return send_buf(CSID_STREAM, MSG_AMF0_CMD, st.stream_id, &b);
}


static int
send_delete_stream(void)
{
    buf_t  b;

    memset(&b, 0, sizeof(b));

    amf_string(&b, "deleteStream");
    amf_number(&b, tid());
    amf_null(&b);
    amf_number(&b, st.stream_id);

    return send_buf(CSID_COMMAND, MSG_AMF0_CMD, 0, &b);
}


static int
send_set_buflen(void)
{
    uint8_t  p[8];
    uint32_t ms = 3000;

    p[0] = (uint8_t) (st.stream_id >> 24);
    p[1] = (uint8_t) (st.stream_id >> 16);
    p[2] = (uint8_t) (st.stream_id >> 8);
    p[3] = (uint8_t) st.stream_id;
    p[4] = (uint8_t) (ms >> 24);
    p[5] = (uint8_t) (ms >> 16);
    p[6] = (uint8_t) (ms >> 8);
    p[7] = (uint8_t) ms;

    return send_user_control(UC_SET_BUFLEN, p, 8);
}


/* metadata: "K=V,K=V"; a backslash escapes the next character */

static const char *
meta_token(const char *p, buf_t *out, int stop_eq)
{
    out->len = 0;

    while (*p && *p != ',' && !(stop_eq && *p == '=')) {
        if (*p == '\\' && p[1]) {
            p++;
        }
        buf_byte(out, (uint8_t) *p++);
    }

    return p;
}


static void
meta_value(buf_t *b, const char *v, size_t len)
{
    char    *end, tmp[64];
    double   d;

    if (len == 4 && memcmp(v, "true", 4) == 0) {
        amf_boolean(b, 1);
        return;
    }

    if (len == 5 && memcmp(v, "false", 5) == 0) {
        amf_boolean(b, 0);
        return;
    }

    if (len == 4 && memcmp(v, "null", 4) == 0) {
        amf_null(b);
        return;
    }

    if (len > 0 && len < sizeof(tmp)) {
        memcpy(tmp, v, len);
        tmp[len] = '\0';
        errno = 0;
        d = strtod(tmp, &end);
        if (*end == '\0' && errno == 0 && strchr("0123456789+-.", tmp[0])) {
            amf_number(b, d);
            return;
        }
    }

    amf_string_n(b, v, len, 0);
}


static int
send_metadata(void)
{
    int          n;
    size_t       count_off;
    buf_t        b, key, val;
    const char  *p;

    memset(&b, 0, sizeof(b));
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));

    amf_string(&b, "@setDataFrame");
    amf_string(&b, "onMetaData");

    buf_byte(&b, AMF_ECMA_ARRAY);
    count_off = b.len;
    buf_be32(&b, 0);

    if (cf.metadata == NULL) {
        amf_key(&b, "width", 5);
        amf_number(&b, 320);
        amf_key(&b, "height", 6);
        amf_number(&b, 240);
        amf_key(&b, "framerate", 9);
        amf_number(&b, VIDEO_FPS);
        amf_key(&b, "videocodecid", 12);
        amf_number(&b, 7);
        amf_key(&b, "audiocodecid", 12);
        amf_number(&b, 10);
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
                amf_key(&b, (const char *) key.data, key.len);
                meta_value(&b, val.data ? (const char *) val.data : "",
                           val.len);
                n++;
            }

            if (*p == ',') {
                p++;
            }
        }
    }

    amf_object_end(&b);

    /* the ECMA array count */
    b.data[count_off] = (uint8_t) (n >> 24);
    b.data[count_off + 1] = (uint8_t) (n >> 16);
    b.data[count_off + 2] = (uint8_t) (n >> 8);
    b.data[count_off + 3] = (uint8_t) n;

    buf_free(&key);
    buf_free(&val);

    return send_buf(CSID_DATA, MSG_AMF0_DATA, st.stream_id, &b);
}


/* media */

static int
send_media(uint8_t type, uint32_t ts, buf_t *b)
{
    int  rc;

    rc = send_message(type == MSG_AUDIO ? CSID_AUDIO : CSID_VIDEO, type,
                      st.stream_id, ts, b->data, b->len);

    if (rc == RC_OK) {
        if (type == MSG_AUDIO) {
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
put_nal(buf_t *b, const uint8_t *nal, size_t len)
{
    buf_be32(b, (uint32_t) len);
    buf_put(b, nal, len);
}


static int
send_video_header(buf_t *b)
{
    static const uint8_t  hdr[] = { 0x17, 0x00, 0x00, 0x00, 0x00 };

    buf_put(b, hdr, sizeof(hdr));

    /* AVCDecoderConfigurationRecord */
    buf_byte(b, 1);
    buf_byte(b, avc_sps[1]);
    buf_byte(b, avc_sps[2]);
    buf_byte(b, avc_sps[3]);
    buf_byte(b, 0xff);
    buf_byte(b, 0xe1);
    buf_be16(b, sizeof(avc_sps));
    buf_put(b, avc_sps, sizeof(avc_sps));
    buf_byte(b, 1);
    buf_be16(b, sizeof(avc_pps));
    buf_put(b, avc_pps, sizeof(avc_pps));

    return send_media(MSG_VIDEO, 0, b);
}


static int
send_video_frame(buf_t *b, unsigned long frame, uint32_t ts, size_t target)
{
    size_t    gop, filler;

    gop = frame % VIDEO_GOP;

    buf_byte(b, gop == 0 ? 0x17 : 0x27);
    buf_byte(b, 0x01);
    buf_be24(b, 0);

    if (gop == 0) {
        put_nal(b, avc_idr, sizeof(avc_idr));
    } else {
        put_nal(b, avc_p[(gop - 1) % (sizeof(avc_p) / sizeof(avc_p[0]))],
                sizeof(avc_p[0]));
    }

    /* pad with a filler data NAL unit: 4 bytes length, type, 0xff..., 0x80 */

    if (target >= b->len + 6) {
        filler = target - b->len - 4;
        buf_be32(b, (uint32_t) filler);
        buf_byte(b, 0x0c);
        buf_fill(b, 0xff, filler - 2);
        buf_byte(b, 0x80);
    }

    return send_media(MSG_VIDEO, ts, b);
}


static int
send_audio_header(buf_t *b)
{
    buf_byte(b, 0xaf);
    buf_byte(b, 0x00);
    buf_put(b, aac_config, sizeof(aac_config));

    return send_media(MSG_AUDIO, 0, b);
}


static int
send_audio_frame(buf_t *b, uint32_t ts)
{
    buf_byte(b, 0xaf);
    buf_byte(b, 0x01);
    buf_put(b, aac_silence, sizeof(aac_silence));

    return send_media(MSG_AUDIO, ts, b);
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


static int
publish_loop(void)
{
    int            rc, paced, vhdr, ahdr, video;
    long           limit;
    size_t         target;
    buf_t          b;
    int64_t        start, end, due, now;
    uint32_t       ts, vts, ats;
    unsigned long  sent, vframe, aframe;

    paced = (cf.duration >= 0);
    limit = (cf.tags >= 0) ? cf.tags : (paced ? -1 : 10);

    target = (size_t) (cf.bitrate * 1000 / 8);
    target = target > 300 ? (target - 300) / VIDEO_FPS : 0;

    memset(&b, 0, sizeof(b));

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
                rc = service(due < end ? due : end);
                if (rc != RC_OK) {
                    buf_free(&b);
                    return dropped(rc);
                }

                if (st.rejected) {
                    buf_free(&b);
                    return rejected();
                }
            }

            if (now >= end) {
                break;
            }
        }

        if (!vhdr) {
            rc = send_video_header(&b);
            vhdr = 1;

        } else if (!ahdr) {
            rc = send_audio_header(&b);
            ahdr = 1;

        } else if (video) {
            rc = send_video_frame(&b, vframe, ts, target);
            vframe++;

        } else {
            rc = send_audio_frame(&b, ts);
            aframe++;
        }

        if (rc != RC_OK) {
            buf_free(&b);
            return dropped(rc);
        }

        sent++;

        /* whatever the server said meanwhile */

        rc = service(now_ms());
        if (rc != RC_OK) {
            buf_free(&b);
            return dropped(rc);
        }

        if (st.rejected) {
            buf_free(&b);
            return rejected();
        }
    }

    buf_free(&b);

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
    int       rc, i;
    uint8_t   c0c1[1 + HANDSHAKE_SIZE];
    int64_t   deadline;

    c0c1[0] = 3;
    memset(c0c1 + 1, 0, 8);

    srand((unsigned) (time(NULL) ^ getpid()));
    for (i = 9; i < 1 + HANDSHAKE_SIZE; i++) {
        c0c1[i] = (uint8_t) rand();
    }

    rc = net_write(c0c1, sizeof(c0c1));
    if (rc != RC_OK) {
        return rc;
    }

    deadline = now_ms() + cf.timeout;

    while (st.rlast - st.rpos < 1 + 2 * HANDSHAKE_SIZE) {
        rc = net_read(deadline);
        if (rc < 0) {
            return rc;
        }
    }

    if (st.rbuf[st.rpos] != 3) {
        logerr("unexpected handshake version %u", st.rbuf[st.rpos]);
        return RC_PROTOCOL;
    }

    /* C2 echoes S1 */

    rc = net_write(st.rbuf + st.rpos + 1, HANDSHAKE_SIZE);
    if (rc != RC_OK) {
        return rc;
    }

    st.rpos += 1 + 2 * HANDSHAKE_SIZE;

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
"  -v, --verbose         protocol trace on stderr\n"
"  -h, --help            this help\n");
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
        OPT_TIMEOUT
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
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

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
    st.in_chunk = 128;
    st.out_chunk = 128;
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

    if (cf.chunk_size != 128) {
        rc = send_control(MSG_CHUNK_SIZE, cf.chunk_size);
        if (rc != RC_OK) {
            return failed(rc);
        }
        st.out_chunk = cf.chunk_size;
    }

    rc = send_connect();
    if (rc == RC_OK) {
        rc = wait_for(cond_connected, cf.timeout);
    }
    if (rc != RC_OK || st.rejected) {
        return failed(rc);
    }

    if (st.connected < 0) {
        drain(DRAIN_MS);
        return finish(EXIT_PROTOCOL);
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

    rc = send_create_stream();
    if (rc == RC_OK) {
        rc = wait_for(cond_created, cf.timeout);
    }
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

    rc = send_stream_command();
    if (rc == RC_OK) {
        rc = wait_for(cond_started, cf.timeout);
    }
    if (rc != RC_OK || st.rejected) {
        return failed(rc);
    }

    return cf.play ? play_loop() : publish_loop();
}
