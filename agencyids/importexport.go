package agencyids

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Import errors. Test with errors.Is; the *ImportError says where.
var (
	ErrBadHeader      = errors.New("bad CSV header")
	ErrRecordTooLarge = errors.New("record too large")
	ErrBadJSON        = errors.New("bad JSON")
)

// ImportError locates an error in an imported file.
type ImportError struct {
	Line   int    // 1-based CSV line, 0 if not applicable (JSON)
	Index  int    // 0-based JSON array element, -1 if not applicable (CSV)
	Column string // CSV column or JSON key, "" if not applicable
	Err    error
}

// Error returns e.g. `agencyids: import line 12, column "valid_from": …` or
// `agencyids: import element 3, column "validFrom": …`.
func (e *ImportError) Error() string {
	var b strings.Builder
	b.WriteString("agencyids: import")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, " element %d", e.Index)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ImportError) Unwrap() error { return e.Err }

// CSV columns, in export order, with the JSON key of each.
var csvColumns = [...]struct{ name, key string }{
	{"code", "code"},
	{"name", "name"},
	{"parent", "parent"},
	{"alt_code", "altCode"},
	{"valid_from", "validFrom"},
	{"valid_to", "validTo"},
	{"successor", "successor"},
	{"endpoint", "endpoint"},
	{"cert_fingerprints", "certFingerprints"},
}

func csvColumnOf(key string) string {
	for _, c := range csvColumns {
		if c.key == key {
			return c.name
		}
	}
	return key
}

// recordLimiter fails a read once more than max bytes were read since the
// last reset; the importers reset it before each record, which bounds the
// memory a hostile file can make them use. The bound is approximate: bytes
// the decoder read ahead before the reset are not counted.
type recordLimiter struct {
	r   io.Reader
	n   int
	max int
}

var errLimit = fmt.Errorf("more than %d bytes in one record: %w", MaxRecordBytes, ErrRecordTooLarge)

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errLimit
	}
	if len(p) > l.max+1-l.n {
		p = p[:l.max+1-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// skipBOM returns r without a leading UTF-8 byte order mark.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	return br
}

// ImportCSV reads agencies from CSV (UTF-8, optional BOM) with a header row
// naming the columns in any order, case-insensitively: code, name, parent,
// alt_code, valid_from, valid_to, successor, endpoint, cert_fingerprints
// (separated by ";"). Only code and name are required. Fields are trimmed.
// Each row is checked on its own (as by Directory.Add, except for references
// to other agencies) and codes must be unique within the file; errors are
// *ImportError values with the line and column. At most MaxRows rows.
func ImportCSV(r io.Reader) ([]Agency, error) {
	lim := &recordLimiter{r: skipBOM(r), max: MaxRecordBytes}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	wrapRead := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &ImportError{Line: pe.Line, Index: -1, Err: err}
		}
		return &ImportError{Index: -1, Err: err}
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ImportError{Line: 1, Index: -1, Err: fmt.Errorf("no header row: %w", ErrBadHeader)}
	}
	if err != nil {
		return nil, wrapRead(err)
	}
	col := make(map[string]int) // column name -> index
	for i, h := range header {
		line, _ := cr.FieldPos(i)
		h = strings.ToLower(strings.TrimSpace(h))
		known := false
		for _, c := range csvColumns {
			known = known || c.name == h
		}
		switch _, dup := col[h]; {
		case !known:
			return nil, &ImportError{Line: line, Index: -1, Column: h, Err: fmt.Errorf("unknown column %q: %w", h, ErrBadHeader)}
		case dup:
			return nil, &ImportError{Line: line, Index: -1, Column: h, Err: fmt.Errorf("duplicate column %q: %w", h, ErrBadHeader)}
		}
		col[h] = i
	}
	for _, req := range []string{"code", "name"} {
		if _, ok := col[req]; !ok {
			return nil, &ImportError{Line: 1, Index: -1, Column: req, Err: fmt.Errorf("missing column %q: %w", req, ErrBadHeader)}
		}
	}

	var out []Agency
	seen := make(map[Code]int) // code or alt code -> line
	for {
		lim.n = 0
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, wrapRead(err)
		}
		lineOf := func(column string) int {
			if i, ok := col[column]; ok {
				line, _ := cr.FieldPos(i)
				return line
			}
			line, _ := cr.FieldPos(0)
			return line
		}
		if len(out) == maxRows {
			return nil, &ImportError{Line: lineOf("code"), Index: -1,
				Err: fmt.Errorf("more than %d rows: %w", maxRows, ErrTooManyRows)}
		}
		fail := func(key string, err error) error {
			var fe *fieldError
			if errors.As(err, &fe) {
				key, err = fe.field, fe.cause()
			}
			c := csvColumnOf(key)
			return &ImportError{Line: lineOf(c), Index: -1, Column: c, Err: err}
		}
		a, key, err := agencyFromRecord(rec, col)
		if err != nil {
			return nil, fail(key, err)
		}
		if err := validateFields(&a); err != nil {
			return nil, fail("", err)
		}
		if key, err := claimCodes(seen, &a, func(key string) int { return lineOf(csvColumnOf(key)) }, "on line %d"); err != nil {
			return nil, fail(key, err)
		}
		out = append(out, a)
	}
}

// claimCodes records a's code and alternative code in seen at the position
// at gives for their key; a code seen before is ErrExists, saying where
// (where formats that position). It returns the key of the offending field.
func claimCodes(seen map[Code]int, a *Agency, at func(key string) int, where string) (string, error) {
	for _, c := range [2]struct {
		code Code
		key  string
	}{{a.Code, "code"}, {a.AltCode, "altCode"}} {
		if c.code == "" {
			continue
		}
		if prev, dup := seen[c.code]; dup {
			return c.key, fmt.Errorf("%s already used "+where+": %w", c.code, prev, ErrExists)
		}
		seen[c.code] = at(c.key)
	}
	return "", nil
}

