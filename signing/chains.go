package signing

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// maxChains bounds the chain cache; a full cache starts again empty.
const maxChains = 1024

// chainCache remembers the certificates a KeyInfo carried, parsed, and the
// chain that verified them to the trust anchors: a hub sees the same few
// signer certificates again and again. An entry is used only with the
// same pools and only at a time when every certificate of its chain is
// valid; revocation is asked each time all the same.
var chainCache = struct {
	sync.Mutex
	m map[chainKey]*chainEntry
}{m: map[chainKey]*chainEntry{}}

type chainKey struct {
	roots, intermediates *x509.CertPool
	certs                [sha256.Size]byte // of the DER certificates, each length-prefixed
}

type chainEntry struct {
	certs       []*x509.Certificate
	chain       []*x509.Certificate
	from, until time.Time // every certificate of chain is valid in between
}

func newChainKey(roots, intermediates *x509.CertPool, ders [][]byte) chainKey {
	k := chainKey{roots: roots, intermediates: intermediates}
	h := sha256.New()
	var n [8]byte
	for _, d := range ders {
		binary.BigEndian.PutUint64(n[:], uint64(len(d)))
		h.Write(n[:])
		h.Write(d)
	}
	h.Sum(k.certs[:0])
	return k
}

// cachedCerts returns the parsed certificates of k, if known.
func cachedCerts(k chainKey) *chainEntry {
	chainCache.Lock()
	defer chainCache.Unlock()
	return chainCache.m[k]
}

// usable reports whether e's chain may stand at now.
func (e *chainEntry) usable(now time.Time) bool {
	return e.chain != nil && !now.Before(e.from) && !now.After(e.until)
}

// cacheChain remembers certs and, when verified, their chain.
func cacheChain(k chainKey, certs, chain []*x509.Certificate) {
	e := &chainEntry{certs: certs, chain: chain}
	for i, c := range chain {
		if i == 0 || c.NotBefore.After(e.from) {
			e.from = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(e.until) {
			e.until = c.NotAfter
		}
	}
	chainCache.Lock()
	defer chainCache.Unlock()
	if len(chainCache.m) >= maxChains {
		clear(chainCache.m)
	}
	chainCache.m[k] = e
}
