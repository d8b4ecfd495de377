#!/usr/bin/env bash
# test-slurm.sh: a private, throwaway one-node Slurm cluster on loopback for the pipeline's
# Slurm executor tests (src/pipeline/slurm).
#
#   scripts/test-slurm.sh start    # write the config (first time), start munged, slurmctld
#                                  # and slurmd, wait until the node is idle; ok if running
#   scripts/test-slurm.sh stop     # stop it once no other user of it is left
#   scripts/test-slurm.sh status   # "running" (exit 0) or "stopped" (exit 3), with sinfo
#   scripts/test-slurm.sh conf     # the slurm.conf path: export SLURM_CONF=$(... conf)
#
# Never the system services: everything lives in $SAGEBOX_TEST_SLURM_DIR (default
# /tmp/sagebox-slurm-$UID): slurm.conf, a munge key of its own and a private munged on its
# own socket, the controller's state, slurmd's spool, logs and pid files. The controller
# listens on 127.0.0.1:$SAGEBOX_TEST_SLURM_PORT (default 56817) and slurmd on the next port,
# so a real Slurm on 6817/6818 is left alone. The one node, `localhost`, has the machine's
# real CPUs and memory (slurmd -C). No cgroups (proctrack/linuxproc, task/none) and no
# accounting database (accounting_storage/none): status comes from squeue, which keeps
# finished jobs for MinJobAge (1 h here).
#
# Slurm's slurmd must be root to start jobs as their user, so `start` needs root (CI runs as
# root). No systemd is needed: the daemons are started directly.
#
# Several ctest runs (worktrees, parallel builds) may share the cluster: each `start`
# registers its caller (the parent process: ctest, or your shell) and `stop` unregisters
# it; the daemons stop when no live caller is left.
set -euo pipefail

DIR=${SAGEBOX_TEST_SLURM_DIR:-/tmp/sagebox-slurm-$(id -u)}
PORT=${SAGEBOX_TEST_SLURM_PORT:-56817}
SLURMD_PORT=$((PORT + 1))
CONF=$DIR/etc/slurm.conf
MUNGE_SOCKET=$DIR/munge/munge.socket.2
SBIN=${SAGEBOX_TEST_SLURM_SBIN:-/usr/sbin}

die() {
  echo "test-slurm.sh: $*" >&2
  exit 1
}

# The last lines of a log, for error messages.
tail_of() {
  [[ -f $1 ]] || return 0
  echo "--- last lines of $1:" >&2
  tail -n 25 "$1" >&2
}

fail_with_logs() {
  echo "test-slurm.sh: $*" >&2
  tail_of "$DIR/log/munged.log"
  tail_of "$DIR/log/slurmctld.log"
  tail_of "$DIR/log/slurmd.log"
  exit 1
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2> /dev/null; }

# Callers are files named by PID under $DIR/users; dead ones are swept.
live_users() {
  local f n=0
  for f in "$DIR"/users/*; do
    [[ -e $f ]] || continue
    if kill -0 "${f##*/}" 2> /dev/null; then n=$((n + 1)); else rm -f "$f"; fi
  done
  echo "$n"
}

node_state() {
  # Without a config sinfo retries for 60 s; a cluster never started has no state.
  [[ -f $CONF ]] || return 0
  SLURM_CONF=$CONF sinfo --noheader --nodes=localhost --format=%t 2> /dev/null | head -n 1; }

check_tools() {
  local t
  for t in "$SBIN/munged" "$SBIN/slurmctld" "$SBIN/slurmd"; do
    [[ -x $t ]] || die "$t not found (apt-get install munge slurm-wlm, or bash scripts/install-deps.sh)"
  done
  for t in sinfo sbatch squeue scontrol mungekey; do
    command -v "$t" > /dev/null || die "$t not found (apt-get install munge slurm-client)"
  done
  [[ "$(id -u)" == 0 ]] || die "slurmd must run as root to start jobs; run as root (CI does)"
}

