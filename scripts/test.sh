#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (Node 24, npm packages,
# Kafka's jars, Chromium and PostgreSQL from the distribution), then type check, lint and every test (the tests start and stop a real Kafka).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
node_bin=$("$root/scripts/bootstrap.sh")
export PATH="$(dirname "$node_bin"):$PATH"
echo "node $(node --version), $(java -version 2>&1 | head -1)"
npm run --silent typecheck
echo "typecheck: ok"
npm run --silent lint
echo "lint: ok"
"$root/scripts/install-chromium.sh" >/dev/null
echo "chromium: ok"
"$root/scripts/install-postgres.sh" >/dev/null
echo "postgresql: ok"
npm test
