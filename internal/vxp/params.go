package vxp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Limits of the signed header.
const (
	maxSignHeader = 64 << 10 // bytes of XroadVnpt-sign-header
	maxParams     = 256      // keys in it
)

// ErrSignHeader: XroadVnpt-sign-header is not a JSON object of parameters.
var ErrSignHeader = errors.New("vxp: malformed XroadVnpt-sign-header")

// Params are the parameters of a request as its signed JSON carries them
// (§3.1): keys without the "XroadVnpt-" prefix, in their own case, the
// last value of a repeated key winning. A client's stale keys from earlier
// calls are here too; callers read only the keys they need. One key may
// come in several cases (docId and docid, §3.2): Variants lists them.
type Params map[string]string

// Get returns the value of key: the key in exactly that case if present,
// else the first (in byte order) of its variants in other cases; "" when
// absent.
func (p Params) Get(key string) string {
	if v, ok := p[key]; ok {
		return v
	}
	if vs := p.Variants(key); len(vs) > 0 {
		return p[vs[0]]
	}
	return ""
}

// Has reports whether key is present in any case.
func (p Params) Has(key string) bool { return len(p.Variants(key)) > 0 }

// Variants returns the keys equal to key ignoring case, in byte order.
func (p Params) Variants(key string) []string {
	var out []string
	for k := range p {
		if strings.EqualFold(k, key) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

const prefix = "xroadvnpt-"

// ParseSignedHeader parses the exact bytes of XroadVnpt-sign-header: a
// JSON object whose keys are "XroadVnpt-<key>". Keys without the prefix
// are taken as they are. String values are taken as they are, numbers and
// booleans as written, null as "", arrays and objects as compact JSON text.
func ParseSignedHeader(b []byte) (Params, error) {
	if len(b) > maxSignHeader {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrSignHeader, len(b), maxSignHeader)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrSignHeader)
	}
	p := Params{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSignHeader, err)
		}
		key, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("%w: key %v", ErrSignHeader, t)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: value of %q: %w", ErrSignHeader, key, err)
		}
		v, err := paramValue(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: value of %q: %w", ErrSignHeader, key, err)
		}
		k := key
		if len(k) >= len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) {
			k = k[len(prefix):]
		}
		if _, seen := p[k]; !seen && len(p) == maxParams {
			return nil, fmt.Errorf("%w: more than %d keys", ErrSignHeader, maxParams)
		}
		p[k] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, fmt.Errorf("%w: unterminated object", ErrSignHeader)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", ErrSignHeader)
	}
	return p, nil
}

func paramValue(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '{', '[':
		var buf bytes.Buffer
		err := json.Compact(&buf, raw)
		// As for a string value, an invalid UTF-8 byte within becomes
		// U+FFFD (Compact copies strings' bytes as they are).
		return strings.ToValidUTF8(buf.String(), "\uFFFD"), err
	case 'n':
		return "", nil
	}
	return string(raw), nil // a number or a boolean, as written
}

// TimestampLayout is the SDK's XroadVnpt-timestamp (§3.4) without its
// "+SSSS" milliseconds: ddMMyyyy'T'HHmmss, the client's local time.
const TimestampLayout = "02012006T150405"

// ParseTimestamp reads an SDK timestamp, e.g. 22112025T103015+0123 (the
// +SSSS is milliseconds, not a zone), as a time in loc.
func ParseTimestamp(s string, loc *time.Location) (time.Time, error) {
	if len(s) != len(TimestampLayout)+5 || s[len(TimestampLayout)] != '+' {
		return time.Time{}, fmt.Errorf("vxp: timestamp %q is not ddMMyyyyTHHmmss+SSSS", s)
	}
	t, err := time.ParseInLocation(TimestampLayout, s[:len(TimestampLayout)], loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("vxp: timestamp %q: %w", s, err)
	}
	ms := 0
	for _, c := range s[len(TimestampLayout)+1:] {
		if c < '0' || c > '9' {
			return time.Time{}, fmt.Errorf("vxp: timestamp %q: milliseconds are not digits", s)
		}
		ms = ms*10 + int(c-'0')
	}
	if ms > 999 {
		return time.Time{}, fmt.Errorf("vxp: timestamp %q: milliseconds above 999", s)
	}
	return t.Add(time.Duration(ms) * time.Millisecond), nil
}

// FormatTimestamp is ParseTimestamp's inverse, as SimpleDateFormat
// "ddMMyyyy'T'HHmmss+SSSS" writes it.
func FormatTimestamp(t time.Time) string {
	return fmt.Sprintf("%s+%04d", t.Format(TimestampLayout), t.Nanosecond()/int(time.Millisecond))
}
