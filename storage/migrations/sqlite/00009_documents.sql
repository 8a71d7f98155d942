-- +goose Up
-- Documents and photos attached to a case (SQLite: the same schema as
-- PostgreSQL, with SQLite types). The file and its name are sealed in the
-- blob store; this table holds what may be known without opening them.

CREATE TABLE documents (
    id           TEXT NOT NULL PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (id),
    kind         TEXT NOT NULL,
    step         TEXT CHECK (step IN ('verification', 'consent', 'follow_up', 'payment')),
    follow_up_id TEXT REFERENCES follow_ups (id),
    payment_id   TEXT REFERENCES payments (id),
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size         INTEGER NOT NULL CHECK (size >= 0),
    blob_key     TEXT NOT NULL UNIQUE CHECK (length(blob_key) = 32 AND blob_key NOT GLOB '*[^0-9a-f]*'),
    uploaded_by  TEXT NOT NULL REFERENCES users (id),
    uploaded_at  TIMESTAMP NOT NULL,
    CHECK (kind IN ('id_document', 'household_register', 'consent', 'enrolment_proof', 'receipt', 'photo', 'other')),
    CHECK (follow_up_id IS NULL OR step = 'follow_up'),
    CHECK (payment_id IS NULL OR step = 'payment')
);

CREATE INDEX documents_case_idx ON documents (case_id, uploaded_at);

-- +goose Down
DROP TABLE documents;
