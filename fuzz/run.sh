#!/bin/bash
# fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# Runs each fuzz target built by fuzz/build.sh BUILD_DIR (all seven by
# default: amf token jwks order state audit witness) for SECONDS,
# FUZZ_JOBS at a time (default: the number of cores), each on a copy of
# its seed corpus
# fuzz/corpus/T in a temporary directory (the repository's corpus is not
# changed), with its dictionary fuzz/dict/T.dict.
#
# Prints one line per target:
#   fuzz_T: seconds: S, runs: N, exec/s: N, cov: N, ft: N, corpus: N, crashes: N
# and for a crash the input kept under BUILD_DIR/fuzz-crashes/ and the
# sanitizer's report; the whole output of each run is in
# BUILD_DIR/fuzz-logs/fuzz_T.log.  Exits 1 if any target crashed (or
# failed to run), 0 otherwise.  FUZZ_CORPUS_OUT=DIR keeps each grown
# corpus as DIR/T (e.g. for a coverage report).

set -uo pipefail

b=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
secs=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2

top=$(cd "$(dirname "$0")/.." && pwd)
b=$(cd "$b" && pwd) || exit 1

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(amf token jwks order state audit witness)

jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}

# state: a file that overflows the zone (64 pages) is some 60 KB
declare -A max_len=([amf]=12288 [token]=6144 [jwks]=8192 [order]=4096
                    [state]=65536 [audit]=16384 [witness]=2048)

crashes=$b/fuzz-crashes
logs=$b/fuzz-logs
mkdir -p "$crashes" "$logs" || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# UBSan stops at its first report, but for the suppressed known places;
# ASan finds leaks too (detect_leaks is on by default on Linux)
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$top/fuzz/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

for t in "${targets[@]}"; do
    if [ ! -x "$b/fuzz_$t" ] || [ ! -d "$top/fuzz/corpus/$t" ]; then
        echo "fuzz/run.sh: no target \"$t\" (built: run fuzz/build.sh $b)" >&2
        exit 1
    fi
done

# the crash inputs kept for target $1, sorted
list_crashes() {
    local f

    for f in "$crashes/fuzz_$1-"*; do
        [ -e "$f" ] && basename "$f"
    done | sort
}

run_one() {
    local t=$1 dict=()

    mkdir -p "$work/$t"
    cp -r "$top/fuzz/corpus/$t/." "$work/$t/"
    list_crashes "$t" > "$work/$t.before"

    [ -f "$top/fuzz/dict/$t.dict" ] && dict=(-dict="$top/fuzz/dict/$t.dict")

    "$b/fuzz_$t" -max_total_time="$secs" -max_len="${max_len[$t]:-4096}" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/fuzz_$t-" "${dict[@]}" "$work/$t" \
        > "$logs/fuzz_$t.log" 2>&1
    echo $? > "$work/$t.rc"

    if [ -n "${FUZZ_CORPUS_OUT:-}" ]; then
        mkdir -p "$FUZZ_CORPUS_OUT/$t"
        cp -r "$work/$t/." "$FUZZ_CORPUS_OUT/$t/"
    fi
}

running=0

for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi

    run_one "$t" &
    running=$((running + 1))
done

wait

status=0

for t in "${targets[@]}"; do
    log=$logs/fuzz_$t.log
    rc=$(cat "$work/$t.rc" 2>/dev/null || echo 1)

    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -aE '^#[0-9]+' "$log" | grep -a 'cov:' | tail -n 1)

    [ -z "$runs" ] && runs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')

    list_crashes "$t" > "$work/$t.after"
    new=$(comm -13 "$work/$t.before" "$work/$t.after")
    n=$(echo -n "$new" | grep -c . || true)

    if [ "$rc" != 0 ] && [ "$n" = 0 ]; then
        # it stopped without keeping an input: count it, show why
        n=1
        new=
    fi

    echo "fuzz_$t: seconds: $secs, runs: ${runs:-0}, exec/s: ${eps:-0}," \
         "cov: ${cov:-0}, ft: ${ft:-0}, corpus: ${corp:-0}, crashes: $n"

    if [ "$n" != 0 ]; then
        status=1

        [ -z "$new" ] && echo "    the fuzzer stopped (exit $rc) without keeping an input"

        for f in $new; do
            echo "    input: $crashes/$f"
            echo "    reproduce: UBSAN_OPTIONS=$UBSAN_OPTIONS $b/fuzz_$t $crashes/$f"
        done

        grep -aE 'ERROR: |runtime error|invariant broken|fuzz stub|SUMMARY|^ *#[0-9]+ 0x' "$log" \
            | grep -av 'in fuzzer::' | head -n 25 | sed 's/^/    /'
        echo "    log: $log"
    fi
done

exit $status
