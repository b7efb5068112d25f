-- The outbox table Outflow's agent reads, for your application's migrations.
-- Write a row in the same transaction as the business change it announces;
-- the agent publishes it to Kafka after the transaction commits.
-- Safe to run more than once. Column names can be overridden in the pipeline spec.

CREATE TABLE IF NOT EXISTS outbox (
  id            bigserial PRIMARY KEY,
  event_id      uuid NOT NULL UNIQUE,     -- becomes header "outflow-event-id" (consumer de-dup)
  topic         text,                     -- NULL: the pipeline's spec.outbox.defaultTopic
  key           text,                     -- Kafka key; order is kept per key
  payload       bytea NOT NULL,
  headers       jsonb,                    -- {"name": "value", ...} copied to Kafka headers
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz,
  attempts      int NOT NULL DEFAULT 0,
  last_error    text
);

-- The agent scans pending rows in id order; a partial index keeps that scan
-- proportional to the backlog, not to the table's history.
CREATE INDEX IF NOT EXISTS outbox_pending_idx ON outbox (id) WHERE published_at IS NULL;

-- Poison rows (pending, with last_error set) hold back the later rows of their
-- key until someone fixes the row and clears last_error, or deletes it. The
-- agent looks them up before every read; this index keeps that lookup tiny.
CREATE INDEX IF NOT EXISTS outbox_poison_idx ON outbox (key, id)
  WHERE published_at IS NULL AND last_error IS NOT NULL;

-- Wakes the agents of this table, and only them, as soon as a transaction
-- that wrote outbox rows commits (PostgreSQL delivers NOTIFY at commit and
-- folds duplicates within one transaction, so one statement-level
-- notification is enough). The channel is per table:
-- 'outflow_outbox_<schema>.<table>', or 'outflow_outbox_<md5 of
-- schema.table>' when that would pass PostgreSQL's 63-byte limit for names.
-- One function serves every outbox table of a schema.
CREATE OR REPLACE FUNCTION outflow_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(CASE WHEN octet_length('outflow_outbox_' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME) <= 63 THEN 'outflow_outbox_' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME ELSE 'outflow_outbox_' || md5(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME) END,
                    TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS outflow_outbox_notify ON outbox;
CREATE TRIGGER outflow_outbox_notify
  AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outflow_outbox_notify();
