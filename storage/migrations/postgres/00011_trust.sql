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

-- +goose Down
DROP TABLE audit_checkpoints;
ALTER TABLE monthly_reports DROP COLUMN key_id;
ALTER TABLE monthly_reports DROP COLUMN signature;
