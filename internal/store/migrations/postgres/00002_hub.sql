-- +goose Up
-- The hub's configuration and its documents. Every configuration change
-- bumps config_version in its own transaction.

-- The agency directory: data is the agency as agencyids.Agency marshals it.
CREATE TABLE agencies (
    code       text        PRIMARY KEY CHECK (code <> ''),
    data       text        NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Agencies served by this hub (routing.Member).
CREATE TABLE members (
    code       text        PRIMARY KEY CHECK (code <> ''),
    mode       text        NOT NULL CHECK (mode IN ('pull', 'push')),
    push_url   text        NOT NULL DEFAULT '',
    signature  text        NOT NULL CHECK (signature IN ('required', 'all', 'optional')),
    created_at timestamptz NOT NULL,
    CHECK (mode = 'pull' OR push_url <> '')
);

-- Other hubs (routing.Peer); token is the bearer token we present to them.
CREATE TABLE peers (
    name       text        PRIMARY KEY CHECK (name <> ''),
    url        text        NOT NULL DEFAULT '',
    token      text        NOT NULL DEFAULT '',
    ca_pem     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

-- The route table (routing.Route): "*", a level-1 group or an exact code.
CREATE TABLE routes (
    pattern    text        PRIMARY KEY CHECK (pattern <> ''),
    peer       text        NOT NULL REFERENCES peers (name),
    created_at timestamptz NOT NULL
);

-- One row: the configuration's version.
CREATE TABLE config_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL CHECK (version > 0)
);
INSERT INTO config_version (id, version) VALUES (1, 1);

-- Bearer tokens, by their SHA-256 (authtoken.Hash); revoked ones are kept.
CREATE TABLE credentials (
    hash       bytea       PRIMARY KEY CHECK (length(hash) = 32),
    role       text        NOT NULL CHECK (role IN ('agency', 'hub', 'auditor', 'admin')),
    agency     text        NOT NULL DEFAULT '',
    peer       text        NOT NULL DEFAULT '',
    name       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- Accepted packets (routing.Document). recipients is a JSON array of codes.
CREATE TABLE documents (
    id          text        PRIMARY KEY CHECK (id <> ''),
    kind        text        NOT NULL CHECK (kind IN ('document', 'status')),
    sender      text        NOT NULL,
    edxml_id    text        NOT NULL DEFAULT '',
    number      text        NOT NULL DEFAULT '',
    notation    text        NOT NULL DEFAULT '',
    business    integer     NOT NULL DEFAULT 0,
    status_code integer     NOT NULL DEFAULT 0,
    ref         text        NOT NULL DEFAULT '',
    subject     text        NOT NULL DEFAULT '',
    digest      bytea       NOT NULL CHECK (length(digest) = 32),
    size        bigint      NOT NULL CHECK (size >= 0),
    via         text        NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL,
    recipients  text        NOT NULL DEFAULT '[]'
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
    id              text        PRIMARY KEY CHECK (id <> ''),
    document        text        NOT NULL REFERENCES documents (id),
    recipient       text        NOT NULL,
    route           text        NOT NULL CHECK (route IN ('pull', 'push', 'peer')),
    peer            text        NOT NULL DEFAULT '',
    state           text        NOT NULL CHECK (state IN ('queued', 'sending', 'pulled', 'acked', 'delivered', 'dead', 'cancelled')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    remote          text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
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
