#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries are installed (the PostgreSQL store's tests and
# benchmarks start a local server with them: src/postgres/local-server.ts). Uses the
# distribution's package (Debian/Ubuntu: postgresql). Prints the binaries' folder.
# Set NIGHTJAR_POSTGRES_BIN to use other binaries, or NIGHTJAR_TEST_POSTGRES_URL to test on a running server.
set -euo pipefail
log() { echo "[install-postgres] $*" >&2; }

find_bin() {
  if [ -n "${NIGHTJAR_POSTGRES_BIN:-}" ] && [ -x "$NIGHTJAR_POSTGRES_BIN/pg_ctl" ]; then echo "$NIGHTJAR_POSTGRES_BIN"; return; fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  done
  return 1
}

if [ -n "${NIGHTJAR_TEST_POSTGRES_URL:-}" ]; then echo "external: NIGHTJAR_TEST_POSTGRES_URL"; exit 0; fi
if dir=$(find_bin); then
  echo "$dir"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "PostgreSQL is not installed and this system has no apt-get: install PostgreSQL (server) with your package manager, or set NIGHTJAR_POSTGRES_BIN=/path/to/bin"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    log "PostgreSQL is not installed. Run as root: apt-get update && apt-get install -y postgresql   (or: sudo $0)"
    exit 1
  fi
else
  SUDO=
fi
log "installing Debian's postgresql package"
$SUDO apt-get update -qq >&2
# The package's own cluster is not used (Nightjar starts its own on 127.0.0.1), so none is made.
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/nightjar-no-main.conf >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
dir=$(find_bin) || { log "apt-get installed postgresql but no pg_ctl was found in /usr/lib/postgresql/*/bin"; exit 1; }
echo "$dir"