write_config() {
  mkdir -p "$DIR"/{etc,munge,state,spool,log,run}
  # munged wants its socket folder searchable by all; the key itself is 0600.
  chmod 755 "$DIR/munge"
  if [[ ! -s $DIR/munge/munge.key ]]; then
    mungekey --create --keyfile="$DIR/munge/munge.key" --force > /dev/null 2>&1 ||
      die "mungekey could not create $DIR/munge/munge.key"
    chmod 600 "$DIR/munge/munge.key"
  fi
  # The node as slurmd sees this machine (CPUs and memory), renamed to localhost.
  local cpus mem
  cpus=$(nproc)
  mem=$("$SBIN/slurmd" -C 2> /dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)
  [[ -n $mem ]] || mem=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
  cat > "$CONF.tmp" << CONF
# test-slurm.sh: a one-node throwaway cluster on loopback; rewritten on every start.
ClusterName=sagebox-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: a container without systemd has none to delegate.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for an hour (there is no accounting database).
MinJobAge=3600
# Fast tests: a second between SIGTERM and SIGKILL, no grace over the time limit.
KillWait=1
OverTimeLimit=0
SlurmdTimeout=60
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  mv "$CONF.tmp" "$CONF"
  # slurmd 22.05 loads a cgroup plugin even when no other plugin uses cgroups: let it
  # detect v1 or v2 and not ask systemd (a container has none).
  printf 'CgroupPlugin=autodetect\nIgnoreSystemd=yes\n' > "$DIR/etc/cgroup.conf"
}

start_munged() {
  pid_alive "$DIR/run/munged.pid" && return 0
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  "$SBIN/munged" --force --socket="$MUNGE_SOCKET" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/munge/munged.seed" 9>&- ||
    fail_with_logs "munged did not start"
  local i
  for i in $(seq 1 50); do
    [[ -S $MUNGE_SOCKET ]] && return 0
    sleep 0.1
  done
  fail_with_logs "munged's socket $MUNGE_SOCKET did not appear"
}

start() {
  check_tools
  local state=""
  pid_alive "$DIR/run/slurmctld.pid" && state=$(node_state)
  if [[ $state == idle* || $state == mix* || $state == alloc* ]]; then
    touch "$DIR/users/$PPID"
    echo "Slurm test cluster ready: SLURM_CONF=$CONF"
    return 0
  fi
  write_config
  start_munged
  export SLURM_CONF=$CONF
  # 9>&-: the daemons must not inherit the lock, or they would hold it for their whole life.
  if ! pid_alive "$DIR/run/slurmctld.pid"; then
    "$SBIN/slurmctld" -f "$CONF" 9>&- || fail_with_logs "slurmctld did not start"
  fi
  if ! pid_alive "$DIR/run/slurmd.pid"; then
    "$SBIN/slurmd" -f "$CONF" -N localhost 9>&- || fail_with_logs "slurmd did not start"
  fi
  local i
  for i in $(seq 1 120); do
    state=$(node_state)
    case "$state" in
      idle* | mix* | alloc*) break ;;
      down* | drain*)
        # A node left down by an earlier run comes back once slurmd registers.
        scontrol update nodename=localhost state=resume > /dev/null 2>&1 || true
        ;;
    esac
    [[ $i == 120 ]] && fail_with_logs "node localhost is '${state:-unknown}', not idle, after 60 s"
    sleep 0.5
  done
  touch "$DIR/users/$PPID"
  echo "Slurm test cluster ready: SLURM_CONF=$CONF"
}

# Sends TERM to the daemon in pid file $1 and waits up to 10 s for it to go.
stop_daemon() {
  local pidfile=$1 pid i
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if kill "$pid" 2> /dev/null; then
    for i in $(seq 1 100); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2> /dev/null && kill -KILL "$pid" 2> /dev/null
  fi
  rm -f "$pidfile"
}

stop() {
  rm -f "$DIR/users/$PPID"
  [[ "$(live_users)" == 0 ]] || return 0
  # Jobs first, so no step outlives the cluster; then the node, the controller, munge.
  SLURM_CONF=$CONF scancel --full --quiet --user=root > /dev/null 2>&1 || true
  stop_daemon "$DIR/run/slurmd.pid"
  stop_daemon "$DIR/run/slurmctld.pid"
  stop_daemon "$DIR/run/munged.pid"
}

status() {
  if pid_alive "$DIR/run/slurmctld.pid"; then
    echo "running: SLURM_CONF=$CONF, $(live_users) caller(s)"
    SLURM_CONF=$CONF sinfo || true
  else
    echo "stopped"
    exit 3
  fi
}

cmd=${1:-}
case "$cmd" in
  start | stop)
    mkdir -p "$DIR/users"
    [[ -O $DIR ]] || die "$DIR belongs to another user; set SAGEBOX_TEST_SLURM_DIR"
    chmod 755 "$DIR"
    # One start or stop at a time: parallel ctest runs must not both start daemons.
    exec 9> "$DIR/lock"
    flock -w 120 9 || die "$DIR/lock is held by another start or stop for over 2 minutes"
    "$cmd"
    ;;
  status) status ;;
  conf) echo "$CONF" ;;
  *) die "usage: $0 start|stop|status|conf" ;;
esac
