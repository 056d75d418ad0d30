
/*
 * compliance-token: issue, forge and inspect JWTs for ngx_rtmp_compliance.
 *
 * It is both an operator tool (issue publish/play tokens for testing and
 * demos, inspect tokens) and the test suite's token forge: "sign" emits the
 * header and payload given on the command line byte for byte and signs
 * them with OpenSSL EVP directly, so hostile tokens (duplicated keys, odd
 * types, algorithm confusion, curve mismatches) can be produced exactly.
 * "publish" and "play" build the standard claims and sign them with libjwt,
 * the way a platform using libjwt would issue them (EdDSA, which libjwt
 * 1.10 does not have: the claims libjwt built, signed with OpenSSL).
 * "jwks" writes the JWKS (RFC 7517) of public keys, as a platform
 * publishes them.
 *
 * The algorithms, the keys, the signatures and base64url are
 * lib/jws_sign.c, which loadgen's "mint" uses too; this file is the
 * command line, the files and libjwt.
 *
 * Build (make tools):
 *   cc -O2 -g -Wall -Wextra -Ilib -o build/compliance-token \
 *       scripts/compliance-token.c lib/jws_sign.c -ljwt -ljansson -lcrypto
 */


#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <jwt.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cli.h"
#include "jws_sign.h"


#define CT_PROG             "compliance-token"

#define CT_OK               0
#define CT_ERROR            1
#define CT_USAGE            2

#define CT_KEY_MAX          (1024 * 1024)
#define CT_JSON_FILE_MAX    (16 * 1024 * 1024)
#define CT_TOKEN_MAX        (16 * 1024 * 1024)
#define CT_DEFAULT_TTL      3600
#define CT_JTI_BYTES        8


typedef struct {
    unsigned char      *data;
    size_t              len;
    size_t              cap;
} ct_buf_t;


typedef struct {
    ct_buf_t            file;           /* the key file's bytes */
    jws_key_t           jws;            /* HS: its secret is in file */
} ct_key_t;


/* the commands that sign, as the bits of an option's cmds */
#define CT_SIGN             0x01
#define CT_PUBLISH          0x02
#define CT_PLAY             0x04

#define CT_SIGNING          (CT_SIGN | CT_PUBLISH | CT_PLAY)
#define CT_CLAIMING         (CT_PUBLISH | CT_PLAY)

#define CT_OPTS_MAX         24


typedef struct {
    unsigned char       seen[CT_OPTS_MAX];

    const jws_alg_t    *alg;

    const char         *key_file;
    const char         *kid;
    const char         *header;
    const char         *header_file;
    const char         *claims;
    const char         *claims_file;
    const char         *room;
    const char         *sub;
    const char         *pid;
    const char         *op;
    const char         *mcn;
    const char         *tier;
    const char         *idv;
    const char         *iss;
    const char         *aud;
    const char         *jti;

    unsigned char       raw_secret;
    unsigned char       key_mismatch;
    unsigned char       ai;
    unsigned char       help;
    unsigned char       nbf_in_set;     /* --nbf-in given */

    long                ttl;
    long                nbf_in;

    long                iat;            /* set by ct_times() */
    long                exp;
    long                nbf;
} ct_opts_t;


/* adds a command's claims to jwt */
typedef int (*ct_claims_pt)(ct_opts_t *o, jwt_t *jwt);


static void ct_message(const char *fmt, va_list args);
static int ct_error(const char *fmt, ...);
static int ct_ossl_error(const char *fmt, ...);
static int ct_jws_error(const jws_err_t *err);
#define ct_usage_error(...)  cli_usage_error(CT_PROG, __VA_ARGS__)
static void ct_help(FILE *out);

static int ct_parse_long(const char *opt, const char *s, long *out);

static int ct_buf_reserve(ct_buf_t *b, size_t more);
static int ct_buf_add(ct_buf_t *b, const void *p, size_t n);
static int ct_buf_add_str(ct_buf_t *b, const char *s);
static void ct_buf_free(ct_buf_t *b);
static int ct_read_file(const char *path, size_t max, const char *what,
    ct_buf_t *out);

static int ct_parse_opts(const char *cmd, unsigned which, int argc,
    char **argv, ct_opts_t *o);
static int ct_option(void *opts, const char *cmd, int i);
static int ct_begin(const char *cmd, unsigned which, int argc,
    char **argv, ct_opts_t *o);

static int ct_load_key(ct_opts_t *o, ct_key_t *key);
static void ct_key_free(ct_key_t *key);

static int ct_jwt_token(ct_opts_t *o, ct_claims_pt claims);
static int ct_jwt_issue(ct_opts_t *o, ct_key_t *key, jwt_t *jwt);
static int ct_jws_issue(ct_opts_t *o, ct_key_t *key, jwt_t *jwt);
static int ct_jwt_add(jwt_t *jwt, const char *name, const char *val);
static int ct_jwt_add_int(jwt_t *jwt, const char *name, long val);
static int ct_times(ct_opts_t *o);
static int ct_time_add(time_t now, long delta, const char *opt, long *out);
static int ct_publish_claims(ct_opts_t *o, jwt_t *jwt);
static int ct_play_claims(ct_opts_t *o, jwt_t *jwt);

static int ct_decode_part(const char *label, const char *p, size_t len,
    ct_buf_t *out);
static int ct_print_json(const char *label, ct_buf_t *raw, json_t **parsed);
static void ct_print_raw(const unsigned char *p, size_t len);
static void ct_print_times(json_t *payload);

static int ct_cmd_sign(int argc, char **argv);
static int ct_cmd_publish(int argc, char **argv);
static int ct_cmd_play(int argc, char **argv);
static int ct_cmd_decode(int argc, char **argv);
static int ct_cmd_jwks(int argc, char **argv);
static json_t *ct_jwk(const char *kid, const char *path);
static int ct_jwk_b64(json_t *jwk, const char *name,
    const unsigned char *p, size_t len);
static int ct_jwk_bn(json_t *jwk, const char *name, EVP_PKEY *pkey,
    const char *param, size_t width);


