package c14n

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

// at selects the element whose local names, root first, are path
// (pathExcluder's matcher, as a Subtree).
func at(path ...string) func([]xml.Name) bool { return pathExcluder(path) }

// TestSubtree: the document subset rooted at the apex, as XMLDSig
// canonicalizes a SignedInfo in place: the inclusive methods render every
// namespace in scope on the apex (but xml and an empty default), the
// exclusive ones those it uses; nothing outside the apex is written, not
// even comments before or after the document element.
func TestSubtree(t *testing.T) {
	const doc = `<!--c--><?p x?><r xmlns="urn:r" xmlns:a="urn:a" xmlns:b="urn:b"><s xmlns:b="urn:b2" b:k="1"><!--in-->` +
		`<t a:x="2"><u xmlns="">v&amp;</u><!--t--></t><t>second</t></s>tail</r><!--e-->`
	tests := []struct {
		name   string
		method Method
		path   []string
		want   string
	}{
		{"inclusive", Inclusive10, []string{"r", "s", "t"},
			`<t xmlns="urn:r" xmlns:a="urn:a" xmlns:b="urn:b2" a:x="2"><u xmlns="">v&amp;</u></t>`},
		{"inclusive with comments", Inclusive10WithComments, []string{"r", "s", "t"},
			`<t xmlns="urn:r" xmlns:a="urn:a" xmlns:b="urn:b2" a:x="2"><u xmlns="">v&amp;</u><!--t--></t>`},
		{"inclusive at the root's child", Inclusive10WithComments, []string{"r", "s"},
			`<s xmlns="urn:r" xmlns:a="urn:a" xmlns:b="urn:b2" b:k="1"><!--in--><t a:x="2"><u xmlns="">v&amp;</u><!--t--></t><t>second</t></s>`},
		{"exclusive", Exclusive10, []string{"r", "s", "t"},
			`<t xmlns="urn:r" xmlns:a="urn:a" a:x="2"><u xmlns="">v&amp;</u></t>`},
		{"the root", Inclusive10, []string{"r"},
			`<r xmlns="urn:r" xmlns:a="urn:a" xmlns:b="urn:b"><s xmlns:b="urn:b2" b:k="1"><t a:x="2"><u xmlns="">v&amp;</u></t><t>second</t></s>tail</r>`},
		{"no such element", Inclusive10, []string{"r", "x"}, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canon(t, doc, Options{Method: tc.method, Subtree: at(tc.path...)})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestSubtreeStopsAtApex: reading ends at the apex's end tag, so what
// follows it is neither written nor checked.
func TestSubtreeStopsAtApex(t *testing.T) {
	got, err := canon(t, `<r><a>x</a><b></c>`, Options{Method: Inclusive10, Subtree: at("r", "a")})
	if err != nil || got != `<a>x</a>` {
		t.Fatalf("%q, %v", got, err)
	}
	// Before the apex, the input is checked as always.
	if _, err := canon(t, `<r><b></c><a>x</a></r>`, Options{Method: Inclusive10, Subtree: at("r", "a")}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("malformed before the apex: %v", err)
	}
}

// TestSubtreeXMLAttr: an inclusive subset would carry the ancestors' xml:
// attributes onto the apex; this package refuses instead. The exclusive
// methods do not inherit them.
func TestSubtreeXMLAttr(t *testing.T) {
	const doc = `<r xml:lang="vi"><a>x</a></r>`
	if _, err := canon(t, doc, Options{Method: Inclusive10, Subtree: at("r", "a")}); !errors.Is(err, ErrSubsetXMLAttr) {
		t.Fatalf("inclusive: %v, want ErrSubsetXMLAttr", err)
	}
	got, err := canon(t, doc, Options{Method: Exclusive10, Subtree: at("r", "a")})
	if err != nil || got != `<a>x</a>` {
		t.Fatalf("exclusive: %q, %v", got, err)
	}
	// The apex's own xml: attribute is its own.
	got, err = canon(t, `<r><a xml:lang="vi">x</a></r>`, Options{Method: Inclusive10, Subtree: at("r", "a")})
	if err != nil || !strings.Contains(got, `xml:lang="vi"`) {
		t.Fatalf("own xml:lang: %q, %v", got, err)
	}
}

// TestSubtreeExclude: inside the apex, Exclude still removes subtrees.
func TestSubtreeExclude(t *testing.T) {
	got, err := canon(t, `<r><a>x<Signature>s</Signature>y</a></r>`, Options{Method: Inclusive10, Subtree: at("r", "a"), Exclude: sigAnywhere})
	if err != nil || got != `<a>xy</a>` {
		t.Fatalf("%q, %v", got, err)
	}
}
