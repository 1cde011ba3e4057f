#!/usr/bin/env bash
# Installs the official Node client once (cached in .cache/node-client) and runs
# tools/node-client-check.js against the sandbox whose state file is $1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${1:?usage: node-client-check.sh STATE_JSON}
CACHE="$ROOT/.cache/node-client"
command -v node >/dev/null && command -v npm >/dev/null || { echo "node client check: node and npm are needed" >&2; exit 1; }
if [ ! -f "$CACHE/node_modules/@tiledesk/tiledesk-client/index.js" ]; then
  mkdir -p "$CACHE"
  for attempt in 1 2; do
    if (cd "$CACHE" && timeout 300 npm install --no-audit --no-fund --silent --no-save \
        @tiledesk/tiledesk-client@0.10.13 >/dev/null 2>&1); then break; fi
    [ "$attempt" = 2 ] && { echo "node client check: npm install failed" >&2; exit 1; }
    sleep 3
  done
fi
NODE_PATH="$CACHE/node_modules" timeout 60 node "$ROOT/tools/node-client-check.js" "$STATE"
