package signing

import (
	"errors"
	"fmt"
)

// Why a signature is refused.
var (
	ErrEnvelope          = errors.New("packet is not a valid edXML packet")
	ErrNoSignature       = errors.New("packet is not signed")
	ErrSignatureShape    = errors.New("the Signature element has an unexpected shape")
	ErrSignatureTooLarge = errors.New("the Signature element exceeds its limits")
	ErrReference         = errors.New("signature does not reference the whole document")
	ErrTransform         = errors.New("transform not allowed")
	ErrAlgorithm         = errors.New("algorithm not allowed")
	ErrSHA1              = errors.New("SHA-1 is not allowed by the signature policy")
	ErrDigestMismatch    = errors.New("document digest does not match: the packet was altered after signing")
	ErrBadSignature      = errors.New("signature value does not verify: SignedInfo was altered or signed by another key")
	ErrNoCertificate     = errors.New("no signer certificate in KeyInfo")
	ErrCertificate       = errors.New("signer certificate cannot be read")
	ErrKeyType           = errors.New("signer key type not supported (RSA only)")
	ErrUntrustedRoot     = errors.New("signer certificate does not chain to a trusted root")
	ErrCertExpired       = errors.New("signer certificate has expired")
	ErrCertNotYetValid   = errors.New("signer certificate is not yet valid")
	ErrKeyUsage          = errors.New("signer certificate may not be used for signing")
	ErrRevoked           = errors.New("signer certificate is revoked")
	ErrRevocationUnknown = errors.New("revocation status of the signer certificate is unknown")
	ErrUnknownAgency     = errors.New("sending agency is not in the directory")
	ErrAgencyMismatch    = errors.New("signer certificate is not bound to the sending agency")
	ErrAlreadySigned     = errors.New("packet is already signed")
	ErrSigner            = errors.New("signing key cannot sign")
	ErrCommentInjection  = errors.New("comment inside a signed value: the value would read differently to different parsers")
)

// Error is a refused signature: a sentinel and what exactly was wrong.
type Error struct {
	Err    error
	Detail string
	// Cause is the underlying error, e.g. the envelope's for ErrEnvelope.
	Cause error
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func fail(kind error, format string, args ...any) *Error {
	return &Error{Err: kind, Detail: fmt.Sprintf(format, args...)}
}
