#!/usr/bin/env bash
# Outflow in a few minutes, on this machine: a real Kubernetes node, Kafka and
# PostgreSQL (hack/testenv.sh), the operator installed with Helm, one
# EventPipeline, and the story of what it does, step by step:
#   1. an application transaction writes order events; a consumer shows them
#   2. the pipeline's status: Ready, topics, agents, breakers
#   3. the broker stopped and started again: breaker, backlog, nothing lost
#   4. dead letters: a retry after its back-off, and one that ends up parked
#   5. an agent pod killed mid-stream: nothing lost, order per key kept
#
#   hack/demo.sh               setup (cached), build, images, environment up,
#                              the story, everything removed again
#   hack/demo.sh --keep        leave it all running and print how to reach it
#   hack/demo.sh --short       fewer events and shorter waits (every step still)
#   hack/demo.sh --reuse-env   use the environment the exported variables of
#                              `hack/testenv.sh env` describe (the ctest entry
#                              under hack/test.sh does): no setup, build, up or
#                              down; the story's own objects are removed at the end
#   --build-dir DIR            where the binaries are (default: build)
#
# Exit 0 when every step did what it says, 1 otherwise.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${REPO_ROOT}"

keep=0 short=0 reuse=0 build_dir="${OUTFLOW_BUILD_DIR:-build}" args_given=("$@")
while (( $# > 0 )); do
  case "$1" in
    --keep) keep=1 ;;
    --short) short=1 ;;
    --reuse-env) reuse=1 ;;
    --build-dir) build_dir="${2:?--build-dir needs a directory}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see hack/demo.sh --help)" ;;
  esac
  shift