/*
 * Every option of the signing commands: a value (a const char * of
 * ct_opts_t, but for --alg, --ttl and --nbf-in, which ct_option() reads)
 * or a flag (an unsigned char), and the commands that take it; a
 * command's options are given to getopt_long() in this order
 */

#define CT_ARG(field)   CLI_ARG(ct_opts_t, field)
#define CT_FLAG(field)  CLI_FLAG(ct_opts_t, field)

static const cli_opt_t  ct_options[CT_OPTS_MAX] = {
    { "alg", CT_ARG(alg), CT_SIGNING },
    { "key", CT_ARG(key_file), CT_SIGNING },
    { "kid", CT_ARG(kid), CT_SIGNING },
    { "raw-secret", CT_FLAG(raw_secret), CT_SIGNING },
    { "help", CT_FLAG(help), CT_SIGNING },
    { "allow-key-mismatch", CT_FLAG(key_mismatch), CT_SIGN },
    { "header", CT_ARG(header), CT_SIGN },
    { "header-file", CT_ARG(header_file), CT_SIGN },
    { "claims", CT_ARG(claims), CT_SIGN },
    { "claims-file", CT_ARG(claims_file), CT_SIGN },

    /* the claims of both publish and play tokens */
    { "room", CT_ARG(room), CT_CLAIMING },
    { "sub", CT_ARG(sub), CT_CLAIMING },
    { "ttl", CT_ARG(ttl), CT_CLAIMING },
    { "iss", CT_ARG(iss), CT_CLAIMING },
    { "aud", CT_ARG(aud), CT_CLAIMING },

    { "pid", CT_ARG(pid), CT_PUBLISH },
    { "op", CT_ARG(op), CT_PUBLISH },
    { "mcn", CT_ARG(mcn), CT_PUBLISH },
    { "tier", CT_ARG(tier), CT_PUBLISH },
    { "idv", CT_ARG(idv), CT_PUBLISH },
    { "ai", CT_FLAG(ai), CT_PUBLISH },
    { "nbf-in", CT_ARG(nbf_in), CT_PUBLISH },
    { "jti", CT_ARG(jti), CT_PUBLISH },
    { NULL, 0, 0, 0 }
};


static int  ct_stdin_used;


static const cli_command_t  ct_commands[] = {
    { "sign", ct_cmd_sign },
    { "publish", ct_cmd_publish },
    { "play", ct_cmd_play },
    { "decode", ct_cmd_decode },
    { "jwks", ct_cmd_jwks },
    { NULL, NULL }
};


int
main(int argc, char **argv)
{
    static const cli_t  cli = { CT_PROG, ct_commands, ct_help, NULL, NULL };

    return cli_main(&cli, argc, argv);
}


/*
 * the token alone on stdout; a warning on stderr where it is longer than
 * the stream keys some publishers can send (OBS Studio's and Debian's
 * librtmp: about 960 characters; docs/tokens.md)
 */

#define CT_TOKEN_WARN  900

static int
ct_print_token(const char *token)
{
    size_t  len;

    len = strlen(token);

    if (len > CT_TOKEN_WARN) {
        fprintf(stderr, CT_PROG ": warning: the token has %zu characters; "
                "OBS and librtmp publishers cannot send a stream key over "
                "about 960 (docs/tokens.md: keep it under %d)\n", len,
                CT_TOKEN_WARN);
    }

    if (printf("%s\n", token) < 0 || fflush(stdout) != 0) {
        return -1;
    }

    return 0;
}


static void
ct_help(FILE *out)
{
    fputs(
"usage:\n"
"  " CT_PROG " sign --alg ALG --key FILE [--kid ID]\n"
"        [--header JSON | --header-file FILE]\n"
"        [--claims JSON | --claims-file FILE]\n"
"        [--raw-secret] [--allow-key-mismatch]\n"
"  " CT_PROG " publish --alg ALG --key FILE [--kid ID] --room R --sub S\n"
"        --pid P --op O --tier T --idv METHOD [--mcn M] [--ai]\n"
"        [--ttl SECONDS] [--nbf-in SECONDS] [--iss S] [--aud S] [--jti ID]\n"
"        [--raw-secret]\n"
"  " CT_PROG " play --alg ALG --key FILE [--kid ID] --room R [--sub S]\n"
"        [--ttl SECONDS] [--iss S] [--aud S] [--raw-secret]\n"
"  " CT_PROG " decode TOKEN|-\n"
"  " CT_PROG " jwks KID=FILE [KID=FILE ...]\n"
"  " CT_PROG " --help\n"
"\n"
"ALG: HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512 EdDSA none\n"
"\n"
"Keys:\n"
"  HS*      any file; its bytes are the secret, one trailing \"\\n\" or\n"
"           \"\\r\\n\" stripped (--raw-secret: all bytes, nothing stripped)\n"
"  RS*      PEM RSA private key\n"
"  ES*      PEM EC private key on the curve of ALG (P-256, P-384, P-521)\n"
"  EdDSA    PEM Ed25519 private key (openssl genpkey -algorithm ed25519)\n"
"  none     --key is optional and ignored\n"
"  FILE may be \"-\" for standard input (once per invocation).\n"
"\n"
"sign      forge/sign a token with OpenSSL EVP. --header and --claims are\n"
"          used byte for byte, never re-serialised or validated.\n"
"          Default header: {\"alg\":\"ALG\",\"typ\":\"JWT\"}, plus\n"
"          ,\"kid\":\"ID\" with --kid (--kid and --header are exclusive).\n"
"          Default claims: {}. ES signatures are JWS raw R||S.\n"
"          --allow-key-mismatch lets an ES key of another curve sign\n"
"          (R||S then sized for the key's curve).\n"
"publish   standard publish token, built and signed with libjwt:\n"
"          scope=publish, sub, pid, room, op, mcn?, tier, idv, ai?\n"
"          (true), iat=now, exp=now+ttl (default 3600), nbf=now+N?, iss?,\n"
"          aud?, jti (default 16 random hex chars). TTL and N may be\n"
"          negative. EdDSA (not in libjwt 1.10): libjwt's claims, signed\n"
"          with OpenSSL.\n"
"play      standard play token, built and signed with libjwt:\n"
"          scope=play, room, sub?, iat=now, exp=now+ttl, iss?, aud?\n"
"decode    print header and payload (pretty JSON, NOT verified), the\n"
"          signature length and \"sha256: \" + the first 12 hex digits of\n"
"          SHA-256 of the token. \"-\" reads the token from stdin.\n"
"jwks      print the JWKS of the keys, each with its kid: an RSA, EC or\n"
"          Ed25519 PEM key (public or private: only the public part is\n"
"          written; EC and Ed25519 keys get their \"alg\"), any other\n"
"          file an HMAC secret (kty \"oct\", as compliance_key reads it).\n"
"\n"
"The token is printed alone on stdout. Errors: exit 1, usage errors: 2.\n",
        out);
}


