package bundle_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/bundle"
)

// Each test below changes one thing in the clean bundle and checks the
// exact list of problems Verify reports. Edits to events.json or
// checkpoints.json are also made "resealed": with the manifest's digests
// recomputed and signed again with the hub key, which only its holder can
// do; the chain's own checks catch those.

func TestTamperManifestEdited(t *testing.T) {
	z := edit(t, cleanBundle(), map[string]func([]byte) []byte{"manifest.json": func(b []byte) []byte {
		return bytes.Replace(b, []byte(`2026-12-01T09:30:00.987654Z`), []byte(`2026-12-02T09:30:00.987654Z`), 1)
	}})
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrManifestAltered, "manifest.json", 0, 0})
}

func TestTamperManifestSignature(t *testing.T) {
	z := edit(t, cleanBundle(), map[string]func([]byte) []byte{"manifest.sig": func(b []byte) []byte {
		b = bytes.Clone(b)
		b[100] ^= 0x40
		return b
	}})
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrManifestSignature, "manifest.sig", 0, 0})
}

func TestTamperOriginalByte(t *testing.T) {
	t.Run("in place", func(t *testing.T) { // CRC-32 left wrong: the SHA-256 is what is reported
		z := bytes.Clone(cleanBundle())
		z[bytes.Index(z, testOriginal)+200] ^= 1
		_, err := verify(z, theHub().cert)
		wantProblems(t, err, problem{bundle.ErrDocumentDigest, "original.edxml", 0, 0})
	})
	t.Run("rezipped", func(t *testing.T) {
		z := edit(t, cleanBundle(), map[string]func([]byte) []byte{"original.edxml": func(b []byte) []byte {
			return bytes.Replace(b, []byte("Văn phòng"), []byte("Văn phùng"), 1)
		}})
		_, err := verify(z, theHub().cert)
		wantProblems(t, err, problem{bundle.ErrDocumentDigest, "original.edxml", 0, 0})
	})
}

func TestTamperTrace(t *testing.T) {
	z := edit(t, cleanBundle(), map[string]func([]byte) []byte{"trace.json": func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"pulled",`), []byte(``), 1)
	}})
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrFileDigest, "trace.json", 0, 0})
}

func TestTamperVerification(t *testing.T) {
	z := edit(t, cleanBundle(), map[string]func([]byte) []byte{"verification.json": func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"valid":true`), []byte(`"valid":false`), 1)
	}})
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrFileDigest, "verification.json", 0, 0})
}

// both runs an edit of events.json or checkpoints.json as is and resealed:
// the resealed bundle reports the same problems but the file digest.
func both(t *testing.T, name string, f func([]byte) []byte, want ...problem) {
	t.Run("as is", func(t *testing.T) {
		_, err := verify(edit(t, cleanBundle(), map[string]func([]byte) []byte{name: f}), theHub().cert)
		wantProblems(t, err, append([]problem{{bundle.ErrFileDigest, name, 0, 0}}, want...)...)
	})
	t.Run("resealed", func(t *testing.T) {
		_, err := verify(reseal(t, cleanBundle(), theHub().key, map[string]func([]byte) []byte{name: f}), theHub().cert)
		wantProblems(t, err, want...)
	})
}

func TestTamperEventDetails(t *testing.T) {
	both(t, "events.json", editEvents(t, func(es *tEvents) {
		s, i := find(t, es, 20, 17)
		s.Events[i].Details = json.RawMessage(`{"attempt":17,"route":"push"}`)
	}), append([]problem{{bundle.ErrEventHash, "events.json", 17, 0}}, unverified(20)...)...)
}

func TestTamperEventDetailsHashRecomputed(t *testing.T) {
	both(t, "events.json", editEvents(t, func(es *tEvents) {
		s, i := find(t, es, 20, 17)
		s.Events[i].Details = json.RawMessage(`{"attempt":17,"route":"push"}`)
		s.Events[i].rehash(t)
	}), append([]problem{{bundle.ErrEventLink, "events.json", 18, 0}}, unverified(20)...)...)
}

func TestTamperEventRemoved(t *testing.T) {
	both(t, "events.json", editEvents(t, func(es *tEvents) {
		s, i := find(t, es, 20, 15)
		s.Events = slices.Delete(s.Events, i, i+1)
	}), append([]problem{{bundle.ErrEventMissing, "events.json", 15, 0}}, unverified(20)...)...)
}

