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

-- +goose Down
DROP TABLE audit_checkpoints;
ALTER TABLE monthly_reports DROP COLUMN key_id;
ALTER TABLE monthly_reports DROP COLUMN signature;