/* "compliance-token: " and the message, on stderr */

static void
ct_message(const char *fmt, va_list args)
{
    fputs(CT_PROG ": ", stderr);
    vfprintf(stderr, fmt, args);
}


static int
ct_error(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ct_message(fmt, args);
    va_end(args);

    fputc('\n', stderr);

    return CT_ERROR;
}


static int
ct_ossl_error(const char *fmt, ...)
{
    char           text[256];
    va_list        args;
    unsigned long  e;

    va_start(args, fmt);
    ct_message(fmt, args);
    va_end(args);

    e = ERR_peek_last_error();

    if (e != 0) {
        ERR_error_string_n(e, text, sizeof(text));
        fprintf(stderr, " (%s)", text);
    }

    fputc('\n', stderr);
    ERR_clear_error();

    return CT_ERROR;
}


/* a failure of lib/jws_sign, with OpenSSL's reason where it has one */

static int
ct_jws_error(const jws_err_t *err)
{
    if (err->openssl) {
        return ct_ossl_error("%s", err->text);
    }

    return ct_error("%s", err->text);
}


static int
ct_parse_long(const char *opt, const char *s, long *out)
{
    char  *end;
    long   v;

    errno = 0;
    v = strtol(s, &end, 10);

    if (s[0] == '\0' || *end != '\0' || errno != 0) {
        return ct_usage_error("%s: invalid number \"%s\"", opt, s);
    }

    *out = v;

    return CT_OK;
}


static int
ct_buf_reserve(ct_buf_t *b, size_t more)
{
    size_t          cap;
    unsigned char  *p;

    if (more > SIZE_MAX - b->len - 1) {
        return ct_error("out of memory");
    }

    if (b->len + more + 1 <= b->cap) {
        return CT_OK;
    }

    cap = b->cap ? b->cap : 256;

    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            cap = b->len + more + 1;
            break;
        }

        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        return ct_error("out of memory");
    }

    b->data = p;
    b->cap = cap;

    return CT_OK;
}


/* appends bytes; the buffer is kept NUL-terminated for convenience */

static int
ct_buf_add(ct_buf_t *b, const void *p, size_t n)
{
    if (ct_buf_reserve(b, n) != CT_OK) {
        return CT_ERROR;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
    }

    b->len += n;
    b->data[b->len] = '\0';

    return CT_OK;
}


static int
ct_buf_add_str(ct_buf_t *b, const char *s)
{
    return ct_buf_add(b, s, strlen(s));
}


static void
ct_buf_free(ct_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}


/* reads a whole file ("-": stdin) of at most max bytes */

static int
ct_read_file(const char *path, size_t max, const char *what, ct_buf_t *out)
{
    int      is_stdin;
    FILE    *f;
    size_t   n;

    is_stdin = (strcmp(path, "-") == 0);

    if (is_stdin) {
        if (ct_stdin_used) {
            return ct_usage_error("standard input can be read only once");
        }

        ct_stdin_used = 1;
        f = stdin;

    } else {
        f = fopen(path, "rb");
        if (f == NULL) {
            return ct_error("cannot open %s \"%s\": %s", what, path,
                            strerror(errno));
        }
    }

    if (ct_buf_reserve(out, 4096) != CT_OK) {
        goto failed;
    }

    for ( ;; ) {
        if (out->len > max) {
            ct_error("%s \"%s\" is larger than %zu bytes", what, path, max);
            goto failed;
        }

        if (ct_buf_reserve(out, 4096) != CT_OK) {
            goto failed;
        }

        n = fread(out->data + out->len, 1, out->cap - out->len - 1, f);
        out->len += n;
        out->data[out->len] = '\0';

        if (n == 0) {
            break;
        }
    }

    if (ferror(f)) {
        ct_error("cannot read %s \"%s\": %s", what, path, strerror(errno));
        goto failed;
    }

    if (!is_stdin) {
        fclose(f);
    }

    return CT_OK;

failed:

    if (!is_stdin) {
        fclose(f);
    }

    return CT_ERROR;
}


static int
ct_parse_opts(const char *cmd, unsigned which, int argc, char **argv,
    ct_opts_t *o)
{
    int  rc;

    memset(o, 0, sizeof(ct_opts_t));
    o->ttl = CT_DEFAULT_TTL;

    rc = cli_parse_options(CT_PROG, cmd, argc, argv, ct_options, which,
                           o->seen, ct_option, o);
    if (rc != CT_OK) {
        return rc;
    }

    if (o->help) {
        return CT_OK;
    }

    if (optind < argc) {
        return ct_usage_error("%s: unexpected argument \"%s\"", cmd,
                              argv[optind]);
    }

    return CT_OK;
}


/*
 * an option's value into o (cli_parse_options()): the string, or what it
 * reads as
 */

