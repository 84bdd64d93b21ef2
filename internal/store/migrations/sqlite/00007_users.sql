-- +goose Up
-- People of the web console (internal/ui): local accounts with an argon2id
-- password hash (its salt and parameters stored with it) and sessions
-- stored by the SHA-256 of their cookie. Times as in 00002.
CREATE TABLE users (
    name           TEXT    PRIMARY KEY CHECK (name <> ''),
    role           TEXT    NOT NULL CHECK (role IN ('clerk', 'auditor', 'admin')),
    agency         TEXT    NOT NULL DEFAULT '',
    pw_hash        BLOB    NOT NULL CHECK (length(pw_hash) >= 16),
    pw_salt        BLOB    NOT NULL CHECK (length(pw_salt) >= 16),
    pw_time        INTEGER NOT NULL CHECK (pw_time > 0),
    pw_memory      INTEGER NOT NULL CHECK (pw_memory > 0),
    pw_threads     INTEGER NOT NULL CHECK (pw_threads > 0),
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TEXT,
    created_at     TEXT    NOT NULL,
    disabled_at    TEXT,
    CHECK ((role = 'clerk') = (agency <> ''))
);

CREATE TABLE sessions (
    hash       BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    user_name  TEXT    NOT NULL REFERENCES users (name),
    csrf       TEXT    NOT NULL CHECK (csrf <> ''),
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
