package bundle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/edocgw/edocgw/archive/bundle"
)

var sentinels = []error{
	bundle.ErrMalformedZip, bundle.ErrTooLarge, bundle.ErrZipBomb, bundle.ErrDuplicateEntry, bundle.ErrUnknownEntry,
	bundle.ErrUnsafePath, bundle.ErrMissingEntry, bundle.ErrUnsupportedKey, bundle.ErrKeyMismatch, bundle.ErrHubCertMismatch,
	bundle.ErrManifestSignature, bundle.ErrManifestAltered, bundle.ErrHubCertFingerprint, bundle.ErrManifest,
	bundle.ErrFileDigest, bundle.ErrDocumentDigest, bundle.ErrMalformedFile, bundle.ErrSegment, bundle.ErrEventMissing,
	bundle.ErrEventInserted, bundle.ErrEventLink, bundle.ErrEventHash, bundle.ErrCheckpointMissing, bundle.ErrCheckpointHead,
	bundle.ErrCheckpointSignature, bundle.ErrCheckpointAltered, bundle.ErrNoDocumentEvent, bundle.ErrUnverifiedEvent,
	bundle.ErrNoAcceptedEvent, bundle.ErrAcceptedDigest,
}

// FuzzVerify: arbitrary bytes never panic, fail only with Problems of
// this package's sentinels, and never verify unless they carry exactly
// the genuine bundle's content (a ZIP's headers may vary; what it proves
// may not).
func FuzzVerify(f *testing.F) {
	clean := cleanBundle()
	f.Add(clean)
	f.Add(clean[:len(clean)/2])
	f.Add(edit(f, clean, map[string]func([]byte) []byte{"trace.json": func([]byte) []byte { return []byte(`{}`) }}))
	f.Add(reseal(f, clean, theHub().key, map[string]func([]byte) []byte{"events.json": editEvents(f, func(es *tEvents) {
		es.Segments[1].Events = slices.Delete(es.Segments[1].Events, 2, 3)
	})}))
	es := unzip(f, clean)
	for i := range es {
		es[i].method = 0 // all stored: mutations reach the JSON
	}
	f.Add(rezip(f, es))
	want := genuine(f, clean)

	f.Fuzz(func(t *testing.T, b []byte) {
		bd, err := bundle.Open(bytes.NewReader(b), int64(len(b)), theHub().cert)
		if err != nil {
			if bd != nil {
				t.Fatal("a bundle with an error")
			}
			var ps bundle.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %T %v, want Problems", err, err)
			}
			for _, p := range ps {
				if !slices.Contains(sentinels, p.Err) {
					t.Fatalf("problem %v wraps %v, not a sentinel", p, p.Err)
				}
			}
			return
		}
		if got := content(t, bd); !bytes.Equal(got, want) {
			t.Fatalf("verified other content:\n%s\nwant\n%s", got, want)
		}
	})
}

// content is what a verified bundle proves, as one comparable text.
func content(t testing.TB, b *bundle.Bundle) []byte {
	rep := b.Report()
	rep.HubCert = nil
	var parts [][]byte
	j, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	parts = append(parts, j)
	for _, name := range []string{"manifest.json", "manifest.sig", "README.txt", "hub-cert.pem", "checkpoints.json",
		"events.json", "verification.json", "trace.json", "original.edxml"} {
		rc, err := b.File(name)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		parts = append(parts, data)
	}
	return bytes.Join(parts, []byte("\n--\n"))
}

func genuine(f *testing.F, clean []byte) []byte {
	b, err := bundle.Open(bytes.NewReader(clean), int64(len(clean)), theHub().cert)
	if err != nil {
		f.Fatal(err)
	}
	return content(f, b)
}