static int
ct_option(void *opts, const char *cmd, int i)
{
    ct_opts_t  *o;

    o = opts;

    switch (ct_options[i].offset) {

    case offsetof(ct_opts_t, alg):
        o->alg = jws_alg(optarg);
        if (o->alg == NULL) {
            return ct_usage_error("%s: unknown algorithm \"%s\"", cmd,
                                  optarg);
        }
        return CT_OK;

    case offsetof(ct_opts_t, ttl):
        return ct_parse_long("--ttl", optarg, &o->ttl);

    case offsetof(ct_opts_t, nbf_in):
        o->nbf_in_set = 1;
        return ct_parse_long("--nbf-in", optarg, &o->nbf_in);

    default:
        cli_store(&ct_options[i], o);
        return CT_OK;
    }
}


/*
 * the start of every signing command: its options, --help (o->help: the
 * command has nothing more to do), --alg and --key
 */

static int
ct_begin(const char *cmd, unsigned which, int argc, char **argv,
    ct_opts_t *o)
{
    int  rc;

    rc = ct_parse_opts(cmd, which, argc, argv, o);
    if (rc != CT_OK) {
        return rc;
    }

    if (o->help) {
        ct_help(stdout);
        return CT_OK;
    }

    if (o->alg == NULL) {
        return ct_usage_error("--alg is required");
    }

    if (o->key_file == NULL && o->alg->kind != JWS_KIND_NONE) {
        return ct_usage_error("--key is required for %s", o->alg->name);
    }

    return CT_OK;
}


static int
ct_load_key(ct_opts_t *o, ct_key_t *key)
{
    unsigned   flags;
    jws_err_t  err;

    memset(key, 0, sizeof(ct_key_t));

    if (o->alg->kind == JWS_KIND_NONE) {
        key->jws.alg = o->alg;
        return CT_OK;
    }

    if (ct_read_file(o->key_file, CT_KEY_MAX, "key file", &key->file)
        != CT_OK)
    {
        return CT_ERROR;
    }

    flags = o->raw_secret ? JWS_RAW_SECRET : 0;

    if (jws_key_load(&key->jws, o->alg, key->file.data, key->file.len, flags,
                     o->key_file, &err)
        != JWS_OK)
    {
        return ct_jws_error(&err);
    }

    if (!o->key_mismatch
        && jws_key_check_curve(&key->jws, o->key_file, &err) != JWS_OK)
    {
        return ct_error("%s (sign --allow-key-mismatch forges such tokens)",
                        err.text);
    }

    return CT_OK;
}


static void
ct_key_free(ct_key_t *key)
{
    jws_key_free(&key->jws);

    if (key->file.data) {
        OPENSSL_cleanse(key->file.data, key->file.cap);
    }

    ct_buf_free(&key->file);
}


static int
ct_cmd_sign(int argc, char **argv)
{
    int        rc;
    char      *token;
    size_t     len;
    ct_buf_t   header, claims;
    ct_key_t   key;
    ct_opts_t  o;
    jws_err_t  err;

    rc = ct_begin("sign", CT_SIGN, argc, argv, &o);
    if (rc != CT_OK || o.help) {
        return rc;
    }

    if (o.header && o.header_file) {
        return ct_usage_error("--header and --header-file are exclusive");
    }

    if (o.claims && o.claims_file) {
        return ct_usage_error("--claims and --claims-file are exclusive");
    }

    if (o.kid && (o.header || o.header_file)) {
        return ct_usage_error("--kid cannot be combined with --header: put "
                              "the kid into the header JSON");
    }

    memset(&header, 0, sizeof(ct_buf_t));
    memset(&claims, 0, sizeof(ct_buf_t));
    memset(&key, 0, sizeof(ct_key_t));
    token = NULL;

    rc = CT_ERROR;

    /* the header, byte for byte */

    if (o.header_file) {
        if (ct_read_file(o.header_file, CT_JSON_FILE_MAX, "header file",
                         &header)
            != CT_OK)
        {
            goto done;
        }

    } else if (o.header) {
        if (ct_buf_add_str(&header, o.header) != CT_OK) {
            goto done;
        }

    } else {
        len = jws_header(NULL, 0, o.alg->name, o.kid);

        if (ct_buf_reserve(&header, len) != CT_OK) {
            goto done;
        }

        header.len = jws_header((char *) header.data, header.cap,
                                o.alg->name, o.kid);
    }

    /* the claims, byte for byte */

    if (o.claims_file) {
        if (ct_read_file(o.claims_file, CT_JSON_FILE_MAX, "claims file",
                         &claims)
            != CT_OK)
        {
            goto done;
        }

    } else if (ct_buf_add_str(&claims, o.claims ? o.claims : "{}")
               != CT_OK)
    {
        goto done;
    }

    if (ct_load_key(&o, &key) != CT_OK) {
        goto done;
    }

    if (jws_compact(&key.jws, header.data, header.len, claims.data,
                    claims.len, &token, &len, &err)
        != JWS_OK)
    {
        ct_jws_error(&err);
        goto done;
    }

    if (ct_print_token(token) != 0) {
        ct_error("cannot write the token: %s", strerror(errno));
        goto done;
    }

    rc = CT_OK;

done:

    free(token);
    ct_key_free(&key);
    ct_buf_free(&header);
    ct_buf_free(&claims);

    return rc;
}


static int
ct_jwt_add(jwt_t *jwt, const char *name, const char *val)
{
    int  rc;

    rc = jwt_add_grant(jwt, name, val);
    if (rc != 0) {
        return ct_error("libjwt: cannot add claim \"%s\": %s%s", name,
                        strerror(rc),
                        rc == EINVAL ? " (the value must be valid UTF-8)"
                                     : "");
    }

    return CT_OK;
}


static int
ct_jwt_add_int(jwt_t *jwt, const char *name, long val)
{
    int  rc;

    rc = jwt_add_grant_int(jwt, name, val);
    if (rc != 0) {
        return ct_error("libjwt: cannot add claim \"%s\": %s", name,
                        strerror(rc));
    }

    return CT_OK;
}


/* iat (now), exp (now + --ttl) and, with --nbf-in, nbf */

