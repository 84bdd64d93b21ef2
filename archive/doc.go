// Package archive keeps the originals of the documents the gateway accepts.
//
// Originals live in a [BlobStore]: content-addressed by their SHA-256
// [Digest], written once and never modified. The digest is always computed by
// the gateway itself while the bytes stream in (never taken from a storage
// service's own checksum), and every full read verifies it again: a stored
// blob whose bytes no longer hash to its name is reported as [ErrCorrupt],
// never returned as if it were the original.
//
// Implementations live in sub-packages: archive/fsblob (a directory on a local
// filesystem, for the embedded backend) and archive/s3blob (an S3 bucket with
// object lock, for production). archive/blobtest is the conformance suite
// both of them pass.
//
// The audit log is a hash chain of [Event] values: each is sealed with the
// hash of the one before it over a length-prefixed canonical form, and
// [VerifyChain] finds the first edited, removed or inserted event. A signed
// [Checkpoint] pins the head, so a chain rewritten from an edit onwards is
// caught too. Storing events (in the same transaction as the change they
// record) is the job of the gateway's SQL stores.
package archive
