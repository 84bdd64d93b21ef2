// Package bundle writes and verifies an auditor's export bundle: one ZIP
// per document that proves, offline and years later, what was sent, by
// whom, to whom and when, and that nobody changed it since. Verifying it
// needs only the bundle and the hub's certificate, obtained by the auditor
// from a source they trust (never from the bundle).
//
// # Layout
//
// A bundle (format "edocgw-archive-bundle/1") holds exactly these entries,
// flat, in this order, and nothing else:
//
//	manifest.json      the format, the document id, its digest and size, createdAt,
//	                   the hub certificate's SHA-256 fingerprint, and the SHA-256 and
//	                   size of every entry below
//	manifest.sig       the hub key's RSA PKCS #1 v1.5 SHA-256 signature over the exact
//	                   bytes of manifest.json
//	README.txt         how to verify, in Vietnamese and English
//	hub-cert.pem       the hub certificate (one PEM CERTIFICATE block)
//	checkpoints.json   {"checkpoints":[{"seq","head","at","signature","timestamp"}…]}:
//	                   the signed checkpoints the segments end at (head hex, signature
//	                   and the optional RFC 3161 token base64; the token is carried,
//	                   covered by the manifest, but not checked by this package)
//	events.json        {"segments":[{"checkpoint":SEQ,"events":[…]}…]}: runs of
//	                   consecutive audit events, one per line, each ending at the event
//	                   its checkpoint names; an event is {"seq","at","kind","actor",
//	                   "agency","document","delivery","details","prev","hash"} with at
//	                   in RFC 3339, UTC, to the microsecond, details the event's JSON
//	                   object byte for byte, prev and hash in hex: every field
//	                   [archive.Event.ComputeHash] needs
//	verification.json  the signature verification report (a JSON object, opaque here)
//	trace.json         the delivery timeline (a JSON object, opaque here)
//	original.edxml     the original packet, byte for byte, stored uncompressed
//
// Times are "2006-01-02T15:04:05.000000Z". Entries up to 1 MiB are
// deflated, larger ones stored, so a genuine bundle never trips the
// compression-ratio limit.
//
// # Verification
//
// [Verify] (and [Open], which also gives access to the parts) checks, in
// order:
//
//  1. the ZIP, before anything proportional to it is read: one end record
//     at the very end, no comment, no ZIP64, the central directory (at most
//     64 KiB) right before it; at most [MaxEntries] entries, names of at
//     most [MaxNameLength] bytes; every name one of the above, once, and no
//     name a path ([ErrUnsafePath], also when a local header names its entry
//     otherwise than the central directory); sizes within per-entry limits
//     and [MaxTotalSize]; stored or deflated only, unencrypted; no entry
//     over 1 MiB expanding more than [MaxRatio] times, no entries
//     overlapping, none inflating beyond its declared size ([ErrZipBomb]);
//  2. trust: manifest.sig verifies over manifest.json with the key of the
//     certificate the caller gives, which must be the one in hub-cert.pem
//     and the one the manifest names. Without a certificate the bundle's own
//     is used and the [Report] says so: that proves the bundle intact, not
//     who made it. A failed signature is told apart: a well-formed signature
//     by the hub key over other bytes means manifest.json was edited
//     ([ErrManifestAltered]); anything else means manifest.sig was
//     ([ErrManifestSignature]);
//  3. every entry's SHA-256 and size equal the manifest's, the original
//     hashed as a stream;
//  4. the original hashes to the document digest;
//  5. each segment: events consecutive, each hash recomputed, each prev the
//     hash before it (also across adjacent segments), the last event the
//     checkpoint's seq and head, the checkpoint's signature by the hub key;
//  6. the document: at least one event names it, all of them in segments
//     that verify, and each of its "document.accepted" events records the
//     manifest's digest (and size).
//
// Failures of steps 1 and 2 stop verification. From step 3 on every failure
// is collected, so an edited events.json is reported both as a file that
// does not match the manifest and as the event whose hash breaks. Each
// failure is an [*Error] naming the entry (and the event or checkpoint seq)
// and wrapping one sentinel of this package; [Verify] returns them as
// [Problems]. Chain failures also match the archive package's sentinels
// (archive.ErrChainHash, …) with errors.Is.
//
// Memory stays bounded whatever the bundle's size: the original and
// events.json are read as streams (one event of at most 1 MiB at a time;
// only the document's own events, at most 200,000, are kept), and what is
// read whole (manifest, signature, certificate, checkpoints, verification
// and trace) has a limit of 16 MiB or less each.
//
// What a bundle cannot prove: that it holds every event of the document.
// Each event it holds is authentic and chained to a signed checkpoint, but
// the hub chooses the segments; events outside them are not seen.
//
// # Writing
//
// [Write] refuses a key that is not RSA or not the certificate's, and
// contents that would not verify: it checks the segments and the document's
// events with the same code as [Verify] before writing a byte, then streams
// the original into the ZIP, hashing it on the way. If the original does not
// hash to the document's digest, Write fails without finishing the ZIP (what
// it wrote is not a bundle). The same contents and key give the same bytes.
package bundle