static int
ct_times(ct_opts_t *o)
{
    int     rc;
    time_t  now;

    now = time(NULL);

    o->iat = (long) now;

    rc = ct_time_add(now, o->ttl, "--ttl", &o->exp);
    if (rc != CT_OK) {
        return rc;
    }

    if (o->nbf_in_set) {
        return ct_time_add(now, o->nbf_in, "--nbf-in", &o->nbf);
    }

    return CT_OK;
}


static int
ct_time_add(time_t now, long delta, const char *opt, long *out)
{
    long  t;

    t = (long) now;

    if ((delta > 0 && t > LONG_MAX - delta)
        || (delta < 0 && t < LONG_MIN - delta))
    {
        return ct_usage_error("%s: value out of range", opt);
    }

    *out = t + delta;

    return CT_OK;
}


/* a token built with libjwt: the key, the command's claims, the signature */

static int
ct_jwt_token(ct_opts_t *o, ct_claims_pt claims)
{
    int        rc;
    jwt_t     *jwt;
    ct_key_t   key;

    if (ct_load_key(o, &key) != CT_OK) {
        ct_key_free(&key);
        return CT_ERROR;
    }

    rc = jwt_new(&jwt);
    if (rc != 0) {
        ct_key_free(&key);
        return ct_error("libjwt: jwt_new() failed: %s", strerror(rc));
    }

    rc = claims(o, jwt);

    if (rc == CT_OK) {
        rc = ct_jwt_issue(o, &key, jwt);
    }

    jwt_free(jwt);
    ct_key_free(&key);

    return rc;
}


/*
 * signs a token whose claims are already in jwt with libjwt and prints it
 */

static int
ct_jwt_issue(ct_opts_t *o, ct_key_t *key, jwt_t *jwt)
{
    int                   rc, len;
    char                 *token, *dot;
    size_t                siglen;
    const unsigned char  *data;

    if (o->kid) {
        rc = jwt_add_header(jwt, "kid", o->kid);
        if (rc != 0) {
            return ct_error("libjwt: cannot add header \"kid\": %s",
                            strerror(rc));
        }
    }

    if (o->alg->kind == JWS_KIND_OKP) {
        return ct_jws_issue(o, key, jwt);
    }

    switch (o->alg->kind) {

    case JWS_KIND_NONE:
        data = NULL;
        len = 0;
        break;

    case JWS_KIND_HMAC:
        data = key->jws.secret;
        len = (int) key->jws.secret_len;
        break;

    default: /* RSA, EC: libjwt parses the PEM itself */
        data = key->file.data;
        len = (int) key->file.len;
        break;
    }

    /*
     * the return value must be checked: after a failed jwt_set_alg()
     * libjwt 1.10 still encodes the token, as an unsigned "alg":"none" one
     */

    rc = jwt_set_alg(jwt, jwt_str_alg(o->alg->name), data, len);
    if (rc != 0) {
        return ct_error("libjwt: jwt_set_alg(%s) failed: %s%s", o->alg->name,
                        strerror(rc),
                        (o->alg->kind == JWS_KIND_HMAC && len == 0)
                        ? " (libjwt refuses an empty secret; \"sign\" "
                          "forges such tokens)" : "");
    }

    errno = 0;
    token = jwt_encode_str(jwt);
    if (token == NULL) {
        return ct_error("libjwt: jwt_encode_str() failed: %s",
                        errno ? strerror(errno) : "unknown error");
    }

    rc = CT_OK;

    /* guard: ES signatures must be raw R||S of the curve's size */

    if (o->alg->kind == JWS_KIND_EC) {
        dot = strrchr(token, '.');
        siglen = dot ? strlen(dot + 1) : 0;

        if (siglen * 3 / 4 != 2 * o->alg->half) {
            rc = ct_error("libjwt produced a %zu-byte %s signature, expected "
                          "raw R||S of %zu bytes", siglen * 3 / 4,
                          o->alg->name, 2 * o->alg->half);
        }
    }

    if (rc == CT_OK
        && (ct_print_token(token) != 0))
    {
        rc = ct_error("cannot write the token: %s", strerror(errno));
    }

    free(token);

    return rc;
}


/*
 * a token of the claims in jwt (libjwt's JSON of them) that libjwt
 * cannot sign (EdDSA), signed with lib/jws_sign.c; the header as libjwt
 * would write it
 */

static int
ct_jws_issue(ct_opts_t *o, ct_key_t *key, jwt_t *jwt)
{
    int         rc;
    char       *claims, *token;
    char        header[512];
    size_t      hlen, len;
    jws_err_t   err;

    hlen = jws_header(header, sizeof(header), o->alg->name, o->kid);
    if (hlen >= sizeof(header)) {
        return ct_error("--kid is too long");
    }

    claims = jwt_get_grants_json(jwt, NULL);
    if (claims == NULL) {
        return ct_error("libjwt: jwt_get_grants_json() failed");
    }

    rc = CT_OK;

    if (jws_compact(&key->jws, header, hlen, claims, strlen(claims), &token,
                    &len, &err)
        != JWS_OK)
    {
        free(claims);
        return ct_jws_error(&err);
    }

    if (ct_print_token(token) != 0) {
        rc = ct_error("cannot write the token: %s", strerror(errno));
    }

    free(token);
    free(claims);

    return rc;
}


static int
ct_cmd_publish(int argc, char **argv)
{
    int            rc;
    char           jti[2 * CT_JTI_BYTES + 1];
    size_t         i;
    ct_opts_t      o;
    unsigned char  rnd[CT_JTI_BYTES];

    rc = ct_begin("publish", CT_PUBLISH, argc, argv, &o);
    if (rc != CT_OK || o.help) {
        return rc;
    }

    if (o.room == NULL || o.sub == NULL || o.pid == NULL || o.op == NULL
        || o.tier == NULL || o.idv == NULL)
    {
        return ct_usage_error("publish: --room, --sub, --pid, --op, --tier "
                              "and --idv are required");
    }

    rc = ct_times(&o);
    if (rc != CT_OK) {
        return rc;
    }

    if (o.jti == NULL) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            return ct_ossl_error("RAND_bytes() failed");
        }

        for (i = 0; i < sizeof(rnd); i++) {
            snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
        }

        o.jti = jti;
    }

    return ct_jwt_token(&o, ct_publish_claims);
}


