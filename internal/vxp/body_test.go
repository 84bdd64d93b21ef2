package vxp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
	"testing/iotest"
)

// sendBody runs a sendEdoc body through payload, spool and the hash-file
// check, as the handler does, and returns the packet.
func sendBody(contentType string, body []byte, hashFile string, memMax int64, dir string) ([]byte, BodyForm, error) {
	rd, form, err := payload(contentType, bytes.NewReader(body))
	if err != nil {
		return nil, form, err
	}
	sp, err := spool(rd, 1<<20, memMax, dir)
	if err != nil {
		return nil, form, err
	}
	defer sp.Close()
	pkt, err := sp.packet(hashFile)
	if err != nil {
		return nil, form, err
	}
	b, err := io.ReadAll(pkt)
	return b, form, err
}

func multipartBody(t testing.TB, parts map[string][]byte, order ...string) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, name := range order {
		w, err := mw.CreateFormFile(name, name+".xml")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(parts[name])
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func TestVXPHashFileHex(t *testing.T) {
	// SHA-256 of <edXML/>: 8d55…cf027a…0c4844… padded, 8d55…cf27a…c4844… as the SDK sends it (§3.3).
	s := sum([]byte("<edXML/>"))
	padded, sdk := hex.EncodeToString(s), HashFileHex(s)
	if len(sdk) >= 64 || !strings.HasPrefix(padded, "8d55") || !strings.HasPrefix(sdk, "8d55") {
		t.Fatalf("padded %s, SDK %s", padded, sdk)
	}
	for _, v := range []string{padded, sdk, strings.ToUpper(sdk), " " + padded + " "} {
		if !HashFileMatches(v, s) {
			t.Errorf("%q does not match", v)
		}
	}
	if HashFileMatches(padded[:63], s) || HashFileMatches("", s) {
		t.Error("a wrong value matches")
	}
	if got := HashFileHex([]byte{0x00, 0x0f, 0x10, 0xff}); got != "0f10ff" {
		t.Errorf("HashFileHex = %s", got)
	}
}

func TestVXPSendBody(t *testing.T) {
	pkt := []byte("<edXMLEnvelope>gói tin</edXMLEnvelope>")
	withCRLF := append(append([]byte{}, pkt...), '\r', '\n')
	ct, mp := multipartBody(t, map[string][]byte{"other": []byte("x"), "file_doc": pkt}, "other", "file_doc")
	ct2, noDoc := multipartBody(t, map[string][]byte{"other": []byte("x")}, "other")
	tests := []struct {
		name        string
		contentType string
		body        []byte
		hashFile    string
		want        []byte
		form        BodyForm
		err         error
	}{
		{"SDK: raw + CRLF, unpadded", "application/octet-stream", withCRLF, HashFileHex(sum(pkt)), pkt, FormRaw, nil},
		{"padded", "application/octet-stream", withCRLF, hex.EncodeToString(sum(pkt)), pkt, FormRaw, nil},
		{"no CRLF", "application/octet-stream", pkt, HashFileHex(sum(pkt)), pkt, FormRaw, nil},
		{"hash of the body with its CRLF", "", withCRLF, HashFileHex(sum(withCRLF)), withCRLF, FormRaw, nil},
		{"multipart label, raw body (§2.2)", "multipart/form-data; boundary===1700000000000===", withCRLF, HashFileHex(sum(pkt)), pkt, FormRaw, nil},
		{"multipart file_doc", ct, mp, HashFileHex(sum(pkt)), pkt, FormMultipart, nil},
		{"multipart without file_doc", ct2, noDoc, HashFileHex(sum(pkt)), nil, FormMultipart, ErrBody},
		{"broken multipart", ct, mp[:len(mp)/2], HashFileHex(sum(pkt)), nil, FormMultipart, ErrBody},
		{"mismatch", "application/octet-stream", withCRLF, HashFileHex(sum([]byte("other"))), nil, FormRaw, ErrHashFile},
		{"no hash-file", "application/octet-stream", withCRLF, "", nil, FormRaw, ErrHashFile},
		{"too large", "application/octet-stream", bytes.Repeat([]byte("x"), 1<<20+1), "", nil, FormRaw, ErrBodyTooLarge},
	}
	for _, tt := range tests {
		for _, memMax := range []int64{1 << 20, 3} { // in memory, and spooled to a file
			got, form, err := sendBody(tt.contentType, tt.body, tt.hashFile, memMax, t.TempDir())
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("%s (mem %d): err = %v, want %v", tt.name, memMax, err, tt.err)
				continue
			}
			if !bytes.Equal(got, tt.want) || form != tt.form {
				t.Errorf("%s (mem %d): %q %s, want %q %s", tt.name, memMax, got, form, tt.want, tt.form)
			}
		}
	}
}

// tailHash sees the same bytes however they are cut.
func TestVXPTailHash(t *testing.T) {
	b := []byte("0123456789abcdef\r\n")
	for _, n := range []int{1, 2, 3, 5, 7, len(b)} {
		th := &tailHash{h: sha256.New()}
		for i := 0; i < len(b); i += n {
			th.Write(b[i:min(i+n, len(b))])
		}
		if string(th.tail) != "\r\n" || !bytes.Equal(th.h.Sum(nil), sum(b[:len(b)-2])) {
			t.Fatalf("chunks of %d: tail %q or its hash", n, th.tail)
		}
		th.h.Write(th.tail)
		if !bytes.Equal(th.h.Sum(nil), sum(b)) {
			t.Fatalf("chunks of %d hash differently", n)
		}
	}
	th := &tailHash{h: sha256.New()}
	io.Copy(th, iotest.OneByteReader(bytes.NewReader([]byte("x"))))
	if string(th.tail) != "x" || !bytes.Equal(th.h.Sum(nil), sum(nil)) {
		t.Fatal("one byte")
	}
}

// The sendEdoc body is client input: it must never panic, and a packet it
// yields is the body, its file_doc part, or either without one CRLF, whose
// hash is the hash-file given.
func FuzzVXPSendBody(f *testing.F) {
	pkt := []byte("<edXMLEnvelope/>")
	ct, mp := multipartBody(f, map[string][]byte{"file_doc": pkt}, "file_doc")
	f.Add("application/octet-stream", append(append([]byte{}, pkt...), '\r', '\n'), HashFileHex(sum(pkt)))
	f.Add(ct, mp, hex.EncodeToString(sum(pkt)))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"file_doc\"\r\n\r\n\r\n--x--"), "")
	f.Add("multipart/form-data; boundary=\"", []byte("\r\n"), HashFileHex(sum(nil)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, contentType string, body []byte, hashFile string) {
		for _, memMax := range []int64{1 << 20, 64} {
			got, _, err := sendBody(contentType, body, hashFile, memMax, dir)
			if err != nil {
				if !errors.Is(err, ErrBody) && !errors.Is(err, ErrHashFile) && !errors.Is(err, ErrBodyTooLarge) {
					t.Fatalf("untyped error %v", err)
				}
				continue
			}
			if !HashFileMatches(hashFile, sum(got)) {
				t.Fatalf("packet %q does not hash to %q", got, hashFile)
			}
			if !bytes.Contains(body, got) {
				t.Fatalf("packet %q is not in the body", got)
			}
		}
	})
}
