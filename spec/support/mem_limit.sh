#!/bin/bash
# usage: mem_limit.sh KIB command [args...]
# Runs the command with at most KIB KiB of address space (RLIMIT_AS, `ulimit -v`), and tells it
# the limit in TD_MEM_LIMIT_KIB, so that it can size what it allocates against what it has.
# Under AddressSanitizer (libasan in LD_PRELOAD), which must reserve terabytes of shadow memory
# and cannot start under `ulimit -v`, the limit is ASan's instead: no single allocation larger
# than KIB/4 KiB (max_allocation_size_mb), malloc then returning NULL as it does when memory is
# out; the command is told that size in TD_MEM_MAX_ALLOC_KIB.
n=$1
shift
case "$LD_PRELOAD" in
  *libasan*)
    export TD_MEM_MAX_ALLOC_KIB=$((n / 4))
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=$((n / 4096))"
    ;;
  *)
    ulimit -v "$n" || exit 1
    export TD_MEM_LIMIT_KIB="$n"
    ;;
esac
exec "$@"
