package vxp

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"strconv"
	"strings"
)

// Errors of a sendEdoc body.
var (
	// ErrBody: the body holds no packet (empty; multipart without a
	// file_doc part).
	ErrBody = errors.New("vxp: no packet in the sendEdoc body")
	// ErrHashFile: hash-file is missing or matches none of the body's forms.
	ErrHashFile = errors.New("vxp: hash-file does not match the packet")
	// ErrBodyTooLarge: the body exceeds the size limit.
	ErrBodyTooLarge = errors.New("vxp: sendEdoc body too large")
)

// fileDocPart is the form field the SDK names for the packet (§2.2).
const fileDocPart = "file_doc"

// BodyForm says how a sendEdoc body carried its packet.
type BodyForm string

// The forms of a sendEdoc body.
const (
	// FormRaw: the packet's bytes, usually followed by the SDK's CRLF.
	FormRaw BodyForm = "raw"
	// FormMultipart: a multipart/form-data part named file_doc.
	FormMultipart BodyForm = "multipart"
)

// payload returns the reader of the packet in a sendEdoc body: the
// file_doc part of a real multipart/form-data body, or else the body
// itself. The SDK labels raw bytes multipart before its octet-stream
// replaces the label (§2.2), so a multipart label counts only when the
// body starts with its boundary.
func payload(contentType string, body io.Reader) (io.Reader, BodyForm, error) {
	br := bufio.NewReaderSize(body, 4<<10)
	mt, params, err := mime.ParseMediaType(contentType)
	boundary := params["boundary"]
	if err != nil || mt != "multipart/form-data" || boundary == "" {
		return br, FormRaw, nil
	}
	delim := "--" + boundary
	head, _ := br.Peek(len(delim) + 2)
	if !bytes.HasPrefix(head, []byte(delim)) && !bytes.HasPrefix(head, []byte("\r\n"+delim)) {
		return br, FormRaw, nil
	}
	mr := multipart.NewReader(br, boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, FormMultipart, fmt.Errorf("%w: multipart/form-data without a %s part", ErrBody, fileDocPart)
		}
		if err != nil {
			return nil, FormMultipart, fmt.Errorf("%w: multipart/form-data: %w", ErrBody, err)
		}
		if part.FormName() == fileDocPart {
			return partReader{part}, FormMultipart, nil
		}
	}
}

// partReader reports a part that breaks off as ErrBody.
type partReader struct{ r io.Reader }

func (p partReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: multipart/form-data: %w", ErrBody, err)
	}
	return n, err
}

// spooled is a packet held while it is checked: in memory up to memMax
// bytes, beyond in a temporary file (removed at once; it lives while
// open). It knows the SHA-256 of its bytes and, when they end in CRLF, of
// its bytes without that CRLF.
type spooled struct {
	ra       io.ReaderAt
	size     int64
	full     [sha256.Size]byte
	stripped [sha256.Size]byte
	crlf     bool
	file     *os.File
}

// spool reads r to the end; more than max bytes is ErrBodyTooLarge.
func spool(r io.Reader, max, memMax int64, dir string) (*spooled, error) {
	th := &tailHash{h: sha256.New()}
	lr := &io.LimitedReader{R: r, N: max + 1}
	tee := io.TeeReader(lr, th)
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, tee, memMax+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("vxp: read body: %w", err)
	}
	s := &spooled{size: n}
	if n <= memMax {
		s.ra = bytes.NewReader(buf.Bytes())
	} else {
		f, err := os.CreateTemp(dir, "edocgw-vxp-*")
		if err != nil {
			return nil, fmt.Errorf("vxp: spool: %w", err)
		}
		_ = os.Remove(f.Name())
		s.ra, s.file = f, f
		if _, err := f.Write(buf.Bytes()); err != nil {
			s.Close()
			return nil, fmt.Errorf("vxp: spool: %w", err)
		}
		m, err := io.Copy(f, tee)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("vxp: read body: %w", err)
		}
		s.size += m
	}
	if s.size > max {
		s.Close()
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, max)
	}
	s.crlf = string(th.tail) == "\r\n"
	copy(s.stripped[:], th.h.Sum(nil))
	th.h.Write(th.tail)
	copy(s.full[:], th.h.Sum(nil))
	return s, nil
}

// Close releases the temporary file.
func (s *spooled) Close() error {
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}

// packet checks hashFile against the spooled bytes without their final
// CRLF (what the SDK hashes: the file, §3.3), then with it, each in the
// padded and the SDK's unpadded hex, and returns the bytes it matched.
func (s *spooled) packet(hashFile string) (*io.SectionReader, error) {
	if strings.TrimSpace(hashFile) == "" {
		return nil, fmt.Errorf("%w: no hash-file in the signed headers", ErrHashFile)
	}
	if s.crlf && HashFileMatches(hashFile, s.stripped[:]) {
		return io.NewSectionReader(s.ra, 0, s.size-2), nil
	}
	if HashFileMatches(hashFile, s.full[:]) {
		return io.NewSectionReader(s.ra, 0, s.size), nil
	}
	return nil, fmt.Errorf("%w: hash-file %.80q, SHA-256 of the %d-byte body %s", ErrHashFile, hashFile, s.size, hex.EncodeToString(s.full[:]))
}

// tailHash hashes what is written except its last two bytes, kept in tail.
type tailHash struct {
	h    hash.Hash
	tail []byte
}

func (t *tailHash) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= 2 {
		t.h.Write(t.tail)
		t.h.Write(p[:len(p)-2])
		t.tail = append(t.tail[:0], p[len(p)-2:]...)
		return n, nil
	}
	t.tail = append(t.tail, p...)
	if len(t.tail) > 2 {
		t.h.Write(t.tail[:len(t.tail)-2])
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-2:]...)
	}
	return n, nil
}

// HashFileHex is a digest as the SDK writes hash-file (§3.3): each byte
// with Integer.toHexString, lower case and unpadded, so bytes below 0x10
// give one digit.
func HashFileHex(sum []byte) string {
	var b strings.Builder
	for _, c := range sum {
		b.WriteString(strconv.FormatUint(uint64(c), 16))
	}
	return b.String()
}

// HashFileMatches compares a hash-file value with a digest in the padded
// and the unpadded hex form, ignoring case.
func HashFileMatches(hashFile string, sum []byte) bool {
	v := strings.ToLower(strings.TrimSpace(hashFile))
	return v == hex.EncodeToString(sum) || v == HashFileHex(sum)
}
