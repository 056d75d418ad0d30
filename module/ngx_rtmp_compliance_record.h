
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * record.done: recordings of nginx-rtmp's record module, hashed.
 */


#ifndef _NGX_RTMP_COMPLIANCE_RECORD_H_INCLUDED_
#define _NGX_RTMP_COMPLIANCE_RECORD_H_INCLUDED_


#include "ngx_rtmp_compliance.h"


void ngx_rtmp_compliance_record_init(void);


#endif /* _NGX_RTMP_COMPLIANCE_RECORD_H_INCLUDED_ */
