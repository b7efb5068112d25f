#!/usr/bin/env bash
# Baseline for `hack/bench.sh peers`: Debezium's PostgreSQL connector (pgoutput)
# with the Outbox Event Router, on Kafka Connect standalone, with the settings
# of Kafka's connect-standalone.sh and Connect's and Debezium's defaults. Only
# what the outbox table needs is set: the event id is copied into the header
# Outflow uses ("outflow-event-id"), the key column is the Kafka key, the
# payload column the value, and every event goes to the run's topic. Started
# by the bench with PEER_* variables; execs the JVM. Offsets stay in
# PEER_WORKDIR, so a restart resumes where the previous process stopped.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libs="${PEER_CACHE:-}/debezium/libs"
[[ -d "${libs}" ]] || { echo "debezium/run.sh: ${libs} missing (run hack/bench-peers.sh)" >&2; exit 2; }
url_pattern='^postgres(ql)?://([^:/]+):([^@]+)@([^:/]+):([0-9]+)/([^?]+)$'
[[ "${PEER_PG_URL}" =~ ${url_pattern} ]] \
  || { echo "debezium/run.sh: the database URL is not postgres://user:password@host:port/db" >&2; exit 2; }

cat > "${PEER_WORKDIR}/worker.properties" <<PROPS
bootstrap.servers=${PEER_KAFKA}
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.converters.ByteArrayConverter
offset.storage.file.filename=${PEER_WORKDIR}/connect.offsets
# As Kafka's config/connect-standalone.properties ships it.
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:${PEER_PORT}
PROPS
umask 077  # the connector's file holds the database password
cat > "${PEER_WORKDIR}/connector.properties" <<PROPS
name=outbox-bench
connector.class=io.debezium.connector.postgresql.PostgresConnector
tasks.max=1
plugin.name=pgoutput
database.hostname=${BASH_REMATCH[4]}
database.port=${BASH_REMATCH[5]}
database.user=${BASH_REMATCH[2]}
database.password=${BASH_REMATCH[3]}
database.dbname=${BASH_REMATCH[6]}
topic.prefix=outflowbench
table.include.list=${PEER_TABLE}
slot.name=${PEER_SLOT}
publication.name=${PEER_SLOT}
publication.autocreate.mode=filtered
# The outbox already holds what it holds when the connector is first
# started on an empty table; from then on it streams.
snapshot.mode=no_data
transforms=outbox
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
transforms.outbox.table.field.event.id=event_id
transforms.outbox.table.field.event.key=key
transforms.outbox.table.field.event.payload=payload
transforms.outbox.table.fields.additional.placement=event_id:header:outflow-event-id
transforms.outbox.route.by.field=key
transforms.outbox.route.topic.replacement=${PEER_TOPIC}
PROPS

# KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS as connect-standalone.sh sets them.
exec java -Xms256M -Xmx2G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
  -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true \
  -Dlog4j.configuration="file:${here}/connect-log4j.properties" \
  -cp "${libs}/*" org.apache.kafka.connect.cli.ConnectStandalone \
  "${PEER_WORKDIR}/worker.properties" "${PEER_WORKDIR}/connector.properties"
