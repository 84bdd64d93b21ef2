-- +goose Up
-- GET /v1/audit/events: each filter reads its events in seq order, a page
-- at a time. kind uses the BINARY collation, so that a kind prefix
-- ("delivery.") is one index range.
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_kind ON audit_events (kind, seq);
CREATE INDEX audit_events_delivery ON audit_events (delivery, seq) WHERE delivery <> '';
DROP INDEX audit_events_agency;
CREATE INDEX audit_events_agency ON audit_events (agency, seq) WHERE agency <> '';

-- +goose Down
DROP INDEX audit_events_agency;
CREATE INDEX audit_events_agency ON audit_events (agency) WHERE agency <> '';
DROP INDEX audit_events_delivery;
DROP INDEX audit_events_kind;
DROP INDEX audit_events_actor;
