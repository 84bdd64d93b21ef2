package bench

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"time"
)

// Limit is this machine's floor for one document of the run's mix,
// measured just before the timed part: the SHA-256 of the document's bytes
// and one RSA PKCS#1 v1.5 verification with an agency's key, on one
// goroutine (the work of signing.BenchmarkLimit). On a shared machine
// whose speed varies from run to run, it is the yardstick a run's CPU per
// document is read against.
type Limit struct {
	// DocumentBytes is the mix's mean size, or maxLimitBytes if less.
	DocumentBytes     int64   `json:"documentBytes"`
	MicrosPerDocument float64 `json:"microsPerDocument"`
	// GatewayCPUInLimits is the gateway's CPU per document divided by
	// MicrosPerDocument: how many times the floor the gateway spends
	// (only when DocumentBytes is the mix's mean).
	GatewayCPUInLimits float64 `json:"gatewayCpuInLimits,omitempty"`
}

// LimitWork returns the limit's work for one document of size bytes: the
// SHA-256 of the bytes and one RSA PKCS #1 v1.5 verification with key's
// public key. signing.BenchmarkLimit and every run (measureLimit) time it;
// one may be called concurrently.
func LimitWork(key *rsa.PrivateKey, size int) (one func() error, err error) {
	if key == nil {
		return nil, errors.New("bench: limit: no RSA key")
	}
	data := bytes.Repeat([]byte("edocgw limit "), size/13+1)[:size]
	want := sha256.Sum256(data)
	digest := sha256.Sum256([]byte("SignedInfo"))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return nil, err
	}
	return func() error {
		if sha256.Sum256(data) != want {
			return errors.New("bench: limit: SHA-256 changed its mind")
		}
		return rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig)
	}, nil
}

// maxLimitBytes bounds the document size the limit is measured on: a run
// of 1 GB documents must not hash a gigabyte eight times (and hold it)
// before it starts.
const maxLimitBytes = 1 << 20

// measureLimit times LimitWork on size bytes, at most maxLimitBytes, for
// about d.
func measureLimit(key *rsa.PrivateKey, size int64, d time.Duration, now func() time.Time) (*Limit, error) {
	size = min(size, maxLimitBytes)
	one, err := LimitWork(key, int(size))
	if err != nil {
		return nil, err
	}
	n := 0
	start := now()
	for n == 0 || now().Sub(start) < d {
		for range 8 {
			if err := one(); err != nil {
				return nil, err
			}
			n++
		}
	}
	elapsed := now().Sub(start)
	return &Limit{DocumentBytes: size, MicrosPerDocument: round3(float64(elapsed.Microseconds()) / float64(n))}, nil
}
