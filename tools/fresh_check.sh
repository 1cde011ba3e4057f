#!/usr/bin/env bash
# The newcomer's path and CI on a fresh Debian bookworm root (issue 15). Run by hand by a
# maintainer, as root, on a Debian/Ubuntu host with debootstrap; takes minutes; NOT part of
# ./dev test. Each run starts from a pristine root (a tarball made once by debootstrap).
#
#   tools/fresh_check.sh [--work DIR] [--port P] newcomer|local|ci|all
#
#   newcomer  as a new user `newcomer` (with sudo) of a fresh machine, from `git archive HEAD`:
#             the README's Install for Lua 5.4 as written (apt lines, luarocks make), `./dev
#             sandbox start P`, the README's Quick start (its code block, with the sandbox's
#             values filled in) from the home directory, a recipe, `tiledesk whoami` and
#             `tiledesk conversations list`, and `./dev demo`; then, each on a fresh machine of
#             its own, the same for Lua 5.4 without root (`--local`, `luarocks path` in
#             ~/.profile), Lua 5.1 and LuaJIT (Install, sandbox, Quick start, `tiledesk whoami`).
#             `local`: only the one without root.
#   ci        CI=true .ci/run from a `git clone` of the current branch, as root; prints its
#             last line ("N passed, 0 failed") and its wall time.
#
# --work DIR (default /var/tmp/tiledesk-fresh): the pristine tarball and the roots; must be
# outside the checkout. --port P (default 8765): the sandbox's ports P..P+2 on 127.0.0.1; `ci`
# uses TD_TEST_PORT=P+10. The chroots share the host's network: pick ports free on the host.
# Every process started in a root is stopped by pid, and /proc, /dev, /dev/pts and /sys are
# unmounted, before the script returns.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=/var/tmp/tiledesk-fresh
PORT=8765
MODE=
while [ $# -gt 0 ]; do
  case "$1" in
    --work) WORK=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    newcomer|local|ci|all) MODE=$1; shift ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
