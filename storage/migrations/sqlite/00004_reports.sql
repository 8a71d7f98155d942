-- +goose Up
-- Monthly reports (SQLite: same schema as PostgreSQL, with SQLite types):
-- who receives them, and each generated PDF with its SHA-256. A month may be
-- generated again on demand: each is a new version.

CREATE TABLE report_contacts (
    client_id  TEXT NOT NULL REFERENCES clients (id),
    email      TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    PRIMARY KEY (client_id, email)
);

CREATE TABLE monthly_reports (
    id           TEXT NOT NULL PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients (id),
    month        TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]' AND substr(month, 6, 2) BETWEEN '01' AND '12'),
    version      INTEGER NOT NULL CHECK (version >= 1),
    pdf          BLOB NOT NULL,
    sha256       BLOB NOT NULL CHECK (length(sha256) = 32),
    size         INTEGER NOT NULL CHECK (size > 0),
    case_count   INTEGER NOT NULL CHECK (case_count >= 0),
    generated_at TIMESTAMP NOT NULL,
    generated_by TEXT REFERENCES users (id),
    sent_at      TIMESTAMP,
    sent_to      TEXT,
    UNIQUE (client_id, month, version)
);

-- +goose Down
DROP TABLE monthly_reports;
DROP TABLE report_contacts;
