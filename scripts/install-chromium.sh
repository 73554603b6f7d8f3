#!/usr/bin/env bash
# Makes sure a Chromium for the browser tests is installed (test/web-browser.test.ts drives it
# with playwright-core). Uses the distribution's package (Debian/Ubuntu: chromium), never a
# downloaded browser build. Prints the browser's path. Set NIGHTJAR_CHROMIUM to use another one.
set -euo pipefail
log() { echo "[install-chromium] $*" >&2; }

find_chromium() {
  if [ -n "${NIGHTJAR_CHROMIUM:-}" ] && [ -x "$NIGHTJAR_CHROMIUM" ]; then echo "$NIGHTJAR_CHROMIUM"; return; fi
  local candidate
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/lib/chromium/chromium; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  return 1
}

if path=$(find_chromium); then
  echo "$path"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "Chromium is not installed and this system has no apt-get: install Chromium with your package manager, or set NIGHTJAR_CHROMIUM=/path/to/chromium"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    log "Chromium is not installed. Run as root: apt-get update && apt-get install -y chromium   (or: sudo $0)"
    exit 1
  fi
else
  SUDO=
fi
log "installing Debian's chromium package"
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
path=$(find_chromium) || { log "apt-get installed chromium but no binary was found in /usr/bin"; exit 1; }
echo "$path"
