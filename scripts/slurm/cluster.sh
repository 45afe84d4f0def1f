# Sourced by scripts/slurm/test-cluster: starts and stops a one-node Slurm cluster on loopback in a
# temporary directory (munged as the munge user, slurmctld, slurmd), for tests. Not for production.
#
#   cluster_start DIR     writes DIR/slurm.conf, starts the daemons, waits until the node is idle;
#                         exports SLURM_CONF
#   cluster_stop          stops every daemon cluster_start started, by PID (zombies count as gone)

cluster_pids=()

cluster_start() {
    local dir=$1 host node
    host=$(hostname -s)
    mkdir -p "$dir/state" "$dir/spool" "$dir/log" /run/munge
    chown munge:munge /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    if ! munge -n >/dev/null 2>&1; then
        su -s /bin/sh munge -c /usr/sbin/munged || return 1
        for _ in $(seq 1 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
        cluster_pids+=("$(cat /run/munge/munged.pid 2>/dev/null || pgrep -x -n munged)")
        munge -n >/dev/null 2>&1 || { echo "cluster: munged does not answer" >&2; return 1; }
    fi
    node=$(slurmd -C | head -n 1)
    cat > "$dir/slurm.conf" <<CONF
ClusterName=convsweep-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$dir/slurm.conf
    local daemon
    for daemon in slurmctld slurmd; do
        if [ "$daemon" = slurmctld ]; then slurmctld -i -f "$SLURM_CONF" || return 1; else slurmd -f "$SLURM_CONF" || return 1; fi
        for _ in $(seq 1 50); do [ -s "$dir/$daemon.pid" ] && break; sleep 0.1; done
        [ -s "$dir/$daemon.pid" ] || { echo "cluster: $daemon did not start (see $dir/log)" >&2; return 1; }
        cluster_pids+=("$(cat "$dir/$daemon.pid")")
    done
    for _ in $(seq 1 100); do
        if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then return 0; fi
        sleep 0.2
    done
    echo "cluster: the node did not become idle" >&2
    sinfo >&2 || true
    return 1
}

cluster_stop() {
    local pid state
    for pid in "${cluster_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${cluster_pids[@]}"; do
        for _ in $(seq 1 50); do
            state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
            [ "$state" = gone ] || [ "$state" = Z ] && break
            sleep 0.1
        done
    done
    cluster_pids=()
}
