// Package envelope is the edXML model of QCVN 102:2016: document packets
// (MessageHeader, TraceHeaderList with the Bussiness block, manifest and
// AttachmentEncoded) and status packets (codes 01–06, 13, 15, 16).
//
// Parse reads a packet from untrusted bytes. It is namespace-aware and
// prefix-agnostic, refuses DTDs and entity declarations, and enforces the
// hard limits of Limits (size, depth, element and attribute counts, text and
// markup lengths), each with its own error. Attachment payloads are not
// copied: long base64 runs are skipped while parsing and decoded as a stream
// from the source when Attachment.Open is called, so a packet of any size is
// parsed in bounded memory.
//
// Validate checks a parsed or built packet. Strict mode is for what the
// gateway produces and what local systems send; Lenient mode accepts the
// deviations real packets from upstream hubs show (odd agency codes,
// dd/MM/yyyy dates, "Business" for "Bussiness", empty payloads in SDK
// samples) and returns them as warnings. Every problem is an *Error that
// carries the element path and wraps one of the sentinel errors.
//
// Builder and Marshal produce canonical packets in the layout of the
// national-axis SDK samples: default-namespace root, "edXML:"-prefixed
// envelope, AttachmentEncoded after the envelope, dates yyyy/MM/dd and
// timestamps yyyy/MM/dd HH:mm:ss in Vietnam time (UTC+07:00).
//
// The package knows nothing about signatures beyond recording what a
// packet's Signature element claims; verifying it is the signing package's job.
package envelope
