#!/usr/bin/env bash
# Builds the extension and writes clients/vscode/ghosttype-<version>.vsix (what `make vsix` runs).
# Needs only npm and the registry: Node 24 comes from npm into the CI cache when missing.
#   clients/vscode/scripts/package.sh [--skip-install]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
NODE24_BIN="$("$HERE/scripts/ensure-node.sh")"
export PATH="$NODE24_BIN:$PATH"
if [[ "${1:-}" != "--skip-install" ]]; then
  npm ci --no-audit --no-fund >&2
fi
npm run -s build >&2
version="$(node -p 'require("./package.json").version')"
rm -f ghosttype-*.vsix
npx --no-install vsce package --no-dependencies --allow-missing-repository --out "ghosttype-$version.vsix" >&2
echo "$HERE/ghosttype-$version.vsix"
