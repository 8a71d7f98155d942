-- +goose Up
-- The API: passwords (argon2id, PHC string), idempotent filing, and the
-- auditor's own list of cases.

ALTER TABLE users ADD COLUMN password_hash text;

CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    case_id      uuid NOT NULL REFERENCES cases (id),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE INDEX cases_filed_by_idx ON cases (filed_by, id);

-- +goose Down
DROP INDEX cases_filed_by_idx;
DROP TABLE idempotency_keys;
ALTER TABLE users DROP COLUMN password_hash;
