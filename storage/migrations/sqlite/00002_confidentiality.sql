-- +goose Up
-- Confidentiality (SQLite: same schema as PostgreSQL, with SQLite types):
-- the hash-chained audit trail, the blind index, case links, erasure, and
-- resumable re-wrapping of case keys.

CREATE TABLE audit_log (
    seq        INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 1),
    at         TIMESTAMP NOT NULL,
    actor_id   TEXT,
    actor_role TEXT NOT NULL,
    action     TEXT NOT NULL,
    case_id    TEXT,
    subject    TEXT NOT NULL,
    details    TEXT NOT NULL,
    sealed     BLOB,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);

CREATE INDEX audit_log_case_id_idx ON audit_log (case_id, seq) WHERE case_id IS NOT NULL;

CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

CREATE TABLE case_fingerprints (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('id_number', 'name_birth_date')),
    hash    BLOB NOT NULL,
    PRIMARY KEY (case_id, kind, hash)
);

CREATE INDEX case_fingerprints_hash_idx ON case_fingerprints (hash);

CREATE TABLE case_links (
    case_id    TEXT NOT NULL REFERENCES cases (id),
    linked_id  TEXT NOT NULL REFERENCES cases (id),
    matched_on TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, linked_id),
    CHECK (case_id < linked_id)
);

CREATE INDEX case_links_linked_id_idx ON case_links (linked_id);

ALTER TABLE cases ADD COLUMN erased_at TIMESTAMP;
CREATE INDEX cases_retention_idx ON cases (closed_at) WHERE state = 'closed' AND erased_at IS NULL;

ALTER TABLE case_keys ADD COLUMN recipients TEXT NOT NULL DEFAULT '';

-- +goose Down
DROP INDEX cases_retention_idx;
ALTER TABLE cases DROP COLUMN erased_at;
DROP TABLE case_links;
DROP TABLE case_fingerprints;
DROP TABLE audit_head;
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
