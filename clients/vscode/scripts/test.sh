#!/usr/bin/env bash
# The VS Code extension's whole test, from nothing: Debian packages (when root), Node 24 from npm,
# npm ci, build, VSIX, unit tests, then the end-to-end test in code-server (built once and cached
# under ${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/) driven by Debian's Chromium, against the real
# `ghosttype serve` on the embedded model, and the cascade's refresh on scripted backends
# (test/e2e/refresh.mjs), and the code actions on a scripted backend (test/e2e/actions.mjs). Exits
# non-zero on any failure.
#
#   clients/vscode/scripts/test.sh [--unit-only]
#
# Environment: GHOSTTYPE_SERVER (the ghosttype executable; default: the repo's .venv/bin/ghosttype),
# GHOSTTYPE_ARTIFACTS (default: <repo>/artifacts), CHROMIUM (default: /usr/bin/chromium).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ARTIFACTS="${GHOSTTYPE_ARTIFACTS:-$REPO/artifacts}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
UNIT_ONLY=0
[[ "${1:-}" == "--unit-only" ]] && UNIT_ONLY=1
t0=$SECONDS
step() { echo "=== [vscode $((SECONDS - t0))s] $*"; }

# --- Debian packages: code-server's native build, and Chromium ---
pkgs=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)
((UNIT_ONLY)) || pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    step "apt-get install ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" || {
      apt-get -o DPkg::Lock::Timeout=600 update
      apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
    }
  else
    echo "Missing Debian packages; run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# --- Node 24, dependencies, build, VSIX ---
step "Node 24"
NODE24_BIN="$("$HERE/scripts/ensure-node.sh")"
export PATH="$NODE24_BIN:$PATH"
cd "$HERE"
step "npm ci"
npm ci --no-audit --no-fund
step "build and package"
VSIX="$("$HERE/scripts/package.sh" --skip-install)"
echo "VSIX: $VSIX"

step "unit tests"
npm run -s test:unit

((UNIT_ONLY)) && { step "unit tests passed"; exit 0; }

# --- end to end ---
step "code-server"
eval "$("$HERE/scripts/ensure-code-server.sh")"
SERVER="${GHOSTTYPE_SERVER:-$REPO/.venv/bin/ghosttype}"
if [[ ! -x "$SERVER" ]]; then
  echo "The ghosttype server is not at $SERVER: build the repo's .venv (pip install -e .) or set GHOSTTYPE_SERVER." >&2
  exit 1
fi
step "e2e in code-server with $SERVER"
mkdir -p "$ARTIFACTS"
node test/e2e/run.mjs --code-server "$CODE_SERVER" --vsix "$VSIX" --server "$SERVER" \
  --artifacts "$ARTIFACTS" --chromium "$CHROMIUM"
step "e2e: the cascade's refresh (scripted backends)"
node test/e2e/refresh.mjs --code-server "$CODE_SERVER" --vsix "$VSIX" --server "$SERVER" \
  --artifacts "$ARTIFACTS" --chromium "$CHROMIUM"
step "e2e: code actions (scripted backend)"
node test/e2e/actions.mjs --code-server "$CODE_SERVER" --vsix "$VSIX" --server "$SERVER" \
  --artifacts "$ARTIFACTS" --chromium "$CHROMIUM"
step "all VS Code tests passed"
