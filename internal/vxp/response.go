package vxp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// shape is which fields an endpoint's answer carries besides status,
// ErrorCode and ErrorDesc (§4): the SDK dereferences them, so they are
// there on failure too.
type shape int

const (
	shapePlain shape = iota
	shapeList        // data: [] of items
	shapeDocID       // DocId: "" on failure
	shapeCount       // count: 0 on failure
	shapeEdoc        // data: base64 of the packet, "" on failure
)

// head is the common part of an answer.
type head struct {
	Status    string `json:"status"`
	ErrorCode Code   `json:"ErrorCode"`
	ErrorDesc string `json:"ErrorDesc"`
}

func okHead() head { return head{Status: "OK", ErrorCode: CodeOK, ErrorDesc: CodeOK.Desc()} }

// ASCII escapes every non-ASCII character of JSON text as \uXXXX
// (surrogate pairs beyond the BMP): the answers stay ASCII-only, as the
// SDK reads sendEdoc's as US-ASCII (§4). JSON text has non-ASCII only
// inside strings, where the escape means the same.
func ASCII(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/4)
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		i += n
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		out = fmt.Appendf(out, `\u%04x`, r)
	}
	return out
}

// marshalASCII is json.Marshal without HTML escaping, made ASCII.
func marshalASCII(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return ASCII(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// writeReply writes a whole answer: head, then the fields of its shape.
func writeReply(w http.ResponseWriter, h head, sh shape, docID string, count int) {
	b, err := marshalASCII(h)
	if err != nil { // strings only: cannot happen
		panic(fmt.Sprintf("vxp: reply: %v", err))
	}
	b = b[:len(b)-1] // reopen the object
	switch sh {
	case shapeList:
		b = append(b, `,"data":[]`...)
	case shapeDocID:
		id, _ := marshalASCII(docID)
		b = append(append(b, `,"DocId":`...), id...)
	case shapeCount:
		b = strconv.AppendInt(append(b, `,"count":`...), int64(count), 10)
	case shapeEdoc:
		b = append(b, `,"data":""`...)
	}
	writeJSONBytes(w, append(b, '}'))
}

func writeJSONBytes(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// listWriter streams a successful list answer item by item: directory
// lists run to a hundred thousand agencies.
type listWriter struct {
	w     http.ResponseWriter
	buf   bytes.Buffer
	n     int
	begun bool
}

func (l *listWriter) begin() {
	h, _ := marshalASCII(okHead())
	l.w.Header().Set("Content-Type", "application/json")
	l.w.Header().Set("Cache-Control", "no-store")
	l.w.WriteHeader(http.StatusOK)
	l.buf.Write(h[:len(h)-1]) // without its "}"
	l.buf.WriteString(`,"data":[`)
	l.begun = true
}

// add writes one item.
func (l *listWriter) add(v any) error {
	if !l.begun {
		l.begin()
	}
	b, err := marshalASCII(v)
	if err != nil {
		return err
	}
	if l.n > 0 {
		l.buf.WriteByte(',')
	}
	l.buf.Write(b)
	l.n++
	if l.buf.Len() >= 32<<10 {
		_, err = l.w.Write(l.buf.Bytes())
		l.buf.Reset()
	}
	return err
}

// end finishes the answer.
func (l *listWriter) end() error {
	if !l.begun {
		l.begin()
	}
	l.buf.WriteString("]}")
	_, err := l.w.Write(l.buf.Bytes())
	return err
}
