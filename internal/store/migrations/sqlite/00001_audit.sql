-- +goose Up
-- The audit log: a hash chain of archive.Event. at is UTC text with
-- microseconds (2006-01-02T15:04:05.000000Z, sorts as time); details holds
-- the canonical JSON bytes exactly as hashed.
CREATE TABLE audit_events (
    seq      INTEGER PRIMARY KEY CHECK (seq > 0),
    at       TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL DEFAULT '',
    agency   TEXT    NOT NULL DEFAULT '',
    document TEXT    NOT NULL DEFAULT '',
    delivery TEXT    NOT NULL DEFAULT '',
    details  TEXT    NOT NULL,
    prev     BLOB    NOT NULL CHECK (length(prev) = 32),
    hash     BLOB    NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_document ON audit_events (document) WHERE document <> '';
CREATE INDEX audit_events_agency ON audit_events (agency) WHERE agency <> '';
CREATE INDEX audit_events_at ON audit_events (at);

-- Signed statements of the chain head.
CREATE TABLE audit_checkpoints (
    seq       INTEGER PRIMARY KEY CHECK (seq > 0),
    head      BLOB    NOT NULL CHECK (length(head) = 32),
    at        TEXT    NOT NULL,
    signature BLOB    NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_events;
