#!/usr/bin/env bash
# Installs the PyPI packages the interop tests drive (raw HTTP/2 frames, grpcio), when missing.
# Usage: scripts/install-python-deps.sh MODULE[:PYPI-NAME] ...
#   MODULE is what `import` takes; PYPI-NAME is the package pip installs when it differs
#   (e.g. grpc:grpcio grpc_tools:grpcio-tools).
set -euo pipefail
missing_modules=()
missing_packages=()
for spec in "$@"; do
    module="${spec%%:*}"
    package="${spec#*:}"
    python3 -c "import ${module}" 2>/dev/null && continue
    missing_modules+=("${module}")
    missing_packages+=("${package}")
done
[ ${#missing_modules[@]} -eq 0 ] && exit 0
echo "install-python-deps: installing ${missing_packages[*]}"
python3 -m pip install --quiet --disable-pip-version-check "${missing_packages[@]}" 2>&1 | grep -v "Running pip as the 'root' user" || true
for module in "${missing_modules[@]}"; do
    python3 -c "import ${module}" || { echo "install-python-deps: ${module} did not install" >&2; exit 1; }
done
