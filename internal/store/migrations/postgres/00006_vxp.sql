-- +goose Up
-- Systems of the national axis's SDK protocol (internal/vxp): a systemId,
-- its HMAC secret sealed with AES-256-GCM under the key that key_id names
-- (a file outside the database, --vxp-key-file), and the member agencies
-- it sends and receives for.
CREATE TABLE vxp_systems (
    id         text        PRIMARY KEY CHECK (id <> ''),
    secret     bytea       NOT NULL CHECK (length(secret) > 0),
    key_id     text        NOT NULL CHECK (key_id <> ''),
    created_at timestamptz NOT NULL,
    rotated_at timestamptz NOT NULL
);

-- An agency belongs to one system at most.
CREATE TABLE vxp_system_agencies (
    agency     text        PRIMARY KEY CHECK (agency <> ''),
    system_id  text        NOT NULL REFERENCES vxp_systems (id)
);
CREATE INDEX vxp_system_agencies_system ON vxp_system_agencies (system_id, agency);

-- +goose Down
DROP TABLE vxp_system_agencies;
DROP TABLE vxp_systems;
