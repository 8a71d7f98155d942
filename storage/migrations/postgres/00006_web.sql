-- +goose Up
-- The web app: server-side sessions, shared by every server and ended at
-- once. A session is found by the SHA-256 of its token; the token itself
-- lives only in the browser's cookie. Each user's language is remembered.

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_secret  bytea NOT NULL CHECK (length(csrf_secret) = 32),
    locale       text NOT NULL CHECK (locale IN ('', 'zh-CN', 'en')),
    idle_seconds integer NOT NULL CHECK (idle_seconds BETWEEN 60 AND 86400),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

ALTER TABLE users ADD COLUMN locale text CHECK (locale IN ('zh-CN', 'en'));

-- +goose Down
ALTER TABLE users DROP COLUMN locale;
DROP TABLE sessions;
