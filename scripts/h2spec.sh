#!/usr/bin/env bash
# Runs h2spec (summerwind/h2spec, the HTTP/2 conformance suite) against the release
# HTTP2Server demo, H2SPEC_RUNS times in a row, over plain h2c with prior knowledge.
#
# Usage: H2SPEC=/path/to/h2spec scripts/h2spec.sh
#        H2SPEC_SRC=/path/to/h2spec-source scripts/h2spec.sh   (builds it first, see below)
#
#   H2SPEC          the h2spec binary
#   H2SPEC_SRC      an h2spec source tree (v2.6.0), built when H2SPEC is not set: with Debian's
#                   Go in GOPATH mode against the Debian golang-*-dev packages
#                   (apt-get install golang-go golang-github-fatih-color-dev
#                   golang-github-spf13-cobra-dev golang-golang-x-net-dev), into $H2SPEC_BUILD_DIR
#   H2SPEC_RUNS     how many runs (default 20)
#   H2SPEC_TIMEOUT  h2spec's per-test timeout in seconds (-o, default 2)
#   H2SPEC_RUN_TIMEOUT  the limit for one whole run in seconds (default 300)
#   H2SPEC_ARGS     more h2spec arguments (a spec subset such as "http2/5.1 http2/8.1", -v, ...)
#   SWIFT           the swift command (default swift)
#
# Prints each run's counts and the ids of its failing tests (h2spec's own ids, e.g. http2/5.1/3,
# which h2spec accepts as arguments to rerun just that test), and exits 1 if any run failed.
# Each run's JUnit report and output stay in the work directory it names.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${H2SPEC_RUNS:-20}"
test_timeout="${H2SPEC_TIMEOUT:-2}"
run_timeout="${H2SPEC_RUN_TIMEOUT:-300}"
swift="${SWIFT:-swift}"
work="$(mktemp -d "${TMPDIR:-/tmp}/loop-h2spec.XXXXXX")"

h2spec="${H2SPEC:-}"
if [ -z "${h2spec}" ]; then
    if [ -z "${H2SPEC_SRC:-}" ]; then
        echo "h2spec.sh: set H2SPEC to an h2spec binary or H2SPEC_SRC to its source tree" >&2
        exit 2
    fi
    # GOPATH mode: h2spec's import path must be under src/; the Debian -dev packages put its
    # dependencies in /usr/share/gocode. No module download happens (GO111MODULE=off).
    build_dir="${H2SPEC_BUILD_DIR:-${TMPDIR:-/tmp}/loop-h2spec-build}"
    gopath="${build_dir}/gopath"
    rm -rf "${gopath}"
    mkdir -p "${gopath}/src/github.com/summerwind"
    cp -r "${H2SPEC_SRC}" "${gopath}/src/github.com/summerwind/h2spec"
    echo "h2spec.sh: building h2spec from ${H2SPEC_SRC}"
    (cd "${gopath}/src/github.com/summerwind/h2spec" &&
        GO111MODULE=off GOPATH="${gopath}:/usr/share/gocode" GOCACHE="${build_dir}/gocache" \
            go build -ldflags "-X main.VERSION=2.6.0" -o "${build_dir}/h2spec" ./cmd/h2spec)
    h2spec="${build_dir}/h2spec"
fi
[ -x "${h2spec}" ] || { echo "h2spec.sh: ${h2spec} is not an executable" >&2; exit 2; }

"${swift}" build -c release --product HTTP2Server
server_binary="$("${swift}" build -c release --show-bin-path)/HTTP2Server"

# Port 0: the kernel picks a free port, and the server prints the address it got.
"${server_binary}" --host 127.0.0.1 --port 0 > "${work}/server.log" 2>&1 &
server_pid=$!
trap 'kill "${server_pid}" 2>/dev/null || true; wait "${server_pid}" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
    port="$(sed -n 's/^HTTP2Server listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "${work}/server.log")"
    [ -n "${port}" ] && break
    kill -0 "${server_pid}" 2>/dev/null || break
    sleep 0.1
done
if [ -z "${port}" ]; then
    echo "h2spec.sh: HTTP2Server did not start:" >&2
    cat "${work}/server.log" >&2
    exit 1
fi
echo "h2spec.sh: HTTP2Server (pid ${server_pid}) on 127.0.0.1:${port}; ${runs} runs; output in ${work}"

# The JUnit report names each test by its group (package) and its position in the group:
# together they are the id h2spec takes on its command line. Failure messages quote frames
# verbatim (a PING's NUL bytes), which XML does not allow: control characters are dropped first.
summarize() {
    python3 - "$1" <<'EOF'
import re, sys, xml.etree.ElementTree as ET
text = re.sub(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", b"", open(sys.argv[1], "rb").read())
total = passed = 0
failed = []
for suite in ET.fromstring(text).iter("testsuite"):
    for index, case in enumerate(suite.iter("testcase"), start=1):
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f'{case.get("package")}/{index} ({case.get("classname")})')
        elif case.find("skipped") is None:
            passed += 1
print(f"{total} tests, {passed} passed, {len(failed)} failed")
for name in failed:
    print(f"    failed: {name}")
EOF
}

failed_runs=0
for run in $(seq 1 "${runs}"); do
    report="${work}/run${run}.xml"
    status=0
    # shellcheck disable=SC2086  # H2SPEC_ARGS is a list of words
    timeout "${run_timeout}" "${h2spec}" -h 127.0.0.1 -p "${port}" -o "${test_timeout}" -j "${report}" \
        ${H2SPEC_ARGS:-} > "${work}/run${run}.txt" 2>&1 || status=$?
    if [ -s "${report}" ]; then
        summary="$(summarize "${report}" 2>&1)" || true
    else
        summary="no report (h2spec exit status ${status}; see ${work}/run${run}.txt)"
    fi
    if [ "${status}" -ne 0 ]; then
        failed_runs=$((failed_runs + 1))
        echo "run ${run}: FAIL ${summary}"
    else
        echo "run ${run}: pass ${summary}"
    fi
    if ! kill -0 "${server_pid}" 2>/dev/null; then
        echo "h2spec.sh: HTTP2Server exited during run ${run}:" >&2
        tail -20 "${work}/server.log" >&2
        exit 1
    fi
done

echo "h2spec.sh: $((runs - failed_runs)) of ${runs} runs passed"
[ "${failed_runs}" -eq 0 ]
