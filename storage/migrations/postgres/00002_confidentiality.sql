-- +goose Up
-- Confidentiality: the hash-chained audit trail, the blind index that
-- recognises a child found again, links between such cases, erasure, and
-- resumable re-wrapping of case keys.

-- Append-only: each entry hashes the previous entry's hash with its own
-- canonical content. audit_head holds the last seq and hash; appenders lock
-- it, so the chain stays linear under concurrent writers.
CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    at         timestamptz NOT NULL,
    actor_id   uuid,
    actor_role text NOT NULL,
    action     text NOT NULL,
    case_id    uuid,
    subject    text NOT NULL,
    details    text NOT NULL,
    sealed     bytea,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL
);

CREATE INDEX audit_log_case_id_idx ON audit_log (case_id, seq) WHERE case_id IS NOT NULL;

CREATE TABLE audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- HMAC-SHA256 of normalised identifiers under the blind-index key.
CREATE TABLE case_fingerprints (
    case_id uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind    text NOT NULL CHECK (kind IN ('id_number', 'name_birth_date')),
    hash    bytea NOT NULL,
    PRIMARY KEY (case_id, kind, hash)
);

CREATE INDEX case_fingerprints_hash_idx ON case_fingerprints (hash);

-- A pair of cases that share a fingerprint; stored once, case_id < linked_id.
CREATE TABLE case_links (
    case_id    uuid NOT NULL REFERENCES cases (id),
    linked_id  uuid NOT NULL REFERENCES cases (id),
    matched_on text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, linked_id),
    CHECK (case_id < linked_id)
);

CREATE INDEX case_links_linked_id_idx ON case_links (linked_id);

ALTER TABLE cases ADD COLUMN erased_at timestamptz;
CREATE INDEX cases_retention_idx ON cases (closed_at) WHERE state = 'closed' AND erased_at IS NULL;

-- Which recipient set a case key is wrapped to, so a rotation can resume.
ALTER TABLE case_keys ADD COLUMN recipients text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE case_keys DROP COLUMN recipients;
DROP INDEX cases_retention_idx;
ALTER TABLE cases DROP COLUMN erased_at;
DROP TABLE case_links;
DROP TABLE case_fingerprints;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
