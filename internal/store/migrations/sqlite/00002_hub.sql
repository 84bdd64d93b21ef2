-- +goose Up
-- Times are UTC text with microseconds (2006-01-02T15:04:05.000000Z, sorts
-- as time), as in audit_events.
-- The hub's configuration and its documents. Every configuration change
-- bumps config_version in its own transaction.

-- The agency directory: data is the agency as agencyids.Agency marshals it.
CREATE TABLE agencies (
    code       TEXT        PRIMARY KEY CHECK (code <> ''),
    data       TEXT        NOT NULL,
    updated_at TEXT        NOT NULL
);

-- Agencies served by this hub (routing.Member).
CREATE TABLE members (
    code       TEXT        PRIMARY KEY CHECK (code <> ''),
    mode       TEXT        NOT NULL CHECK (mode IN ('pull', 'push')),
    push_url   TEXT        NOT NULL DEFAULT '',
    signature  TEXT        NOT NULL CHECK (signature IN ('required', 'all', 'optional')),
    created_at TEXT        NOT NULL,
    CHECK (mode = 'pull' OR push_url <> '')
);

-- Other hubs (routing.Peer); token is the bearer token we present to them.
CREATE TABLE peers (
    name       TEXT        PRIMARY KEY CHECK (name <> ''),
    url        TEXT        NOT NULL DEFAULT '',
    token      TEXT        NOT NULL DEFAULT '',
    ca_pem     TEXT        NOT NULL DEFAULT '',
    created_at TEXT        NOT NULL
);

-- The route table (routing.Route): "*", a level-1 group or an exact code.
CREATE TABLE routes (
    pattern    TEXT        PRIMARY KEY CHECK (pattern <> ''),
    peer       TEXT        NOT NULL REFERENCES peers (name),
    created_at TEXT        NOT NULL
);

-- One row: the configuration's version.
CREATE TABLE config_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL CHECK (version > 0)
);
INSERT INTO config_version (id, version) VALUES (1, 1);

-- Bearer tokens, by their SHA-256 (authtoken.Hash); revoked ones are kept.
CREATE TABLE credentials (
    hash       BLOB        PRIMARY KEY CHECK (length(hash) = 32),
    role       TEXT        NOT NULL CHECK (role IN ('agency', 'hub', 'auditor', 'admin')),
    agency     TEXT        NOT NULL DEFAULT '',
    peer       TEXT        NOT NULL DEFAULT '',
    name       TEXT        NOT NULL DEFAULT '',
    created_at TEXT        NOT NULL,
    revoked_at TEXT
);

-- Accepted packets (routing.Document). recipients is a JSON array of codes.
CREATE TABLE documents (
    id          TEXT        PRIMARY KEY CHECK (id <> ''),
    kind        TEXT        NOT NULL CHECK (kind IN ('document', 'status')),
    sender      TEXT        NOT NULL,
    edxml_id    TEXT        NOT NULL DEFAULT '',
    number      TEXT        NOT NULL DEFAULT '',
    notation    TEXT        NOT NULL DEFAULT '',
    business    INTEGER     NOT NULL DEFAULT 0,
    status_code INTEGER     NOT NULL DEFAULT 0,
    ref         TEXT        NOT NULL DEFAULT '',
    subject     TEXT        NOT NULL DEFAULT '',
    digest      BLOB        NOT NULL CHECK (length(digest) = 32),
    size        INTEGER     NOT NULL CHECK (size >= 0),
    via         TEXT        NOT NULL DEFAULT '',
    received_at TEXT        NOT NULL,
    recipients  TEXT        NOT NULL DEFAULT '[]'
);
CREATE INDEX documents_edxml_id ON documents (edxml_id) WHERE edxml_id <> '';
CREATE INDEX documents_ref ON documents (ref) WHERE ref <> '';
-- The duplicate rules (routing.Store.Accept). Updates (business 2) carry
-- the DocumentId of the document they change and may be sent more than once.
CREATE UNIQUE INDEX documents_dup_document_id ON documents (sender, edxml_id, business)
    WHERE kind = 'document' AND edxml_id <> '' AND business <> 2;
CREATE UNIQUE INDEX documents_dup_number ON documents (sender, number, notation)
    WHERE kind = 'document' AND business IN (0, 3) AND number <> '';
CREATE UNIQUE INDEX documents_dup_status ON documents (sender, edxml_id, status_code)
    WHERE kind = 'status' AND status_code <> 5;

-- One recipient's copy of a document (routing.Delivery).
CREATE TABLE deliveries (
    id              TEXT        PRIMARY KEY CHECK (id <> ''),
    document        TEXT        NOT NULL REFERENCES documents (id),
    recipient       TEXT        NOT NULL,
    route           TEXT        NOT NULL CHECK (route IN ('pull', 'push', 'peer')),
    peer            TEXT        NOT NULL DEFAULT '',
    state           TEXT        NOT NULL CHECK (state IN ('queued', 'sending', 'pulled', 'acked', 'delivered', 'dead', 'cancelled')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TEXT        NOT NULL,
    lease_until     TEXT,
    last_error      TEXT        NOT NULL DEFAULT '',
    remote          TEXT        NOT NULL DEFAULT '',
    created_at      TEXT        NOT NULL,
    updated_at      TEXT        NOT NULL
);
CREATE INDEX deliveries_document ON deliveries (document, created_at);
-- Claim: due push and peer deliveries, and expired leases; only pending
-- ones are indexed, so the work stays that of the backlog.
CREATE INDEX deliveries_claim ON deliveries (state, next_attempt_at)
    WHERE route IN ('push', 'peer') AND state IN ('queued', 'sending');
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE state = 'sending';
-- Inbox: a recipient's pending pull deliveries in id order; acked ones leave it.
CREATE INDEX deliveries_inbox ON deliveries (recipient, id)
    WHERE route = 'pull' AND state IN ('queued', 'pulled');

-- +goose Down
DROP TABLE deliveries;
DROP TABLE documents;
DROP TABLE credentials;
DROP TABLE config_version;
DROP TABLE routes;
DROP TABLE peers;
DROP TABLE members;
DROP TABLE agencies;
