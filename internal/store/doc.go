// Package store is the SQL metadata store of the hub: one API over two
// backends, embedded SQLite (modernc.org/sqlite, the default) and PostgreSQL
// (pgx v5, pgxpool) for production, where several edocgw processes share one
// database.
//
// Open picks the backend from the URL: "postgres://…" or "postgresql://…"
// is PostgreSQL; anything else is a SQLite file ("sqlite:PATH" or a plain
// path). SQLite runs in WAL mode with a busy timeout and foreign keys on;
// it has one writer, so every write transaction goes through a single
// connection and starts with BEGIN IMMEDIATE, while reads use a separate
// read-only pool. Concurrent write transactions share one COMMIT (group;
// with Options.GatherWindow, a write that finds the writer idle waits that
// long for others to join it), run with synchronous=NORMAL, and walSync
// fsyncs the WAL once for the commits made meanwhile while the writer goes
// on: a writer's caller returns, and a read answers, only once what it
// wrote or saw is on disk.
// The database is opened through a VFS of the package's own (walVFSName):
// SQLite's unix VFS, with a WAL file's frame writes gathered into one
// write per commit. The files are SQLite's usual ones, readable by any
// SQLite.
//
// The schema is versioned with goose v3. Migrations are embedded in the
// binary, one folder per dialect (migrations/postgres, migrations/sqlite),
// with the same version numbers in both: a later table (documents,
// deliveries, agencies, routes, credentials) is a new NNNNN_name.sql file
// in each folder. Open applies pending migrations unless Options.NoMigrate.
//
// Writes happen in InTx: callers write their own rows through Tx and append
// audit events with AppendAudit in the same transaction, so a change and
// the event that records it commit or vanish together. The audit log is the
// hash chain of archive.Event; AuditAll streams it to archive.VerifyChain.
// On PostgreSQL appenders serialize on a transaction-scoped advisory lock
// (AuditChainLockKey) taken just before the chain head is read, so any
// number of processes build one chain; the lock is held until commit, so
// append audit events last in a transaction.
package store
