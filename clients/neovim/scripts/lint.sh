#!/usr/bin/env bash
# Checks the format of the Neovim plugin's Lua (clients/neovim) and of the Lua test runner
# (tests/neovim/lua) with stylua, using clients/neovim/.stylua.toml. Exits non-zero on a difference
# and prints it; `clients/neovim/scripts/lint.sh --fix` rewrites the files instead.
#
# stylua comes from PATH, else from npm (@johnnymorganz/stylua-bin, a prebuilt binary) installed
# once into ${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/stylua.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STYLUA_VERSION="2.5.2"
FIX=0
[[ "${1:-}" == "--fix" ]] && FIX=1

# A pinned version: another stylua may format differently.
stylua="$(command -v stylua || true)"
if [[ -z "$stylua" ]] || [[ "$("$stylua" --version 2>/dev/null)" != "stylua $STYLUA_VERSION" ]]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/ghosttype-ci/stylua"
  stylua="$cache/node_modules/.bin/stylua"
  mkdir -p "$cache"
  exec 8>"$cache/.lock"
  flock 8
  if [[ "$("$stylua" --version 2>/dev/null)" != "stylua $STYLUA_VERSION" ]]; then
    command -v npm >/dev/null || { echo "lint.sh: npm is needed to install stylua $STYLUA_VERSION" >&2; exit 1; }
    echo "lint.sh: installing stylua $STYLUA_VERSION from npm into $cache" >&2
    npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$cache" \
      "@johnnymorganz/stylua-bin@$STYLUA_VERSION" >&2
  fi
  exec 8>&-
fi

config="$HERE/.stylua.toml"
paths=("$HERE" "$REPO/tests/neovim/lua")
if ((FIX)); then
  exec "$stylua" --config-path "$config" "${paths[@]}"
fi
if ! "$stylua" --config-path "$config" --check "${paths[@]}"; then
  echo "lint.sh: Lua format differs from stylua's (above); fix with clients/neovim/scripts/lint.sh --fix" >&2
  exit 1
fi
echo "lint.sh: Lua format OK ($("$stylua" --version))"
