// Package tsa obtains and checks RFC 3161 timestamps of audit checkpoints
// from a time-stamping authority: independent evidence that a checkpoint
// (and so every event before it) existed at the time the TSA states, which
// the hub's own clock cannot give.
//
// What is timestamped is the SHA-256 of the checkpoint's signature value,
// the usual way to timestamp a signature.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// Errors of the package.
var (
	// ErrTSA: the authority could not be reached or refused the request.
	ErrTSA = errors.New("tsa: time-stamping authority failed")
	// ErrToken: a token that is malformed, not signed by a trusted TSA, or
	// not over the expected digest.
	ErrToken = errors.New("tsa: timestamp token does not verify")
)

// maxResponse bounds a TSA's answer.
const maxResponse = 1 << 20

// Client asks one TSA for timestamps.
type Client struct {
	URL  string
	HTTP *http.Client // nil: a client with a 30 s timeout
	Rand io.Reader    // nonces; nil: crypto/rand
}

// Timestamp returns a DER timestamp token over digest (a SHA-256).
func (c *Client) Timestamp(ctx context.Context, digest []byte) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("%w: digest of %d bytes, want SHA-256", ErrTSA, len(digest))
	}
	rnd := c.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	nonce, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, fmt.Errorf("%w: nonce: %w", ErrTSA, err)
	}
	req := timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Certificates: true, Nonce: nonce}
	body, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: request: %w", ErrTSA, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTSA, err)
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTSA, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %d", ErrTSA, c.URL, resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTSA, err)
	}
	if len(raw) > maxResponse {
		return nil, fmt.Errorf("%w: answer over %d bytes", ErrTSA, maxResponse)
	}
	ts, err := timestamp.ParseResponse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTSA, err)
	}
	if !bytes.Equal(ts.HashedMessage, digest) || ts.HashAlgorithm != crypto.SHA256 {
		return nil, fmt.Errorf("%w: the token is over another digest", ErrTSA)
	}
	if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("%w: the token does not answer our nonce", ErrTSA)
	}
	return ts.RawToken, nil
}

// Info is what a verified token says.
type Info struct {
	Time   time.Time
	Serial *big.Int
	TSA    string // the signing certificate's subject
}

// Verify checks a token: its signature (by the certificate it carries),
// that certificate's chain to roots (when roots is not nil) and that it is
// over digest.
func Verify(token, digest []byte, roots *x509.CertPool) (*Info, error) {
	ts, err := timestamp.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrToken, err)
	}
	if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest) {
		return nil, fmt.Errorf("%w: it is over another digest", ErrToken)
	}
	if len(ts.Certificates) == 0 {
		return nil, fmt.Errorf("%w: it carries no TSA certificate", ErrToken)
	}
	signer := ts.Certificates[0]
	if roots != nil {
		inter := x509.NewCertPool()
		for _, c := range ts.Certificates[1:] {
			inter.AddCert(c)
		}
		if _, err := signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
			return nil, fmt.Errorf("%w: TSA certificate: %w", ErrToken, err)
		}
	}
	return &Info{Time: ts.Time, Serial: ts.SerialNumber, TSA: signer.Subject.String()}, nil
}

// Digest is what a checkpoint's timestamp is over: the SHA-256 of its
// signature value.
func Digest(signature []byte) []byte {
	d := sha256.Sum256(signature)
	return d[:]
}