// agencyFromRecord converts one CSV record; on error it returns the JSON key
// of the offending field.
func agencyFromRecord(rec []string, col map[string]int) (Agency, string, error) {
	var a Agency
	get := func(name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for _, c := range [...]struct {
		name, key string
		dst       *Code
	}{
		{"code", "code", &a.Code}, {"parent", "parent", &a.Parent},
		{"alt_code", "altCode", &a.AltCode}, {"successor", "successor", &a.Successor},
	} {
		if s := get(c.name); s != "" {
			code, err := Parse(s)
			if err != nil {
				return a, c.key, err
			}
			*c.dst = code
		}
	}
	for _, c := range [...]struct {
		name, key string
		dst       *time.Time
	}{{"valid_from", "validFrom", &a.ValidFrom}, {"valid_to", "validTo", &a.ValidTo}} {
		if s := get(c.name); s != "" {
			t, err := parseDate(s)
			if err != nil {
				return a, c.key, err
			}
			*c.dst = t
		}
	}
	if s := get("cert_fingerprints"); s != "" {
		parts := strings.Split(s, ";")
		for _, p := range parts {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if len(a.CertFingerprints) == MaxFingerprints {
				return a, "certFingerprints", fmt.Errorf("more than %d entries: %w", MaxFingerprints, ErrFieldTooLong)
			}
			f, err := ParseFingerprint(p)
			if err != nil {
				return a, "certFingerprints", err
			}
			a.CertFingerprints = append(a.CertFingerprints, f)
		}
	}
	a.Name, a.Endpoint = get("name"), get("endpoint")
	return a, "", nil
}

// ImportJSON reads agencies from a JSON array of Agency objects (see
// Agency.UnmarshalJSON). Each element is checked on its own (as by
// Directory.Add, except for references to other agencies) and codes must be
// unique within the file; errors are *ImportError values with the element
// index and key. At most MaxRows elements of at most MaxRecordBytes each.
func ImportJSON(r io.Reader) ([]Agency, error) {
	lim := &recordLimiter{r: skipBOM(r), max: MaxRecordBytes}
	dec := json.NewDecoder(lim)
	top := func(err error) error { return &ImportError{Index: -1, Err: err} }
	tok, err := dec.Token()
	if err != nil {
		return nil, top(fmt.Errorf("%w: %w", ErrBadJSON, err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, top(fmt.Errorf("%w: want an array of agencies, got %v", ErrBadJSON, tok))
	}
	var out []Agency
	seen := make(map[Code]int) // code or alt code -> index
	for i := 0; ; i++ {
		lim.n = 0
		if !dec.More() {
			break
		}
		elem := func(key string, err error) error {
			var fe *fieldError
			if errors.As(err, &fe) {
				key, err = fe.field, fe.cause()
			}
			var te *json.UnmarshalTypeError
			if key == "" && errors.As(err, &te) {
				key = te.Field
			}
			return &ImportError{Index: i, Column: key, Err: err}
		}
		if i == maxRows {
			return nil, elem("", fmt.Errorf("more than %d elements: %w", maxRows, ErrTooManyRows))
		}
		var a Agency
		if err := dec.Decode(&a); err != nil {
			var fe *fieldError
			var te *json.UnmarshalTypeError
			if !errors.As(err, &fe) && !errors.As(err, &te) && !errors.Is(err, ErrRecordTooLarge) {
				err = fmt.Errorf("%w: %w", ErrBadJSON, err)
			}
			return nil, elem("", err)
		}
		if err := validateFields(&a); err != nil {
			return nil, elem("", err)
		}
		if key, err := claimCodes(seen, &a, func(string) int { return i }, "by element %d"); err != nil {
			return nil, elem(key, err)
		}
		out = append(out, a)
	}
	if _, err := dec.Token(); err != nil {
		return nil, top(fmt.Errorf("%w: %w", ErrBadJSON, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, top(fmt.Errorf("%w: data after the array", ErrBadJSON))
	}
	return out, nil
}

// WriteJSON writes every agency, sorted by code, as a JSON array with one
// element per line; ImportJSON reads it back.
func (d *Directory) WriteJSON(w io.Writer) error { return WriteJSON(w, d.All()) }

// WriteCSV writes every agency, sorted by code, as CSV with a header row of
// all columns; ImportCSV reads it back.
func (d *Directory) WriteCSV(w io.Writer) error {
	return WriteCSV(w, d.All())
}

// WriteCSV writes agencies as CSV, in the given order, with a header row of
// all columns; ImportCSV reads it back.
func WriteCSV(w io.Writer, agencies []Agency) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		rec[i] = c.name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	var fps bytes.Buffer
	for _, a := range agencies {
		fps.Reset()
		for i, f := range a.CertFingerprints {
			if i > 0 {
				fps.WriteByte(';')
			}
			fps.WriteString(f.String())
		}
		rec = append(rec[:0], string(a.Code), a.Name, string(a.Parent), string(a.AltCode),
			formatDate(a.ValidFrom), formatDate(a.ValidTo), string(a.Successor), a.Endpoint, fps.String())
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes agencies as a JSON array, in the given order, one element
// per line; ImportJSON reads it back.
func WriteJSON(w io.Writer, agencies []Agency) error {
	if len(agencies) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i, a := range agencies {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		bw.Write(b)
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}
