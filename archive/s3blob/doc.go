// Package s3blob is an [archive.BlobStore] in an S3 bucket with object lock
// (MinIO or any S3-compatible service), through minio-go: the production
// backend's store of originals.
//
// # Keys
//
// A blob is the object sha256/<hex digest>. Temporary objects live under
// tmp/ while a Put is in progress.
//
// # Put
//
// The digest is ours, computed while the bytes stream in; S3 checksums
// (CRC32C, the multipart "checksum of checksums") are never used as the
// content hash. Because the key is the digest, which is known only at the
// end, Put first reads up to one part (Config.PartSize, 16 MiB by default)
// into a pooled buffer:
//
//   - a blob that fits in one part (almost every document) is written with
//     one conditional PUT (If-None-Match: *) straight to its final key, with
//     its retention. The request carries our digest as its signed payload
//     hash and as its x-amz-checksum-sha256, so the service itself refuses
//     bytes that differ from what we hashed. No temporary object, nothing to
//     clean up.
//   - a larger blob is streamed as a multipart upload, one part of that size
//     at a time through the same buffer (each part's payload signed with its
//     own SHA-256), to a temporary key tmp/<random>; then copied
//     server-side (a multipart copy past 5 GiB) to its final key with its
//     retention, and the temporary version is deleted. A failed or cancelled
//     upload is aborted, even after the caller's context is done.
//
// Memory per Put is one part buffer, whatever the blob's size. Before
// writing, Put lists the key's versions: if one is stored it writes nothing
// new. Two Puts of the same large blob racing past that check store the same
// bytes twice as two versions, which is harmless. When New creates the
// bucket it adds a lifecycle rule that expires whatever a crash leaves under
// tmp/ after a day.
//
// # Object lock and which version Open reads
//
// New creates the bucket with object lock enabled (and so versioning). With
// Config.Retention set, every original is stored with that COMPLIANCE or
// GOVERNANCE retention, until Now()+Period: its version cannot be deleted
// until then (COMPLIANCE: by nobody; GOVERNANCE: only with the bypass
// permission). The bucket must have no default retention rule, or
// temporary objects could not be removed; New refuses such a bucket, and
// refuses a bucket without object lock when retention is configured.
//
// An overwrite cannot replace a locked version, only add a newer one, so Open
// always reads the OLDEST version of the key that is not a delete marker:
// while the original's retention lasts, that is the original, whatever
// anyone with S3 credentials has put or deleted since. If the original
// version is gone (no retention, retention expired, GOVERNANCE bypassed),
// the oldest surviving version is read and, as the key is its digest, a full
// read reports archive.ErrCorrupt unless its bytes are the original's.
// Open costs one version listing plus the GET.
//
// The reads of a Blob are bound to the context given to Open.
package s3blob
