-- The demo shop's own table. The outbox beside it comes from
-- hack/sql/outbox.sql (hack/demo.sh installs both into schema "shop").
CREATE TABLE IF NOT EXISTS orders (
  id          int PRIMARY KEY,
  status      text NOT NULL,
  version     int NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
