# The fuzz targets; run by fuzz/build.sh, which sets every variable below
# (B, TOP, NGX_SRC, NGX_OBJS, RTMP_SRC, CC).
#
# nginx core files, the module's files and the audit tool are compiled
# with libFuzzer's coverage and ASan+UBSan; objects depend on their
# headers (-MMD) and on the flags (fuzz-flags, rewritten only when they
# change).  Each target links what it needs:
#
#   fuzz_amf, fuzz_token, fuzz_jwks  the parsers (MOD_PARSE) on NGX_CORE
#   fuzz_order   the order JSON and the zone (MOD_ORDER) on NGX_CORE and
#                NGX_ZONE (slab, mutex, rbtree), with stubs_zone.c
#   fuzz_state   the state file's loader too (MOD_STATE), and NGX_FILES,
#                with stubs_zone.c and stubs_state.c
#   fuzz_audit   scripts/compliance-audit.c alone, built with
#                -DCOMPLIANCE_AUDIT_FUZZ (its main() renamed), no nginx
#   fuzz_witness the fleet's checkpoint parser (MOD_WITNESS) on NGX_CORE

NGX_CORE   = core/ngx_string.c core/ngx_palloc.c core/ngx_array.c \
             core/ngx_times.c os/unix/ngx_time.c os/unix/ngx_alloc.c
NGX_ZONE   = core/ngx_slab.c core/ngx_shmtx.c core/ngx_rbtree.c \
             core/ngx_crc32.c core/ngx_parse.c
NGX_FILES  = core/ngx_file.c os/unix/ngx_files.c
MOD_PARSE  = ngx_rtmp_compliance_amf.c ngx_rtmp_compliance_token.c \
             ngx_rtmp_compliance_json.c ngx_rtmp_compliance_key.c
MOD_ORDER  = ngx_rtmp_compliance_order_json.c ngx_rtmp_compliance_zone.c
MOD_STATE  = $(MOD_ORDER) ngx_rtmp_compliance_state.c
MOD_PARSE += ngx_rtmp_compliance_text.c ngx_rtmp_compliance_file.c
MOD_ORDER += ngx_rtmp_compliance_text.c
MOD_WITNESS = ngx_rtmp_compliance_witness.c ngx_rtmp_compliance_text.c
TARGETS    = fuzz_amf fuzz_token fuzz_jwks fuzz_order fuzz_state fuzz_audit \
             fuzz_witness

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

# the objects of nginx's and the module's sources
ngx_obj    = $(addprefix $(B)/obj/nginx/,$(notdir $(1:.c=.o)))
mod_obj    = $(addprefix $(B)/obj/module/,$(1:.c=.o))
fuzz_obj   = $(addprefix $(B)/obj/fuzz/,$(addsuffix .o,$(1)))

PARSE_OBJ  = $(call ngx_obj,$(NGX_CORE)) $(call mod_obj,$(MOD_PARSE)) \
             $(call fuzz_obj,stubs)
ORDER_OBJ  = $(call ngx_obj,$(NGX_CORE) $(NGX_ZONE)) \
             $(call mod_obj,$(MOD_ORDER)) $(call fuzz_obj,stubs stubs_zone)
STATE_OBJ  = $(call ngx_obj,$(NGX_CORE) $(NGX_ZONE) $(NGX_FILES)) \
             $(call mod_obj,$(MOD_STATE)) \
             $(call fuzz_obj,stubs stubs_zone stubs_state)
AUDIT_OBJ  = $(B)/obj/tool/compliance-audit.o $(B)/obj/tool/cli.o
WITNESS_OBJ = $(call ngx_obj,$(NGX_CORE)) $(call mod_obj,$(MOD_WITNESS)) \
             $(call fuzz_obj,stubs)

vpath %.c $(addprefix $(NGX_SRC)/src/,\
            $(sort $(dir $(NGX_CORE) $(NGX_ZONE) $(NGX_FILES))))

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
	$(CC) -c $(CFLAGS) $(WARN) -DCOMPLIANCE_AUDIT_FUZZ -I$(TOP)/lib -o $@ $<

$(B)/obj/tool/cli.o: $(TOP)/lib/cli.c $(TOP)/lib/cli.h $(B)/fuzz-flags
	@mkdir -p $(@D)
	$(CC) -c $(CFLAGS) $(WARN) -o $@ $<

$(B)/fuzz_amf $(B)/fuzz_token $(B)/fuzz_jwks: $(PARSE_OBJ)
$(B)/fuzz_order: $(ORDER_OBJ)
$(B)/fuzz_state: $(STATE_OBJ)
$(B)/fuzz_audit: $(AUDIT_OBJ)
$(B)/fuzz_witness: $(WITNESS_OBJ)

$(B)/fuzz_%: $(B)/obj/fuzz/fuzz_%.o
	$(CC) $(LDFLAGS) -o $@.tmp $^ $(LIBS)
	@mv -f $@.tmp $@

-include $(wildcard $(B)/obj/*/*.d)
