
/*
 * Copyright (C) ngx_rtmp_compliance authors
 */


/*
 * The AI label: the Measures ask that AI-generated hosts be labelled
 * continuously.  When an admitted publisher whose token says "ai": true
 * sends its metadata, nginx-rtmp's codec module has just built the
 * stream's onMetaData; we rebuild it with the same fields and
 * "ai_generated": true, so every player gets the label at start and
 * whenever the metadata changes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_rtmp_compliance_label.h"
#include "ngx_rtmp_compliance_zone.h"
#include "ngx_rtmp_codec_module.h"
#include "ngx_rtmp_streams.h"


/* the values of the labelled onMetaData, taken from the codec module's */

typedef struct {
    double                      width;
    double                      height;
    double                      duration;
    double                      frame_rate;
    double                      video_data_rate;
    double                      video_codec_id;
    double                      audio_data_rate;
    double                      audio_codec_id;
    u_char                      profile[32];
    u_char                      level[32];
    u_char                      ai;
} ngx_rtmp_compliance_label_meta_t;


static ngx_int_t ngx_rtmp_compliance_label_stream(ngx_rtmp_session_t *s,
    ngx_uint_t av);
static ngx_int_t ngx_rtmp_compliance_label_meta(ngx_rtmp_session_t *s,
    ngx_rtmp_codec_ctx_t *codec);


static ngx_rtmp_compliance_label_meta_t  ngx_rtmp_compliance_label_v;


/* the codec module's onMetaData fields, and the label */

static ngx_rtmp_amf_elt_t  ngx_rtmp_compliance_label_inf[] = {

    { NGX_RTMP_AMF_STRING,
      ngx_string("Server"),
      "NGINX RTMP (github.com/arut/nginx-rtmp-module)", 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("width"),
      &ngx_rtmp_compliance_label_v.width, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("height"),
      &ngx_rtmp_compliance_label_v.height, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("displayWidth"),
      &ngx_rtmp_compliance_label_v.width, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("displayHeight"),
      &ngx_rtmp_compliance_label_v.height, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("duration"),
      &ngx_rtmp_compliance_label_v.duration, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("framerate"),
      &ngx_rtmp_compliance_label_v.frame_rate, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("fps"),
      &ngx_rtmp_compliance_label_v.frame_rate, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("videodatarate"),
      &ngx_rtmp_compliance_label_v.video_data_rate, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("videocodecid"),
      &ngx_rtmp_compliance_label_v.video_codec_id, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("audiodatarate"),
      &ngx_rtmp_compliance_label_v.audio_data_rate, 0 },

    { NGX_RTMP_AMF_NUMBER,
      ngx_string("audiocodecid"),
      &ngx_rtmp_compliance_label_v.audio_codec_id, 0 },

    { NGX_RTMP_AMF_STRING,
      ngx_string("profile"),
      &ngx_rtmp_compliance_label_v.profile,
      sizeof(ngx_rtmp_compliance_label_v.profile) },

    { NGX_RTMP_AMF_STRING,
      ngx_string("level"),
      &ngx_rtmp_compliance_label_v.level,
      sizeof(ngx_rtmp_compliance_label_v.level) },

    { NGX_RTMP_AMF_BOOLEAN,
      ngx_string("ai_generated"),
      &ngx_rtmp_compliance_label_v.ai, 0 },

    { NGX_RTMP_AMF_STRING,
      ngx_string("ai_label"),
      "AI-generated host", 0 },
};


static ngx_rtmp_amf_elt_t  ngx_rtmp_compliance_label_elts[] = {

    { NGX_RTMP_AMF_STRING,
      ngx_null_string,
      "onMetaData", 0 },

    { NGX_RTMP_AMF_OBJECT,
      ngx_null_string,
      ngx_rtmp_compliance_label_inf, sizeof(ngx_rtmp_compliance_label_inf) },
};


ngx_int_t
ngx_rtmp_compliance_label(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    return ngx_rtmp_compliance_label_stream(s, 0);
}


/*
 * an AI host whose encoder sends no metadata is labelled all the same:
 * at its first audio or video message the stream gets a labelled
 * onMetaData
 */

ngx_int_t
ngx_rtmp_compliance_label_av(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    return ngx_rtmp_compliance_label_stream(s, 1);
}


/*
 * the stream of a session admitted with a token that says "ai": true
 * gets the label: at its metadata (av 0), or at its publisher's first
 * audio or video message if no metadata came before (av 1)
 */

static ngx_int_t
ngx_rtmp_compliance_label_stream(ngx_rtmp_session_t *s, ngx_uint_t av)
{
    ngx_rtmp_codec_ctx_t       *codec;
    ngx_rtmp_compliance_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_compliance_module);

    if (ctx == NULL || !ctx->admitted || !ctx->claims.ai) {
        return NGX_OK;
    }

    if (av) {
        if (ctx->labelled || ctx->kind != NGX_RTMP_COMPLIANCE_PUBLISHER) {
            return NGX_OK;
        }

        /* the first audio or video message decides, once */
        ctx->labelled = 1;
    }

    codec = ngx_rtmp_get_module_ctx(s, ngx_rtmp_codec_module);

    if (codec == NULL || (av && codec->meta)) {
        return NGX_OK;
    }

    ctx->labelled = 1;

    return ngx_rtmp_compliance_label_meta(s, codec);
}


static ngx_int_t
ngx_rtmp_compliance_label_meta(ngx_rtmp_session_t *s,
    ngx_rtmp_codec_ctx_t *codec)
{
    ngx_int_t                          rc;
    ngx_rtmp_header_t                  mh;
    ngx_rtmp_core_srv_conf_t          *cscf;
    ngx_rtmp_compliance_label_meta_t  *v;

    v = &ngx_rtmp_compliance_label_v;

    cscf = ngx_rtmp_get_module_srv_conf(s, ngx_rtmp_core_module);

    if (codec->meta) {
        ngx_rtmp_free_shared_chain(cscf, codec->meta);
        codec->meta = NULL;
    }

    v->width = codec->width;
    v->height = codec->height;
    v->duration = codec->duration;
    v->frame_rate = codec->frame_rate;
    v->video_data_rate = codec->video_data_rate;
    v->video_codec_id = codec->video_codec_id;
    v->audio_data_rate = codec->audio_data_rate;
    v->audio_codec_id = codec->audio_codec_id;
    ngx_memcpy(v->profile, codec->profile, sizeof(codec->profile));
    ngx_memcpy(v->level, codec->level, sizeof(codec->level));
    v->ai = 1;

    rc = ngx_rtmp_append_amf(s, &codec->meta, NULL,
                             ngx_rtmp_compliance_label_elts,
                             sizeof(ngx_rtmp_compliance_label_elts)
                             / sizeof(ngx_rtmp_compliance_label_elts[0]));
    if (rc != NGX_OK || codec->meta == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&mh, sizeof(mh));
    mh.csid = NGX_RTMP_CSID_AMF;
    mh.msid = NGX_RTMP_MSID;
    mh.type = NGX_RTMP_MSG_AMF_META;

    ngx_rtmp_prepare_message(s, &mh, NULL, codec->meta);

    /* players compare versions: a new one makes them get this */
    codec->meta_version++;

    ngx_log_debug0(NGX_LOG_DEBUG_RTMP, s->connection->log, 0,
                   "compliance: AI label added to the stream's metadata");

    return NGX_OK;
}
