#!/bin/bash
# fuzz/build.sh BUILD_DIR
#
# Builds the libFuzzer targets fuzz_amf, fuzz_token, fuzz_jwks,
# fuzz_order, fuzz_state, fuzz_audit and fuzz_witness into BUILD_DIR
# (clang, ASan+UBSan).
# Incremental: a second run with nothing changed only checks.
#
# Uses, each fetched or made when missing:
#   NGX_SRC   nginx's full source tree          (default deps/nginx,
#             Debian's orig tarball: scripts/fetch-debian-orig nginx)
#   NGX_OBJS  a configured objs/ dir with ngx_auto_config.h
#             (default build/nginx-src/objs, made by "make module")
#   RTMP_SRC  nginx-rtmp-module's sources       (default
#             deps/nginx-rtmp-module, "make rtmp-src")
#   FUZZ_CC   the compiler                      (default clang, clang-14)
#
# Exit status: 0 built; 3 clang or its libFuzzer/sanitizer runtime
# (Debian: clang libclang-rt-14-dev) is missing; 1 anything else.

set -euo pipefail

b=${1:?usage: fuzz/build.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$b"
b=$(cd "$b" && pwd)

# the compiler and its runtime

cc=${FUZZ_CC:-}

if [ -z "$cc" ]; then
    for c in clang clang-14; do
        if command -v "$c" >/dev/null 2>&1; then
            cc=$c
            break
        fi
    done
fi

if [ -z "$cc" ] || ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz/build.sh: clang is not installed" \
         "(Debian: apt-get install -y clang libclang-rt-14-dev)" >&2
    exit 3
fi

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT

cat > "$probe/p.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return d && n; }
EOF

if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" \
     > "$probe/log" 2>&1
then
    sed 's/^/    /' "$probe/log" | head -n 5 >&2
    echo "fuzz/build.sh: $cc cannot link -fsanitize=fuzzer,address,undefined:" \
         "the libFuzzer/sanitizer runtime is missing" \
         "(Debian: apt-get install -y libclang-rt-14-dev)" >&2
    exit 3
fi

# the sources

ngx=${NGX_SRC:-$top/deps/nginx}
objs=${NGX_OBJS:-$top/build/nginx-src/objs}
rtmp=${RTMP_SRC:-$top/deps/nginx-rtmp-module}

if [ ! -f "$rtmp/ngx_rtmp.h" ]; then
    if [ -n "${RTMP_SRC:-}" ]; then
        echo "fuzz/build.sh: no ngx_rtmp.h in RTMP_SRC=$rtmp" >&2
        exit 1
    fi
    make -s -C "$top" rtmp-src
fi

if [ ! -f "$ngx/src/core/ngx_string.c" ]; then
    if [ -n "${NGX_SRC:-}" ]; then
        echo "fuzz/build.sh: NGX_SRC=$ngx is not an nginx source tree" >&2
        exit 1
    fi
    (cd "$top" && scripts/fetch-debian-orig nginx deps/nginx)
fi

if [ ! -f "$objs/ngx_auto_config.h" ]; then
    if [ -n "${NGX_OBJS:-}" ]; then
        echo "fuzz/build.sh: no ngx_auto_config.h in NGX_OBJS=$objs" >&2
        exit 1
    fi
    make -s -C "$top" module
fi

for f in "$ngx/src/core/ngx_string.c" "$objs/ngx_auto_config.h" \
         "$rtmp/ngx_rtmp.h"
do
    if [ ! -f "$f" ]; then
        echo "fuzz/build.sh: $f is missing" >&2
        exit 1
    fi
done

# objects are rebuilt when this changes

flags="$(command -v "$cc") $("$cc" --version | head -n 1)
$ngx $objs $rtmp
$(sha256sum "$top/fuzz/fuzz.mk" | cut -d' ' -f1)"

if [ "$(cat "$b/fuzz-flags" 2>/dev/null)" != "$flags" ]; then
    echo "$flags" > "$b/fuzz-flags"
fi

make -s -f "$top/fuzz/fuzz.mk" -j"$(nproc 2>/dev/null || echo 2)" \
    B="$b" TOP="$top" NGX_SRC="$ngx" NGX_OBJS="$objs" RTMP_SRC="$rtmp" \
    CC="$cc"

echo "built $b/fuzz_amf $b/fuzz_token $b/fuzz_jwks $b/fuzz_order" \
     "$b/fuzz_state $b/fuzz_audit $b/fuzz_witness"
