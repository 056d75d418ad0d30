
/*
 * jws_sign.h -- JWS compact serialisation and signing with OpenSSL EVP, for
 * the project's token tools: scripts/compliance-token.c (sign, and the keys
 * of publish/play) and bench/loadgen.c (mint).
 *
 * One copy of: the algorithm table (HS256/384/512, RS256/384/512,
 * ES256/384/512, EdDSA, none) with each algorithm's digest and, for ES,
 * the curve JWS requires; private keys from the bytes of a key file (HS:
 * the bytes less one final LF or CRLF, as the module reads
 * compliance_key; RS, ES and EdDSA: an unencrypted PEM private key of the
 * right type, Ed25519 for EdDSA); signatures (ES: OpenSSL's DER
 * ECDSA-Sig-Value turned into the raw R || S of JWS; EdDSA: the 64 bytes
 * of Ed25519, RFC 8037); the default header; unpadded base64url both
 * ways.
 *
 * No file I/O and no output: the callers read the key files and print.
 * A failure returns JWS_ERROR and fills a jws_err_t: its text says what
 * went wrong, and openssl is set when OpenSSL's error queue (left as it
 * is for the caller) says more.
 */


#ifndef JWS_SIGN_H
#define JWS_SIGN_H


#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>


#define JWS_OK                  0
#define JWS_ERROR              -1

/* jws_key_load() flags */
#define JWS_RAW_SECRET          0x01    /* HS: every byte, nothing stripped */

/* the unpadded base64url length of n bytes; what n bytes decode to at most */
#define JWS_B64URL_LEN(n)       (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))
#define JWS_B64URL_DECODED(n)   ((n) / 4 * 3 + 3)


typedef enum {
    JWS_KIND_NONE = 0,
    JWS_KIND_HMAC,
    JWS_KIND_RSA,
    JWS_KIND_EC,
    JWS_KIND_OKP                        /* EdDSA with Ed25519 */
} jws_kind_e;


typedef struct {
    const char             *name;
    jws_kind_e              kind;
    const EVP_MD         *(*md)(void);  /* EdDSA: NULL, none */
    int                     curve_nid;  /* ES: the curve JWS requires */
    size_t                  half;       /* ES: bytes of R and of S */
} jws_alg_t;


typedef struct {
    const jws_alg_t        *alg;
    const uint8_t          *secret;     /* HS: the caller's bytes */
    size_t                  secret_len;
    EVP_PKEY               *pkey;       /* the HMAC key or the private key */
    int                     curve_nid;  /* ES: the key's curve */
    size_t                  ec_half;    /* ES: R, S bytes for the key's curve */
} jws_key_t;


typedef struct {
    int                     openssl;    /* OpenSSL's error queue says more */
    char                    text[256];
} jws_err_t;


/* the algorithm of that JWS name, or NULL */
const jws_alg_t *jws_alg(const char *name);

/*
 * A signing key for alg from the bytes of a key file; name is the file's,
 * for the messages.  HS keeps a pointer to data: data must outlive the
 * key.  ES keys on another curve than alg's are loaded (sign forges such
 * tokens); jws_key_check_curve() tells them.  jws_key_free() after a
 * failure too.
 */

int jws_key_load(jws_key_t *key, const jws_alg_t *alg, const uint8_t *data,
    size_t len, unsigned flags, const char *name, jws_err_t *err);
int jws_key_check_curve(const jws_key_t *key, const char *name,
    jws_err_t *err);
void jws_key_free(jws_key_t *key);

/*
 * The signature of in (the JWS signing input), malloc()ed into *sig; none:
 * an empty one.  ES signatures are raw R || S of the key's curve size.
 */

int jws_sign(const jws_key_t *key, const uint8_t *in, size_t len,
    uint8_t **sig, size_t *siglen, jws_err_t *err);
int jws_ecdsa_der_to_raw(const uint8_t *der, size_t len, size_t half,
    uint8_t *raw, jws_err_t *err);

/*
 * The compact serialisation b64url(header) "." b64url(claims) "."
 * b64url(signature), malloc()ed and NUL-terminated into *token; header
 * and claims are taken byte for byte.
 */

int jws_compact(const jws_key_t *key, const void *header, size_t hlen,
    const void *claims, size_t clen, char **token, size_t *len,
    jws_err_t *err);

/*
 * The default header {"alg":"ALG","typ":"JWT"} and, with a kid,
 * ,"kid":"KID" (escaped as a JSON string) before the "}".  Written
 * snprintf()-like: returns the length it needs, writes at most size bytes
 * with the NUL.
 */

size_t jws_header(char *out, size_t size, const char *alg, const char *kid);

/* unpadded base64url: out gets JWS_B64URL_LEN(n) bytes, and no NUL */
size_t jws_b64url_encode(char *out, const uint8_t *in, size_t n);
/* the 6-bit value of a base64url character, or -1 */
int jws_b64url_value(int c);
/*
 * strict unpadded base64url into out (JWS_B64URL_DECODED(len) bytes);
 * NULL, or why not
 */
const char *jws_b64url_decode(uint8_t *out, size_t *outlen, const char *in,
    size_t len);


#endif /* JWS_SIGN_H */
