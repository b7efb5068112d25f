// BASELINE for `hack/bench.sh peers`, NOT part of Outflow.
//
// A hand-written outbox poller of the kind services carry: read unpublished
// rows in batches of 100, send them, mark them, and sleep a second when there
// is nothing to do. It is written the plain way on purpose (one batch at a
// time, library defaults), because that is what Outflow is compared against.
// It puts the row's event_id into the same header Outflow uses, so one
// checker verifies every relay.
//
// Environment: DATABASE_URL, OUTBOX_TABLE (schema.table), KAFKA_BROKERS
// (comma-separated), DEFAULT_TOPIC (for rows whose topic is NULL).

'use strict';

const { Kafka, logLevel } = require('kafkajs');
const { Client } = require('pg');

const BATCH_SIZE = 100;
const IDLE_SLEEP_MS = 1000;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`poller: set ${name}`);
    process.exit(2);
  }
  return value;
}

const table = required('OUTBOX_TABLE');
const defaultTopic = required('DEFAULT_TOPIC');
const db = new Client({ connectionString: required('DATABASE_URL') });
const kafka = new Kafka({
  clientId: 'outbox-poller',
  brokers: required('KAFKA_BROKERS').split(','),
  logLevel: logLevel.WARN,
});
const producer = kafka.producer();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let stopping = false;

// One batch: lock the oldest unpublished rows (SKIP LOCKED lets a second copy
// of the service take other rows), send them, mark them, commit.
async function publishBatch() {
  await db.query('BEGIN');
  try {
    const { rows } = await db.query(
      `SELECT id, event_id, topic, key, payload FROM ${table}
        WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [BATCH_SIZE],
    );
    if (rows.length === 0) {
      await db.query('COMMIT');
      return 0;
    }
    const byTopic = new Map();
    for (const row of rows) {
      const topic = row.topic || defaultTopic;
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      byTopic.get(topic).push({
        key: row.key,
        value: row.payload,
        headers: { 'outflow-event-id': row.event_id },
      });
    }
    await producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    await db.query(`UPDATE ${table} SET published_at = now() WHERE id = ANY($1)`, [rows.map((r) => r.id)]);
    await db.query('COMMIT');
    return rows.length;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function main() {
  await db.connect();
  await producer.connect();
  while (!stopping) {
    try {
      if ((await publishBatch()) === 0) await sleep(IDLE_SLEEP_MS);
    } catch (error) {
      console.error(`poller: ${error.message}; retrying in 1 s`);
      await sleep(IDLE_SLEEP_MS);
    }
  }
  await producer.disconnect();
  await db.end();
}

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => { stopping = true; });

main().catch((error) => {
  console.error(`poller: ${error.stack || error}`);
  process.exit(1);
});
