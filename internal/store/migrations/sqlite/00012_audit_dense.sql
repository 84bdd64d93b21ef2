-- +goose Up
-- Every document writes the same few kinds and the actor hub into the
-- log; indexing them cost each event two index entries and read little:
-- a filter on a value this common finds its page in seq order anyway.
-- The actor and kind indexes keep only the other values. The list here is
-- store.denseKinds (auditquery.go), whose queries repeat these conditions
-- word for word so that the planner may use the indexes.
DROP INDEX audit_events_actor;
CREATE INDEX audit_events_actor ON audit_events (actor, seq) WHERE actor <> 'hub';
DROP INDEX audit_events_kind;
CREATE INDEX audit_events_kind ON audit_events (kind, seq) WHERE kind NOT IN ('delivery.acked', 'delivery.arrived', 'delivery.forwarded', 'delivery.pulled', 'delivery.pushed', 'delivery.queued', 'document.accepted', 'document.archived', 'status.received');

-- +goose Down
DROP INDEX audit_events_kind;
CREATE INDEX audit_events_kind ON audit_events (kind, seq);
DROP INDEX audit_events_actor;
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
