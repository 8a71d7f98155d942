-- +goose Up
-- The audit chain moves out of the change's transaction. A change writes its
-- entry in its own transaction, as before (no entry, no change), but takes
-- its number from a sequence without locking anything, and a trigger queues
-- the entry in audit_pending. A sealer, one at a time under the audit_head
-- row lock, chains the queued entries in batches into audit_chain, which is
-- append-only like audit_log, and moves the head. Each chain row hashes the
-- previous chain row's hash with its entry's canonical content, exactly as
-- the entries themselves did before, so the entries chained so far keep
-- their hashes: they move to audit_chain at the position of their seq.

CREATE TABLE audit_chain (
    pos       bigint PRIMARY KEY CHECK (pos >= 1),
    entry_seq bigint NOT NULL UNIQUE,
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL
);

INSERT INTO audit_chain (pos, entry_seq, prev_hash, hash)
    SELECT seq, seq, prev_hash, hash FROM audit_log;

-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

ALTER TABLE audit_log DROP COLUMN prev_hash, DROP COLUMN hash;

CREATE SEQUENCE audit_log_seq_seq OWNED BY audit_log.seq;
SELECT setval('audit_log_seq_seq', COALESCE((SELECT max(seq) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq_seq');

-- Entries written but not chained yet. Only the sealer deletes from it.
CREATE TABLE audit_pending (
    seq bigint PRIMARY KEY
);

-- +goose StatementBegin
CREATE FUNCTION audit_log_pend() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_pending (seq) VALUES (NEW.seq);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_pend AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_pend();

-- +goose StatementBegin
CREATE FUNCTION audit_pending_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_pending rows are only inserted and deleted';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_pending_no_update();

-- Case codes: the next number of a year, committed without waiting for the
-- disk, so that the counter's row is locked for the statement only and not
-- for an fsync (filings queued on it one by one). A case that commits
-- flushes the WAL past the counter's commit, so a code stored in a case is
-- never drawn again after a crash.
-- +goose StatementBegin
CREATE FUNCTION next_case_code(y integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO case_code_counters (year, last) VALUES (y, 1)
        ON CONFLICT (year) DO UPDATE SET last = case_code_counters.last + 1
        RETURNING last INTO n;
    RETURN n;
END;
$$;
-- +goose StatementEnd

-- Searching cases by a part of their code (?q=): a trigram index answers
-- code LIKE '%…%' without reading every case. pg_trgm is a trusted
-- extension (the database's owner may create it); it goes in public, so
-- that every schema's tables share it, and a lock keeps two schemas
-- migrating at once from creating it twice.
SELECT pg_advisory_xact_lock(hashtext('remedy: create extension pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
CREATE INDEX cases_code_trgm_idx ON cases USING gin (code public.gin_trgm_ops);

-- +goose Down
DROP INDEX cases_code_trgm_idx;
DROP FUNCTION next_case_code(integer);
-- Back to hashes in audit_log: true to the old Verify only while every
-- entry's chain position is its seq, as it was before this migration.
DROP TRIGGER audit_pending_no_update ON audit_pending;
DROP FUNCTION audit_pending_no_update();
DROP TRIGGER audit_log_pend ON audit_log;
DROP FUNCTION audit_log_pend();
DROP TABLE audit_pending;
ALTER TABLE audit_log ALTER COLUMN seq DROP DEFAULT;
DROP SEQUENCE audit_log_seq_seq;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
ALTER TABLE audit_log ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;
UPDATE audit_log a SET prev_hash = c.prev_hash, hash = c.hash FROM audit_chain c WHERE c.entry_seq = a.seq;
UPDATE audit_log SET prev_hash = '\x', hash = '\x' WHERE hash IS NULL;
ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
DROP TABLE audit_chain;
DROP FUNCTION audit_append_only();
