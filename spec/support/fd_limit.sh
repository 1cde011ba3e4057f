#!/bin/bash
# usage: fd_limit.sh N command [args...]
# Runs the command with at most N file descriptors (RLIMIT_NOFILE), after closing every
# descriptor above 2 inherited from the caller (a busted process may hold more than N).
n=$1
shift
for f in /proc/$$/fd/*; do
  fd=${f##*/}
  if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null; fi
done
ulimit -n "$n" || exit 1
exec "$@"
