package bundle

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
)

// rsaKey returns the RSA public key of cert.
func rsaKey(cert *x509.Certificate) (*rsa.PublicKey, error) {
	k, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the certificate's key is %T", ErrUnsupportedKey, cert.PublicKey)
	}
	return k, nil
}

func verifyRSA(pub *rsa.PublicKey, msg, sig []byte) error {
	sum := sha256.Sum256(msg)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// sha256DigestInfo is the DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2).
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// signedOther reports whether sig, which failed to verify, is nonetheless
// a well-formed RSA PKCS #1 v1.5 SHA-256 signature by pub: then the hub
// signed other bytes, and what changed is the content, not the signature.
// Only a public-key operation on public data: nothing here is secret.
func signedOther(pub *rsa.PublicKey, sig []byte) bool {
	k := pub.Size()
	t := len(sha256DigestInfo) + sha256.Size
	if len(sig) != k || k < t+11 {
		return false
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(pub.N) >= 0 {
		return false
	}
	em := new(big.Int).Exp(s, big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, k))
	// EM = 0x00 || 0x01 || PS (0xff…, at least 8) || 0x00 || DigestInfo || hash
	ps := em[2 : k-t-1]
	return em[0] == 0 && em[1] == 1 && len(bytes.Trim(ps, "\xff")) == 0 && em[k-t-1] == 0 &&
		bytes.Equal(em[k-t:k-sha256.Size], sha256DigestInfo)
}
