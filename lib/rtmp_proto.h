
/*
 * rtmp_proto.h -- the RTMP protocol of the project's own clients, the test
 * suite's t/client/rtmp_client.c and the benchmark's bench/loadgen.c.
 *
 * One copy of what both speak: the simple (digest-less) handshake, the
 * chunk stream in both directions (basic headers of 1, 2 and 3 bytes, so
 * chunk stream ids 2..65599; message headers of type 0 to 3; extended
 * timestamps, repeated on every type 3 chunk of a message that has one),
 * protocol and user control messages, and AMF0 (writers, and a reader that
 * builds a tree of values from a node pool the caller gives).
 *
 * It works on buffers only: no sockets, no clocks, no output.  A caller
 * appends messages to an rtmp_buf_t and sends its bytes; it reads bytes
 * into memory of its own and hands them to rtmp_read_message(), which
 * takes whole chunks only and returns one complete message at a time.
 * Errors are return codes; where there is more to say, the reader leaves a
 * message in r->error for the caller to print.
 */


#ifndef RTMP_PROTO_H
#define RTMP_PROTO_H


#include <stddef.h>
#include <stdint.h>


#define RTMP_OK                 0
#define RTMP_ERROR             -1
#define RTMP_AGAIN             -2

#define RTMP_VERSION            3
#define RTMP_HANDSHAKE_SIZE     1536
#define RTMP_C0C1_SIZE          (1 + RTMP_HANDSHAKE_SIZE)
#define RTMP_S0S1S2_SIZE        (1 + 2 * RTMP_HANDSHAKE_SIZE)

#define RTMP_DEFAULT_CHUNK      128
#define RTMP_MIN_CSID           2
#define RTMP_MAX_CSID           65599
#define RTMP_MAX_LENGTH         0xffffff    /* a message header's length */
#define RTMP_CHUNK_HEADER_MAX   18          /* 3 + 11 + 4 */

/* protocol control and user control messages go on chunk stream 2 */
#define RTMP_CSID_CONTROL       2

#define RTMP_MSG_CHUNK_SIZE     1
#define RTMP_MSG_ABORT          2
#define RTMP_MSG_ACK            3
#define RTMP_MSG_USER           4
#define RTMP_MSG_ACK_SIZE       5
#define RTMP_MSG_BANDWIDTH      6
#define RTMP_MSG_AUDIO          8
#define RTMP_MSG_VIDEO          9
#define RTMP_MSG_AMF3_DATA      15
#define RTMP_MSG_AMF3_CMD       17
#define RTMP_MSG_AMF0_DATA      18
#define RTMP_MSG_AMF0_CMD       20
#define RTMP_MSG_AGGREGATE      22

#define RTMP_UC_STREAM_BEGIN    0
#define RTMP_UC_SET_BUFLEN      3
#define RTMP_UC_PING_REQUEST    6
#define RTMP_UC_PING_RESPONSE   7

#define RTMP_AMF_NUMBER         0x00
#define RTMP_AMF_BOOLEAN        0x01
#define RTMP_AMF_STRING         0x02
#define RTMP_AMF_OBJECT         0x03
#define RTMP_AMF_NULL           0x05
#define RTMP_AMF_UNDEFINED      0x06
#define RTMP_AMF_REFERENCE      0x07
#define RTMP_AMF_ECMA_ARRAY     0x08
#define RTMP_AMF_OBJECT_END     0x09
#define RTMP_AMF_STRICT_ARRAY   0x0a
#define RTMP_AMF_DATE           0x0b
#define RTMP_AMF_LONG_STRING    0x0c
#define RTMP_AMF_XML_DOC        0x0f
#define RTMP_AMF_TYPED_OBJECT   0x10

#define RTMP_AMF_MAX_DEPTH      32


/*
 * An output buffer.  All zero is an empty buffer that grows with malloc;
 * rtmp_buf_init() over the caller's memory makes one that never grows.  An
 * append that does not fit sets failed and appends nothing: write
 * everything, then check failed once.
 */

typedef struct {
    uint8_t                *data;
    size_t                  len;
    size_t                  cap;
    unsigned                fixed:1;    /* data is the caller's memory */
    unsigned                failed:1;   /* an append did not fit */
} rtmp_buf_t;


/* one incoming chunk stream: the last header and the message so far */

typedef struct {
    uint32_t                csid;
    uint32_t                timestamp;
    uint32_t                delta;
    uint32_t                length;
    uint32_t                received;
    uint32_t                msid;
    uint8_t                 type;
    uint8_t                 ext;        /* the header had an extended ts */
    uint8_t                *buf;
    size_t                  cap;
} rtmp_chunk_stream_t;


typedef struct {
    uint32_t                chunk_size;     /* the peer's, bytes */
    uint32_t                max_message;    /* bytes */
    unsigned                max_streams;
    unsigned                nstreams;
    unsigned                nalloc;
    rtmp_chunk_stream_t    *streams;
    char                    error[80];      /* why RTMP_ERROR */
} rtmp_chunk_reader_t;


/* a complete message; data is valid until the next call on the reader */

typedef struct {
    uint32_t                csid;
    uint32_t                msid;
    uint32_t                timestamp;
    uint8_t                 type;
    const uint8_t          *data;
    size_t                  len;
} rtmp_message_t;


typedef struct rtmp_amf_s  rtmp_amf_t;

struct rtmp_amf_s {
    int                     type;
    double                  num;        /* number, boolean, date */
    const uint8_t          *str;        /* strings, a typed object's class */
    size_t                  len;
    const uint8_t          *key;        /* the name of an object member */
    size_t                  klen;
    rtmp_amf_t             *child;      /* object members, array values */
    rtmp_amf_t             *next;
};


