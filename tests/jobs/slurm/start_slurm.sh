#!/usr/bin/env bash
# start_slurm.sh - a real Slurm cluster on this one host, for hpcarray's job tests and CI.
#
# Brings up munged, (optionally) a private MariaDB + slurmdbd for accounting, slurmctld, and
# one slurmd per emulated node (n1, n2, ... all on 127.0.0.1, Debian's slurm-wlm supports
# several slurmd's per host), with optional fake GPUs as GRES. Installs the Debian packages
# it needs with apt-get when they are missing. Needs root. Idempotent: running it again while
# the cluster is up changes nothing; a half-up cluster is completed.
#
# Everything lives under $HPC_SLURM_PREFIX; clients find the cluster with
#   export SLURM_CONF=$HPC_SLURM_PREFIX/etc/slurm.conf   (or: source $HPC_SLURM_PREFIX/env.sh)
# Nothing is written to /etc unless HPC_SLURM_LINK_ETC=1.
#
# Settings (environment):
#   HPC_SLURM_PREFIX (${TMPDIR:-/tmp}/hpcarray-test-slurm)  HPC_SLURM_NODES (2)
#   HPC_SLURM_CPUS_PER_NODE ($(nproc))  HPC_SLURM_GPUS_PER_NODE (2; 0 = no GRES)
#   HPC_SLURM_ACCOUNTING (1)  HPC_SLURM_LINK_ETC (0)  HPC_SLURM_SKIP_APT (0)
#   HPC_SLURM_CTLD_PORT (16817)  HPC_SLURM_DBD_PORT (16819)  HPC_SLURM_SLURMD_PORT (17101)
#   HPC_SLURM_DB_PORT (13307)  HPC_SLURM_CLUSTER (hpcarraytest)
#
# Packages (Debian 12): slurm-wlm munge libpmix-dev, plus slurmdbd mariadb-server for accounting.
set -euo pipefail

PREFIX=${HPC_SLURM_PREFIX:-${TMPDIR:-/tmp}/hpcarray-test-slurm}
NODES=${HPC_SLURM_NODES:-2}
CPUS=${HPC_SLURM_CPUS_PER_NODE:-$(nproc)}
GPUS=${HPC_SLURM_GPUS_PER_NODE:-2}
ACCT=${HPC_SLURM_ACCOUNTING:-1}
LINK_ETC=${HPC_SLURM_LINK_ETC:-0}
SKIP_APT=${HPC_SLURM_SKIP_APT:-0}
CTLD_PORT=${HPC_SLURM_CTLD_PORT:-16817}
DBD_PORT=${HPC_SLURM_DBD_PORT:-16819}
SLURMD_PORT=${HPC_SLURM_SLURMD_PORT:-17101}
DB_PORT=${HPC_SLURM_DB_PORT:-13307}
CLUSTER=${HPC_SLURM_CLUSTER:-hpcarraytest}

ETC=$PREFIX/etc RUN=$PREFIX/run LOG=$PREFIX/log
export SLURM_CONF=$ETC/slurm.conf
MUNGE_SOCK=$RUN/munge/munge.socket
DB_SOCK=$RUN/mysql/mysqld.sock
HOST=$(hostname -s)
START=$SECONDS

say() { echo "[start_slurm +$((SECONDS - START))s] $*"; }
fail() { echo "start_slurm: error: $*" >&2; exit 1; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# running PIDFILE NAME: the pid in PIDFILE is alive and is a NAME process
running() {
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$2" "/proc/$pid/comm" 2>/dev/null
}
# wait_until SECONDS WHAT COMMAND...: poll COMMAND every 0.2 s
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "no $what after ${limit}s (logs: $LOG)"
    sleep 0.2
  done
}

[ "$(id -u)" = 0 ] || fail "needs root"

# ---- packages ------------------------------------------------------------------------------
want="slurm-wlm munge libpmix-dev"
[ "$ACCT" = 1 ] && want="$want slurmdbd mariadb-server"
missing=""
for pkg in $want; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  [ "$SKIP_APT" = 1 ] && fail "missing packages:$missing"
  say "apt-get install$missing"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get -o DPkg::Lock::Timeout=240 update -qq
  # shellcheck disable=SC2086
  timeout 900 apt-get -o DPkg::Lock::Timeout=240 install -y -qq --no-install-recommends $missing >/dev/null
fi
say "packages present"

