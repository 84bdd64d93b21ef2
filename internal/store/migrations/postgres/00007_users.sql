-- +goose Up
-- People of the web console (internal/ui): local accounts with an argon2id
-- password hash (its salt and parameters stored with it) and sessions
-- stored by the SHA-256 of their cookie.
CREATE TABLE users (
    name           text        PRIMARY KEY CHECK (name <> ''),
    role           text        NOT NULL CHECK (role IN ('clerk', 'auditor', 'admin')),
    agency         text        NOT NULL DEFAULT '',
    pw_hash        bytea       NOT NULL CHECK (length(pw_hash) >= 16),
    pw_salt        bytea       NOT NULL CHECK (length(pw_salt) >= 16),
    pw_time        integer     NOT NULL CHECK (pw_time > 0),
    pw_memory      integer     NOT NULL CHECK (pw_memory > 0),
    pw_threads     integer     NOT NULL CHECK (pw_threads > 0),
    failed_logins  integer     NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL,
    disabled_at    timestamptz,
    CHECK ((role = 'clerk') = (agency <> ''))
);

CREATE TABLE sessions (
    hash       bytea       PRIMARY KEY CHECK (length(hash) = 32),
    user_name  text        NOT NULL REFERENCES users (name),
    csrf       text        NOT NULL CHECK (csrf <> ''),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
