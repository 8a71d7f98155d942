-- +goose Up
-- Documents and photos attached to a case. The file, with its name, is
-- sealed under the case's key and kept in the blob store under a random
-- key; this table holds only what may be known without opening it: kind,
-- step, content type, size, who uploaded it and when. A row exists only
-- once its blob is whole; a blob without a row (a crash between the two
-- stores) is removed by the document_orphans job.

CREATE TABLE documents (
    id           uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases (id),
    kind         text NOT NULL,
    step         text CHECK (step IN ('verification', 'consent', 'follow_up', 'payment')),
    follow_up_id uuid REFERENCES follow_ups (id),
    payment_id   uuid REFERENCES payments (id),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size         bigint NOT NULL CHECK (size >= 0),
    blob_key     text NOT NULL UNIQUE CHECK (blob_key ~ '^[0-9a-f]{32}$'),
    uploaded_by  uuid NOT NULL REFERENCES users (id),
    uploaded_at  timestamptz NOT NULL,
    CHECK (kind IN ('id_document', 'household_register', 'consent', 'enrolment_proof', 'receipt', 'photo', 'other')),
    CHECK (follow_up_id IS NULL OR step = 'follow_up'),
    CHECK (payment_id IS NULL OR step = 'payment')
);

CREATE INDEX documents_case_idx ON documents (case_id, uploaded_at);

-- +goose Down
DROP TABLE documents;
