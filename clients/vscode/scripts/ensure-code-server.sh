#!/usr/bin/env bash
# Makes sure Node 24 and a built code-server 4.139.1 exist in the CI cache and prints two lines:
#   NODE24_BIN=<dir holding node 24>
#   CODE_SERVER=<path of the code-server launcher>
# The first run builds code-server's native modules (~3.5 min on 2 cores); later runs reuse the
# cache at ${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/. Diagnostics go to stderr.
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION-node24"
mkdir -p "$CACHE"

log() { echo "[ensure-code-server] $*" >&2; }

need_pkgs=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)

# One builder at a time (CI and a developer may share the machine).
exec 9>"$CACHE/.lock"
flock 9

# --- Node 24 ---
NODE24_BIN="$("$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh")"

# --- code-server (native modules are built against Node 24) ---
if [[ ! -f "$CS_DIR/.complete" || ! -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ]]; then
  missing=()
  for p in "${need_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
      log "apt-get install ${missing[*]}"
      apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >&2 || {
        apt-get -o DPkg::Lock::Timeout=600 update >&2
        apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >&2
      }
    else
      echo "code-server's native build needs Debian packages; run:" >&2
      echo "  sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  log "building code-server $CODE_SERVER_VERSION into $CS_DIR (takes a few minutes)"
  tmp="$CS_DIR.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  echo '{"name":"ghosttype-code-server-cache","private":true}' >"$tmp/package.json"
  (
    cd "$tmp"
    export PATH="$NODE24_BIN:$PATH"
    export npm_config_nodedir="$(dirname "$NODE24_BIN")"
    npm install --no-save --no-package-lock --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >&2
  )
  [[ -f "$tmp/node_modules/code-server/out/node/entry.js" ]] || { log "code-server build incomplete"; exit 1; }
  rm -rf "$CS_DIR"
  mv "$tmp" "$CS_DIR"
  touch "$CS_DIR/.complete"
fi
log "code-server at $CS_DIR"

echo "NODE24_BIN=$NODE24_BIN"
echo "CODE_SERVER=$CS_DIR/node_modules/.bin/code-server"
