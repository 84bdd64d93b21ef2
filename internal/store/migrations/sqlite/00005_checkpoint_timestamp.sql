-- +goose Up
-- An RFC 3161 timestamp token (DER) over the SHA-256 of the checkpoint's
-- signature, from the configured time-stamping authority; empty without one.
ALTER TABLE audit_checkpoints ADD COLUMN tsa_token BLOB NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_checkpoints DROP COLUMN tsa_token;