[ -n "$MODE" ] || { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "fresh_check: run as root (debootstrap, chroot, mount)" >&2; exit 2; }
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
case "$WORK/" in "$REPO"/*) echo "fresh_check: --work must be outside the checkout" >&2; exit 2 ;; esac
command -v debootstrap >/dev/null || { echo "fresh_check: apt-get install -y debootstrap" >&2; exit 2; }

say() { printf '%s\n' "fresh_check: $*" >&2; }

# The pristine machine: a minimal bookworm with what a fresh Debian install has and minbase
# lacks (the updates and security suites, sudo, a user in group sudo), apt lists emptied as in
# Debian's container and cloud images.
pristine() {
  local tar="$WORK/pristine.tar" r="$WORK/pristine"
  [ -f "$tar" ] && return 0
  if [ ! -f "$r/etc/debian_version" ]; then
    rm -rf "$r"
    say "debootstrap bookworm into $r"
    debootstrap --variant=minbase bookworm "$r" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1
  fi
  cat > "$r/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  chroot "$r" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo' >>"$WORK/debootstrap.log" 2>&1
  chroot "$r" useradd -m -s /bin/bash -G sudo newcomer
  echo 'newcomer ALL=(ALL) NOPASSWD: ALL' > "$r/etc/sudoers.d/newcomer"
  chmod 440 "$r/etc/sudoers.d/newcomer"
  chroot "$r" sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/*'
  tar -C "$r" -cf "$tar" .
  rm -rf "$r"
}

ROOT=
# fresh NAME: a new root from the pristine tarball, with /proc, /dev, /dev/pts, /sys mounted
fresh() {
  ROOT="$WORK/$1"
  cleanup
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  tar -C "$ROOT" -xf "$WORK/pristine.tar"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  printf '127.0.1.1\t%s\n' "$(hostname)" >> "$ROOT/etc/hosts"
  # the host's own CAs (a network that intercepts TLS): ca-certificates adds them when installed
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
  mount -t proc proc "$ROOT/proc"
  mount --bind /dev "$ROOT/dev"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts"
  mount -t sysfs sysfs "$ROOT/sys"
}

# Stops every process whose root is $ROOT (by pid), then unmounts what fresh() mounted.
cleanup() {
  [ -n "$ROOT" ] && [ -d "$ROOT" ] || return 0
  local p pids=() m
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && pids+=("${p#/proc/}")
  done
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping what is left in $ROOT: ${pids[*]}"
    kill "${pids[@]}" 2>/dev/null || true
    sleep 2
    kill -9 "${pids[@]}" 2>/dev/null || true
  fi
  for m in sys dev/pts dev proc; do
    if mountpoint -q "$ROOT/$m"; then umount "$ROOT/$m" || umount -l "$ROOT/$m"; fi
  done
}
trap cleanup EXIT

# as_newcomer SCRIPT: runs bash SCRIPT as `newcomer`, with a login shell (~/.profile is read)
as_newcomer() {
  chroot "$ROOT" /usr/sbin/runuser -l newcomer -c "bash -euo pipefail -c $(printf '%q' "$1")"
}

# The code block of the README's Quick start, with the sandbox's project, user and URL put in
# the places the README shows (the project id, the e-mail, the base_url line).
quick_start() {
  local proj=$1 email=$2 url=$3
  awk '/^## Quick start/{q=1} q&&/^```lua/{c=1;next} c&&/^```/{exit} c' "$REPO/README.md" |
    sed -e "s/project_id = \"[0-9a-f]*\"/project_id = \"$proj\"/" -e "s/me@example.com/$email/" \
      -e "s|^\( *\)-- base_url = .*|\1base_url = \"$url\",|"
}

# The README's Install lines for one runtime, as written: the ```sh block under ## Install, its
# lines before the first "# " heading, then those under "# <runtime>".
install_lines() {
  awk -v h="# $1" '/^## Install/{i=1} i&&/^```sh/{c=1;next} c&&/^```/{exit} c&&/^# /{s=1}
    c&&substr($0,1,length(h))==h{p=1;next} c&&p&&/^# /{exit} c&&(p||!s)&&NF' "$REPO/README.md"
}

# newcomer_on RUNTIME LUA [full]: a fresh root; the README's Install for RUNTIME; the sandbox;
# the Quick start run by LUA from the home directory; `tiledesk whoami`; with full, also a
# recipe and `tiledesk conversations list`.
newcomer_on() {
  local rt=$1 lua=$2 full=${3:-}
  fresh "newcomer-${lua}"
  local home="$ROOT/home/newcomer" url="http://127.0.0.1:$PORT" lines
  mkdir -p "$home/tiledesk"
  git -C "$REPO" archive HEAD | tar -x -C "$home/tiledesk"
  chroot "$ROOT" chown -R newcomer:newcomer /home/newcomer/tiledesk
  lines=$(install_lines "$rt")
  grep -q luarocks <<<"$lines" || { say "README: no '# $rt' lines under ## Install"; return 1; }
  say "Install ($rt), as the README says:"; printf '  %s\n' "$lines" >&2
  as_newcomer "cd ~/tiledesk
$lines" > "$WORK/install-$lua.log" 2>&1 || { tail -n 30 "$WORK/install-$lua.log" >&2; return 1; }
  grep -v '^\(Get\|Selecting\|Preparing\|Unpacking\|Setting up\|Processing\|update-alternatives\|  \|(Reading\)' \
    "$WORK/install-$lua.log" | tail -n 8 >&2
  say "./dev sandbox start $PORT"
  as_newcomer "cd ~/tiledesk && ./dev sandbox start $PORT"
  local st="$home/tiledesk/.sandbox/state.json" proj email=admin@sandbox.test pass=admin-pass-123
  proj=$(sed -n 's/.*"project_id":"\([^"]*\)".*/\1/p' "$st")
  grep -q "\"$email\"" "$st" && grep -q "\"$pass\"" "$st"
  quick_start "$proj" "$email" "$url" > "$home/quickstart.lua"
  say "Quick start ($lua quickstart.lua, in the home directory, not the checkout)"
  as_newcomer "cd ~ && TILEDESK_PASSWORD=$pass $lua quickstart.lua > qs.out && sed -n '1p;\$p' qs.out && wc -l < qs.out"
  local env="TILEDESK_URL=$url TILEDESK_PROJECT_ID=$proj TILEDESK_EMAIL=$email TILEDESK_PASSWORD=$pass"
  say "tiledesk whoami (the command runs with: $(grep -o "exec '[^']*'" "$ROOT/usr/local/bin/tiledesk"))"
  as_newcomer "cd ~ && $env tiledesk whoami"
  if [ -n "$full" ]; then
    say "Recipe: lua5.4 examples/export_closed_last_week.lua --state .sandbox/state.json --out /tmp/closed.csv"
    as_newcomer "cd ~/tiledesk && lua5.4 examples/export_closed_last_week.lua --state .sandbox/state.json --out /tmp/closed.csv && head -n 2 /tmp/closed.csv"
    say "tiledesk conversations list --status open --limit 20"
    as_newcomer "cd ~ && $env tiledesk conversations list --status open --limit 20 | head -n 4"
    as_newcomer "cd ~/tiledesk && ./dev sandbox stop"
    say "TD_DEMO_PORT=$PORT ./dev demo (the README's first command)"
    as_newcomer "cd ~/tiledesk && TD_DEMO_PORT=$PORT ./dev demo 2>&1 | grep -v '^debconf' | tail -n 6"
  fi
  as_newcomer "cd ~/tiledesk && ./dev sandbox stop"
  cleanup
  say "newcomer ($rt): every step worked as written"
}

