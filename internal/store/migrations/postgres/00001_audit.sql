-- +goose Up
-- The audit log: a hash chain of archive.Event. details holds the canonical
-- JSON bytes exactly as hashed (text, not jsonb, which would re-encode them).
CREATE TABLE audit_events (
    seq      bigint      PRIMARY KEY CHECK (seq > 0),
    at       timestamptz NOT NULL,
    kind     text        NOT NULL,
    actor    text        NOT NULL DEFAULT '',
    agency   text        NOT NULL DEFAULT '',
    document text        NOT NULL DEFAULT '',
    delivery text        NOT NULL DEFAULT '',
    details  text        NOT NULL,
    prev     bytea       NOT NULL CHECK (length(prev) = 32),
    hash     bytea       NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_document ON audit_events (document) WHERE document <> '';
CREATE INDEX audit_events_agency ON audit_events (agency) WHERE agency <> '';
CREATE INDEX audit_events_at ON audit_events (at);

-- Signed statements of the chain head.
CREATE TABLE audit_checkpoints (
    seq       bigint      PRIMARY KEY CHECK (seq > 0),
    head      bytea       NOT NULL CHECK (length(head) = 32),
    at        timestamptz NOT NULL,
    signature bytea       NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_events;
