// Package pkcs11key signs with an RSA key held on a PKCS#11 token or HSM
// (government signing keys live there), as a crypto.Signer.
package pkcs11key

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/miekg/pkcs11"
)

// Config names the key.
type Config struct {
	Module     string // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string // the token; "" takes the first token present
	PIN        string // the user PIN
	KeyLabel   string // CKA_LABEL of the private key (and of its certificate, if any)
}

// Errors.
var (
	ErrToken = errors.New("pkcs11: token not found")
	ErrKey   = errors.New("pkcs11: key not found")
)

// Key is a private key on a token. It is safe for concurrent use.
type Key struct {
	mu      sync.Mutex
	ctx     *pkcs11.Ctx
	session pkcs11.SessionHandle
	handle  pkcs11.ObjectHandle
	pub     *rsa.PublicKey
	// Certificate is the certificate stored on the token under the key's
	// label, if there is one.
	Certificate *x509.Certificate
}

// Open logs in to the token and finds the key.
func Open(cfg Config) (*Key, error) {
	ctx := pkcs11.New(cfg.Module)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %q", cfg.Module)
	}
	if err := ctx.Initialize(); err != nil {
		ctx.Destroy()
		return nil, fmt.Errorf("pkcs11: initialize: %w", err)
	}
	k := &Key{ctx: ctx}
	if err := k.open(cfg); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

func (k *Key) open(cfg Config) error {
	slots, err := k.ctx.GetSlotList(true)
	if err != nil {
		return fmt.Errorf("pkcs11: slots: %w", err)
	}
	slot, found := uint(0), false
	for _, s := range slots {
		ti, err := k.ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if cfg.TokenLabel == "" || trim(ti.Label) == cfg.TokenLabel {
			slot, found = s, true
			break
		}
	}
	if !found {
		return fmt.Errorf("%w: %q", ErrToken, cfg.TokenLabel)
	}
	if k.session, err = k.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION); err != nil {
		return fmt.Errorf("pkcs11: session: %w", err)
	}
	if err := k.ctx.Login(k.session, pkcs11.CKU_USER, cfg.PIN); err != nil {
		return fmt.Errorf("pkcs11: login: %w", err)
	}
	keys, err := k.find(pkcs11.CKO_PRIVATE_KEY, cfg.KeyLabel)
	if err != nil {
		return err
	}
	if len(keys) != 1 {
		return fmt.Errorf("%w: %d private keys labelled %q", ErrKey, len(keys), cfg.KeyLabel)
	}
	k.handle = keys[0]
	attrs, err := k.ctx.GetAttributeValue(k.session, k.handle, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil),
		pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil),
	})
	if err != nil {
		return fmt.Errorf("pkcs11: key attributes: %w", err)
	}
	if kt := new(big.Int).SetBytes(attrs[0].Value).Uint64(); kt != pkcs11.CKK_RSA {
		return fmt.Errorf("%w: key type %d is not RSA", ErrKey, kt)
	}
	k.pub = &rsa.PublicKey{N: new(big.Int).SetBytes(attrs[1].Value), E: int(new(big.Int).SetBytes(attrs[2].Value).Int64())}
	if certs, err := k.find(pkcs11.CKO_CERTIFICATE, cfg.KeyLabel); err == nil && len(certs) > 0 {
		v, err := k.ctx.GetAttributeValue(k.session, certs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err == nil {
			if c, err := x509.ParseCertificate(v[0].Value); err == nil {
				k.Certificate = c
			}
		}
	}
	return nil
}

func (k *Key) find(class uint, label string) ([]pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)}
	if label != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, label))
	}
	if err := k.ctx.FindObjectsInit(k.session, tmpl); err != nil {
		return nil, fmt.Errorf("pkcs11: find: %w", err)
	}
	defer k.ctx.FindObjectsFinal(k.session)
	hs, _, err := k.ctx.FindObjects(k.session, 16)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: find: %w", err)
	}
	return hs, nil
}

func trim(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == 0) {
		s = s[:len(s)-1]
	}
	return s
}

// Public is the key's RSA public key.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// digestInfo prefixes of PKCS#1 v1.5 (RFC 8017 §9.2).
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// Sign signs digest with RSA PKCS#1 v1.5 on the token.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	prefix, ok := digestInfo[opts.HashFunc()]
	if !ok {
		return nil, fmt.Errorf("pkcs11: hash %v not supported", opts.HashFunc())
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("pkcs11: RSA-PSS not supported")
	}
	if len(digest) != opts.HashFunc().Size() {
		return nil, fmt.Errorf("pkcs11: digest of %d bytes for %v", len(digest), opts.HashFunc())
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.ctx.SignInit(k.session, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, k.handle); err != nil {
		return nil, fmt.Errorf("pkcs11: sign: %w", err)
	}
	sig, err := k.ctx.Sign(k.session, append(append([]byte{}, prefix...), digest...))
	if err != nil {
		return nil, fmt.Errorf("pkcs11: sign: %w", err)
	}
	return sig, nil
}

// Close logs out and unloads the module.
func (k *Key) Close() error {
	if k.ctx == nil {
		return nil
	}
	if k.session != 0 {
		k.ctx.Logout(k.session)
		k.ctx.CloseSession(k.session)
	}
	k.ctx.Finalize()
	k.ctx.Destroy()
	k.ctx = nil
	return nil
}