# newcomer_local: a fresh machine; the Lua 5.4 Install without root, as the README says
# (`--local`, no sudo for luarocks, its `eval "$(luarocks ... path)"` in ~/.profile); then the
# Quick start and `tiledesk whoami` in a new login shell, from the home directory.
newcomer_local() {
  fresh newcomer-local
  local home="$ROOT/home/newcomer" url="http://127.0.0.1:$PORT" lines eval_line
  mkdir -p "$home/tiledesk"
  git -C "$REPO" archive HEAD | tar -x -C "$home/tiledesk"
  chroot "$ROOT" chown -R newcomer:newcomer /home/newcomer/tiledesk
  lines=$(install_lines "Lua 5.4" | sed -e 's/^sudo luarocks /luarocks /' -e 's/^\(luarocks .*\) make /\1 make --local /')
  eval_line=$(sed -n '/^## Install/,/^## Quick start/p' "$REPO/README.md" | tr '\n' ' ' |
    grep -o '`eval "$(luarocks --lua-version=5.4 --local path)"`' | tr -d '`')
  [ -n "$eval_line" ] || { say "README: no eval \"\$(luarocks ... --local path)\" under ## Install"; return 1; }
  say "Install (Lua 5.4, without root), as the README says:"; printf '  %s\n' "$lines" "echo '$eval_line' >> ~/.profile" >&2
  as_newcomer "cd ~/tiledesk
$lines
echo '$eval_line' >> ~/.profile" > "$WORK/install-local.log" 2>&1 || { tail -n 30 "$WORK/install-local.log" >&2; return 1; }
  as_newcomer "cd ~/tiledesk && ./dev sandbox start $PORT"
  local st="$home/tiledesk/.sandbox/state.json" proj email=admin@sandbox.test pass=admin-pass-123
  proj=$(sed -n 's/.*"project_id":"\([^"]*\)".*/\1/p' "$st")
  quick_start "$proj" "$email" "$url" > "$home/quickstart.lua"
  say "Quick start (lua5.4 quickstart.lua, a new login shell, in the home directory)"
  as_newcomer "cd ~ && TILEDESK_PASSWORD=$pass lua5.4 quickstart.lua > qs.out && sed -n '1p;\$p' qs.out && wc -l < qs.out"
  say "tiledesk whoami (found at: $(chroot "$ROOT" /usr/sbin/runuser -l newcomer -c 'command -v tiledesk'))"
  as_newcomer "cd ~ && TILEDESK_URL=$url TILEDESK_PROJECT_ID=$proj TILEDESK_EMAIL=$email TILEDESK_PASSWORD=$pass tiledesk whoami"
  as_newcomer "cd ~/tiledesk && ./dev sandbox stop"
  cleanup
  say "newcomer (Lua 5.4, without root): every step worked as written"
}

newcomer() {
  newcomer_on "Lua 5.4" lua5.4 full
  newcomer_local
  newcomer_on "Lua 5.1" lua5.1
  newcomer_on "LuaJIT" luajit
}

ci() {
  fresh ci
  git clone -q --branch "$(git -C "$REPO" rev-parse --abbrev-ref HEAD)" "$REPO" "$ROOT/root/tiledesk"
  say "CI=true .ci/run in a clean clone ($(git -C "$ROOT/root/tiledesk" rev-parse --short HEAD)); load: $(uptime)"
  local t0 rc=0
  t0=$(date +%s)
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    CI=true TD_TEST_PORT=$((PORT + 10)) bash -c 'cd /root/tiledesk && .ci/run' > "$WORK/ci.log" 2>&1 || rc=$?
  say "ci: $(tail -n 1 "$WORK/ci.log") (exit $rc) in $(( $(date +%s) - t0 )) s; log in $WORK/ci.log; load: $(uptime)"
  return $rc
}

pristine
case "$MODE" in
  newcomer) newcomer ;;
  local) newcomer_local ;;
  ci) ci ;;
  all) newcomer; cleanup; ci ;;
esac
