-- +goose Up
-- Signed reports and signed checkpoints of the audit chain's head; see the
-- PostgreSQL migration of the same number.
ALTER TABLE monthly_reports ADD COLUMN signature TEXT;
ALTER TABLE monthly_reports ADD COLUMN key_id TEXT;

CREATE TABLE audit_checkpoints (
    size       INTEGER NOT NULL PRIMARY KEY CHECK (size >= 0),
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    note       TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Webhooks: endpoints registered by admins (any brand's, or every brand's
-- for the organisation's own systems) and by brands (their own). Events
-- are read from the sealed audit chain after a cursor, in chain order, and
-- each becomes one delivery per endpoint, retried by River jobs; the
-- deliveries are the log admins read. Payloads are pseudonymous.
CREATE TABLE webhook_endpoints (
    id         TEXT NOT NULL PRIMARY KEY,
    client_id  TEXT REFERENCES clients (id),
    url        TEXT NOT NULL CHECK (url LIKE 'https://%'),
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT REFERENCES users (id)
);

CREATE TABLE webhook_deliveries (
    id              TEXT NOT NULL PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    audit_pos       INTEGER NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      text,
    last_attempt_at TIMESTAMP,
    delivered_at    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (endpoint_id, audit_pos)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (created_at) WHERE state = 'pending';

-- How far in the audit chain events were turned into deliveries: from
-- now on, not the past.
CREATE TABLE webhook_cursor (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    pos INTEGER NOT NULL
);
INSERT INTO webhook_cursor (id, pos) SELECT 1, seq FROM audit_head;

-- Reports in Chinese: each client's reports are in English, Chinese or both.
ALTER TABLE clients ADD COLUMN report_language TEXT NOT NULL DEFAULT 'en' CHECK (report_language IN ('en', 'zh-CN', 'both'));

-- The day a case's first unpaid month fell due when its arrears were last
-- announced (a stipend.arrears webhook event): arrears begin as time
-- passes, so a sweep notes each start once.
ALTER TABLE cases ADD COLUMN arrears_notified_on DATE;

-- +goose Down
ALTER TABLE cases DROP COLUMN arrears_notified_on;
ALTER TABLE clients DROP COLUMN report_language;
DROP TABLE webhook_cursor;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE audit_checkpoints;
ALTER TABLE monthly_reports DROP COLUMN key_id;
ALTER TABLE monthly_reports DROP COLUMN signature;
