-- +goose Up
-- The audit chain moves to its own table (SQLite: the same schema as
-- PostgreSQL, with SQLite types). SQLite has one writer at a time, so its
-- entries are chained in the transaction that writes them and audit_pending
-- is empty between transactions; the tables are the same so that one
-- sealer and one Verify serve both databases. seq is the rowid: an entry
-- written without one gets the next.

CREATE TABLE audit_chain (
    pos       INTEGER NOT NULL PRIMARY KEY CHECK (pos >= 1),
    entry_seq INTEGER NOT NULL UNIQUE,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);

INSERT INTO audit_chain (pos, entry_seq, prev_hash, hash)
    SELECT seq, seq, prev_hash, hash FROM audit_log;

-- +goose StatementBegin
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain is append-only');
END;
-- +goose StatementEnd

ALTER TABLE audit_log DROP COLUMN prev_hash;
ALTER TABLE audit_log DROP COLUMN hash;

CREATE TABLE audit_pending (
    seq INTEGER NOT NULL PRIMARY KEY
);

-- +goose StatementBegin
CREATE TRIGGER audit_log_pend AFTER INSERT ON audit_log
BEGIN
    INSERT INTO audit_pending (seq) VALUES (NEW.seq);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
BEGIN
    SELECT RAISE(ABORT, 'audit_pending rows are only inserted and deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_pending_no_update;
DROP TRIGGER audit_log_pend;
DROP TABLE audit_pending;
ALTER TABLE audit_log ADD COLUMN prev_hash BLOB NOT NULL DEFAULT x'';
ALTER TABLE audit_log ADD COLUMN hash BLOB NOT NULL DEFAULT x'';
DROP TRIGGER audit_chain_no_delete;
DROP TRIGGER audit_chain_no_update;
DROP TABLE audit_chain;
