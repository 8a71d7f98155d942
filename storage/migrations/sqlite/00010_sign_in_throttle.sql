-- +goose Up
-- The sign-in throttle (SQLite: the same schema as PostgreSQL, with SQLite
-- types): failures per key and the clients trusted after a successful
-- sign-in, each key stored as its SHA-256.

CREATE TABLE sign_in_failures (
    key_hash       BLOB NOT NULL PRIMARY KEY CHECK (length(key_hash) = 32),
    failures       INTEGER NOT NULL CHECK (failures > 0),
    last_failed_at TIMESTAMP NOT NULL
);

CREATE INDEX sign_in_failures_last_idx ON sign_in_failures (last_failed_at);

CREATE TABLE sign_in_trust (
    key_hash   BLOB NOT NULL PRIMARY KEY CHECK (length(key_hash) = 32),
    expires_at TIMESTAMP NOT NULL
);

CREATE INDEX sign_in_trust_expires_idx ON sign_in_trust (expires_at);

-- +goose Down
DROP TABLE sign_in_trust;
DROP TABLE sign_in_failures;
