#!/usr/bin/env bash
# The differential date check: the sandbox's date parser (sandbox/lua/sbx/dates.lua, tz.lua)
# against moment and moment-timezone at the versions tiledesk-server's package-lock.json pins,
# called as utils/datesUtil.js and the activities route call them (tools/dates-check.js; the
# corpus and the comparison are in tools/dates-check.lua). The two packages are installed
# from npm once into .cache/npm-dates (git-ignored); a failed install fails the check.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache/npm-dates"
MOMENT=2.29.4
MOMENT_TZ=0.5.43
command -v node >/dev/null && command -v npm >/dev/null || { echo "dates check: node and npm are needed (./dev installs Debian's)" >&2; exit 1; }
installed() {
  node -e 'const [d, a, b] = process.argv.slice(1);
    const v = (p) => require(d + "/node_modules/" + p + "/package.json").version;
    process.exit(v("moment") === a && v("moment-timezone") === b ? 0 : 1)' "$CACHE" "$MOMENT" "$MOMENT_TZ" 2>/dev/null
}
if ! installed; then
  mkdir -p "$CACHE"
  for attempt in 1 2; do
    if (cd "$CACHE" && timeout 300 npm install --no-audit --no-fund --silent --no-save \
        "moment@$MOMENT" "moment-timezone@$MOMENT_TZ" >/dev/null 2>&1) && installed; then break; fi
    [ "$attempt" = 2 ] && { echo "dates check: npm install moment@$MOMENT moment-timezone@$MOMENT_TZ failed" >&2; exit 1; }
    sleep 3
  done
fi
exec lua5.4 "$ROOT/tools/dates-check.lua" "$CACHE/node_modules"
