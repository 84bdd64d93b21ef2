-- +goose Up
-- Named leases between gateway processes on one database: one holder at a
-- time, until the lease expires or its holder lets it go (Store.TryLease).
-- until is UTC text with microseconds, as every time here.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY CHECK (name <> ''),
    holder TEXT NOT NULL CHECK (holder <> ''),
    until  TEXT NOT NULL
);

-- +goose Down
DROP TABLE leases;
