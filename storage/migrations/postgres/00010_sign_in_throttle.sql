-- +goose Up
-- The sign-in throttle, shared by every server: failures counted per key
-- (an account at an address, an address, a device) and the clients that
-- signed in successfully before (OWASP's device cookie, and an account's
-- known addresses), which are slowed at most, never refused. A key is
-- stored as its SHA-256: no email or address is kept here.

CREATE TABLE sign_in_failures (
    key_hash       bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    failures       integer NOT NULL CHECK (failures > 0),
    last_failed_at timestamptz NOT NULL
);

CREATE INDEX sign_in_failures_last_idx ON sign_in_failures (last_failed_at);

CREATE TABLE sign_in_trust (
    key_hash   bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    expires_at timestamptz NOT NULL
);

CREATE INDEX sign_in_trust_expires_idx ON sign_in_trust (expires_at);

-- +goose Down
DROP TABLE sign_in_trust;
DROP TABLE sign_in_failures;
