#!/usr/bin/env bash
# Builds the llama-cpp-python wheel once for the compiler flags in force and caches it under a
# name made from the version and those flags:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/wheels/llama-cpp-python-VERSION-KEY/*.whl
#
# Why not pip's own wheel cache: pip keys a wheel it built from an sdist by the sdist alone, not by
# CMAKE_ARGS, so a machine that once built llama.cpp with its AMX kernels keeps installing that
# build after the Makefile switched them off, and the first matrix product kills the process on a
# VM whose hypervisor does not enable AMX. A new flag set here means a new folder and a new build.
#
# Prints the wheel's path. `--path` prints where the wheel is (or will be) without building.
# Environment: PYTHON (a python with pip; default python3), CMAKE_ARGS (the Makefile sets them).
# About 10 minutes on 2 cores the first time; a second run finds the wheel and exits at once.
set -euo pipefail

VERSION=0.3.36
KEY="$(printf '%s\n%s\n' "$VERSION" "${CMAKE_ARGS:-}" | sha256sum | cut -c1-12)"
DEST="${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/wheels/llama-cpp-python-$VERSION-$KEY"
PYTHON="${PYTHON:-python3}"

find_wheel() { compgen -G "$DEST/llama_cpp_python-$VERSION-*.whl" | head -n1; }

if [[ "${1:-}" == "--path" ]]; then
  echo "$DEST"
  exit 0
fi
if wheel="$(find_wheel)"; then
  echo "$wheel"
  exit 0
fi

echo "build-llama-wheel: compiling llama-cpp-python $VERSION (about 10 minutes on 2 cores)" >&2
echo "build-llama-wheel: CMAKE_ARGS=${CMAKE_ARGS:-}" >&2
# Publish atomically: build into a temporary folder beside the destination, then rename it.
mkdir -p "$(dirname "$DEST")"
TMP="$(mktemp -d "$DEST.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps \
  --no-binary llama-cpp-python -w "$TMP" "llama-cpp-python==$VERSION"
rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
find_wheel
