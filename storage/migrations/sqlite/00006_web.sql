-- +goose Up
-- The web app (SQLite: same schema as PostgreSQL, with SQLite types):
-- server-side sessions, found by the SHA-256 of their token, and each
-- user's language.

CREATE TABLE sessions (
    id           TEXT NOT NULL PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_secret  BLOB NOT NULL CHECK (length(csrf_secret) = 32),
    locale       TEXT NOT NULL CHECK (locale IN ('', 'zh-CN', 'en')),
    idle_seconds INTEGER NOT NULL CHECK (idle_seconds BETWEEN 60 AND 86400),
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

ALTER TABLE users ADD COLUMN locale TEXT CHECK (locale IN ('zh-CN', 'en'));

-- +goose Down
ALTER TABLE users DROP COLUMN locale;
DROP TABLE sessions;
