# The fuzz targets; run by fuzz/build.sh, which sets every variable below
# (B, TOP, NGX_SRC, NGX_OBJS, RTMP_SRC, CC).
#
# nginx core files, the module's files and the audit tool are compiled
# with libFuzzer's coverage and ASan+UBSan; objects depend on their
# headers (-MMD) and on the flags (fuzz-flags, rewritten only when they
# change).  Each target links what it needs:
#
#   fuzz_amf, fuzz_token, fuzz_order  the parsers (MODULE) on NGX_CORE
#   fuzz_state   the state file's loader and the zone (MODULE_STATE) on
#                NGX_CORE and NGX_STATE (slab, mutex, files)
#   fuzz_audit   scripts/compliance-audit.c alone, built with
#                -DCOMPLIANCE_AUDIT_FUZZ (its main() renamed), no nginx

NGX_CORE   = core/ngx_string.c core/ngx_palloc.c core/ngx_array.c \
             core/ngx_times.c os/unix/ngx_time.c os/unix/ngx_alloc.c
NGX_STATE  = core/ngx_slab.c core/ngx_shmtx.c core/ngx_rbtree.c \
             core/ngx_crc32.c core/ngx_parse.c core/ngx_file.c \
             os/unix/ngx_files.c
MODULE     = ngx_rtmp_compliance_amf.c ngx_rtmp_compliance_token.c \
             ngx_rtmp_compliance_json.c \
             ngx_rtmp_compliance_key.c ngx_rtmp_compliance_orders.c
MODULE_STATE = ngx_rtmp_compliance_orders.c ngx_rtmp_compliance_state.c \
             ngx_rtmp_compliance_zone.c ngx_rtmp_compliance_fleet.c
TARGETS    = fuzz_amf fuzz_token fuzz_order fuzz_state fuzz_audit

# UBSan stops at its first report (run.sh and the test set
# UBSAN_OPTIONS=halt_on_error=1), except that the two checks for nginx's
# idiom of an empty ngx_str_t with a NULL data pointer (NULL + 0,
# ngx_strncmp(NULL, NULL, 0)) are left recoverable, so that the known
# places can be suppressed by name (fuzz/ubsan.supp) and any other place
# still halts.
FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fsanitize-recover=pointer-overflow,nonnull-attribute
CFLAGS     = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SANITIZE) \
             -DNGX_DEBUG_PALLOC=1 -MMD -MP
WARN       = -W -Wall -Wpointer-arith -Wno-unused-parameter \
             -Wno-deprecated-declarations
LDFLAGS    = -fsanitize=fuzzer $(FUZZ_SANITIZE)
LIBS       = -ljansson -lcrypto

INCS       = -I$(NGX_SRC)/src/core -I$(NGX_SRC)/src/event \
             -I$(NGX_SRC)/src/event/modules -I$(NGX_SRC)/src/os/unix \
             -I$(NGX_OBJS) -I$(RTMP_SRC) -I$(TOP)/module -I$(TOP)/fuzz

NGX_OBJ    = $(addprefix $(B)/obj/nginx/,$(notdir $(NGX_CORE:.c=.o)))
STATE_NGX_OBJ = $(addprefix $(B)/obj/nginx/,$(notdir $(NGX_STATE:.c=.o)))
MODULE_OBJ = $(addprefix $(B)/obj/module/,$(MODULE:.c=.o))
STATE_MODULE_OBJ = $(addprefix $(B)/obj/module/,$(MODULE_STATE:.c=.o))

PARSER_OBJ = $(NGX_OBJ) $(MODULE_OBJ) $(B)/obj/fuzz/stubs.o \
             $(B)/obj/fuzz/stubs_zone.o
STATE_OBJ  = $(NGX_OBJ) $(STATE_NGX_OBJ) $(STATE_MODULE_OBJ) \
             $(B)/obj/fuzz/stubs.o $(B)/obj/fuzz/stubs_state.o
AUDIT_OBJ  = $(B)/obj/tool/compliance-audit.o

vpath %.c $(addprefix $(NGX_SRC)/src/,$(sort $(dir $(NGX_CORE) $(NGX_STATE))))

.PHONY: all
all: $(addprefix $(B)/,$(TARGETS))

$(B)/obj/nginx/%.o: %.c $(B)/fuzz-flags
	@mkdir -p $(@D)
	$(CC) -c $(CFLAGS) -w $(INCS) -o $@ $<

$(B)/obj/module/%.o: $(TOP)/module/%.c $(B)/fuzz-flags
	@mkdir -p $(@D)
	$(CC) -c $(CFLAGS) $(WARN) $(INCS) -o $@ $<

$(B)/obj/fuzz/%.o: $(TOP)/fuzz/%.c $(B)/fuzz-flags
	@mkdir -p $(@D)
	$(CC) -c $(CFLAGS) $(WARN) $(INCS) -o $@ $<

# the audit tool as a library: the same source as build/compliance-audit
$(B)/obj/tool/compliance-audit.o: $(TOP)/scripts/compliance-audit.c \
                                  $(B)/fuzz-flags
	@mkdir -p $(@D)
	$(CC) -c $(CFLAGS) $(WARN) -DCOMPLIANCE_AUDIT_FUZZ -o $@ $<

$(B)/fuzz_amf $(B)/fuzz_token $(B)/fuzz_order: $(PARSER_OBJ)
$(B)/fuzz_state: $(STATE_OBJ)
$(B)/fuzz_audit: $(AUDIT_OBJ)

# fleet.c (the outbox) is linked; its connection to Redis is never made
$(B)/fuzz_state: LIBS += -lhiredis

$(B)/fuzz_%: $(B)/obj/fuzz/fuzz_%.o
	$(CC) $(LDFLAGS) -o $@.tmp $^ $(LIBS)
	@mv -f $@.tmp $@

-include $(wildcard $(B)/obj/*/*.d)
