-- +goose Up
-- Retention and purge: a document whose original was removed by the
-- audited purge keeps its row and its events; purged_at says when.
ALTER TABLE documents ADD COLUMN purged_at timestamptz;
-- Purge candidates: documents not yet purged, oldest first.
CREATE INDEX documents_unpurged ON documents (received_at, id) WHERE purged_at IS NULL;
-- Originals are content-addressed: who else needs these bytes?
CREATE INDEX documents_digest ON documents (digest);

-- Settings of the hub that are not routing configuration (the retention
-- period: key archive.retention.days).
CREATE TABLE settings (
    key        text        PRIMARY KEY CHECK (key <> ''),
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP INDEX documents_digest;
DROP INDEX documents_unpurged;
ALTER TABLE documents DROP COLUMN purged_at;
