-- +goose Up
-- Monthly reports: who receives them, and each generated PDF with its
-- SHA-256. A month may be generated again on demand: each is a new version.

CREATE TABLE report_contacts (
    client_id  uuid NOT NULL REFERENCES clients (id),
    email      text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    PRIMARY KEY (client_id, email)
);

CREATE TABLE monthly_reports (
    id           uuid PRIMARY KEY,
    client_id    uuid NOT NULL REFERENCES clients (id),
    month        text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    version      integer NOT NULL CHECK (version >= 1),
    pdf          bytea NOT NULL,
    sha256       bytea NOT NULL CHECK (length(sha256) = 32),
    size         integer NOT NULL CHECK (size > 0),
    case_count   integer NOT NULL CHECK (case_count >= 0),
    generated_at timestamptz NOT NULL,
    generated_by uuid REFERENCES users (id),
    sent_at      timestamptz,
    sent_to      text,
    UNIQUE (client_id, month, version)
);

-- +goose Down
DROP TABLE monthly_reports;
DROP TABLE report_contacts;
