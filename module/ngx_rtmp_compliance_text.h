
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * Text people read: which characters cannot be seen as they are, and
 * text made safe for a log line.
 */


#ifndef _NGX_RTMP_COMPLIANCE_TEXT_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_TEXT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* what a character is to a reader (0: shown as it is) */

#define NGX_RTMP_COMPLIANCE_TEXT_CONTROL    0x01  /* U+0000-001F, U+007F */
#define NGX_RTMP_COMPLIANCE_TEXT_C1         0x02  /* U+0080-009F */
#define NGX_RTMP_COMPLIANCE_TEXT_BYTE       0x04  /* not UTF-8 */
#define NGX_RTMP_COMPLIANCE_TEXT_BREAK      0x08  /* U+2028, U+2029 */
#define NGX_RTMP_COMPLIANCE_TEXT_BIDI       0x10  /* embeddings, overrides,
                                                     isolates */
#define NGX_RTMP_COMPLIANCE_TEXT_MARK       0x20  /* what scripts need but
                                                     does not show: joiners,
                                                     LRM/RLM, selectors */
#define NGX_RTMP_COMPLIANCE_TEXT_INVISIBLE  0x40  /* other format characters,
                                                     blank letters */

/* what names (identifiers) and free text refuse */

#define NGX_RTMP_COMPLIANCE_TEXT_NAME       0x7f
#define NGX_RTMP_COMPLIANCE_TEXT_PROSE                                       \
    (NGX_RTMP_COMPLIANCE_TEXT_NAME & ~NGX_RTMP_COMPLIANCE_TEXT_MARK)

/* the most a byte of text takes in a log line ("\x0a") */

#define NGX_RTMP_COMPLIANCE_TEXT_LOG_MAX    4


size_t ngx_rtmp_compliance_text_char(u_char *p, u_char *last, uint32_t *cp,
    ngx_uint_t *class);
u_char *ngx_rtmp_compliance_text_check(u_char *p, size_t len,
    ngx_uint_t refuse);
u_char *ngx_rtmp_compliance_text_what(u_char *buf, u_char *last, u_char *p,
    u_char *end);
size_t ngx_rtmp_compliance_text_scrub(u_char *p, size_t len,
    ngx_uint_t whole);
u_char *ngx_rtmp_compliance_text_log(u_char *dst, u_char *last, u_char *src,
    size_t len);


#endif /* _NGX_RTMP_COMPLIANCE_TEXT_H_INCLUDED_ */
