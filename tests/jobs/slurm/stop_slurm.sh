#!/usr/bin/env bash
# stop_slurm.sh - stop the cluster of start_slurm.sh. Only daemons whose pid files live under
# $HPC_SLURM_PREFIX are touched (each pid checked against /proc/PID/comm). Idempotent.
#   --keep-db  leave munged, MariaDB and slurmdbd running (start_slurm.sh uses it on a config change)
#   --purge    also delete $HPC_SLURM_PREFIX (state, logs, database)
set -uo pipefail
PREFIX=${HPC_SLURM_PREFIX:-${TMPDIR:-/tmp}/hpcarray-test-slurm}
RUN=$PREFIX/run
export SLURM_CONF=$PREFIX/etc/slurm.conf
keep_db=0 purge=0
for arg in "$@"; do
  case $arg in
    --keep-db) keep_db=1 ;;
    --purge) purge=1 ;;
    *) echo "stop_slurm: unknown argument $arg" >&2; exit 2 ;;
  esac
done

# terminate PIDFILE:NAME ...: TERM every live one, wait up to 20 s each, KILL what remains
terminate() {
  local spec file name pid live=()
  for spec in "$@"; do
    file=${spec%%:*} name=${spec##*:}
    pid=$(cat "$file" 2>/dev/null) || continue
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$name" "/proc/$pid/comm" 2>/dev/null; then
      kill -TERM "$pid" && live+=("$pid:$name")
    else
      rm -f "$file"
    fi
  done
  for spec in "${live[@]}"; do
    pid=${spec%%:*} name=${spec##*:}
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; echo "stop_slurm: killed $name ($pid)"; fi
    echo "stop_slurm: stopped $name ($pid)"
  done
}

if [ -f "$SLURM_CONF" ] && [ -f "$RUN/slurmctld.pid" ]; then   # cancel jobs so their steps end cleanly
  ids=$(timeout 5 squeue -h -o %A 2>/dev/null | tr '\n' ' ')
  if [ -n "${ids// /}" ]; then
    # shellcheck disable=SC2086
    timeout 10 scancel $ids 2>/dev/null && sleep 1
  fi
fi
daemons=()
for f in "$RUN"/slurmd-*.pid; do [ -e "$f" ] && daemons+=("$f:slurmd"); done
terminate "${daemons[@]}" "$RUN/slurmctld.pid:slurmctld"
# slurmstepd's left by this cluster's slurmd's (they carry our SLURM_CONF in their environment)
for proc in /proc/[0-9]*; do
  [ "$(cat "$proc/comm" 2>/dev/null)" = slurmstepd ] || continue
  tr '\0' '\n' < "$proc/environ" 2>/dev/null | grep -qx "SLURM_CONF=$SLURM_CONF" && kill -KILL "${proc#/proc/}" 2>/dev/null
done
if [ $keep_db = 0 ]; then
  terminate "$RUN/slurmdbd.pid:slurmdbd" "$RUN/mysql/mysqld.pid:mariadbd" "$RUN/munge/munged.pid:munged"
  [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$PREFIX/etc/slurm.conf" ] && rm -f /etc/slurm/slurm.conf
fi
if [ $purge = 1 ]; then rm -rf "$PREFIX"; echo "stop_slurm: removed $PREFIX"; fi
exit 0