/* big and little endian numbers in memory */

uint32_t rtmp_get_be16(const uint8_t *p);
uint32_t rtmp_get_be24(const uint8_t *p);
uint32_t rtmp_get_be32(const uint8_t *p);
uint32_t rtmp_get_le32(const uint8_t *p);
double rtmp_get_double(const uint8_t *p);
void rtmp_set_be32(uint8_t *p, uint32_t v);

void rtmp_buf_init(rtmp_buf_t *b, uint8_t *mem, size_t size);
int rtmp_buf_reserve(rtmp_buf_t *b, size_t n);
void rtmp_buf_put(rtmp_buf_t *b, const void *p, size_t n);
void rtmp_buf_byte(rtmp_buf_t *b, uint8_t c);
void rtmp_buf_fill(rtmp_buf_t *b, uint8_t c, size_t n);
void rtmp_buf_be16(rtmp_buf_t *b, uint32_t v);
void rtmp_buf_be24(rtmp_buf_t *b, uint32_t v);
void rtmp_buf_be32(rtmp_buf_t *b, uint32_t v);
void rtmp_buf_le32(rtmp_buf_t *b, uint32_t v);
void rtmp_buf_free(rtmp_buf_t *b);

/*
 * The handshake.  C0 and C1 (time 0 and zero 0: the simple handshake, the
 * rest pseudo-random from seed) into c0c1[RTMP_C0C1_SIZE].  S0 S1 S2 in
 * p: RTMP_AGAIN until all RTMP_S0S1S2_SIZE bytes are there, RTMP_ERROR if
 * S0 is not version 3, RTMP_OK with *s1 at S1, which C2 echoes.
 */

void rtmp_handshake_c0c1(uint8_t *c0c1, uint32_t seed);
int rtmp_handshake_s0s1s2(const uint8_t *p, size_t len, const uint8_t **s1);

/*
 * Appends a message as chunks of chunk_size bytes: a type 0 chunk, then
 * type 3 ones.  RTMP_ERROR (nothing appended): len > RTMP_MAX_LENGTH or a
 * csid outside 2..65599.
 */

int rtmp_chunk_message(rtmp_buf_t *b, uint32_t chunk_size, uint32_t csid,
    uint8_t type, uint32_t msid, uint32_t ts, const uint8_t *data,
    size_t len);

/* Set Chunk Size, Acknowledgement, Window Acknowledgement Size */
void rtmp_control(rtmp_buf_t *b, uint32_t chunk_size, uint8_t type,
    uint32_t value);
/* a user control event with its data (at most 14 bytes: more is cut) */
void rtmp_user_control(rtmp_buf_t *b, uint32_t chunk_size, uint16_t event,
    const uint8_t *data, size_t len);

/*
 * The reader of the peer's chunk stream.  rtmp_read_message() consumes
 * whole chunks from p (*used bytes; the caller keeps the rest for the next
 * call) until a message is complete: RTMP_OK and *m; RTMP_AGAIN: more
 * bytes are needed; RTMP_ERROR: a protocol error, r->error says which.
 * rtmp_reader_control() applies a Set Chunk Size or an Abort message to
 * the reader (any other message is left alone).
 */

void rtmp_reader_init(rtmp_chunk_reader_t *r, uint32_t max_message,
    unsigned max_streams);
void rtmp_reader_reset(rtmp_chunk_reader_t *r);
void rtmp_reader_free(rtmp_chunk_reader_t *r);
int rtmp_read_message(rtmp_chunk_reader_t *r, const uint8_t *p, size_t len,
    size_t *used, rtmp_message_t *m);
int rtmp_reader_control(rtmp_chunk_reader_t *r, const rtmp_message_t *m);

/* AMF0 values */

void rtmp_amf_number(rtmp_buf_t *b, double d);
void rtmp_amf_boolean(rtmp_buf_t *b, int v);
void rtmp_amf_null(rtmp_buf_t *b);
/* a string, a long string if longer than 0xffff bytes or if force_long */
void rtmp_amf_string(rtmp_buf_t *b, const char *s, size_t len,
    int force_long);
void rtmp_amf_str(rtmp_buf_t *b, const char *s);
/* a command's name, its transaction id and a null command object */
void rtmp_amf_command(rtmp_buf_t *b, const char *name, double tid);
/* an object member's name (at most 0xffff bytes: longer is cut) */
void rtmp_amf_key(rtmp_buf_t *b, const char *key, size_t len);
void rtmp_amf_object(rtmp_buf_t *b);
void rtmp_amf_ecma_array(rtmp_buf_t *b, uint32_t count);
void rtmp_amf_object_end(rtmp_buf_t *b);

/*
 * Decodes up to max values from p into vals, with nodes from pool (npool
 * of them); stops quietly at the first malformed value, at one nested
 * deeper than RTMP_AMF_MAX_DEPTH, or when the pool is used up.  Returns
 * the number of values decoded.  An unterminated object at the end of p is
 * taken as it is.
 */

int rtmp_amf_read(const uint8_t *p, size_t len, rtmp_amf_t *pool,
    size_t npool, rtmp_amf_t **vals, int max);
int rtmp_amf_is_string(const rtmp_amf_t *n);
int rtmp_amf_is_object(const rtmp_amf_t *n);
int rtmp_amf_str_eq(const rtmp_amf_t *n, const char *s);
rtmp_amf_t *rtmp_amf_member(const rtmp_amf_t *obj, const char *key);
/* a string value into out (cut to size - 1 bytes, NUL-terminated) */
int rtmp_amf_copy(const rtmp_amf_t *n, char *out, size_t size);


#endif /* RTMP_PROTO_H */