// A forged event 16, well linked to 15 and hashed, is caught where the
// real event 16 follows it.
func TestTamperEventInserted(t *testing.T) {
	both(t, "events.json", editEvents(t, func(es *tEvents) {
		s, i := find(t, es, 20, 16)
		forged := s.Events[i]
		forged.Kind, forged.Document, forged.Details = "document.recalled", docA, json.RawMessage(`{}`)
		forged.rehash(t)
		s.Events = slices.Insert(s.Events, i, forged)
	}), problem{bundle.ErrEventInserted, "events.json", 16, 0},
		problem{bundle.ErrUnverifiedEvent, "events.json", 13, 0},
		problem{bundle.ErrUnverifiedEvent, "events.json", 16, 0}, // the forged one
		problem{bundle.ErrUnverifiedEvent, "events.json", 17, 0})
}

// The last event of a segment removed: the segment no longer ends at its
// checkpoint.
func TestTamperSegmentEndRemoved(t *testing.T) {
	both(t, "events.json", editEvents(t, func(es *tEvents) {
		s, _ := find(t, es, 30, 30)
		s.Events = s.Events[:len(s.Events)-1]
	}), append([]problem{{bundle.ErrSegment, "events.json", 0, 30}}, unverified(30)...)...)
}

func TestTamperCheckpointSignature(t *testing.T) {
	both(t, "checkpoints.json", editCheckpoints(t, func(cs *tCheckpoints) {
		cs.Checkpoints[1].Signature[7] ^= 0x10
	}), append([]problem{{bundle.ErrCheckpointSignature, "checkpoints.json", 0, 20}}, unverified(20)...)...)
}

func TestTamperCheckpointHead(t *testing.T) {
	both(t, "checkpoints.json", editCheckpoints(t, func(cs *tCheckpoints) {
		cs.Checkpoints[1].Head = archive.Sum([]byte("another head"))
	}), append([]problem{
		{bundle.ErrCheckpointAltered, "checkpoints.json", 0, 20},
		{bundle.ErrCheckpointHead, "events.json", 0, 20},
	}, unverified(20)...)...)
}

func TestTamperCheckpointRemoved(t *testing.T) {
	both(t, "checkpoints.json", editCheckpoints(t, func(cs *tCheckpoints) {
		cs.Checkpoints = slices.Delete(cs.Checkpoints, 2, 3)
	}), append([]problem{{bundle.ErrCheckpointMissing, "checkpoints.json", 0, 30}}, unverified(30)...)...)
}

// Events 13–20 rewritten from an edit on, every hash recomputed, by
// someone without the key: the signed checkpoint 20 still names the old
// head.
func TestTamperChainRewritten(t *testing.T) {
	both(t, "events.json", editEvents(t, func(es *tEvents) {
		s, i := find(t, es, 20, 13)
		s.Events[i].Actor = "000.00.99.H53"
		for j := i; j < len(s.Events); j++ {
			if j > i {
				s.Events[j].Prev = s.Events[j-1].Hash
			}
			s.Events[j].rehash(t)
		}
	}), slices.Concat([]problem{{bundle.ErrCheckpointHead, "events.json", 0, 20}}, unverified(20),
		// 21–30 follows 20 directly: its first event links to the old head.
		[]problem{{bundle.ErrEventLink, "events.json", 21, 0}}, unverified(30))...)
}

func TestWrongHubCert(t *testing.T) {
	_, err := verify(cleanBundle(), impostor().cert)
	wantProblems(t, err, problem{bundle.ErrHubCertMismatch, "hub-cert.pem", 0, 0})
}

func TestTamperHubCertSwapped(t *testing.T) {
	z := edit(t, cleanBundle(), map[string]func([]byte) []byte{"hub-cert.pem": func([]byte) []byte {
		return certPEM(impostor().cert)
	}})
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrHubCertFingerprint, "hub-cert.pem", 0, 0})
	// Without a certificate given, the swapped one is what is used: its key
	// did not sign the manifest.
	_, err = verify(z, nil)
	wantProblems(t, err, problem{bundle.ErrManifestSignature, "manifest.sig", 0, 0})
}