static int
ct_publish_claims(ct_opts_t *o, jwt_t *jwt)
{
    if (ct_jwt_add(jwt, "scope", "publish") != CT_OK
        || ct_jwt_add(jwt, "sub", o->sub) != CT_OK
        || ct_jwt_add(jwt, "pid", o->pid) != CT_OK
        || ct_jwt_add(jwt, "room", o->room) != CT_OK
        || ct_jwt_add(jwt, "op", o->op) != CT_OK
        || (o->mcn && ct_jwt_add(jwt, "mcn", o->mcn) != CT_OK)
        || ct_jwt_add(jwt, "tier", o->tier) != CT_OK
        || ct_jwt_add(jwt, "idv", o->idv) != CT_OK)
    {
        return CT_ERROR;
    }

    if (o->ai) {
        if (jwt_add_grant_bool(jwt, "ai", 1) != 0) {
            return ct_error("libjwt: cannot add claim \"ai\"");
        }
    }

    if (ct_jwt_add_int(jwt, "iat", o->iat) != CT_OK
        || ct_jwt_add_int(jwt, "exp", o->exp) != CT_OK
        || (o->nbf_in_set
            && ct_jwt_add_int(jwt, "nbf", o->nbf) != CT_OK)
        || (o->iss && ct_jwt_add(jwt, "iss", o->iss) != CT_OK)
        || (o->aud && ct_jwt_add(jwt, "aud", o->aud) != CT_OK)
        || ct_jwt_add(jwt, "jti", o->jti) != CT_OK)
    {
        return CT_ERROR;
    }

    return CT_OK;
}


static int
ct_cmd_play(int argc, char **argv)
{
    int        rc;
    ct_opts_t  o;

    rc = ct_begin("play", CT_PLAY, argc, argv, &o);
    if (rc != CT_OK || o.help) {
        return rc;
    }

    if (o.room == NULL) {
        return ct_usage_error("play: --room is required");
    }

    rc = ct_times(&o);
    if (rc != CT_OK) {
        return rc;
    }

    return ct_jwt_token(&o, ct_play_claims);
}


static int
ct_play_claims(ct_opts_t *o, jwt_t *jwt)
{
    if (ct_jwt_add(jwt, "scope", "play") != CT_OK
        || ct_jwt_add(jwt, "room", o->room) != CT_OK
        || (o->sub && ct_jwt_add(jwt, "sub", o->sub) != CT_OK)
        || ct_jwt_add_int(jwt, "exp", o->exp) != CT_OK
        || ct_jwt_add_int(jwt, "iat", o->iat) != CT_OK
        || (o->iss && ct_jwt_add(jwt, "iss", o->iss) != CT_OK)
        || (o->aud && ct_jwt_add(jwt, "aud", o->aud) != CT_OK))
    {
        return CT_ERROR;
    }

    return CT_OK;
}


static int
ct_decode_part(const char *label, const char *p, size_t len, ct_buf_t *out)
{
    size_t       n;
    const char  *err;

    if (ct_buf_reserve(out, JWS_B64URL_DECODED(len)) != CT_OK) {
        return CT_ERROR;
    }

    err = jws_b64url_decode(out->data + out->len, &n, p, len);
    if (err) {
        return ct_error("malformed token: %s: %s", label, err);
    }

    out->len += n;
    out->data[out->len] = '\0';

    return CT_OK;
}


/* control characters are shown as \xHH, everything else as is */

static void
ct_print_raw(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f) {
            printf("\\x%02x", p[i]);

        } else {
            putchar(p[i]);
        }
    }

    putchar('\n');
}


static int
ct_print_json(const char *label, ct_buf_t *raw, json_t **parsed)
{
    char          *text;
    json_t        *j, *strict;
    json_error_t   err;

    *parsed = NULL;

    j = json_loadb((const char *) raw->data, raw->len,
                   JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

    if (j == NULL) {
        printf("%s (not JSON, %zu bytes):\n", label, raw->len);
        ct_print_raw(raw->data, raw->len);
        fflush(stdout);

        return ct_error("malformed token: %s is not valid JSON: %s "
                        "(line %d, column %d)", label, err.text, err.line,
                        err.column);
    }

    strict = json_loadb((const char *) raw->data, raw->len,
                        JSON_DECODE_ANY | JSON_ALLOW_NUL
                        | JSON_REJECT_DUPLICATES, &err);

    if (strict == NULL) {
        /* a pretty print would hide all but one of the duplicates */
        printf("%s (verbatim, has duplicate keys):\n", label);
        ct_print_raw(raw->data, raw->len);
        fflush(stdout);
        fprintf(stderr, CT_PROG ": warning: %s has duplicate keys: %s\n",
                label, err.text);

    } else {
        json_decref(strict);

        text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER
                             | JSON_ENCODE_ANY);
        if (text == NULL) {
            json_decref(j);
            return ct_error("cannot format the %s JSON", label);
        }

        printf("%s:\n%s\n", label, text);
        free(text);
    }

    if (!json_is_object(j)) {
        fflush(stdout);
        fprintf(stderr, CT_PROG ": warning: %s is not a JSON object\n",
                label);
    }

    *parsed = j;

    return CT_OK;
}


static void
ct_print_times(json_t *payload)
{
    char          buf[64];
    time_t        now, t;
    json_int_t    v;
    struct tm     tm;
    size_t        i;
    json_t       *value;
    static const char  *names[] = { "iat", "nbf", "exp" };

    if (!json_is_object(payload)) {
        return;
    }

    now = time(NULL);

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        value = json_object_get(payload, names[i]);

        if (!json_is_integer(value)) {
            continue;
        }

        v = json_integer_value(value);
        t = (time_t) v;

        if ((json_int_t) t != v || gmtime_r(&t, &tm) == NULL
            || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        {
            printf("%s: %" JSON_INTEGER_FORMAT " (out of range)\n",
                   names[i], v);
            continue;
        }

        printf("%s: %s (now %+lld s)\n", names[i], buf,
               (long long) v - (long long) now);
    }
}


