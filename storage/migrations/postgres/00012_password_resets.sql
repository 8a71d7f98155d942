-- +goose Up
-- One-time links that let a user set a password, issued by an admin. A
-- link is found by the SHA-256 of its token, which is never stored; it
-- works once, until it expires, and only the user's latest link works.

CREATE TABLE password_resets (
    id         uuid NOT NULL PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    user_id    uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);

-- +goose Down
DROP TABLE password_resets;
