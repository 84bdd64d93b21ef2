// Package fsblob is an [archive.BlobStore] in a directory of a local
// filesystem: the embedded backend's store of originals.
//
// Layout under the root directory:
//
//	sha256/ab/cd/abcd…   one read-only file (0444) per blob, named by the
//	                     lower-case hex of its digest, under two levels of
//	                     directories named by its first two bytes
//	tmp/                 files being written by Put
//
// Put writes the bytes to a new temporary file under tmp/ (the same
// filesystem as the blobs, so the final step is atomic), hashing them as they
// arrive; it then fsyncs the file, makes it read-only, hard-links it to its
// final name and fsyncs that directory (and every directory it had to create)
// before returning. A link never replaces an existing file, so concurrent Puts
// of the same bytes are safe and the first one wins; the others find the blob
// stored and remove their temporary file. A Put that fails (a reader error,
// cancellation, the size limit) removes its temporary file, so nothing of it
// stays; temporary files left by a crash are removed by New once they are a
// day old. On a filesystem without hard links Put falls back to a rename after
// checking that the name is free.
//
// Put does not re-read a blob it finds stored; Open does, on every full read.
// Read-only files do not stop a user with write access to the directory; the
// digest check on every full read is what detects a change.
package fsblob
