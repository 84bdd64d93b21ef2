// Package testenv starts real servers for tests, on loopback only: a fresh
// MinIO server process per call to MinIO, a fresh database on the local
// PostgreSQL per call to Postgres. Both are torn down by t.Cleanup.
//
// When a server is not available a test is skipped with a message starting
// "SKIPPED:", except under CI (the CI environment variable is not empty),
// where it fails and says how to get the server.
//
// Environment:
//
//	EDOCGW_MINIO          the minio binary; else minio on PATH; else $(go env GOPATH)/bin/minio
//	EDOCGW_TEST_POSTGRES  the DSN of a database to connect to for creating test databases;
//	                      default postgres://postgres@127.0.0.1:5432/test?sslmode=disable,
//	                      then the same as user root
package testenv
