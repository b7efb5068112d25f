# PostgreSQL for the test environment: Debian's server binaries, a throw-away
# cluster in a temporary directory, password (SCRAM) authentication on loopback.
# shellcheck shell=bash

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_USER_NAME="outflow"          # superuser inside the cluster
PG_DATABASE="outflow_test"
PG_OS_USER="outflow-pg"         # initdb refuses root; the server runs as this user

# as_pg_user CMD...   runs CMD as the unprivileged OS user when we are root.
as_pg_user() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u "${PG_OS_USER}" -- "$@"
  else
    "$@"
  fi
}

pg_setup() {
  [[ -x "${PG_BIN}/postgres" ]] || die "PostgreSQL 15 server not found in ${PG_BIN} (hack/setup.sh installs postgresql-15)"
  if [[ "$(id -u)" == 0 ]] && ! getent passwd "${PG_OS_USER}" >/dev/null; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "${PG_OS_USER}"
  fi
}

_pg_state() { echo "${OUTFLOW_TESTENV_DIR}/postgres"; }

pg_up() {
  pg_setup
  local state data port password log
  state="$(_pg_state)"
  mkdir -p "${state}" "${OUTFLOW_TESTENV_DIR}/logs"
  # The data directory lives in /tmp so the unprivileged user can reach it even
  # when the work tree sits under a private home directory.
  data="$(mktemp -d /tmp/outflow-pg.XXXXXX)"
  echo "${data}" > "${state}/datadir"
  port="$(free_port)"
  echo "${port}" > "${state}/port"
  password="$(openssl rand -hex 16)"
  # The log lives beside the data (writable by the server's user) and is
  # linked into logs/ with the other parts' logs.
  log="${data}/postgres.log"
  : > "${log}"
  ln -sf "${log}" "${OUTFLOW_TESTENV_DIR}/logs/postgres.log"
  if [[ "$(id -u)" == 0 ]]; then chown "${PG_OS_USER}" "${data}" "${log}"; fi
  printf '%s\n' "${password}" > "${data}/.pwfile"
  chmod 600 "${data}/.pwfile"
  if [[ "$(id -u)" == 0 ]]; then chown "${PG_OS_USER}" "${data}/.pwfile"; fi

  as_pg_user "${PG_BIN}/initdb" -D "${data}/pgdata" -U "${PG_USER_NAME}" \
    --pwfile="${data}/.pwfile" --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    >>"${log}" 2>&1 || { tail -n 30 "${log}" >&2; return 1; }
  rm -f "${data}/.pwfile"
  # Pods on the node connect from the pod network to the node address.
  printf 'host all all %s scram-sha-256\n' "${NODE_POD_CIDR}" >> "${data}/pgdata/pg_hba.conf"
  pg_start || return 1

  PGPASSWORD="${password}" psql -X -q -h 127.0.0.1 -p "${port}" -U "${PG_USER_NAME}" -d postgres \
    -c "CREATE DATABASE ${PG_DATABASE}" >/dev/null
  export_env OUTFLOW_TEST_PG_URL "postgres://${PG_USER_NAME}:${password}@127.0.0.1:${port}/${PG_DATABASE}"
  export_env OUTFLOW_TEST_PG_PORT "${port}"
  export_env OUTFLOW_TEST_PG_POD_URL "postgres://${PG_USER_NAME}:${password}@${NODE_IP}:${port}/${PG_DATABASE}"
}

# pg_start / pg_stop keep data and port, for tests that restart the server.
pg_start() {
  local state data port
  state="$(_pg_state)"
  data="$(cat "${state}/datadir")"
  port="$(cat "${state}/port")"
  # fsync=off only spares the disk; committed data still survives a server
  # crash (the WAL is written), which is what the agent's no-loss tests rely on.
  as_pg_user "${PG_BIN}/pg_ctl" -D "${data}/pgdata" -l "${data}/postgres.log" \
    -w -t 60 -o "-p ${port} -c listen_addresses=127.0.0.1,${NODE_IP} -k ${data} -c fsync=off -c max_connections=200" \
    start >/dev/null || { tail -n 30 "${data}/postgres.log" >&2; return 1; }
}

pg_stop() {
  local state data
  state="$(_pg_state)"
  [[ -f "${state}/datadir" ]] || return 0
  data="$(cat "${state}/datadir")"
  [[ -f "${data}/pgdata/postmaster.pid" ]] || return 0
  as_pg_user "${PG_BIN}/pg_ctl" -D "${data}/pgdata" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

pg_down() {
  local state
  state="$(_pg_state)"
  pg_stop
  if [[ -f "${state}/datadir" ]]; then
    rm -rf "$(cat "${state}/datadir")"
    rm -f "${state}/datadir"
  fi
}
