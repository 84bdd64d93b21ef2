-- +goose Up
-- The web console (internal/ui): a session's last use, for the idle
-- timeout (NULL: not used since it was opened); the operators' overview:
-- documents by day and the pending and dead deliveries, each read through
-- an index. deliveries_open holds only the rows of those states, so that
-- it stays the size of the backlog.
ALTER TABLE sessions ADD COLUMN last_seen TEXT;
CREATE INDEX documents_received ON documents (received_at);
CREATE INDEX deliveries_open ON deliveries (state, created_at) WHERE state IN ('queued', 'sending', 'dead');

-- +goose Down
DROP INDEX deliveries_open;
DROP INDEX documents_received;
ALTER TABLE sessions DROP COLUMN last_seen;
