-- +goose Up
-- Named leases between gateway processes on one database: one holder at a
-- time, until the lease expires or its holder lets it go (Store.TryLease).
CREATE TABLE leases (
    name   text PRIMARY KEY CHECK (name <> ''),
    holder text NOT NULL CHECK (holder <> ''),
    until  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE leases;