static int
ct_cmd_decode(int argc, char **argv)
{
    int            rc;
    char           hex[13];
    const char    *p, *dot1, *dot2, *tok;
    size_t         len, i, parts;
    json_t        *header, *payload;
    ct_buf_t       in, hdr, pay, sig;
    unsigned int   mdlen;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (argc != 2) {
        return ct_usage_error("decode: expected exactly one TOKEN "
                              "argument (\"-\" for stdin)");
    }

    if (strcmp(argv[1], "--help") == 0) {
        ct_help(stdout);
        return CT_OK;
    }

    memset(&in, 0, sizeof(ct_buf_t));
    memset(&hdr, 0, sizeof(ct_buf_t));
    memset(&pay, 0, sizeof(ct_buf_t));
    memset(&sig, 0, sizeof(ct_buf_t));
    header = NULL;
    payload = NULL;

    rc = CT_ERROR;

    if (strcmp(argv[1], "-") == 0) {
        if (ct_read_file("-", CT_TOKEN_MAX, "token", &in) != CT_OK) {
            goto done;
        }

    } else if (ct_buf_add_str(&in, argv[1]) != CT_OK) {
        goto done;
    }

    /* surrounding ASCII whitespace (a pasted token, a trailing newline) */

    tok = (const char *) in.data;
    len = in.len;

    while (len && strchr(" \t\r\n", tok[0]) && tok[0] != '\0') {
        tok++;
        len--;
    }

    while (len && strchr(" \t\r\n", tok[len - 1]) && tok[len - 1] != '\0') {
        len--;
    }

    if (len == 0) {
        ct_error("malformed token: empty");
        goto done;
    }

    parts = 1;
    dot1 = NULL;
    dot2 = NULL;

    for (i = 0; i < len; i++) {
        if (tok[i] == '.') {
            parts++;

            if (dot1 == NULL) {
                dot1 = tok + i;

            } else if (dot2 == NULL) {
                dot2 = tok + i;
            }

            continue;
        }

        if (tok[i] == '=') {
            ct_error("malformed token: \"=\" at offset %zu: base64url "
                     "padding is not allowed in JWS", i);
            goto done;
        }

        if (jws_b64url_value((unsigned char) tok[i]) < 0) {
            ct_error("malformed token: byte 0x%02x at offset %zu is not "
                     "base64url or \".\"", (unsigned char) tok[i], i);
            goto done;
        }
    }

    if (parts != 3) {
        ct_error("malformed token: %zu part%s, expected 3 "
                 "(header.payload.signature)%s", parts,
                 parts == 1 ? "" : "s",
                 parts == 5 ? "; this looks like a JWE" : "");
        goto done;
    }

    p = tok;

    if (ct_decode_part("header", p, (size_t) (dot1 - p), &hdr) != CT_OK
        || ct_decode_part("payload", dot1 + 1, (size_t) (dot2 - dot1 - 1),
                          &pay)
           != CT_OK
        || ct_decode_part("signature", dot2 + 1,
                          (size_t) (tok + len - dot2 - 1), &sig)
           != CT_OK)
    {
        goto done;
    }

    rc = CT_OK;

    if (ct_print_json("header", &hdr, &header) != CT_OK) {
        rc = CT_ERROR;
    }

    if (ct_print_json("payload", &pay, &payload) != CT_OK) {
        rc = CT_ERROR;
    }

    ct_print_times(payload);

    printf("signature: %zu bytes\n", sig.len);

    if (EVP_Digest(tok, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
        rc = ct_ossl_error("SHA-256 failed");
        goto done;
    }

    for (i = 0; i < 6; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }

    printf("sha256: %s\n", hex);

    if (fflush(stdout) != 0) {
        rc = ct_error("cannot write: %s", strerror(errno));
    }

done:

    json_decref(header);
    json_decref(payload);
    ct_buf_free(&in);
    ct_buf_free(&hdr);
    ct_buf_free(&pay);
    ct_buf_free(&sig);

    return rc;
}


/* the JWKS of KID=FILE ...: {"keys":[...]} on stdout */

static int
ct_cmd_jwks(int argc, char **argv)
{
    int          i, rc;
    char        *kid, *eq, *text;
    json_t      *jwks, *keys, *jwk;

    if (argc < 2) {
        return ct_usage_error("jwks: give at least one KID=FILE");
    }

    jwks = json_object();
    keys = json_array();

    if (jwks == NULL || keys == NULL
        || json_object_set_new(jwks, "keys", keys) != 0)
    {
        json_decref(jwks);
        return ct_error("out of memory");
    }

    rc = CT_OK;

    for (i = 1; i < argc && rc == CT_OK; i++) {
        eq = strchr(argv[i], '=');

        if (eq == NULL || eq == argv[i] || eq[1] == '\0') {
            json_decref(jwks);
            return ct_usage_error("jwks: \"%s\" is not KID=FILE", argv[i]);
        }

        kid = strndup(argv[i], (size_t) (eq - argv[i]));
        if (kid == NULL) {
            rc = ct_error("out of memory");
            break;
        }

        jwk = ct_jwk(kid, eq + 1);
        free(kid);

        if (jwk == NULL || json_array_append_new(keys, jwk) != 0) {
            rc = CT_ERROR;
        }
    }

    if (rc == CT_OK) {
        text = json_dumps(jwks, JSON_COMPACT | JSON_PRESERVE_ORDER);

        if (text == NULL) {
            rc = ct_error("out of memory");

        } else {
            if (printf("%s\n", text) < 0 || fflush(stdout) != 0) {
                rc = ct_error("cannot write the JWKS: %s", strerror(errno));
            }

            free(text);
        }
    }

    json_decref(jwks);

    return rc;
}


/* the public JWK of a key file, with its kid; NULL: said why */

static json_t *
ct_jwk(const char *kid, const char *path)
{
    int             ok;
    BIO            *bio;
    char            curve[32];
    size_t          len, half, n;
    json_t         *jwk;
    ct_buf_t        file;
    EVP_PKEY       *pkey;
    unsigned char   raw[64];

    memset(&file, 0, sizeof(ct_buf_t));

    if (ct_read_file(path, CT_KEY_MAX, "key file", &file) != CT_OK) {
        return NULL;
    }

    jwk = json_object();
    if (jwk == NULL) {
        ct_buf_free(&file);
        ct_error("out of memory");
        return NULL;
    }

    pkey = NULL;
    ok = 0;

    if (strstr((char *) file.data, "-----BEGIN") == NULL) {

        /* an HMAC secret, as the module reads it */

        len = file.len;

        if (len >= 1 && file.data[len - 1] == '\n') {
            len--;

            if (len >= 1 && file.data[len - 1] == '\r') {
                len--;
            }
        }

        ok = json_object_set_new(jwk, "kty", json_string("oct")) == 0
             && json_object_set_new(jwk, "kid", json_string(kid)) == 0
             && ct_jwk_b64(jwk, "k", file.data, len) == CT_OK;

        goto done;
    }

    bio = BIO_new_mem_buf(file.data, (int) file.len);
    if (bio == NULL) {
        ct_ossl_error("BIO_new_mem_buf() failed");
        goto done;
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

    if (pkey == NULL) {
        ERR_clear_error();
        (void) BIO_reset(bio);
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    }

    BIO_free(bio);

    if (pkey == NULL) {
        ct_ossl_error("\"%s\" is not a PEM key", path);
        goto done;
    }

    switch (EVP_PKEY_base_id(pkey)) {

    case EVP_PKEY_RSA:
        ok = json_object_set_new(jwk, "kty", json_string("RSA")) == 0
             && json_object_set_new(jwk, "kid", json_string(kid)) == 0
             && json_object_set_new(jwk, "use", json_string("sig")) == 0
             && ct_jwk_bn(jwk, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0) == CT_OK
             && ct_jwk_bn(jwk, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0) == CT_OK;
        break;

    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pkey, curve, sizeof(curve), NULL) != 1) {
            curve[0] = '\0';
        }

        if (strcmp(curve, "prime256v1") == 0) {
            half = 32;

        } else if (strcmp(curve, "secp384r1") == 0) {
            half = 48;

        } else if (strcmp(curve, "secp521r1") == 0) {
            half = 66;

        } else {
            ct_error("\"%s\" is on curve \"%s\", not P-256, P-384 or P-521",
                     path, curve);
            goto done;
        }

        ok = json_object_set_new(jwk, "kty", json_string("EC")) == 0
             && json_object_set_new(jwk, "kid", json_string(kid)) == 0
             && json_object_set_new(jwk, "use", json_string("sig")) == 0
             && json_object_set_new(jwk, "alg", json_string(
                    half == 32 ? "ES256" : half == 48 ? "ES384" : "ES512"))
                == 0
             && json_object_set_new(jwk, "crv", json_string(
                    half == 32 ? "P-256" : half == 48 ? "P-384" : "P-521"))
                == 0
             && ct_jwk_bn(jwk, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X, half)
                == CT_OK
             && ct_jwk_bn(jwk, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y, half)
                == CT_OK;
        break;

    case EVP_PKEY_ED25519:
        n = sizeof(raw);

        if (EVP_PKEY_get_raw_public_key(pkey, raw, &n) != 1) {
            ct_ossl_error("cannot get the Ed25519 key of \"%s\"", path);
            goto done;
        }

        ok = json_object_set_new(jwk, "kty", json_string("OKP")) == 0
             && json_object_set_new(jwk, "kid", json_string(kid)) == 0
             && json_object_set_new(jwk, "use", json_string("sig")) == 0
             && json_object_set_new(jwk, "alg", json_string("EdDSA")) == 0
             && json_object_set_new(jwk, "crv", json_string("Ed25519")) == 0
             && ct_jwk_b64(jwk, "x", raw, n) == CT_OK;
        break;

    default:
        ct_error("\"%s\" is not an RSA, EC or Ed25519 key", path);
        goto done;
    }

done:

    EVP_PKEY_free(pkey);

    if (file.data) {
        OPENSSL_cleanse(file.data, file.cap);
    }

    ct_buf_free(&file);

    if (!ok) {
        json_decref(jwk);
        return NULL;
    }

    return jwk;
}


