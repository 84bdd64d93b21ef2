-- +goose Up
-- When an operator last requeued a dead delivery (routing.Hub.Resend):
-- its retry horizon counts from then, not from its creation.
ALTER TABLE deliveries ADD COLUMN requeued_at TEXT;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN requeued_at;