done
[[ "${build_dir}" == /* ]] || build_dir="${REPO_ROOT}/${build_dir}"

# The story's names; the example in examples/demo/ uses the same.
NS=shop
PIPELINE=orders
TOPIC=shop.orders
DLQ=shop.orders.dlq
OPERATOR_NS=outflow-system
RELEASE=outflow
# A JVM on a busy 2-core machine can take more than the default minute to start.
export KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-240}"
if (( short )); then KEYS=10 OUTAGE_S=6 STREAM_S=4; else KEYS=20 OUTAGE_S=15 STREAM_S=10; fi

# ---------------------------------------------------------------------------
# Output: numbered steps, one progress line per wait
# ---------------------------------------------------------------------------

T_START=${SECONDS}
step_no=0
# The preamble (install) is step 0, so the story's steps carry the numbers above.
step() { printf '\n\033[1m== %d. %s\033[0m\n' "${step_no}" "$*"; step_no=$(( step_no + 1 )); }
say()  { printf '   %s\n' "$*"; }
show_cmd() { printf '   $ %s\n' "$*"; }
fail() { printf '\n\033[31mFAILED in step %d: %s\033[0m\n' "$(( step_no - 1 ))" "$*" >&2; exit 1; }

# await SECONDS WHAT CHECK [DETAIL]   runs CHECK every second until it
# succeeds; the progress line says what is awaited, for how long so far, and
# DETAIL's output (the numbers behind it). Fails the step on timeout.
await() {
  local timeout="$1" what="$2" check="$3" detail="${4:-}" t0=${SECONDS} last_print=-10 text=""
  while ! "${check}" >/dev/null 2>&1; do
    local waited=$(( SECONDS - t0 ))
    [[ -n "${detail}" ]] && text="$("${detail}" 2>/dev/null || true)"
    if (( waited >= timeout )); then
      [[ -t 1 ]] && printf '\n'
      fail "${what}: not within ${timeout} s${text:+ (last seen: ${text})}"
    fi
    if [[ -t 1 ]]; then
      printf '\r\033[K   … waiting for %s (%d s)%s' "${what}" "${waited}" "${text:+: ${text}}"
    elif (( waited - last_print >= 5 )); then
      printf '   … waiting for %s (%d s)%s\n' "${what}" "${waited}" "${text:+: ${text}}"
      last_print=${waited}
    fi
    sleep 1
  done
  [[ -t 1 ]] && printf '\r\033[K'
  [[ -n "${detail}" ]] && text="$("${detail}" 2>/dev/null || true)"
  say "✓ ${what} (after $(( SECONDS - t0 )) s)${text:+: ${text}}"
}

# ---------------------------------------------------------------------------
# The parts: Kubernetes, the application's database, Kafka
# ---------------------------------------------------------------------------

kubectl() { "${OUTFLOW_TEST_KUBE_BIN}/kubectl" "$@"; }
helm()    { "${OUTFLOW_TEST_KUBE_BIN}/helm" "$@"; }
psql_app() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql "${OUTFLOW_TEST_PG_URL}" -v ON_ERROR_STOP=1 -qAt "$@"; }
demo_tool() { "${build_dir}/demo/outflow-demo" "$@" --bootstrap "${OUTFLOW_TEST_KAFKA_PLAINTEXT}"; }

evp_json() { kubectl -n "${NS}" get evp "${PIPELINE}" -o json; }
# One field of the pipeline's status, through a tiny Python filter.
evp_field() {
  evp_json | python3 -c "import json,sys; s=json.load(sys.stdin).get('status',{}); print($1)"
}
READY_EXPR="next((c['status'] for c in s.get('conditions',[]) if c['type']=='Ready'), 'Unknown')"
breakers()   { evp_field "s.get('summary',{}).get('breakers','')"; }
pipeline_ready_with_agents() {
  [[ "$(evp_field "${READY_EXPR} + ' ' + s.get('summary',{}).get('agents','')")" == "True 2/2" ]]
}
pipeline_summary() {
  evp_field "'Ready=%s, agents %s, breakers %s' % (${READY_EXPR}, s.get('summary',{}).get('agents','-'), s.get('summary',{}).get('breakers','-'))"
}
# What the agents' status entries say (written on a breaker change at once,
# on a tenfold backlog change at most every 5 s).
agents_status() {
  evp_field "'breakers %s; status.agents: backlog %d, oldest pending %d s' % (s.get('summary',{}).get('breakers','-'), sum(a.get('outboxBacklog',0) for a in s.get('agents',[])), max([a.get('oldestPendingAgeSeconds',0) for a in s.get('agents',[])] or [0]))"
}

operators_ready() {
  [[ "$(kubectl -n "${OPERATOR_NS}" get deploy -l app.kubernetes.io/instance="${RELEASE}" \
        -o jsonpath='{.items[0].status.readyReplicas}')" == 2 ]]
}
# agents_metric NAME   NAME's series from every agent pod's /metrics (pod IPs
# are reachable inside the environment's network namespace).
agents_metric() {
  local pod ip
  for pod in $(agent_pods); do
    ip="$(kubectl -n "${NS}" get pod "${pod}" -o jsonpath='{.status.podIP}')"
    curl -s --max-time 5 "http://${ip}:9090/metrics" | grep "^$1" | sed "s|^|${pod}: |" || true
  done
}
agent_pods() {
  kubectl -n "${NS}" get pods -l app.kubernetes.io/instance="${PIPELINE}",app.kubernetes.io/name=outflow-agent \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}

# The application: one transaction changes orders and writes one outbox row
# per change, so an event exists exactly when its change committed.
# app_commit FIRST LAST   orders FIRST..LAST: placed, then paid, shipped, updated.
app_commit() {
  psql_app <<SQL
BEGIN;
WITH changed AS (
  INSERT INTO shop.orders (id, status) SELECT g, 'placed' FROM generate_series($1, $2) g
  ON CONFLICT (id) DO UPDATE
    SET version = orders.version + 1, updated_at = now(),
        status = CASE orders.version + 1 WHEN 2 THEN 'paid' WHEN 3 THEN 'shipped' ELSE 'updated' END
  RETURNING id, status, version)
INSERT INTO shop.outbox (event_id, key, payload)
SELECT gen_random_uuid(), 'order-' || id,
       convert_to(json_build_object('order', id, 'status', status, 'version', version)::text, 'UTF8')
FROM changed ORDER BY id;
COMMIT;
SQL
}
outbox_total()   { psql_app -c "SELECT count(*) FROM shop.outbox"; }
outbox_pending() { psql_app -c "SELECT count(*) FROM shop.outbox WHERE published_at IS NULL"; }
kafka_answers() { demo_tool show --topic "${TOPIC}" --count 1 --timeout 10 >/dev/null 2>&1; }
nothing_pending() { [[ "$(outbox_pending)" == 0 ]]; }
outbox_numbers() { printf '%s committed, %s waiting for Kafka' "$(outbox_total)" "$(outbox_pending)"; }

# The application committing orders 1..KEYS every 0.2 s in the background.
STREAM_DIR=""
stream_start() {
  STREAM_DIR="$(mktemp -d)"
  ( while [[ ! -e "${STREAM_DIR}/stop" ]]; do
      app_commit 1 "${KEYS}" >/dev/null || { touch "${STREAM_DIR}/failed"; exit 1; }
      sleep 0.2
    done ) &
  echo $! > "${STREAM_DIR}/pid"
}
# stream_halt: stop it; 1 if any of its transactions failed.
stream_halt() {
  [[ -n "${STREAM_DIR}" && -d "${STREAM_DIR}" ]] || return 0
  touch "${STREAM_DIR}/stop"
  wait "$(cat "${STREAM_DIR}/pid")" 2>/dev/null || true
  local failed=0
  [[ -e "${STREAM_DIR}/failed" ]] && failed=1
  rm -rf "${STREAM_DIR}"
  STREAM_DIR=""
  return "${failed}"
}
stream_stop() { stream_halt || fail "the application's transactions failed (PostgreSQL)"; }

# The verifier: every committed row against what a consumer reads back.
VERIFIED=""
verify_all() {
  local expected
  expected="$(mktemp)"
  psql_app -F ' ' -c "SELECT id, event_id, key FROM shop.outbox ORDER BY id" > "${expected}"
  show_cmd "outflow-demo verify --topic ${TOPIC}   # every committed row, first deliveries in key order"
  VERIFIED="$(demo_tool verify --topic "${TOPIC}" --expected "${expected}" --timeout 120)" \
    || { rm -f "${expected}"; printf '%s\n' "${VERIFIED}"; fail "the verifier found events lost or out of order"; }
  rm -f "${expected}"
  printf '%s\n' "${VERIFIED}"
}

# ---------------------------------------------------------------------------
# The story
# ---------------------------------------------------------------------------

install_operator() {
  step "Install the operator with Helm, the shop's outbox, and the EventPipeline"
  local extra=()
  # Beside other tests' operators, watch only the demo's namespace.
  (( reuse )) && extra=(--set "watchNamespaces={${NS}}")
  show_cmd "helm install ${RELEASE} charts/outflow --namespace ${OPERATOR_NS} --create-namespace ${extra[*]}"
  local out
  out="$(helm install "${RELEASE}" charts/outflow --namespace "${OPERATOR_NS}" --create-namespace "${extra[@]}" 2>&1)" \
    || fail "helm install: ${out}"
  await 180 "2 operator pods Ready" operators_ready

  say "The shop's database: its orders table and the outbox (hack/sql/outbox.sql) in schema shop"
  psql_app -c "DROP SCHEMA IF EXISTS shop CASCADE" -c "CREATE SCHEMA shop" >/dev/null
  PGOPTIONS='-c search_path=shop' psql_app -f hack/sql/outbox.sql -f examples/demo/orders.sql >/dev/null

  kubectl create namespace "${NS}" >/dev/null
  show_cmd "kubectl -n ${NS} create secret generic orders-db --from-literal=url='postgres://…'"
  kubectl -n "${NS}" create secret generic orders-db --from-literal=url="${OUTFLOW_TEST_PG_POD_URL}" >/dev/null
  show_cmd "kubectl apply -f examples/demo/eventpipeline.yaml   # bootstrapServers: ${OUTFLOW_TEST_KAFKA_PODS}"
  sed "s|kafka.demo:9092|${OUTFLOW_TEST_KAFKA_PODS}|" examples/demo/eventpipeline.yaml | kubectl apply -f - >/dev/null
  await 240 "the pipeline Ready with 2 agent pods" pipeline_ready_with_agents pipeline_summary
}

story_publish() {
  step "An application transaction writes order events; a consumer reads them from Kafka"
  say "BEGIN; UPDATE/INSERT shop.orders …; INSERT INTO shop.outbox (event_id, key, payload) …; COMMIT;"
  app_commit 1 5 >/dev/null
  app_commit 1 5 >/dev/null
  say "two transactions committed: orders 1-5 placed, then paid (10 events, key = order)"
  show_cmd "outflow-demo show --topic ${TOPIC} --count 10"
  demo_tool show --topic "${TOPIC}" --count 10 --timeout 60 || fail "the events did not reach ${TOPIC}"
  say "per key, placed (version 1) comes before paid (version 2)"
}

story_status() {
  step "The pipeline's status"
  await 60 "both agents' entries in status.agents" two_status_entries
  show_cmd "kubectl -n ${NS} get evp"
  kubectl -n "${NS}" get evp | sed 's/^/   /'
  show_cmd "kubectl -n ${NS} get evp ${PIPELINE} -o jsonpath='{.status.agents[0]}'"
  evp_field "json.dumps(s['agents'][0], indent=2)" | sed 's/^/   /'
  say "an entry changes on news only (its counters are as of its last write); the live counters are in /metrics:"
  agents_metric outflow_outbox_published_total | sed 's/^/     /'
}
two_status_entries() { [[ "$(evp_field "len(s.get('agents',[]))")" == 2 ]]; }

story_outage() {
  step "The broker goes away while the application keeps committing"
  stream_start
  await 30 "the application's events flowing" events_flowing outbox_numbers
  show_cmd "hack/testenv.sh stop kafka"
  "${HACK_DIR}/testenv.sh" stop kafka 2>/dev/null || fail "could not stop the broker"
  await 90 "the breakers away from Closed in the status" breakers_not_closed outage_numbers
  say "each agent's own count of breaker transitions (its /metrics):"
  agents_metric outflow_breaker_transitions_total | { grep -v ' 0$' || true; } | sed 's/^/     /'
  local t0=${SECONDS} end_at=$(( SECONDS + OUTAGE_S ))
  backlog_grows() { (( SECONDS >= end_at )); }
  await $(( OUTAGE_S + 5 )) "${OUTAGE_S} s of outage (the outbox grows, nothing is lost)" backlog_grows outage_numbers
  show_cmd "hack/testenv.sh start kafka"
  "${HACK_DIR}/testenv.sh" start kafka 2>&1 | grep -v '^\[.*\] kafka: \(starting\|ready\)' || true
  await 120 "the broker answering" kafka_answers
  say "the broker was away for $(( SECONDS - t0 )) s (its own start-up included)"
  await 120 "both breakers Closed" breakers_closed outage_numbers
  stream_stop
  await 120 "the backlog drained" nothing_pending outbox_numbers
  verify_all
}
events_flowing()  { (( $(outbox_total) > 20 )) && (( $(outbox_pending) < $(outbox_total) )); }
# Open, or HalfOpen: after openDurationMs a replica cut off from Kafka probes
# it (and, with no buckets, stays HalfOpen until Kafka answers).
breakers_not_closed() { local b; b="$(breakers)"; [[ -n "${b}" && "${b}" != "2 Closed" ]]; }
breakers_closed() { [[ "$(breakers)" == "2 Closed" ]]; }
outage_numbers()  { printf '%s; outbox: %s' "$(agents_status)" "$(outbox_numbers)"; }

story_dead_letters() {
  step "Dead letters: one retried after its back-off, one that keeps failing parked"
  app_commit 1001 1002 >/dev/null
  say "orders 1001 and 1002 placed; the consumer's payment call fails for both:"
  say "order-1001 fails once, order-1002 every time (deadLetter.maxAttempts is 2, back-off 2 s then 4 s)"
  show_cmd "outflow-demo fail --topic ${TOPIC} --dead-letter-topic ${DLQ} --fail order-1001=1 --fail order-1002=3"
  local t0=${SECONDS}
  demo_tool fail --topic "${TOPIC}" --dead-letter-topic "${DLQ}" --fail order-1001=1 --fail order-1002=3 \
    --max-attempts 2 --timeout 120 || fail "the dead letters did not come back as the back-off says"
  say "the consumer saw every attempt it expected in $(( SECONDS - t0 )) s"
  await 90 "order-1002 in the parked topic" order_1002_parked
  show_cmd "kubectl -n ${NS} exec deploy/${PIPELINE}-agent -- outflow-agent parked list"
  kubectl -n "${NS}" exec "deploy/${PIPELINE}-agent" -- outflow-agent parked list | sed 's/^/   /'
}
parked_list() { kubectl -n "${NS}" exec "deploy/${PIPELINE}-agent" -- outflow-agent parked list; }
# grep without -q reads to the end: with pipefail, -q would make the writer's
# SIGPIPE a failed check.
order_1002_parked() { parked_list | grep 'order-1002' >/dev/null; }

story_pod_killed() {
  step "An agent pod killed mid-stream"
  local victim published_before
  victim="$(agent_pods | sed -n 1p)"
  stream_start
  published_before="$(psql_app -c "SELECT count(*) FROM shop.outbox WHERE published_at IS NOT NULL")"
  more_published() { (( $(psql_app -c "SELECT count(*) FROM shop.outbox WHERE published_at IS NOT NULL") > published_before + 50 )); }
  await 60 "events flowing again" more_published outbox_numbers
  show_cmd "kubectl -n ${NS} delete pod ${victim} --grace-period=0 --force"
  kubectl -n "${NS}" delete pod "${victim}" --grace-period=0 --force >/dev/null 2>&1
  victim_replaced() { ! agent_pods | grep -x "${victim}" >/dev/null && pipeline_ready_with_agents; }
  await 180 "a new agent pod and the pipeline Ready with 2 agents" victim_replaced pipeline_summary
  local end_at=$(( SECONDS + STREAM_S ))
  stream_time() { (( SECONDS >= end_at )); }
  await $(( STREAM_S + 5 )) "${STREAM_S} s more of the stream" stream_time outbox_numbers
  stream_stop
  await 120 "every event published" nothing_pending outbox_numbers
  verify_all
}

summary() {
  # "N events: D delivered, X duplicates, L lost, O out of key order"
  local events duplicates lost
  read -r events _ _ _ duplicates _ lost _ <<<"$(printf "%s\n" "${VERIFIED}" | sed -n 1p | tr -d ',:')"
  printf '\n\033[1m== Done: %s events in %d s; duplicates %s, lost %s; every key in order.\033[0m\n' \
    "${events}" "$(( SECONDS - T_START ))" "${duplicates}" "${lost}"
}

# The story's own objects, for an environment that stays up.
cleanup_story() {
  stream_halt || true
  # The broker first: the pipeline's finalizer deletes its topics, and
  # whoever uses the environment next needs it.
  "${HACK_DIR}/testenv.sh" start kafka >/dev/null 2>&1 || true
  kubectl -n "${NS}" delete evp "${PIPELINE}" --wait --timeout=60s >/dev/null 2>&1 || true
  helm uninstall "${RELEASE}" -n "${OPERATOR_NS}" --wait --timeout 60s >/dev/null 2>&1 || true
  kubectl -n "${NS}" patch evp "${PIPELINE}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  # Waited for: the next run creates them again.
  kubectl delete namespace "${NS}" "${OPERATOR_NS}" --ignore-not-found --wait --timeout=180s >/dev/null 2>&1 || true
  psql_app -c "DROP SCHEMA IF EXISTS shop CASCADE" >/dev/null 2>&1 || true
}

how_to_reach() {
  cat <<EOF

Everything is still running (--keep). From this checkout:
  eval "\$(OUTFLOW_TESTENV_DIR=${OUTFLOW_TESTENV_DIR} hack/testenv.sh env)"
  export KUBECONFIG=${KUBECONFIG}
  OUTFLOW_TESTENV_DIR=${OUTFLOW_TESTENV_DIR} hack/testenv.sh exec ${OUTFLOW_TEST_KUBE_BIN}/kubectl -n ${NS} get evp
  (the environment listens only inside its network namespace: run clients with hack/testenv.sh exec)
  Kafka: ${OUTFLOW_TEST_KAFKA_PLAINTEXT} (PLAINTEXT; pods use ${OUTFLOW_TEST_KAFKA_PODS})
  PostgreSQL: psql "\$OUTFLOW_TEST_PG_URL"   (schema shop)
Remove it all with: OUTFLOW_TESTENV_DIR=${OUTFLOW_TESTENV_DIR} hack/testenv.sh down
EOF
}

# Runs inside the environment's network namespace.
story() {
  local v
  for v in KUBECONFIG OUTFLOW_TESTENV_DIR OUTFLOW_TEST_KUBE_BIN OUTFLOW_TEST_PG_URL OUTFLOW_TEST_PG_POD_URL \
           OUTFLOW_TEST_KAFKA_PLAINTEXT OUTFLOW_TEST_KAFKA_PODS OUTFLOW_TEST_NODE_IP; do
    [[ -n "${!v:-}" ]] || die "${v} is not set: load a running environment (eval \"\$(hack/testenv.sh env)\") with its node"
  done
  [[ -x "${build_dir}/demo/outflow-demo" ]] || die "${build_dir}/demo/outflow-demo missing: build the outflow-demo target"
  # The application's background transactions never outlive the story.
  if (( keep )); then trap 'stream_halt || true' EXIT; else trap cleanup_story EXIT; fi
  # A story an earlier run left behind (killed, or --keep) starts over.
  cleanup_story
  install_operator
  story_publish
  story_status
  story_outage
  story_dead_letters
  story_pod_killed
  summary
}

in_netns() {
  local file="/run/netns/${OUTFLOW_TEST_NETNS:-none}"
  [[ -e "${file}" && "$(stat -L -c %d:%i /proc/self/ns/net)" == "$(stat -L -c %d:%i "${file}")" ]]
}

# Setup, build, images and the demo's own environment (with its node), then
# the story inside it.
from_scratch() {
  hack/setup.sh
  export CCACHE_BASEDIR="${REPO_ROOT}" CCACHE_NOHASHDIR=1
  log "building outflow-operator, outflow-agent and outflow-demo into ${build_dir}"
  local out
  out="$(cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo 2>&1 &&
         cmake --build "${build_dir}" -j "$(nproc)" --target outflow-operator outflow-agent outflow-demo 2>&1)" \
    || { printf '%s\n' "${out}" | tail -n 40 >&2; die "the build failed"; }
  hack/images.sh "${build_dir}"
  export OUTFLOW_TESTENV_DIR="${OUTFLOW_DEMO_DIR:-${REPO_ROOT}/.demo}"
  unset OUTFLOW_TESTENV_NODE
  hack/testenv.sh up
  (( keep )) || trap 'hack/testenv.sh down' EXIT
  eval "$(hack/testenv.sh env)"
  local t_ready=$(( SECONDS - T_START ))
  log "ready after ${t_ready} s (setup, build, images, environment); the story begins"
  local args=(--reuse-env --build-dir "${build_dir}")
  (( short )) && args+=(--short)
  # The environment goes with the demo, so the story need not tidy up.
  args+=(--keep)
  hack/testenv.sh exec "${HACK_DIR}/demo.sh" "${args[@]}"
  log "demo done in $(( SECONDS - T_START )) s (${t_ready} s to get ready, $(( SECONDS - T_START - t_ready )) s of story)"
  (( keep )) && how_to_reach
  return 0
}

if (( reuse )); then
  if [[ -n "${OUTFLOW_TEST_NETNS:-}" ]] && ! in_netns; then
    exec hack/testenv.sh exec "${HACK_DIR}/demo.sh" "${args_given[@]}"
  fi
  story
else
  from_scratch
fi