/* jwk[name] = base64url(p) */

static int
ct_jwk_b64(json_t *jwk, const char *name, const unsigned char *p, size_t len)
{
    int    rc;
    char  *b;

    b = malloc(JWS_B64URL_LEN(len) + 1);
    if (b == NULL) {
        return ct_error("out of memory");
    }

    b[jws_b64url_encode(b, p, len)] = '\0';

    rc = json_object_set_new(jwk, name, json_string(b)) == 0
         ? CT_OK : ct_error("out of memory");

    free(b);

    return rc;
}


/*
 * jwk[name] = base64url of the key's integer param, big-endian, in width
 * bytes (0: as few as it takes)
 */

static int
ct_jwk_bn(json_t *jwk, const char *name, EVP_PKEY *pkey, const char *param,
    size_t width)
{
    int             rc, n;
    BIGNUM         *bn;
    unsigned char  *p;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        return ct_ossl_error("cannot get \"%s\" of the key", param);
    }

    n = width ? (int) width : BN_num_bytes(bn);

    p = malloc(n ? (size_t) n : 1);
    if (p == NULL) {
        BN_free(bn);
        return ct_error("out of memory");
    }

    if (BN_bn2binpad(bn, p, n) != n) {
        rc = ct_ossl_error("\"%s\" of the key is too large", param);

    } else {
        rc = ct_jwk_b64(jwk, name, p, (size_t) n);
    }

    free(p);
    BN_free(bn);

    return rc;
}
