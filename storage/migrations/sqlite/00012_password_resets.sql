-- +goose Up
-- One-time links that let a user set a password, issued by an admin. A
-- link is found by the SHA-256 of its token, which is never stored; it
-- works once, until it expires, and only the user's latest link works.

CREATE TABLE password_resets (
    id         TEXT NOT NULL PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id    TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    CHECK (expires_at > created_at)
);

-- +goose Down
DROP TABLE password_resets;
