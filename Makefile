# ngx_rtmp_compliance — build, test and demo.
#
#   make            build/ngx_rtmp_compliance_module.so for Debian's nginx
#                   (or, with NGINX_SRC=DIR, a static nginx with both
#                   modules in build/static/)
#   make run        install what is needed, build, start a demo nginx
#   make test       install what is needed, build, run the test suite
#   make static NGINX_SRC=DIR [RTMP_SRC=DIR]
#   make flv [FLV_SRC=DIR]   build/flv/: nginx-http-flv-module and the
#                   module built against it (docs/http-flv.md)
#   make test-flv   the HTTP-FLV tests against that build
#
# RTMP_SRC=DIR uses your nginx-rtmp-module tree instead of the one
# fetched from Debian's libnginx-mod-rtmp source package.  FLV_SRC=DIR is
# an unpacked nginx-http-flv-module tree; without it, a release tarball
# in ../shared/deps (FLV_TARBALL) is unpacked into deps/.

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       ?= $(TOP)/build
DEPS        ?= $(TOP)/deps
RTMP_SRC    ?= $(DEPS)/nginx-rtmp-module
NGINX_SRC   ?=
CC          ?= cc
PROVE_JOBS  ?= 2
TEST_FILES  ?= t/

# OBS_REQUIRED=1 (.ci/run): t/016-obs.t fails instead of skipping when
# OBS Studio cannot run headless here
export OBS_REQUIRED

# Debian packages: DEMO_PACKAGES build the module and the tools and run
# the demo (make run); TEST_PACKAGES are the rest the suite, the fuzzers
# and the sanitizer builds use (make test, test-static, fuzz)
DEMO_PACKAGES = nginx libnginx-mod-rtmp nginx-dev libssl-dev libjansson-dev \
                libjwt-dev libhiredis-dev libpcre2-dev zlib1g-dev gcc make \
                openssl ffmpeg xz-utils ca-certificates curl jq
TEST_PACKAGES = debhelper dpkg-dev perl libtest-base-perl \
                valgrind clang libclang-rt-14-dev redis-server \
                chromium chromium-driver fonts-wqy-microhei \
                gstreamer1.0-tools gstreamer1.0-plugins-base \
                gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
                gstreamer1.0-plugins-ugly prometheus \
                obs-studio xvfb python3 rtmpdump iproute2 strace
DEB_PACKAGES  = $(DEMO_PACKAGES) $(TEST_PACKAGES)

