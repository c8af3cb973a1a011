#!/usr/bin/env bash
# Builds the fuzz package (Fuzz/, a package of its own) in release with libFuzzer and
# AddressSanitizer, then runs each target for FUZZ_SECONDS on a scratch copy of its committed
# corpus (Fuzz/Corpus/<target>/ is never grown in place) and prints, per target, the
# executions, exec/s, coverage (libFuzzer's cov: edges and ft: features) and peak RSS.
# Fails if any target crashed, broke an invariant, leaked or timed out; the input is kept in
# $FUZZ_WORK/<target>/artifacts/ (reproduce: <binary> <input file>).
#
# `scripts/fuzz.sh --regress` runs every target once over its committed corpus and
# Fuzz/Regressions/<target>/ (inputs of fixed crashes) instead: seconds, no fuzzing.
#
# Environment: SWIFT, FUZZ_SECONDS (default 300 per target), FUZZ_MAX_LEN (default 4096 bytes
# per input), FUZZ_TARGETS (default all six), FUZZ_WORK (default .build-fuzz).
# Run by `make fuzz` and `make fuzz-regress`; docs/testing.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
SWIFT="${SWIFT:-swift}"
seconds="${FUZZ_SECONDS:-300}"
max_len="${FUZZ_MAX_LEN:-4096}"
targets="${FUZZ_TARGETS:-FrameDecoderFuzzer HPACKDecoderFuzzer ConnectionFuzzer GRPCDeframerFuzzer HTTP1ParserFuzzer HTTP1ResponseParserFuzzer}"
work="${FUZZ_WORK:-$repo/.build-fuzz}"
mode="fuzz"
if [[ "${1:-}" == "--regress" ]]; then
    mode="regress"
    # Its own directory: replaying must not wipe the corpus and log of a fuzzing run.
    work="$work/regress"
fi

# --sanitize=fuzzer lets SwiftPM link libFuzzer's main. The instrumentation comes from
# -Xswiftc: swiftc honours only its last -sanitize= flag, and SwiftPM's own flags for
# `--sanitize=fuzzer --sanitize=address` come in either order, so half the builds would lose
# the coverage counters (or ASan). One combined flag, passed last, gives both.
build=(--package-path Fuzz -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address)
echo "fuzz: building Fuzz/ (release, -sanitize=fuzzer,address)"
"$SWIFT" build "${build[@]}" 2>&1 | grep -v -E "^\[[0-9]+/[0-9]+\]|Cannot export local symbol '__asan_extra_spill_area'" || true
bin="$("$SWIFT" build "${build[@]}" --show-bin-path)"

# Swift's backtracer would take over the crash signal and print for minutes; libFuzzer's
# handler reports the input and ASan's stack instead.
export SWIFT_BACKTRACE=enable=no

failed=()
summary=()
for target in $targets; do
    dir="$work/$target"
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp Fuzz/Corpus/"$target"/* "$dir/corpus/"
    log="$dir/fuzz.log"
    if [[ "$mode" == "regress" ]]; then
        inputs=("$dir/corpus")
        [[ -d "Fuzz/Regressions/$target" ]] && inputs+=("Fuzz/Regressions/$target")
        args=(-runs=0)
    else
        inputs=("$dir/corpus")
        args=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048)
        echo "fuzz: $target for $seconds s (log: $log)"
    fi
    status=0
    "$bin/$target" "${inputs[@]}" "${args[@]}" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(ls "$dir/corpus" | wc -l)
    line=$(printf '%-20s execs: %-11s exec/s: %-7s cov: %-5s ft: %-6s corpus: %-5s peak RSS: %s MB' \
        "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "${rss:-?}")
    if [[ $status -ne 0 ]] || [[ -n "$(ls -A "$dir/artifacts")" ]]; then
        failed+=("$target")
        line="$line  FAILED (exit $status)"
        echo "fuzz: $target failed; the end of its log:" >&2
        grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' "$log" | tail -40 >&2
        for artifact in "$dir"/artifacts/*; do
            [[ -e "$artifact" ]] && echo "fuzz: reproduce with: $bin/$target $artifact" >&2
        done
    fi
    summary+=("$line")
done

echo "fuzz ($mode): results"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
