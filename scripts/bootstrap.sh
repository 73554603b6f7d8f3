#!/usr/bin/env bash
# Makes sure this checkout has Node 24+ and its npm dependencies, then prints the node path.
# Sourced by ./nightjar and scripts/test.sh so a newcomer never installs anything by hand.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
min_major=24
log() { echo "[bootstrap] $*" >&2; }

node_ok() { "$1" -e "process.exit(+process.versions.node.split('.')[0] >= $min_major ? 0 : 1)" 2>/dev/null; }

find_node() {
  local cached="$root/.cache/node/node_modules/node-linux-$arch/bin/node"
  if [ -x "$cached" ] && node_ok "$cached"; then echo "$cached"; return; fi
  if command -v node >/dev/null 2>&1 && node_ok "$(command -v node)"; then command -v node; return; fi
  return 1
}

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) log "unsupported CPU $(uname -m)"; exit 1 ;;
esac

if ! node_bin=$(find_node); then
  command -v npm >/dev/null 2>&1 || { log "npm is needed to install Node $min_major (install any Node.js first)"; exit 1; }
  log "Node $min_major+ not found (have: $(node --version 2>/dev/null || echo none)); installing it into .cache/node from the npm registry"
  mkdir -p "$root/.cache/node"
  # The arch-specific package ships the binary itself: no install script, no download outside the registry.
  npm install --prefix "$root/.cache/node" --no-save --no-package-lock --loglevel=error "node-linux-$arch@$min_major" >&2
  node_bin=$(find_node) || { log "Node $min_major install failed"; exit 1; }
fi
export PATH="$(dirname "$node_bin"):$PATH"

# Install or refresh npm dependencies when the lockfile changed since the last install.
stamp="$root/node_modules/.nightjar-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$root/package-lock.json" "$stamp"; then
  log "installing npm dependencies"
  (cd "$root" && npm ci --loglevel=error --no-fund --no-audit >&2)
  cp "$root/package-lock.json" "$stamp"
fi
echo "$node_bin"
