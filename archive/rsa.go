package archive

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
)

func verifyRSA(pub crypto.PublicKey, msg, sig []byte) error {
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("public key %T is not RSA", pub)
	}
	sum := sha256.Sum256(msg)
	return rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig)
}
