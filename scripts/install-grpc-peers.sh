#!/usr/bin/env bash
# Installs and builds the real gRPC peers of Loop's gRPC interop tests, from Debian only:
# grpc-go 1.33.3 (golang-google-grpc-dev, built in GOPATH mode with Debian's Go) with its
# official interop client and server, which the binary package leaves out and which come from
# Debian's source package, plus our compression_peer, abort_peer and keepalive_peer and the
# .proto files the tests share; and issue #10's Go control stack, cmux_server (grpc-go +
# grpc-gateway 1.6.4 behind cmux 0.1.5 on one port) and its client dial_peer.
# Idempotent; prints one line when everything is already there. Runs apt-get as root (or
# through sudo). Python peers (grpcio, grpcio-tools) come from scripts/install-python-deps.sh.
#
# Cache: ${LOOP_PEERS_DIR:-$HOME/.cache/loop-peers}
#   bin/interop_client     grpc-go interop/client:
#                            interop_client --server_host=127.0.0.1 --server_port=PORT
#                                           --use_tls=false --test_case=NAME
#   bin/interop_server     grpc-go interop/server: interop_server --port=PORT (plaintext by default)
#   bin/compression_peer   Tests/LoopGRPCTests/Interop/Go/compression_peer:
#                            compression_peer -mode=client -addr=127.0.0.1:PORT
#                            compression_peer -mode=server -port=PORT   ("listening on PORT")
#   bin/abort_peer         Tests/LoopGRPCTests/Interop/Go/abort_peer (the proxy tests' aborted calls):
#                            abort_peer -addr=127.0.0.1:PORT -kind=bidi|server-streaming
#                                       -count=1000 -concurrency=20   ("STATUS <CODE_NAME> <count>")
#   bin/keepalive_peer     Tests/LoopGRPCTests/Interop/Go/keepalive_peer (keepalive and connection age):
#                            keepalive_peer -mode=client -addr=127.0.0.1:PORT -time=10s -permit_without_stream
#                            keepalive_peer -mode=server -port=0 -min_time=1s -max_age=500ms ...
#                            ("listening on PORT"; "CONN <n> SENT|RECV PING|PING_ACK|GOAWAY ...")
#   bin/cmux_server        Tests/LoopGRPCGatewayTests/Interop/Go/cmux_server (issue #10's control):
#                            cmux_server -port=0 -match=plain|matchwithwriters   ("listening on PORT")
#                            loop.demo.v1.Greetings over gRPC (HTTP/2) and REST/JSON (HTTP/1.1,
#                            grpc-gateway) on one cmux port, GET /healthz → 200 "ok"
#   bin/dial_peer          Tests/LoopGRPCGatewayTests/Interop/Go/dial_peer (a fresh connection per call):
#                            dial_peer -addr=127.0.0.1:PORT -dials=100 -deadline=3s -kind=unary|stream|both
#                                      [-concurrency=10] [-connect_timeout=1s]
#                            ("RESULT <OK|CODE_NAME|WRONG_REPLY> <count> <first message>";
#                             "TOTAL ok=<n> failed=<m>")
#   protos/                the -I root of the shared .proto files:
#     grpc/testing/empty.proto     package grpc.testing: Empty
#     grpc/testing/messages.proto  package grpc.testing: the request/response messages
#     grpc/testing/test.proto      package grpc.testing: TestService, UnimplementedService,
#                                  LoadBalancerStatsService; imports "grpc/testing/empty.proto"
#                                  and "grpc/testing/messages.proto"
#     helloworld/helloworld.proto  package helloworld: Greeter (examples/helloworld/helloworld)
#     grpc/health/v1/health.proto  package grpc.health.v1: Health
#     google/api/annotations.proto google.api.http (from grpc-gateway's third_party/googleapis),
#     google/api/http.proto        what Sources/examples/GatewayDemo/Protos/loop/demo/v1/greetings.proto imports
#   gopath/                private GOPATH: gopath/src/google.golang.org/grpc is the installed
#                          /usr/share/gocode tree (a symlink per entry) with the source
#                          package's interop/ copied over it and its .pb.go regenerated;
#                          gopath/src/github.com/grpc-ecosystem/grpc-gateway/{runtime,utilities}
#                          from debs/ (patched, below); gopath/src/loopdemo/greetings: the Go code
#                          generated from greetings.proto (protoc-gen-go, protoc-gen-go-grpc,
#                          protoc-gen-grpc-gateway; go_package "loopdemo/greetings")
#   src/                   the unpacked Debian source package
#   debs/                  golang-github-grpc-ecosystem-grpc-gateway-dev, downloaded and unpacked
#                          (dpkg -x), not installed
#
# grpc-go 1.33 keeps every grpc.testing message and service in one file,
# interop/grpc_testing/test.proto; this script splits it into the three files of gRPC's own
# layout above (same package, same messages, same fields), so imports resolve with -I protos.
# Those messages predate the interop spec's BoolValue fields (response_compressed,
# expect_compressed): the compression checks use compression_peer instead.
#
# Go code generation uses Debian's protoc-gen-go (APIv2, 1.28) and protoc-gen-go-grpc
# (built from grpc-go 1.33.3 itself), the generators grpc-go 1.33 uses upstream; they need
# golang-github-golang-protobuf-1-5-dev, which conflicts with the 1-3 package (and with
# golang-goprotobuf-dev) that apt would otherwise pick for golang-google-grpc-dev.
#
# grpc-gateway: golang-grpc-gateway (protoc-gen-grpc-gateway 1.6.4, needs only libc) and
# golang-github-soheilhy-cmux-dev are installed; golang-github-grpc-ecosystem-grpc-gateway-dev
# (the runtime/ and utilities/ packages the generated .pb.gw.go imports, and the googleapis
# protos) is NOT: it depends on golang-goprotobuf-dev, so apt would remove
# golang-github-golang-protobuf-1-5-dev and protoc-gen-go, and every peer above with them. The
# script takes it with `apt-get download` (no root needed) and `dpkg -x` into debs/, and
# builds cmux_server against its copy in the private GOPATH with golang-protobuf 1.5 like
# the rest. One patch makes 1.6.4's runtime work with golang-protobuf 1.5: its hand-written
# error message type, runtime.errorBody, gives field number 1 to both "error" and "message";
# golang-protobuf 1.3 ignored that, 1.4+ derives a descriptor from the struct tags and panics
# ("mismatching field"), so every error answer would be an empty reply. The patch numbers
# "message" 4 (upstream replaced errorBody by a generated message in 1.14). The JSON keeps
# the struct's order, {"error":"...","message":"...","code":N}, which is what 1.3's jsonpb
# (walking the struct by reflection) writes too; not checked against 1.3 here.
# grpc-gateway's runtime imports the deprecated github.com/golang/protobuf/protoc-gen-go/generator,
# whose init prints a three-line "WARNING: Package ... is deprecated" to standard error: both
# cmux_server and dial_peer (which links the generated package) print it when they start.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${LOOP_PEERS_DIR:-$HOME/.cache/loop-peers}
compression_peer_dir="$repo/Tests/LoopGRPCTests/Interop/Go/compression_peer"
abort_peer_dir="$repo/Tests/LoopGRPCTests/Interop/Go/abort_peer"
keepalive_peer_dir="$repo/Tests/LoopGRPCTests/Interop/Go/keepalive_peer"
cmux_server_dir="$repo/Tests/LoopGRPCGatewayTests/Interop/Go/cmux_server"
dial_peer_dir="$repo/Tests/LoopGRPCGatewayTests/Interop/Go/dial_peer"
greetings_protos="$repo/Sources/examples/GatewayDemo/Protos"
greetings_proto=loop/demo/v1/greetings.proto
gateway_dev=golang-github-grpc-ecosystem-grpc-gateway-dev
log() { echo "install-grpc-peers: $*"; }
die() { echo "install-grpc-peers: $*" >&2; exit 1; }