# ---- configuration -------------------------------------------------------------------------
mkdir -p "$ETC" "$RUN" "$LOG" "$PREFIX/state" "$PREFIX/dev"
for i in $(seq 1 "$NODES"); do mkdir -p "$PREFIX/spool/n$i" "$PREFIX/tmp/n$i"; done
nodelist="n[1-$NODES]"; [ "$NODES" = 1 ] && nodelist=n1
gres_line=""
if [ "$GPUS" -gt 0 ]; then
  gres_line=" Gres=gpu:$GPUS"
  # fake GPUs: character devices cloned from /dev/null; Slurm hands them out and sets
  # CUDA_VISIBLE_DEVICES as it would for real ones
  for g in $(seq 0 $((GPUS - 1))); do
    [ -c "$PREFIX/dev/gpu$g" ] || { rm -f "$PREFIX/dev/gpu$g"; mknod "$PREFIX/dev/gpu$g" c 1 3; }
  done
fi
mem=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 8 / 10 / NODES ))

{
  echo "# written by tests/jobs/slurm/start_slurm.sh"
  echo "ClusterName=$CLUSTER"
  echo "SlurmctldHost=$HOST(127.0.0.1)"
  echo "SlurmctldPort=$CTLD_PORT"
  echo "AuthType=auth/munge"
  echo "CredType=cred/munge"
  echo "AuthInfo=socket=$MUNGE_SOCK"
  echo "SlurmUser=root"
  echo "SlurmdUser=root"
  echo "StateSaveLocation=$PREFIX/state"
  echo "SlurmdSpoolDir=$PREFIX/spool/%n"
  echo "TmpFS=$PREFIX/tmp/%n"
  echo "SlurmctldPidFile=$RUN/slurmctld.pid"
  echo "SlurmdPidFile=$RUN/slurmd-%n.pid"
  echo "SlurmctldLogFile=$LOG/slurmctld.log"
  echo "SlurmdLogFile=$LOG/slurmd-%n.log"
  echo "SlurmdParameters=config_overrides"
  echo "ProctrackType=proctrack/linuxproc"
  echo "TaskPlugin=task/none"
  echo "MpiDefault=none"
  echo "SelectType=select/cons_tres"
  echo "SelectTypeParameters=CR_Core"
  echo "SchedulerType=sched/backfill"
  echo "SchedulerParameters=batch_sched_delay=0"
  echo "ReturnToService=2"
  echo "SlurmctldTimeout=30"
  echo "SlurmdTimeout=30"
  echo "InactiveLimit=0"
  echo "MinJobAge=300"
  echo "KillWait=5"
  echo "Waittime=0"
  echo "JobCompType=jobcomp/none"
  echo "MailProg=/bin/true"
  if [ "$ACCT" = 1 ]; then
    echo "JobAcctGatherType=jobacct_gather/linux"
    echo "AccountingStorageType=accounting_storage/slurmdbd"
    echo "AccountingStorageHost=127.0.0.1"
    echo "AccountingStoragePort=$DBD_PORT"
    # with a private munge socket, slurmctld and sacct reach slurmdbd through this setting
    echo "AccountingStoragePass=$MUNGE_SOCK"
  else
    echo "JobAcctGatherType=jobacct_gather/none"
    echo "AccountingStorageType=accounting_storage/none"
  fi
  [ "$GPUS" -gt 0 ] && echo "GresTypes=gpu"
  echo "NodeName=$nodelist NodeHostname=$HOST NodeAddr=127.0.0.1 Port=[$SLURMD_PORT-$((SLURMD_PORT + NODES - 1))] CPUs=$CPUS RealMemory=$mem$gres_line State=UNKNOWN"
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} > "$ETC/slurm.conf.new"
if [ "$GPUS" -gt 0 ]; then
  echo "NodeName=$nodelist Name=gpu File=$PREFIX/dev/gpu[0-$((GPUS - 1))]" > "$ETC/gres.conf.new"
else
  : > "$ETC/gres.conf.new"
fi
cat > "$ETC/slurmdbd.conf.new" <<EOF
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
changed=0
for f in slurm.conf gres.conf slurmdbd.conf; do
  if cmp -s "$ETC/$f.new" "$ETC/$f"; then rm -f "$ETC/$f.new"; else mv "$ETC/$f.new" "$ETC/$f"; changed=1; fi
done
chmod 600 "$ETC/slurmdbd.conf"
if [ $changed = 1 ] && running "$RUN/slurmctld.pid" slurmctld; then
  say "configuration changed: restarting the Slurm daemons"
  "$(dirname "$0")/stop_slurm.sh" --keep-db
fi

