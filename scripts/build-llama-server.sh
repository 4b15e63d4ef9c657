#!/usr/bin/env bash
# Builds llama.cpp's own `llama-server` once, from the llama.cpp source that ships inside the
# llama-cpp-python sdist on PyPI (the only registry CI can reach), and caches it:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/llama-server/llama-server
#
# A second run finds the cached binary and exits at once. The tests of the `llamacpp` backend run
# the binary named by $GHOSTTYPE_LLAMA_SERVER, or this cached one. About 10 minutes on 2 cores.
#
# Environment: PYTHON (a python with pip; default: the repository's .venv, else python3),
# JOBS (parallel compile jobs; default 2), LLAMA_CPU_FLAGS (compiler flags; the Makefile sets them:
# AMX off, see there). The cached binary is rebuilt when the version or the flags change.
set -euo pipefail

VERSION=0.3.36
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci"
DEST="$CACHE/llama-server"
BINARY="$DEST/llama-server"
STAMP="$DEST/VERSION"
JOBS="${JOBS:-2}"

BUILD_ID="$VERSION ${LLAMA_CPU_FLAGS:-}"
if [[ -x "$BINARY" && -f "$STAMP" && "$(cat "$STAMP")" == "$BUILD_ID" ]]; then
  echo "$BINARY"
  exit 0
fi

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
for tool in cmake c++ tar; do
  command -v "$tool" >/dev/null || { echo "build-llama-server: '$tool' is needed" >&2; exit 1; }
done

WORK="$CACHE/llama-server-build"
mkdir -p "$WORK"
# The sdist is kept in the work folder so an interrupted build does not download it again.
SDIST="$WORK/llama_cpp_python-$VERSION.tar.gz"
if [[ ! -f "$SDIST" ]]; then
  echo "build-llama-server: downloading the llama-cpp-python $VERSION sdist" >&2
  "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
    -d "$WORK/download" "llama-cpp-python==$VERSION"
  mv "$WORK"/download/llama_cpp_python-"$VERSION".tar.gz "$SDIST"
fi

SRC="$WORK/llama_cpp_python-$VERSION"
if [[ ! -d "$SRC/vendor/llama.cpp" ]]; then
  tar -xzf "$SDIST" -C "$WORK"
fi

# Static libraries: one self-contained binary that can be moved into the cache folder.
# GGML_NATIVE: tuned for the machine that builds it (CI builds and runs on the same machine).
echo "build-llama-server: compiling (about 10 minutes on 2 cores)" >&2
cmake -S "$SRC/vendor/llama.cpp" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON \
  -DCMAKE_C_FLAGS="${LLAMA_CPU_FLAGS:-}" -DCMAKE_CXX_FLAGS="${LLAMA_CPU_FLAGS:-}" >"$WORK/cmake.log"
cmake --build "$WORK/build" --target llama-server -j"$JOBS" >"$WORK/build.log"

# Publish atomically: write under a temporary name, then rename.
mkdir -p "$DEST"
cp "$WORK/build/bin/llama-server" "$BINARY.tmp"
mv "$BINARY.tmp" "$BINARY"
echo "$BUILD_ID" >"$STAMP"
rm -rf "$WORK"
echo "$BINARY"