packages=(
    golang-go golang-google-grpc-dev golang-golang-x-net-dev
    golang-github-golang-protobuf-1-5-dev golang-google-protobuf-dev
    protobuf-compiler protoc-gen-go protoc-gen-go-grpc
    golang-github-soheilhy-cmux-dev golang-grpc-gateway
    zlib1g-dev dpkg-dev
)

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    sudo=(false)
fi

# --- 1. Debian packages -----------------------------------------------------------------------
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "${sudo[0]:-}" = false ] && die "missing ${missing[*]} and not root (no sudo); install them with apt-get"
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Waits for a dpkg lock held by another install (e.g. make's other deps) instead of failing.
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# grpc-gateway's -dev package (downloaded, not installed: see above) in the version of the
# installed golang-grpc-gateway's source package: the two come from the same source, and the
# -dev package (architecture all) has no binNMU suffix.
gateway_dev_version=$(dpkg-query -W -f='${source:Version}' golang-grpc-gateway)

# Everything below depends on these versions and on the files of this repository it builds.
stamp=$(
    dpkg-query -W -f='${Package}=${Version}\n' "${packages[@]}"
    echo "$gateway_dev=$gateway_dev_version"
    sha256sum "${BASH_SOURCE[0]}" "$compression_peer_dir"/*.go "$abort_peer_dir"/*.go "$keepalive_peer_dir"/*.go \
              "$cmux_server_dir"/*.go "$dial_peer_dir"/*.go "$greetings_protos/$greetings_proto" | cut -d' ' -f1
)
outputs=(bin/interop_client bin/interop_server bin/compression_peer bin/abort_peer bin/keepalive_peer
         bin/cmux_server bin/dial_peer
         protos/grpc/testing/test.proto protos/grpc/testing/messages.proto protos/grpc/testing/empty.proto
         protos/helloworld/helloworld.proto protos/grpc/health/v1/health.proto
         protos/google/api/annotations.proto protos/google/api/http.proto)
up_to_date=true
for output in "${outputs[@]}"; do [ -e "$cache/$output" ] || up_to_date=false; done
if $up_to_date && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
    log "up to date in $cache"
    exit 0
fi
started=$SECONDS
rm -f "$cache/stamp"

# --- 2. grpc-go's source package (interop/, the .proto files) ----------------------------------
# The deb-src line goes in a private source list read with private apt state: /etc/apt and the
# system's package lists stay untouched. The mirror is the system's own Debian mirror.
debian_mirror() {
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || return 0
    {
        # One-line format: deb [options] URI SUITE COMPONENT...
        for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$file" ] || continue
            awk -v suite="$codename" '
                $1 != "deb" { next }
                {
                    options = ""; i = 2
                    if ($2 ~ /^\[/) {
                        while (i <= NF && $i !~ /\]$/) { options = options " " $i; i++ }
                        options = options " " $i; i++
                    }
                    if ($(i + 1) != suite) next
                    main = 0
                    for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
                    if (!main) next
                    signed = ""
                    if (match(options, /signed-by=[^] ]+/)) signed = substr(options, RSTART + 10, RLENGTH - 10)
                    print $i, signed
                }' "$file"
        done
        # deb822 format (debian.sources): stanzas of Types/URIs/Suites/Components/Signed-By.
        for file in /etc/apt/sources.list.d/*.sources; do
            [ -f "$file" ] || continue
            awk -v suite="$codename" '
                BEGIN { RS = ""; FS = "\n" }
                {
                    delete f; key = ""
                    for (i = 1; i <= NF; i++) {
                        line = $i
                        if (line ~ /^#/) continue
                        if (line ~ /^[ \t]/) { f[key] = f[key] " " line; continue }
                        split(line, kv, ":"); key = tolower(kv[1])
                        f[key] = substr(line, length(kv[1]) + 2)
                    }
                    if (tolower(f["enabled"]) ~ /no/) next
                    if (f["types"] !~ /(^|[ \t])deb([ \t]|$)/) next
                    if (f["suites"] !~ ("(^|[ \t])" suite "([ \t]|$)")) next
                    if (f["components"] !~ /(^|[ \t])main([ \t]|$)/) next
                    split(f["uris"], uris, /[ \t]+/)
                    uri = uris[1] == "" ? uris[2] : uris[1]
                    signed = f["signed-by"]; gsub(/^[ \t]+|[ \t]+$/, "", signed)
                    if (signed !~ /^\//) signed = ""   # an inline key block: use the default keyrings
                    print uri, signed
                }' "$file"
        done
    } | head -n 1
}

source_version=$(dpkg-query -W -f='${source:Version}' golang-google-grpc-dev)
source_dir="$cache/src/golang-google-grpc_$source_version"
if [ ! -f "$source_dir/.complete" ]; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    read -r mirror keyring <<<"$(debian_mirror)" || true
    mirror=${LOOP_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
    [ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
    apt_dir="$cache/apt"
    rm -rf "$apt_dir" "$cache/src"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache/src/download"
    echo "deb-src ${keyring:+[signed-by=$keyring] }$mirror $codename main" >"$apt_dir/sources.list"
    apt_options=(
        -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
        -o APT::Get::List-Cleanup=0 -qq
    )
    # As root apt downloads as _apt, which cannot enter a cache under /root.
    [ "$(id -u)" -eq 0 ] && apt_options+=(-o APT::Sandbox::User=root)
    log "apt-get source golang-google-grpc=$source_version ($(cat "$apt_dir/sources.list"), private lists in $apt_dir)"
    apt-get "${apt_options[@]}" update
    (
        cd "$cache/src/download"
        apt-get "${apt_options[@]}" source "golang-google-grpc=$source_version" >/dev/null 2>&1 || {
            log "version $source_version is not in $codename's sources any more: taking the current one"
            apt-get "${apt_options[@]}" source golang-google-grpc >/dev/null
        }
    )
    unpacked=$(find "$cache/src/download" -mindepth 1 -maxdepth 1 -type d -name 'golang-google-grpc-*' | head -n 1)
    [ -n "$unpacked" ] && [ -d "$unpacked/interop" ] || die "apt-get source did not unpack golang-google-grpc"
    mv "$unpacked" "$source_dir"
    rm -rf "$cache/src/download" "$apt_dir"
    touch "$source_dir/.complete"
fi

# --- 2b. grpc-gateway's -dev package, unpacked (not installed: see above) ----------------------
gateway_deb_dir="$cache/debs/${gateway_dev}_$gateway_dev_version"
gateway_src="$gateway_deb_dir/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway"
if [ ! -f "$gateway_deb_dir/.complete" ]; then
    log "apt-get download $gateway_dev=$gateway_dev_version; dpkg -x into $gateway_deb_dir"
    rm -rf "$cache/debs"
    mkdir -p "$cache/debs/download"
    download_options=(-qq)
    # As root apt downloads as _apt, which cannot enter a cache under /root.
    [ "$(id -u)" -eq 0 ] && download_options+=(-o APT::Sandbox::User=root)
    (
        cd "$cache/debs/download"
        apt-get "${download_options[@]}" download "$gateway_dev=$gateway_dev_version" 2>/dev/null || {
            # Lists older than the installed golang-grpc-gateway, or a newer -dev in them.
            "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq || true
            apt-get "${download_options[@]}" download "$gateway_dev=$gateway_dev_version"
        }
    )
    deb=$(find "$cache/debs/download" -name "${gateway_dev}_*.deb" | head -n 1)
    [ -n "$deb" ] || die "apt-get download $gateway_dev gave no .deb"
    dpkg-deb -x "$deb" "$gateway_deb_dir"
    [ -d "$gateway_src/runtime" ] && [ -f "$gateway_src/third_party/googleapis/google/api/annotations.proto" ] ||
        die "$deb has no grpc-gateway runtime or googleapis protos"
    rm -rf "$cache/debs/download"
    touch "$gateway_deb_dir/.complete"
fi

# --- 3. The shared .proto files ---------------------------------------------------------------
log "protos -> $cache/protos"
protos_tmp="$cache/protos.tmp"
rm -rf "$protos_tmp"
mkdir -p "$protos_tmp/grpc/testing" "$protos_tmp/helloworld" "$protos_tmp/grpc/health/v1"
awk -v dir="$protos_tmp/grpc/testing" -v origin="grpc-go $source_version interop/grpc_testing/test.proto" '
    # Header: everything up to the package line, repeated in each file. Then top-level
    # declarations (with the comments right above them) go to empty.proto (Empty),
    # test.proto (services) or messages.proto (the rest). A top-level block ends at a "}" in
    # column 0, as grpc-go formats the file.
    state == 0 {
        header = header $0 "\n"
        if ($0 ~ /^package /) state = 1
        next
    }
    depth == 0 && /^(message|enum|service)[ \t]/ {
        split($0, word, /[ \t{]+/)
        target = word[2] == "Empty" ? "empty" : (word[1] == "service" ? "test" : "messages")
        declarations[target]++
        block = pending $0 "\n"; pending = ""
        if ($0 ~ /}[ \t]*$/) { body[target] = body[target] "\n" block } else { depth = 1 }
        next
    }
    depth == 0 {
        if ($0 ~ /^[ \t]*$/) pending = ""; else pending = pending $0 "\n"
        next
    }
    {
        block = block $0 "\n"
        if ($0 ~ /^}/) { depth = 0; body[target] = body[target] "\n" block }
    }
    END {
        if (depth != 0) { print "unterminated declaration" > "/dev/stderr"; exit 1 }
        note = "// Split from " origin " by Loop'"'"'s scripts/install-grpc-peers.sh.\n\n"
        imports["empty"] = ""; imports["messages"] = ""
        imports["test"] = "\nimport \"grpc/testing/empty.proto\";\nimport \"grpc/testing/messages.proto\";\n"
        for (name in imports) {
            if (!declarations[name]) { print "nothing for " name ".proto" > "/dev/stderr"; exit 1 }
            printf "%s%s%s%s", note, header, imports[name], body[name] > (dir "/" name ".proto")
        }
    }' "$source_dir/interop/grpc_testing/test.proto"
cp "$source_dir/examples/helloworld/helloworld/helloworld.proto" "$protos_tmp/helloworld/"
health=$(find "$source_dir/health" "$source_dir/debian/missing-sources" -name health.proto -path '*v1*' | head -n 1)
[ -n "$health" ] || die "no grpc/health/v1/health.proto in the source package"
cp "$health" "$protos_tmp/grpc/health/v1/"
mkdir -p "$protos_tmp/google/api"
cp "$gateway_src/third_party/googleapis/google/api/annotations.proto" \
   "$gateway_src/third_party/googleapis/google/api/http.proto" "$protos_tmp/google/api/"
# Every file must compile alone with -I protos, and the split must keep every declaration.
for proto in grpc/testing/test.proto helloworld/helloworld.proto grpc/health/v1/health.proto google/api/annotations.proto; do
    protoc -I "$protos_tmp" --include_imports --descriptor_set_out=/dev/null "$proto"
done
protoc -I "$protos_tmp" -I "$greetings_protos" --descriptor_set_out=/dev/null "$greetings_proto"
count() { cat "$@" | grep -cE '^(message|enum|service)[[:space:]]'; }
[ "$(count "$source_dir/interop/grpc_testing/test.proto")" -eq "$(count "$protos_tmp"/grpc/testing/*.proto)" ] ||
    die "splitting test.proto lost declarations"
rm -rf "$cache/protos"
mv "$protos_tmp" "$cache/protos"

# --- 4. Private GOPATH: the installed grpc-go with the source's interop/ ----------------------
installed=/usr/share/gocode/src/google.golang.org/grpc
gopath="$cache/gopath"
grpc_dir="$gopath/src/google.golang.org/grpc"
log "GOPATH $gopath: $installed + interop/ from the source package"
rm -rf "$gopath"
mkdir -p "$grpc_dir"
for entry in "$installed"/*; do
    [ "$(basename "$entry")" = interop ] || ln -s "$entry" "$grpc_dir/"
done
cp -R "$source_dir/interop" "$grpc_dir/interop"
# interop/ needs nothing else that the binary package lacks; its generated code is rebuilt
# with Debian's generators, like the rest of the installed tree.
find "$grpc_dir/interop" -name '*.pb.go' -delete
for proto in $(cd "$grpc_dir" && find interop -name '*.proto'); do
    log "protoc $proto (protoc-gen-go $(protoc-gen-go --version 2>&1 | awk '{print $NF}'), protoc-gen-go-grpc)"
    (cd "$grpc_dir" && protoc -I . --go_out=paths=source_relative:. --go-grpc_out=paths=source_relative:. "$proto")
done

# grpc-gateway's runtime and utilities from debs/, with the errorBody patch (see above).
gateway_dir="$gopath/src/github.com/grpc-ecosystem/grpc-gateway"
mkdir -p "$gateway_dir"
cp -R "$gateway_src/runtime" "$gateway_src/utilities" "$gateway_dir/"
find "$gateway_dir" -name '*_test.go' -delete
errors_go="$gateway_dir/runtime/errors.go"
if grep -q '`protobuf:"bytes,1,name=message" json:"message"`' "$errors_go"; then
    sed -i 's/`protobuf:"bytes,1,name=message" json:"message"`/`protobuf:"bytes,4,name=message" json:"message"`/' "$errors_go"
    log "patched $errors_go: errorBody.message is field 4 (it shared 1 with error)"
fi
# The GatewayDemo's service, generated into GOPATH package loopdemo/greetings (its go_package).
log "protoc $greetings_proto (protoc-gen-go, protoc-gen-go-grpc, protoc-gen-grpc-gateway $(dpkg-query -W -f='${Version}' golang-grpc-gateway))"
protoc -I "$greetings_protos" -I "$cache/protos" \
    --go_out="$gopath/src" --go-grpc_out="$gopath/src" --grpc-gateway_out="$gopath/src" "$greetings_proto"
[ -f "$gopath/src/loopdemo/greetings/greetings.pb.gw.go" ] || die "protoc-gen-grpc-gateway wrote no loopdemo/greetings/greetings.pb.gw.go"

export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$cache/go-build" GOFLAGS= CGO_ENABLED=0
mkdir -p "$cache/bin"
build() {  # build OUTPUT PACKAGE-OR-DIRECTORY
    log "go build -o $cache/bin/$1 $2"
    if [ -d "$2" ]; then (cd "$2" && nice go build -o "$cache/bin/$1.tmp" .); else nice go build -o "$cache/bin/$1.tmp" "$2"; fi
    mv "$cache/bin/$1.tmp" "$cache/bin/$1"
}
build interop_client google.golang.org/grpc/interop/client
build interop_server google.golang.org/grpc/interop/server
build compression_peer "$compression_peer_dir"
build abort_peer "$abort_peer_dir"
build keepalive_peer "$keepalive_peer_dir"
build cmux_server "$cmux_server_dir"
build dial_peer "$dial_peer_dir"

echo "$stamp" >"$cache/stamp"
log "done in $((SECONDS - started)) s: $cache/bin/{interop_client,interop_server,compression_peer,abort_peer,keepalive_peer,cmux_server,dial_peer}, -I $cache/protos"
