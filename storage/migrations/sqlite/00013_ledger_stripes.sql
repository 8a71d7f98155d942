-- +goose Up
-- The summary's stripes (see the PostgreSQL migration): SQLite has one
-- writer at a time, so its refreshes never wait on a row, but both
-- databases keep one schema. SQLite cannot change a primary key: the table
-- is made again.
CREATE TABLE ledger_summary_striped (
    client_id TEXT NOT NULL REFERENCES clients (id),
    month     DATE NOT NULL,
    due_on    DATE NOT NULL,
    payer     TEXT NOT NULL,
    currency  TEXT NOT NULL,
    due       INTEGER NOT NULL,
    paid      INTEGER NOT NULL,
    unpaid    INTEGER NOT NULL,
    credit    INTEGER NOT NULL,
    stripe    INTEGER NOT NULL DEFAULT 0 CHECK (stripe BETWEEN 0 AND 15),
    PRIMARY KEY (client_id, month, due_on, payer, currency, stripe)
);
INSERT INTO ledger_summary_striped (client_id, month, due_on, payer, currency, due, paid, unpaid, credit, stripe)
    SELECT client_id, month, due_on, payer, currency, due, paid, unpaid, credit, 0 FROM ledger_summary;
DROP TABLE ledger_summary;
ALTER TABLE ledger_summary_striped RENAME TO ledger_summary;

-- +goose Down
CREATE TABLE ledger_summary_merged (
    client_id TEXT NOT NULL REFERENCES clients (id),
    month     DATE NOT NULL,
    due_on    DATE NOT NULL,
    payer     TEXT NOT NULL,
    currency  TEXT NOT NULL,
    due       INTEGER NOT NULL,
    paid      INTEGER NOT NULL,
    unpaid    INTEGER NOT NULL,
    credit    INTEGER NOT NULL,
    PRIMARY KEY (client_id, month, due_on, payer, currency)
);
INSERT INTO ledger_summary_merged (client_id, month, due_on, payer, currency, due, paid, unpaid, credit)
    SELECT client_id, month, due_on, payer, currency, sum(due), sum(paid), sum(unpaid), sum(credit)
    FROM ledger_summary GROUP BY client_id, month, due_on, payer, currency;
DROP TABLE ledger_summary;
ALTER TABLE ledger_summary_merged RENAME TO ledger_summary;