# ---- munge: private key and socket -----------------------------------------------------------
mkdir -p "$RUN/munge" "$ETC/munge"
chown munge:munge "$RUN/munge" "$ETC/munge"; chmod 700 "$ETC/munge"
[ -s "$ETC/munge/munge.key" ] || dd if=/dev/urandom of="$ETC/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$ETC/munge/munge.key"; chmod 400 "$ETC/munge/munge.key"
touch "$LOG/munged.log"; chown munge:munge "$LOG/munged.log"
if ! running "$RUN/munge/munged.pid" munged; then
  rm -f "$MUNGE_SOCK" "$MUNGE_SOCK.lock"
  runuser -u munge -- /usr/sbin/munged --socket="$MUNGE_SOCK" --key-file="$ETC/munge/munge.key" \
    --pid-file="$RUN/munge/munged.pid" --log-file="$LOG/munged.log" --seed-file="$RUN/munge/munged.seed"
fi
wait_until 10 munged bash -c "munge -S '$MUNGE_SOCK' -n | unmunge -S '$MUNGE_SOCK'"
say "munged up"

# ---- accounting: MariaDB on a private port, slurmdbd -----------------------------------------
if [ "$ACCT" = 1 ]; then
  DATA=$PREFIX/mysql
  mkdir -p "$RUN/mysql"; chown mysql:mysql "$RUN/mysql"
  if [ ! -d "$DATA/mysql" ]; then
    rm -rf "$DATA"; mkdir -p "$DATA"; chown mysql:mysql "$DATA"
    timeout 120 mariadb-install-db --no-defaults --user=mysql --datadir="$DATA" --skip-test-db \
      --auth-root-authentication-method=socket > "$LOG/mariadb-install.log" 2>&1 \
      || { cat "$LOG/mariadb-install.log" >&2; fail "mariadb-install-db failed"; }
  fi
  if ! running "$RUN/mysql/mysqld.pid" mariadbd; then
    port_busy "$DB_PORT" && fail "port $DB_PORT is taken (set HPC_SLURM_DB_PORT)"
    setsid -f /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DATA" --socket="$DB_SOCK" \
      --port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$RUN/mysql/mysqld.pid" \
      --log-error="$LOG/mariadb.err" --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
      --innodb-lock-wait-timeout=900 < /dev/null > /dev/null 2>&1
  fi
  wait_until 60 mariadb mariadb-admin --no-defaults -S "$DB_SOCK" ping
  mariadb --no-defaults -S "$DB_SOCK" -uroot -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
  if ! running "$RUN/slurmdbd.pid" slurmdbd; then
    port_busy "$DBD_PORT" && fail "port $DBD_PORT is taken (set HPC_SLURM_DBD_PORT)"
    SLURM_CONF=$SLURM_CONF /usr/sbin/slurmdbd
  fi
  wait_until 60 slurmdbd port_busy "$DBD_PORT"
  say "mariadb and slurmdbd up"
fi

# ---- slurmctld and one slurmd per node --------------------------------------------------------
if ! running "$RUN/slurmctld.pid" slurmctld; then
  port_busy "$CTLD_PORT" && fail "port $CTLD_PORT is taken (set HPC_SLURM_CTLD_PORT)"
  /usr/sbin/slurmctld -i
fi
wait_until 30 slurmctld bash -c "timeout 5 scontrol ping | grep -q UP"
say "slurmctld up"
for i in $(seq 1 "$NODES"); do
  if ! running "$RUN/slurmd-n$i.pid" slurmd; then
    port_busy $((SLURMD_PORT + i - 1)) && fail "port $((SLURMD_PORT + i - 1)) is taken (set HPC_SLURM_SLURMD_PORT)"
    /usr/sbin/slurmd -N "n$i"
  fi
done
nodes_ready() {
  local states; states=$(timeout 5 sinfo -h -N -o '%T') || return 1
  [ -n "$states" ] && ! grep -qvE '^(idle|mixed|allocated)$' <<< "$states"
}
wait_until 60 "idle nodes" nodes_ready
say "$NODES slurmd's up"

# ---- client side ---------------------------------------------------------------------------
if [ "$LINK_ETC" = 1 ]; then
  mkdir -p /etc/slurm
  if [ -e /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" != "$ETC/slurm.conf" ]; then
    say "warning: /etc/slurm/slurm.conf is not ours; clients need SLURM_CONF=$ETC/slurm.conf"
  else
    ln -sfn "$ETC/slurm.conf" /etc/slurm/slurm.conf
  fi
fi
cat > "$PREFIX/env.sh" <<EOF
export SLURM_CONF=$ETC/slurm.conf
# Open MPI wheel under 'srun --mpi=pmix': no munge psec in its PMIx; keep TCP on loopback
export PMIX_MCA_psec=native OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_mpi_yield_when_idle=1
EOF
timeout 5 sinfo
say "cluster ready: export SLURM_CONF=$ETC/slurm.conf"
