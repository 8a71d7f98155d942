-- +goose Up
-- Signed reports: each stored report carries its signature, a signed note
-- (C2SP signed-note) over its client, month, version and the SHA-256 of
-- the PDF as rendered, and the id (name+hash) of the key that made it.
-- Reports stored before carry none.
ALTER TABLE monthly_reports ADD COLUMN signature text;
ALTER TABLE monthly_reports ADD COLUMN key_id text;

-- Witnessed audit trail: signed checkpoints of the chain's head (its size
-- and the hash of its last link), in the C2SP checkpoint format. Copies
-- leave the database in every monthly report; these rows let `audit
-- verify` check that consecutive checkpoints are consistent.
CREATE TABLE audit_checkpoints (
    size       bigint PRIMARY KEY CHECK (size >= 0),
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    note       text NOT NULL,
    key_id     text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Webhooks: endpoints registered by admins (any brand's, or every brand's
-- for the organisation's own systems) and by brands (their own). Events
-- are read from the sealed audit chain after a cursor, in chain order, and
-- each becomes one delivery per endpoint, retried by River jobs; the
-- deliveries are the log admins read. Payloads are pseudonymous.
CREATE TABLE webhook_endpoints (
    id         uuid PRIMARY KEY,
    client_id  uuid REFERENCES clients (id),
    url        text NOT NULL CHECK (url LIKE 'https://%'),
    events     text NOT NULL,
    secret     text NOT NULL,
    active     boolean NOT NULL,
    created_at timestamptz NOT NULL,
    created_by uuid REFERENCES users (id)
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id),
    audit_pos       bigint NOT NULL,
    event           text NOT NULL,
    payload         text NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_status     integer,
    last_error      text,
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL,
    UNIQUE (endpoint_id, audit_pos)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (created_at) WHERE state = 'pending';

-- How far in the audit chain events were turned into deliveries: from
-- now on, not the past.
CREATE TABLE webhook_cursor (
    id  integer PRIMARY KEY CHECK (id = 1),
    pos bigint NOT NULL
);
INSERT INTO webhook_cursor (id, pos) SELECT 1, seq FROM audit_head;

-- Reports in Chinese: each client's reports are in English, Chinese or both.
ALTER TABLE clients ADD COLUMN report_language text NOT NULL DEFAULT 'en'
    CHECK (report_language IN ('en', 'zh-CN', 'both'));

-- The day a case's first unpaid month fell due when its arrears were last
-- announced (a stipend.arrears webhook event): arrears begin as time
-- passes, so a sweep notes each start once.
ALTER TABLE cases ADD COLUMN arrears_notified_on date;

-- +goose Down
ALTER TABLE cases DROP COLUMN arrears_notified_on;
ALTER TABLE clients DROP COLUMN report_language;
DROP TABLE webhook_cursor;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE audit_checkpoints;
ALTER TABLE monthly_reports DROP COLUMN key_id;
ALTER TABLE monthly_reports DROP COLUMN signature;
