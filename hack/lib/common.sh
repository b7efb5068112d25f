# Shared helpers for hack/ scripts. Source it; do not execute it.
# shellcheck shell=bash

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
# shellcheck source=../versions.env
source "${HACK_DIR}/versions.env"

# Built/fetched components live outside the work tree so that a fresh clone on
# the same machine (CI) reuses them; override with OUTFLOW_CACHE.
OUTFLOW_CACHE="${OUTFLOW_CACHE:-${HOME}/.cache/outflow}"
# Runtime state of a running test environment (pids, certs, data dirs, logs).
OUTFLOW_TESTENV_DIR="${OUTFLOW_TESTENV_DIR:-${REPO_ROOT}/.testenv}"

log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on right now, from 20000-29999:
# below the kernel's ephemeral range, so no outgoing connection takes it
# before (or, for a restarted broker, between) the server's binds. Ports
# handed out before are listed in ${OUTFLOW_TESTENV_DIR}/ports and skipped:
# two picked back to back (etcd's client and peer ports) are bound only later.
# The tests' own children get 11000-19999 (tests/integration/child_process.cpp).
free_port() {
  mkdir -p "${OUTFLOW_TESTENV_DIR}"
  python3 - "${OUTFLOW_TESTENV_DIR}/ports" <<'PY'
import os, random, socket, sys
handed = sys.argv[1]
taken = set(open(handed).read().split()) if os.path.exists(handed) else set()
for port in random.sample(range(20000, 30000), 10000):
    if str(port) in taken:
        continue
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    with open(handed, "a") as f:
        f.write(f"{port}\n")
    print(port)
    break
else:
    raise SystemExit("no free port in 20000-29999 on 127.0.0.1")
PY
}

# wait_until SECONDS DESCRIPTION LOGFILE -- CMD...
# Polls CMD every 0.5 s; on timeout prints the last lines of LOGFILE and fails.
wait_until() {
  local timeout="$1" what="$2" logfile="$3"; shift 4
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) >= deadline )); then
      log "${what} not ready after ${timeout}s; last lines of ${logfile}:"
      tail -n 40 "${logfile}" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# start_daemon NAME LOGFILE CMD...   runs CMD in the background in its own
# session, records its pid in ${OUTFLOW_TESTENV_DIR}/pids/NAME.pid.
start_daemon() {
  local name="$1" logfile="$2"; shift 2
  mkdir -p "${OUTFLOW_TESTENV_DIR}/pids"
  setsid "$@" >"${logfile}" 2>&1 < /dev/null &
  echo $! > "${OUTFLOW_TESTENV_DIR}/pids/${name}.pid"
}

# stop_daemon NAME   SIGTERM, then SIGKILL after 15 s, the process group we started.
stop_daemon() {
  local name="$1" pidfile="${OUTFLOW_TESTENV_DIR}/pids/$1.pid" pid
  [[ -f "${pidfile}" ]] || return 0
  pid="$(cat "${pidfile}")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-${pid}" 2>/dev/null || kill -KILL "${pid}" 2>/dev/null || true
  fi
  rm -f "${pidfile}"
}

# Records KEY=VALUE for `testenv.sh env` (one file, later keys win).
export_env() {
  mkdir -p "${OUTFLOW_TESTENV_DIR}"
  printf 'export %s=%q\n' "$1" "$2" >> "${OUTFLOW_TESTENV_DIR}/env.sh"
}
