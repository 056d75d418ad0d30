# bench/writer.mk -- the audit writer's harness (bench/audit_writer.c),
# built as the fuzz targets are (fuzz/fuzz.mk: its object lists and
# rules), but with the tools' optimisation and no sanitizers or libFuzzer:
# the module's writer, the zone, nginx's core, the fuzz stubs.
#
#   make -f bench/writer.mk B=DIR TOP=. NGX_SRC=... NGX_OBJS=... \
#       RTMP_SRC=... CC=cc DIR/audit_writer
#
# (the Makefile's bench target does this: build/bench-writer/)

include $(TOP)/fuzz/fuzz.mk

CFLAGS     := -O2 -g -MMD -MP
LDFLAGS    :=

MOD_WRITER  = ngx_rtmp_compliance_audit.c ngx_rtmp_compliance_key.c \
              ngx_rtmp_compliance_json.c ngx_rtmp_compliance_file.c \
              $(MOD_ORDER)
WRITER_OBJ  = $(call ngx_obj,$(NGX_CORE) $(NGX_ZONE) $(NGX_FILES)) \
              $(call mod_obj,$(sort $(MOD_WRITER))) \
              $(call fuzz_obj,stubs stubs_zone stubs_state) \
              $(B)/obj/bench/audit_writer.o

$(B)/fuzz-flags:
	@mkdir -p $(@D)
	@echo "bench writer $(CC) $(CFLAGS)" > $@

$(B)/obj/bench/audit_writer.o: $(TOP)/bench/audit_writer.c $(B)/fuzz-flags
	@mkdir -p $(@D)
	$(CC) -c $(CFLAGS) $(WARN) $(INCS) -o $@ $<

$(B)/audit_writer: $(WRITER_OBJ)
	$(CC) $(LDFLAGS) -o $@.tmp $^ $(LIBS)
	@mv -f $@.tmp $@
