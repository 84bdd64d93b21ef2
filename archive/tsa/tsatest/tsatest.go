// Package tsatest is an RFC 3161 time-stamping authority for tests: an
// http.Handler that answers timestamp queries with tokens signed by a key
// the test gives.
package tsatest

import (
	"crypto"
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/digitorus/timestamp"
)

// TSA answers timestamp requests.
type TSA struct {
	Cert *x509.Certificate // with the timeStamping extended key usage
	Key  crypto.Signer
	Now  func() time.Time
	// Fail, when set, makes every request fail with 503.
	Fail atomic.Bool

	serial atomic.Int64
	Served atomic.Int64
}

func (t *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if t.Fail.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := timestamp.ParseRequest(b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: now().UTC(),
		Nonce: req.Nonce, Policy: []int{1, 3, 6, 1, 4, 1, 99999, 1}, SerialNumber: big.NewInt(t.serial.Add(1)),
		AddTSACertificate: req.Certificates, Accuracy: time.Second,
	}
	resp, err := ts.CreateResponseWithOpts(t.Cert, t.Key, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	t.Served.Add(1)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}
