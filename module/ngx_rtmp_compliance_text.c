
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Text people read: names (claims, stream names, order targets) and free
 * text (an order's reason) as moderators see them in the console, the
 * API and the logs.  One rule, ngx_rtmp_compliance_text_class(), says
 * which characters a reader cannot see as they are: controls (C0, DEL,
 * C1), bytes that are not UTF-8, line and paragraph separators, the
 * direction controls that reorder what follows them (U+202A-202E,
 * U+2066-2069), the marks real scripts need but that draw nothing by
 * themselves (ZWNJ, ZWJ, LRM, RLM, ALM, variation selectors), and the
 * other format characters (Unicode's Cf) and blank letters.
 *
 * Names refuse all of them (NGX_RTMP_COMPLIANCE_TEXT_NAME), free text all
 * but the marks (_PROSE); a log line shows every byte that is not
 * printable ASCII escaped (ngx_rtmp_compliance_text_log()), and bytes
 * other modules will log are rewritten in place
 * (ngx_rtmp_compliance_text_scrub()).  docs/security.md says why.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_text.h"


typedef struct {
    uint32_t                        lo;
    uint32_t                        hi;
    ngx_uint_t                      class;
} ngx_rtmp_compliance_text_range_t;


static size_t ngx_rtmp_compliance_text_len(u_char c);
static ngx_uint_t ngx_rtmp_compliance_text_class(uint32_t cp);


/* above U+00AC, in order: what is not shown as it is */

static ngx_rtmp_compliance_text_range_t  ngx_rtmp_compliance_text_ranges[] = {
    { 0x00ad,  0x00ad,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* SHY */
    { 0x034f,  0x034f,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* CGJ */
    { 0x0600,  0x0605,  NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* Arabic */
    { 0x061c,  0x061c,  NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* ALM */
    { 0x06dd,  0x06dd,  NGX_RTMP_COMPLIANCE_TEXT_MARK },
    { 0x070f,  0x070f,  NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* Syriac */
    { 0x0890,  0x0891,  NGX_RTMP_COMPLIANCE_TEXT_MARK },
    { 0x08e2,  0x08e2,  NGX_RTMP_COMPLIANCE_TEXT_MARK },
    { 0x115f,  0x1160,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* fillers */
    { 0x17b4,  0x17b5,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* Khmer */
    { 0x180b,  0x180f,  NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* Mongolian */
    { 0x200b,  0x200f,  NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* ZWSP..RLM */
    { 0x2028,  0x2029,  NGX_RTMP_COMPLIANCE_TEXT_BREAK },
    { 0x202a,  0x202e,  NGX_RTMP_COMPLIANCE_TEXT_BIDI },       /* LRE..RLO */
    { 0x2060,  0x2065,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* WJ.. */
    { 0x2066,  0x2069,  NGX_RTMP_COMPLIANCE_TEXT_BIDI },       /* LRI..PDI */
    { 0x206a,  0x206f,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },
    { 0x3164,  0x3164,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* filler */
    { 0xfe00,  0xfe0f,  NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* VS1-16 */
    { 0xfeff,  0xfeff,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* BOM */
    { 0xffa0,  0xffa0,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* filler */
    { 0xfff0,  0xfffb,  NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },
    { 0x110bd, 0x110bd, NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* Kaithi */
    { 0x110cd, 0x110cd, NGX_RTMP_COMPLIANCE_TEXT_MARK },
    { 0x13430, 0x1343f, NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* Egyptian */
    { 0x1bca0, 0x1bca3, NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* Duployan */
    { 0x1d173, 0x1d17a, NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* music */
    { 0xe0000, 0xe00ff, NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },  /* tags */
    { 0xe0100, 0xe01ef, NGX_RTMP_COMPLIANCE_TEXT_MARK },       /* VS17- */
    { 0xe01f0, 0xe0fff, NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE },
    { 0, 0, 0 }
};


/* the length of the UTF-8 sequence a byte starts; 0: it starts none */

static size_t
ngx_rtmp_compliance_text_len(u_char c)
{
    return (c < 0x80) ? 1
           : (c >= 0xc2 && c <= 0xdf) ? 2
           : (c >= 0xe0 && c <= 0xef) ? 3
           : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
}


static ngx_uint_t
ngx_rtmp_compliance_text_class(uint32_t cp)
{
    ngx_rtmp_compliance_text_range_t  *r;

    if (cp < 0x20 || cp == 0x7f) {
        return NGX_RTMP_COMPLIANCE_TEXT_CONTROL;
    }

    if (cp >= 0x80 && cp <= 0x9f) {
        return NGX_RTMP_COMPLIANCE_TEXT_C1;
    }

    for (r = ngx_rtmp_compliance_text_ranges; r->hi && r->lo <= cp; r++) {
        if (cp <= r->hi) {
            return r->class;
        }
    }

    return 0;
}


/*
 * the character at p (p < last): its length, code point and class; a
 * byte that does not begin a shortest-form UTF-8 sequence of a scalar
 * value is a character of its own, of class NGX_RTMP_COMPLIANCE_TEXT_BYTE
 */

size_t
ngx_rtmp_compliance_text_char(u_char *p, u_char *last, uint32_t *cp,
    ngx_uint_t *class)
{
    size_t    n, i;
    uint32_t  c;

    static uint32_t  min[] = { 0, 0, 0x80, 0x800, 0x10000 };

    n = ngx_rtmp_compliance_text_len(*p);

    *cp = *p;
    *class = NGX_RTMP_COMPLIANCE_TEXT_BYTE;

    if (n == 0 || (size_t) (last - p) < n) {
        return 1;
    }

    c = (n == 1) ? *p : (uint32_t) (*p & (0x7f >> n));

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 1;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 1;
    }

    *cp = c;
    *class = ngx_rtmp_compliance_text_class(c);

    return n;
}


/* the first character of p..p+len of a class in refuse; NULL: none */

u_char *
ngx_rtmp_compliance_text_check(u_char *p, size_t len, ngx_uint_t refuse)
{
    u_char      *last;
    uint32_t     cp;
    ngx_uint_t   class;

    if (len == 0) {
        /* an empty ngx_str_t may have no data */
        return NULL;
    }

    last = p + len;

    while (p < last) {
        if (*p >= 0x20 && *p < 0x7f) {
            p++;
            continue;
        }

        len = ngx_rtmp_compliance_text_char(p, last, &cp, &class);

        if (class & refuse) {
            return p;
        }

        p += len;
    }

    return NULL;
}


/*
 * the character at p (p < end) for a message: "U+202E, a direction
 * control"; buf gets no NUL
 */

u_char *
ngx_rtmp_compliance_text_what(u_char *buf, u_char *last, u_char *p,
    u_char *end)
{
    char        *what;
    uint32_t     cp;
    ngx_uint_t   class;

    (void) ngx_rtmp_compliance_text_char(p, end, &cp, &class);

    switch (class) {

    case NGX_RTMP_COMPLIANCE_TEXT_BYTE:
        return ngx_slprintf(buf, last, "0x%02XD, not UTF-8", cp);

    case NGX_RTMP_COMPLIANCE_TEXT_CONTROL:
    case NGX_RTMP_COMPLIANCE_TEXT_C1:
        what = "a control character";
        break;

    case NGX_RTMP_COMPLIANCE_TEXT_BREAK:
        what = "a line separator";
        break;

    case NGX_RTMP_COMPLIANCE_TEXT_BIDI:
        what = "a direction control";
        break;

    case 0:
        what = "a visible character";
        break;

    default:
        what = "an invisible character";
    }

    return ngx_slprintf(buf, last, "U+%04XD, %s", cp, what);
}


/*
 * every byte of every character of p..p+len that is not shown as it is
 * becomes '_', in place.  Returns how many bytes were looked at: all of
 * them when whole, else all but the start of a character cut by the end
 * (the caller gives it again with what follows)
 */

size_t
ngx_rtmp_compliance_text_scrub(u_char *p, size_t len, ngx_uint_t whole)
{
    u_char      *start, *last, *q;
    size_t       n;
    uint32_t     cp;
    ngx_uint_t   class;

    if (len == 0) {
        return 0;
    }

    start = p;
    last = p + len;

    while (p < last) {
        if (*p >= 0x20 && *p < 0x7f) {
            p++;
            continue;
        }

        n = ngx_rtmp_compliance_text_len(*p);

        if (!whole && n > (size_t) (last - p)) {
            for (q = p + 1; q < last && (*q & 0xc0) == 0x80; q++) {
                /* void */
            }

            if (q == last) {
                break;
            }
        }

        n = ngx_rtmp_compliance_text_char(p, last, &cp, &class);

        if (class) {
            ngx_memset(p, '_', n);
        }

        p += n;
    }

    return p - start;
}


/*
 * src as a quoted string for a log line: printable ASCII as it is but
 * for '"' and '\' (escaped with a backslash); controls and bytes that
 * are not UTF-8 as \xHH, any other character as \uHHHH or \UHHHHHHHH.
 * At most NGX_RTMP_COMPLIANCE_TEXT_LOG_MAX bytes a byte of src and the
 * quotes; what does not fit before last is left out, never half an
 * escape, and the closing quote is always written when the opening one
 * was
 */

u_char *
ngx_rtmp_compliance_text_log(u_char *dst, u_char *last, u_char *src,
    size_t len)
{
    u_char      *end, e[16], *q;
    size_t       n;
    uint32_t     cp;
    ngx_uint_t   class;

    if (last - dst < 2) {
        return dst;
    }

    *dst++ = '"';
    last--;                             /* room for the closing quote */

    end = len ? src + len : src;

    while (src < end) {
        n = ngx_rtmp_compliance_text_char(src, end, &cp, &class);

        if (cp == '"' || cp == '\\') {
            e[0] = '\\';
            e[1] = (u_char) cp;
            q = e + 2;

        } else if (cp >= 0x20 && cp < 0x7f) {
            e[0] = (u_char) cp;
            q = e + 1;

        } else if (class & (NGX_RTMP_COMPLIANCE_TEXT_CONTROL
                            |NGX_RTMP_COMPLIANCE_TEXT_BYTE))
        {
            q = ngx_sprintf(e, "\\x%02xD", cp);

        } else if (cp <= 0xffff) {
            q = ngx_sprintf(e, "\\u%04xD", cp);

        } else {
            q = ngx_sprintf(e, "\\U%08xD", cp);
        }

        if (q - e > last - dst) {
            break;
        }

        dst = ngx_cpymem(dst, e, q - e);
        src += n;
    }

    *dst++ = '"';

    return dst;
}
