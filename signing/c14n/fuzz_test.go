package c14n

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sigAnywhere excludes every element named Signature, in any namespace and at
// any depth (so excluded subtrees nest in any way the fuzzer likes).
func sigAnywhere(p []xml.Name) bool { return p[len(p)-1].Local == "Signature" }

// FuzzCanonicalizeDifferential: for any input, Canonicalize must not panic and
// must return either output or an *Error. For any input that etree parses and
// goxmldsig canonicalizes, our output must be identical to goxmldsig's (up to
// the documented deviations D1-D5, see reference_test.go), for all four
// methods, with and without excluding Signature elements; we may refuse such
// an input only for a reason listed in strictReasons. Our output must also be
// a fixed point (canonicalizing it again gives it back).
func FuzzCanonicalizeDifferential(f *testing.F) {
	for _, tc := range cases {
		f.Add([]byte(tc.input()))
		f.Add([]byte(strings.ReplaceAll(tc.In, "{SIG}", xmlsecTemplate(Exclusive10, ""))))
	}
	for _, tc := range errorCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.xml"))
	for _, fn := range files {
		if b, err := os.ReadFile(fn); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, m := range allMethods {
			for _, excl := range []func([]xml.Name) bool{nil, sigAnywhere} {
				checkDifferential(t, in, m, excl)
			}
		}
	})
}

func checkDifferential(t *testing.T, in []byte, m Method, excl func([]xml.Name) bool) {
	t.Helper()
	var ours bytes.Buffer
	rootExcluded := false
	o := Options{Method: m}
	if excl != nil {
		o.Exclude = func(p []xml.Name) bool {
			x := excl(p)
			rootExcluded = rootExcluded || (x && len(p) == 1)
			return x
		}
	}
	err := Canonicalize(&ours, bytes.NewReader(in), o)
	// Where the prefilter splits text must not matter.
	var split bytes.Buffer
	o2 := o
	o2.textChunk = 1 + len(in)%6
	if err2 := Canonicalize(&split, bytes.NewReader(in), o2); !sameErrorClass(err, err2) || (err == nil && !bytes.Equal(split.Bytes(), ours.Bytes())) {
		t.Fatalf("%v: text split every %d bytes changes the result:\n in: %q\n%q %v\n%q %v", m, o2.textChunk, in, ours.Bytes(), err, split.Bytes(), err2)
	}
	ref, refErr := reference(in, m, "", excl)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%v: error is not an *Error: %T %v", m, err, err)
		}
		if refErr != nil {
			return
		}
		if _, ok := strictReasons[e.reason]; ok {
			return
		}
		t.Fatalf("%v exclude=%v: we refuse what goxmldsig canonicalizes: %v\n  in: %q\n ref: %q", m, excl != nil, err, in, ref)
	}
	if rootExcluded {
		return // nothing but PIs (and comments) left; the reference cannot do that
	}
	// Fixed point.
	var again bytes.Buffer
	if err := Canonicalize(&again, bytes.NewReader(ours.Bytes()), Options{Method: m}); err != nil {
		t.Fatalf("%v: our output does not parse again: %v\n in: %q\nout: %q", m, err, in, ours.Bytes())
	}
	if !bytes.Equal(again.Bytes(), ours.Bytes()) {
		t.Fatalf("%v: not a fixed point\n in: %q\nout: %q\nagain: %q", m, in, ours.Bytes(), again.Bytes())
	}
	if refErr != nil {
		return
	}
	if _, err := compareWithReference(in, ours.Bytes(), ref, m); err != nil {
		t.Fatalf("%v exclude=%v: %v\n in: %q", m, excl != nil, err, in)
	}
}
