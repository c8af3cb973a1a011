#!/usr/bin/env bash
# Follows README.md's "Your own service" as a new user would: writes the package its
# `<!-- user-package: PATH -->` code blocks describe (Package.swift, a .proto, loop-grpc.json,
# main.swift) next to a link to this checkout, builds it (the LoopGRPCGenerator build plugin
# runs protoc, protoc-gen-swift and protoc-gen-loop-grpc), runs it and checks what it prints.
# Then checks that a mistake in loop-grpc.json fails the build with a message naming it.
# Run by `make test`; the package lives in .build/user-package so reruns are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
SWIFT="${SWIFT:-swift}"
work="$repo/.build/user-package"
package="$work/Todo"

scripts/install-deps.sh protobuf-compiler

mkdir -p "$work"
ln -sfn "$repo" "$work/loop"
rm -rf "$package/Sources"
mkdir -p "$package"
# Each marked block, written to its path; the README is the only source of the package.
python3 - "$repo/README.md" "$package" <<'PY'
import os, re, sys
readme, root = sys.argv[1], sys.argv[2]
text = open(readme).read()
blocks = re.findall(r"<!-- user-package: (\S+) -->\n```[a-z]*\n(.*?)```\n", text, re.S)
if len(blocks) < 4:
    sys.exit(f"test-user-package: README.md has {len(blocks)} user-package blocks, expected 4")
for path, body in blocks:
    target = os.path.join(root, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        f.write(body)
    print(f"test-user-package: wrote {path} ({len(body)} bytes)")
PY

echo "test-user-package: building $package"
timeout 1200 "$SWIFT" build --package-path "$package" 2>&1 | tail -n 5
output="$(timeout 60 "$package/.build/debug/Todo")"
expected=$'added 2 run the service\n1 write the proto\n2 run the service'
if [ "$output" != "$expected" ]; then
    printf 'test-user-package: Todo printed\n%s\nexpected\n%s\n' "$output" "$expected" >&2
    exit 1
fi
echo "test-user-package: Todo printed what the README says"

# A typo in loop-grpc.json is an error naming the file and the key, not a silent default.
# SwiftPM runs build plugins only when it plans a build: an edit to loop-grpc.json alone is
# caught either by the plugin (when SwiftPM plans again anyway, as after a first build) or by
# the generated command (it names the file and says how to re-plan); after
# `touch Package.swift` the plugin itself names the unknown key.
config="$package/Sources/Todo/loop-grpc.json"
cp "$config" "$work/loop-grpc.json.saved"
restore() { cp "$work/loop-grpc.json.saved" "$config"; touch "$package/Package.swift"; }
trap restore EXIT
echo '{ "visiblity": "public" }' >"$config"
expect_failure() { # DESCRIPTION PATTERN
    local log
    if log="$(timeout 600 "$SWIFT" build --package-path "$package" 2>&1)"; then
        echo "test-user-package: $1: the build succeeded" >&2
        exit 1
    fi
    if ! grep -q -E "$2" <<<"$log"; then
        printf 'test-user-package: %s: the build failed without saying "%s":\n%s\n' "$1" "$2" "$log" >&2
        exit 1
    fi
    echo "test-user-package: $1: the build fails and says \"$2\""
}
expect_failure "loop-grpc.json edited" 'loop-grpc.json changed since SwiftPM planned this build|unknown key "visiblity"'
touch "$package/Package.swift"
expect_failure "unknown key, build re-planned" 'unknown key "visiblity"'
