# Shared by test/cluster/up and test/cluster/down: paths, prerequisites, the build cache and
# process bookkeeping. Sourced, not run.

CLUSTER_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$CLUSTER_SRC/../.." && pwd)"
STATE="$REPO/.cluster"
CACHE="${KUBETUNE_CLUSTER_CACHE:-$HOME/.cache/kubetune/cluster}"
K8S_VERSION="v1.34.4"

# Components in start order; down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kueue jobset)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() {
  printf '[cluster] ERROR: %s\n' "$*" >&2
  exit 1
}

# pid_alive PIDFILE: the recorded process is still running and is the binary we started
# (guards against a recycled PID after a reboot or a long pause).
pid_alive() {
  local pidfile="$1" pid exe
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  case "$exe" in
    "$CACHE"/bin/* | "$STATE"/*) return 0 ;;
  esac
  return 1
}

# stop_pid PIDFILE SECONDS: TERM, wait, then KILL.
stop_pid() {
  local pidfile="$1" grace="$2" pid i
  if pid_alive "$pidfile"; then
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$(basename "$pidfile" .pid) did not stop after ${grace}s; killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# lock_cluster: one up or down at a time per repository. The lock lives outside .cluster/,
# which down deletes.
lock_cluster() {
  mkdir -p "$CACHE/locks"
  exec 9>"$CACHE/locks/$(printf '%s' "$REPO" | sha256sum | cut -c1-16).lock"
  flock 9
}