// The holder of the hub key rewrites the document's accepted event to
// another digest, re-seals the chain after it and signs the checkpoint
// again: every signature verifies, the document's digest does not.
func TestTamperAcceptedDigest(t *testing.T) {
	h := theHub()
	z := reseal(t, cleanBundle(), h.key, map[string]func([]byte) []byte{
		"events.json": editEvents(t, func(es *tEvents) {
			s, i := find(t, es, 10, 3)
			s.Events[i].Details = json.RawMessage(`{"digest":"` + archive.Sum([]byte("other")).String() + `","size":1}`)
			for j := i; j < len(s.Events); j++ {
				if j > i {
					s.Events[j].Prev = s.Events[j-1].Hash
				}
				s.Events[j].rehash(t)
			}
		}),
		"checkpoints.json": editCheckpoints(t, func(cs *tCheckpoints) {
			// Sign checkpoint 10 again over the rewritten head.
			c := &cs.Checkpoints[0]
			cp := archive.Checkpoint{Seq: c.Seq, At: mustTime(t, c.At), Head: rewrittenHead(t)}
			if err := cp.Sign(h.key); err != nil {
				t.Fatal(err)
			}
			c.Head, c.Signature = cp.Head, cp.Signature
		}),
	})
	_, err := verify(z, h.cert)
	wantProblems(t, err, problem{bundle.ErrAcceptedDigest, "events.json", 3, 0})
}

// rewrittenHead is event 10's hash after TestTamperAcceptedDigest's edit.
func rewrittenHead(t *testing.T) archive.Digest {
	c := newChain(theHub().key, archive.Sum(testOriginal), int64(len(testOriginal)))
	var prev *archive.Event
	for _, e := range c.events[:10] {
		if e.Seq == 3 {
			e.Details = json.RawMessage(`{"digest":"` + archive.Sum([]byte("other")).String() + `","size":1}`)
		}
		if err := e.Seal(prev); err != nil {
			t.Fatal(err)
		}
		prev = e
	}
	return prev.Hash
}

func mustTime(t *testing.T, s string) time.Time {
	at, err := time.Parse("2006-01-02T15:04:05.000000Z", s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// A bundle whose segments hold none of the document's events proves
// nothing about it (only the key holder can make one).
func TestNoDocumentEvent(t *testing.T) {
	z := reseal(t, cleanBundle(), theHub().key, map[string]func([]byte) []byte{
		"events.json": editEvents(t, func(es *tEvents) {
			for i := range es.Segments {
				for j := range es.Segments[i].Events {
					if es.Segments[i].Events[j].Document == docA {
						es.Segments[i].Events[j].Document = docB
					}
				}
			}
		}),
	})
	_, err := verify(z, theHub().cert)
	ps := wantProblems(t, err, problem{bundle.ErrEventHash, "events.json", 3, 0}, problem{bundle.ErrEventHash, "events.json", 13, 0},
		problem{bundle.ErrEventHash, "events.json", 21, 0}, problem{bundle.ErrEventHash, "events.json", 33, 0},
		problem{bundle.ErrNoDocumentEvent, "events.json", 0, 0})
	if ps[4].Msg != "document "+docA {
		t.Fatal(ps[4].Msg)
	}
}

// An event too large to hold is refused, not buffered: events.json is
// read as a stream of bounded events.
func TestEventTooLarge(t *testing.T) {
	pad := make([]byte, 600<<10)
	rand.NewChaCha8([32]byte{}).Read(pad)
	z := reseal(t, cleanBundle(), theHub().key, map[string]func([]byte) []byte{"events.json": editEvents(t, func(es *tEvents) {
		s, i := find(t, es, 20, 17)
		s.Events[i].Details = json.RawMessage(`{"pad":"` + hex.EncodeToString(pad) + `"}`)
	})})
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrTooLarge, "events.json", 0, 0})
}

// A checkpoint's RFC 3161 token travels in checkpoints.json, covered by the
// manifest (this package does not check the token itself).
func TestCheckpointTimestampCarried(t *testing.T) {
	h := theHub()
	c := contents(h, testOriginal)
	c.Segments[2].Checkpoint.Timestamp = []byte("an RFC 3161 token")
	z := write(t, c, h.key)
	if _, err := verify(z, h.cert); err != nil {
		t.Fatal(err)
	}
	var cs tCheckpoints
	if err := json.Unmarshal(file(t, z, "checkpoints.json"), &cs); err != nil {
		t.Fatal(err)
	}
	if string(cs.Checkpoints[2].Timestamp) != "an RFC 3161 token" || cs.Checkpoints[1].Timestamp != nil {
		t.Fatalf("checkpoints.json: %+v", cs)
	}
	z = edit(t, z, map[string]func([]byte) []byte{"checkpoints.json": editCheckpoints(t, func(cs *tCheckpoints) {
		cs.Checkpoints[2].Timestamp = []byte("another token")
	})})
	_, err := verify(z, h.cert)
	wantProblems(t, err, problem{bundle.ErrFileDigest, "checkpoints.json", 0, 0})
}
