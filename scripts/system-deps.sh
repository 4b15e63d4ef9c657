#!/usr/bin/env bash
# Makes sure Debian packages are present: installs them with apt-get when run as root, otherwise
# stops with the one command to run. Usage: scripts/system-deps.sh [--check-venv] PACKAGE...
# The test packages (make setup-test): tmux (Neovim as a person sees it) and bubblewrap (the
# sandbox code actions run tests in; its containment tests need it).
set -euo pipefail

missing=()
if [[ "${1:-}" == "--check-venv" ]]; then
  shift
  # Debian's python3 needs python3-venv (ensurepip) to create virtual environments.
  if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
fi
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -eq 0 ]]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "ghosttype needs these Debian packages. Run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
