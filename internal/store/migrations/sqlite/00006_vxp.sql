-- +goose Up
-- Systems of the national axis's SDK protocol (internal/vxp): a systemId,
-- its HMAC secret sealed with AES-256-GCM under the key that key_id names
-- (a file outside the database, --vxp-key-file), and the member agencies
-- it sends and receives for. Times as in 00002.
CREATE TABLE vxp_systems (
    id         TEXT        PRIMARY KEY CHECK (id <> ''),
    secret     BLOB        NOT NULL CHECK (length(secret) > 0),
    key_id     TEXT        NOT NULL CHECK (key_id <> ''),
    created_at TEXT        NOT NULL,
    rotated_at TEXT        NOT NULL
);

-- An agency belongs to one system at most.
CREATE TABLE vxp_system_agencies (
    agency     TEXT        PRIMARY KEY CHECK (agency <> ''),
    system_id  TEXT        NOT NULL REFERENCES vxp_systems (id)
);
CREATE INDEX vxp_system_agencies_system ON vxp_system_agencies (system_id, agency);

-- +goose Down
DROP TABLE vxp_system_agencies;
DROP TABLE vxp_systems;
