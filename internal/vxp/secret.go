package vxp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Systems' secrets are HMAC keys the hub must read back, so they are
// sealed, not hashed: AES-256-GCM under a key kept outside the database
// (a file, --vxp-key-file), with the systemId as additional data so that a
// sealed secret moved to another system's row does not open.

// ErrWrongKey: a sealed secret does not open with this key (another key
// sealed it, or it was altered).
var ErrWrongKey = errors.New("vxp: sealed secret does not open with this key")

// SecretKey seals and opens systems' secrets.
type SecretKey struct {
	id   string
	aead cipher.AEAD
}

// keyLen is an AES-256 key's length.
const keyLen = 32

// sealVersion prefixes a sealed secret: the format (nonce, ciphertext).
const sealVersion = 1

// NewSecretKey makes a key from 32 bytes.
func NewSecretKey(raw []byte) (*SecretKey, error) {
	if len(raw) != keyLen {
		return nil, fmt.Errorf("vxp: secret key of %d bytes, want %d", len(raw), keyLen)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("vxp: secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vxp: secret key: %w", err)
	}
	sum := sha256.Sum256(append([]byte("edocgw-vxp-key-id\x00"), raw...))
	return &SecretKey{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// ID names the key (not secret): stored beside each sealed secret, it
// tells which key file sealed it.
func (k *SecretKey) ID() string { return k.id }

func additionalData(systemID string) []byte {
	return []byte("edocgw-vxp-secret-v1\x00" + systemID)
}

// Seal encrypts a system's secret.
func (k *SecretKey) Seal(systemID, secret string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), 1+k.aead.NonceSize()+len(secret)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vxp: seal: %w", err)
	}
	out := append([]byte{sealVersion}, nonce...)
	return k.aead.Seal(out, nonce, []byte(secret), additionalData(systemID)), nil
}

// Open decrypts what Seal made for the same systemID.
func (k *SecretKey) Open(systemID string, sealed []byte) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n+k.aead.Overhead() || sealed[0] != sealVersion {
		return "", fmt.Errorf("%w: not a sealed secret", ErrWrongKey)
	}
	pt, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additionalData(systemID))
	if err != nil {
		return "", fmt.Errorf("%w (key %s)", ErrWrongKey, k.id)
	}
	return string(pt), nil
}

// GenerateSecret returns a new secret: 32 random bytes in standard base64
// (44 characters, like the secrets the national axis issues). Clients use
// its text as the HMAC key (§3.1 step 6).
func GenerateSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("vxp: secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// LoadSecretKey reads a key file: 32 bytes in standard base64, one line.
func LoadSecretKey(path string) (*SecretKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vxp: key file: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != keyLen {
		return nil, fmt.Errorf("vxp: key file %s: want %d bytes in base64", path, keyLen)
	}
	return NewSecretKey(raw)
}

// EnsureSecretKey loads the key file at path, creating it (mode 0600, its
// folder 0700) with a new random key if it does not exist.
func EnsureSecretKey(path string) (k *SecretKey, created bool, err error) {
	k, err = LoadSecretKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	raw := make([]byte, keyLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("vxp: key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("vxp: key file: %w", err)
	}
	// Written aside and linked into place: a concurrent reader never sees
	// a partial file, and of two processes racing, one key wins.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("vxp: key file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		k, err = LoadSecretKey(path)
		return k, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("vxp: key file: %w", err)
	}
	k, err = NewSecretKey(raw)
	return k, err == nil, err
}