MODULE_SRCS  = $(wildcard module/*.c module/*.h) config console/console.html

# make test SAN=1: the module with AddressSanitizer and UBSan, loaded into
# Debian's nginx with the sanitizer runtimes preloaded; make test
# VALGRIND=1: nginx under valgrind.  Reports fail the test blocks.  (With
# SAN=1, make flv builds nginx-http-flv-module with them too:
# t/asan.supp.)
ifeq ($(SAN),1)
MODULE_BUILD = $(BUILD)/san
MODULE_CC    = -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_PRELOAD  = $(shell $(CC) -print-file-name=libasan.so):$(shell \
               $(CC) -print-file-name=libubsan.so)
SAN_ASAN     = detect_leaks=0:suppressions=$(TOP)/t/asan.supp
export TEST_NGINX_WRAPPER = env LD_PRELOAD=$(SAN_PRELOAD) \
    ASAN_OPTIONS=$(SAN_ASAN):log_path=$$TEST_NGINX_SERVROOT/logs/asan \
    UBSAN_OPTIONS=print_stacktrace=1:log_path=$$TEST_NGINX_SERVROOT/logs/ubsan
else
MODULE_BUILD = $(BUILD)
MODULE_CC    =
endif

ifeq ($(VALGRIND),1)
export TEST_NGINX_WRAPPER = valgrind --quiet --trace-children=yes \
    --leak-check=full --show-leak-kinds=definite --num-callers=30 \
    --keep-debuginfo=yes \
    --log-file=$$TEST_NGINX_SERVROOT/logs/valgrind.%p
endif

MODULE       = $(MODULE_BUILD)/ngx_rtmp_compliance_module.so

# nginx-http-flv-module: FLV_SRC, or the tarball unpacked into deps/
FLV_TARBALL ?= $(lastword $(sort $(wildcard \
               $(TOP)/../shared/deps/nginx-http-flv-module-*.tar.gz)))
FLV_SRC     ?= $(if $(FLV_TARBALL),$(DEPS)/$(notdir \
               $(FLV_TARBALL:.tar.gz=)))
FLV_BUILD    = $(MODULE_BUILD)/flv
FLV_MODULES  = $(FLV_BUILD)/ngx_http_flv_live_module.so \
               $(FLV_BUILD)/ngx_rtmp_compliance_module.so
FLV_TESTS   ?= t/100-http-flv.t t/110-hls.t
export TEST_NGINX_LOAD_MODULES ?= /usr/lib/nginx/modules/ngx_rtmp_module.so \
                                  $(MODULE)
TOKEN_TOOL   = $(BUILD)/compliance-token
RTMP_CLIENT  = $(BUILD)/rtmp-client
AUDIT_TOOL   = $(BUILD)/compliance-audit
TOOL_CFLAGS  = -O2 -g -Wall -Wextra -Werror

# hls.js from the npm registry, for t/110-hls.t's browser block: installed
# into build/npm (ignored, never committed) by make test, with the npm
# there is (nodejs's own, as here), else Debian's npm package
HLSJS_VERSION ?= 1.7.4
HLSJS        = $(BUILD)/npm/node_modules/hls.js/dist/hls.min.js

.PHONY: all module tools deps demo-deps rtmp-src static test test-static run stop \
        clean distclean fuzz flv flv-src test-flv hls-js

FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2

ifeq ($(NGINX_SRC),)
all: module tools
else
all: static tools
endif

deps:
	@scripts/install-deps $(DEB_PACKAGES)

demo-deps:
	@scripts/install-deps $(DEMO_PACKAGES)

rtmp-src: $(RTMP_SRC)/ngx_rtmp.h

$(DEPS)/nginx-rtmp-module/ngx_rtmp.h:
	scripts/fetch-debian-orig libnginx-mod-rtmp $(DEPS)/nginx-rtmp-module

module: $(MODULE)

$(MODULE): $(MODULE_SRCS) | rtmp-src
	scripts/build-module $(MODULE_BUILD) $(RTMP_SRC) "$(MODULE_CC)"

tools: $(TOKEN_TOOL) $(RTMP_CLIENT) $(AUDIT_TOOL)

$(AUDIT_TOOL): scripts/compliance-audit.c lib/cli.c lib/cli.h \
               module/ngx_rtmp_compliance_audit_format.h
	@mkdir -p $(BUILD)
	$(CC) $(TOOL_CFLAGS) -Imodule -Ilib -o $@ $(filter %.c,$^) \
	    -ljansson -lcrypto

$(TOKEN_TOOL): scripts/compliance-token.c lib/cli.c lib/cli.h lib/jws_sign.c \
               lib/jws_sign.h
	@mkdir -p $(BUILD)
	$(CC) $(TOOL_CFLAGS) -Ilib -o $@ $(filter %.c,$^) -ljwt -ljansson -lcrypto

$(RTMP_CLIENT): t/client/rtmp_client.c lib/rtmp_proto.c lib/rtmp_proto.h
	@mkdir -p $(BUILD)
	$(CC) $(TOOL_CFLAGS) -Ilib -o $@ $(filter %.c,$^)

# a failed install is not the build's failure: the browser block of
# t/110-hls.t then skips, saying so
hls-js:
	@command -v npm >/dev/null || scripts/install-deps npm || true
	@test -f $(HLSJS) || { mkdir -p $(BUILD)/npm && cd $(BUILD)/npm \
	    && npm install --no-audit --no-fund --no-save --loglevel=error \
	       hls.js@$(HLSJS_VERSION) \
	    || echo "hls.js@$(HLSJS_VERSION) not installed from npm:" \
	            "t/110-hls.t's browser block will skip"; }

# the fork as a dynamic module for Debian's nginx, and ours against it
flv: flv-src
	scripts/build-flv $(FLV_BUILD) $(FLV_SRC) "$(MODULE_CC)"

flv-src:
	@test -n "$(FLV_SRC)" || { echo "no nginx-http-flv-module: set" \
	    "FLV_SRC=DIR (an unpacked tree) or FLV_TARBALL=FILE"; exit 1; }
	@if [ ! -f $(FLV_SRC)/ngx_http_flv_live_module.h ] \
	    && [ -n "$(FLV_TARBALL)" ] \
	    && [ $(FLV_SRC) = $(DEPS)/$(notdir $(FLV_TARBALL:.tar.gz=)) ]; \
	then \
	    mkdir -p $(DEPS) && tar -C $(DEPS) -xzf $(FLV_TARBALL) \
	    && echo "unpacked $(FLV_TARBALL) into $(DEPS)"; \
	fi

static: | rtmp-src
	@test -n "$(NGINX_SRC)" || { echo "set NGINX_SRC=DIR"; exit 1; }
	scripts/build-static $(BUILD)/static $(NGINX_SRC) $(RTMP_SRC)

# with nginx-http-flv-module at hand (FLV_SRC, FLV_TARBALL), its tests
# run after the suite; FLV_REQUIRED=1 (.ci/run) fails when it is not
test: deps
	$(MAKE) module tools hls-js
	prove -j$(PROVE_JOBS) -r $(TEST_FILES)
ifneq ($(FLV_SRC),)
	$(MAKE) test-flv
else
	@echo "HTTP-FLV tests ($(FLV_TESTS)) SKIPPED: no nginx-http-flv-module" \
	      "(set FLV_SRC=DIR, an unpacked tree)"
	@test -z "$(FLV_REQUIRED)" || { echo "FLV_REQUIRED is set: failing";\
	    exit 1; }
endif

test-flv: deps
	$(MAKE) flv tools
	TEST_NGINX_LOAD_MODULES="$(FLV_MODULES)" \
	    prove -j$(PROVE_JOBS) $(FLV_TESTS)

# the smoke test of a static nginx built from Debian's nginx sources
test-static: deps
	$(MAKE) tools
	@if [ -z "$(NGINX_SRC)" ]; then \
	    scripts/fetch-debian-orig nginx $(DEPS)/nginx; \
	    $(MAKE) static NGINX_SRC=$(DEPS)/nginx; \
	else \
	    $(MAKE) static; \
	fi
	TEST_NGINX_BINARY=$(BUILD)/static/nginx TEST_NGINX_LOAD_MODULES= \
	    prove -j2 t/010-publish-gate.t t/020-orders.t

# libFuzzer targets for the AMF reader, the token verifier, the order
# parser, the state-file loader and the audit verifier (fuzz/README.md);
# make test runs each for a short time
fuzz: deps
	$(MAKE) module
	scripts/fetch-debian-orig nginx $(DEPS)/nginx
	NGX_SRC=$(DEPS)/nginx NGX_OBJS=$(BUILD)/nginx-src/objs \
	    RTMP_SRC=$(RTMP_SRC) fuzz/build.sh $(BUILD)/fuzz
	FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

# the benchmark (bench/run, docs/performance.md); BENCH_QUICK=1: under 5
# minutes (~90 s here).
# With nginx-http-flv-module at hand (FLV_SRC, FLV_TARBALL) make flv runs
# first, for the HTTP-FLV section; without it bench/run says it skipped it
BENCH_QUICK ?=
LOADGEN      = $(BUILD)/loadgen
NODELAY_SO   = $(BUILD)/bench-nodelay.so
WRITER       = $(BUILD)/bench-writer/audit_writer

bench: module tools $(LOADGEN) $(NODELAY_SO) $(WRITER) $(if $(FLV_SRC),flv)
	BENCH_QUICK=$(BENCH_QUICK) BUILD=$(BUILD) BENCH_FLV=$(FLV_BUILD) \
	    bench/run

# the audit writer alone (bench/audit_writer.c), linked as the fuzz
# targets link module code, on nginx's sources (objs/ from make module)
$(WRITER): bench/audit_writer.c bench/writer.mk fuzz/fuzz.mk fuzz/stubs.c \
           fuzz/stubs_zone.c fuzz/stubs_state.c $(MODULE_SRCS) | $(MODULE)
	scripts/fetch-debian-orig nginx $(DEPS)/nginx
	$(MAKE) -f bench/writer.mk B=$(BUILD)/bench-writer TOP=$(TOP) \
	    NGX_SRC=$(DEPS)/nginx NGX_OBJS=$(BUILD)/nginx-src/objs \
	    RTMP_SRC=$(RTMP_SRC) CC=$(CC) $@

$(LOADGEN): bench/loadgen.c lib/rtmp_proto.c lib/rtmp_proto.h \
            lib/jws_sign.c lib/jws_sign.h
	@mkdir -p $(BUILD)
	$(CC) $(TOOL_CFLAGS) -Ilib -pthread -o $@ $(filter %.c,$^) -lcrypto -lm

$(NODELAY_SO): bench/nodelay_preload.c
	@mkdir -p $(BUILD)
	$(CC) $(TOOL_CFLAGS) -shared -fPIC -o $@ $< -ldl

.PHONY: bench

# ---- Debian package and make install (docs/operations.md) ----------------
DEB_DIR        = $(BUILD)/deb
DEB_BUILD_DEPS = debhelper dpkg-dev nginx-dev nginx libnginx-mod-rtmp \
                 libhiredis-dev libssl-dev libjansson-dev libjwt-dev

deb: rtmp-src
	@scripts/install-deps $(DEB_BUILD_DEPS)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -C $(TOP) --exclude=./.git --exclude=./build --exclude=./deps \
	    --exclude='./t/servroot*' --exclude=./debian/build -cf - . \
	    | tar -C $(DEB_DIR)/src -xf -
	cd $(DEB_DIR)/src && RTMP_SRC=$(abspath $(RTMP_SRC)) \
	    dpkg-buildpackage -b -us -uc > $(DEB_DIR)/build.log 2>&1 \
	    || { tail -n 30 $(DEB_DIR)/build.log; exit 1; }
	rm -rf $(DEB_DIR)/src
	@ls $(DEB_DIR)/*.deb

PREFIX  ?= /usr/local
DESTDIR ?=

install: $(MODULE) $(TOKEN_TOOL) $(AUDIT_TOOL)
	scripts/install --build $(MODULE_BUILD) --tools $(BUILD) \
	    --prefix $(PREFIX) --destdir "$(DESTDIR)"

uninstall:
	scripts/install --uninstall --prefix $(PREFIX) --destdir "$(DESTDIR)"

.PHONY: deb install uninstall

run: demo-deps
	$(MAKE) module tools
	scripts/demo start

stop:
	scripts/demo stop

clean:
	rm -rf $(BUILD) t/servroot*

distclean: clean
	rm -rf $(DEPS)
