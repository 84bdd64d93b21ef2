// Package signing verifies and applies the enveloped XML signatures
// (XMLDSig) that edXML packets carry, safely.
//
// Verify accepts exactly one Signature, as a child of edXMLHeader, with one
// Reference to the whole document (URI="") and the enveloped-signature
// transform; algorithms come from an allow-list (RSA with SHA-256/384/512;
// SHA-1 only under a policy flag for legacy senders, and then reported);
// inclusive and exclusive C14N 1.0, including the invalid exclusive-C14N URI
// that the national-axis SDK writes. The document digest is computed by a
// streaming canonicalizer over the packet's bytes, so a packet of any size is
// verified in bounded memory; SignedInfo is canonicalized by the same
// canonicalizer, as the document subset it is within a small reconstruction
// of the Signature in its namespace context. The signer's
// certificate is chained with crypto/x509 to configured trust anchors
// (intermediates from KeyInfo), its key usage checked, its revocation status
// asked of CRLs and OCSP under a hard-fail or soft-fail policy, and it must
// be bound to the packet's From agency in the directory: one agency's
// certificate cannot sign for another.
//
// Sign applies an enveloped XMLDSig (RSA-SHA256, exclusive C14N by default)
// with any crypto.Signer: a key from a PEM file or from a PKCS#11 token. The
// packet's bytes are kept as they are; the Signature is inserted as the last
// child of edXMLHeader.
//
// Every failure is a *Error wrapping one sentinel, so that each attack gets a
// specific, testable answer.
package signing
