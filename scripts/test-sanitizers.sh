#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer (with LeakSanitizer) and under ThreadSanitizer:
# `swift build --build-tests --sanitize=S` then `swift test --skip-build --sanitize=S`, each in
# its own scratch directory (.build-asan, .build-tsan) so the normal .build is untouched. The
# example programs the tests spawn are built with the same sanitizer and report into their own
# stderr, which the tests show when they fail.
#
# Skipped (SANITIZER_SKIP): tests that measure the process rather than check behaviour, and
# whose figures a sanitizer changes by design (docs/testing.md):
# - the allocation budgets: they count mallocs of a release build through an LD_PRELOAD
#   interposer; a sanitizer replaces malloc and its runtime must be loaded first;
# - abortedCallsKeepTheirStatus: bounds InteropServer's RSS growth over 1,000 calls to 2 MiB;
#   ASan's quarantine holds freed memory (up to 256 MB) on purpose;
# - theGRPCProxyProgramForwardsCalls: 1 GiB through the proxy within 30 s and a peak RSS
#   under 64 MiB; instrumented code is several times slower and bigger.
#
# Environment: SWIFT, SANITIZERS (default "address thread"), SANITIZER_SKIP (a regular
# expression of test names), SANITIZER_LEAKS (default 1: LeakSanitizer on). Logs:
# .build-asan/test.log, .build-tsan/test.log. Run by `make test-sanitizers`.
set -uo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
SWIFT="${SWIFT:-swift}"
sanitizers="${SANITIZERS:-address thread}"
skip="${SANITIZER_SKIP:-AllocationBudgetTests|abortedCallsKeepTheirStatus|theGRPCProxyProgramForwardsCalls}"

# LSan on, with the few suppressions that are not Loop's leaks (each explained in the file).
# SANITIZER_LEAKS=0 turns it off, to see ASan's memory errors apart from the known leaks
# (docs/testing.md); the default keeps them failing the run until they are fixed.
export ASAN_OPTIONS="detect_leaks=${SANITIZER_LEAKS:-1}"
export LSAN_OPTIONS="suppressions=$repo/Tests/Sanitizers/lsan.supp:print_suppressions=0"
# The reviewed reports that are not races (each explained in the file); a race report makes a
# spawned program exit 66 and the test runner exit non-zero.
export TSAN_OPTIONS="suppressions=$repo/Tests/Sanitizers/tsan.supp:print_suppressions=0"

failed=()
summary=()
for sanitizer in $sanitizers; do
    case "$sanitizer" in
        address) scratch=.build-asan ;;
        thread) scratch=.build-tsan ;;
        *) echo "test-sanitizers: unknown sanitizer $sanitizer" >&2; exit 2 ;;
    esac
    log="$scratch/test.log"
    echo "test-sanitizers: $sanitizer: building into $scratch"
    mkdir -p "$scratch"
    if ! "$SWIFT" build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$scratch/build.log" 2>&1; then
        grep -E "error:" "$scratch/build.log" | head -20 >&2
        failed+=("$sanitizer (build, see $scratch/build.log)")
        continue
    fi
    echo "test-sanitizers: $sanitizer: testing (log: $log)"
    started=$(date +%s)
    "$SWIFT" test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" --skip "$skip" >"$log" 2>&1
    status=$?
    seconds=$(( $(date +%s) - started ))
    result=$(grep -E "^(✔|✘) Test run with" "$log" | tail -1)
    reports=$(grep -c -E "^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer))" "$log")
    summary+=("$sanitizer: exit $status in ${seconds} s; ${result:-no swift-testing summary}; sanitizer reports in the log: $reports")
    if [[ $status -ne 0 ]]; then
        failed+=("$sanitizer")
        grep -E "^✘ Test .* (recorded an issue|failed)" "$log" | cut -c1-300 | head -40 >&2
    fi
done

echo "test-sanitizers: results"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "test-sanitizers: FAILED: ${failed[*]} (logs in .build-asan/test.log, .build-tsan/test.log)" >&2
    exit 1
fi
