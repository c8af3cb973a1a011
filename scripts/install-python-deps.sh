#!/usr/bin/env bash
# Installs the PyPI packages the interop tests drive (raw HTTP/2 frames), when missing.
set -euo pipefail
missing=()
for module in "$@"; do
    python3 -c "import ${module}" 2>/dev/null || missing+=("${module}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-python-deps: installing ${missing[*]}"
python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}" 2>&1 | grep -v "Running pip as the 'root' user" || true
for module in "${missing[@]}"; do
    python3 -c "import ${module}" || { echo "install-python-deps: ${module} did not install" >&2; exit 1; }
done
