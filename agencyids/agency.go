package agencyids

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on agency records, enforced by Directory and by the importers.
const (
	MaxNameLen      = 500       // characters (runes) in Agency.Name
	MaxEndpointLen  = 2048      // characters in Agency.Endpoint
	MaxFingerprints = 64        // entries in Agency.CertFingerprints
	MaxRows         = 1_000_000 // agencies in one import or Load
	MaxRecordBytes  = 1 << 20   // bytes of one CSV record or JSON element (approximate: read-ahead is not counted)
)

// Errors about agency records and the directory. Test with errors.Is.
var (
	// ErrInvalidAgency matches every error about a single agency record
	// (in addition to the more specific sentinel, if any).
	ErrInvalidAgency     = errors.New("invalid agency")
	ErrMissingValue      = errors.New("required value is empty")
	ErrFieldTooLong      = errors.New("value too long")
	ErrBadDate           = errors.New("bad date")
	ErrNotFound          = errors.New("agency not found")
	ErrExists            = errors.New("agency code already in use")
	ErrRetiredCode       = errors.New("agency code is retired")
	ErrUnknownParent     = errors.New("parent agency not in directory")
	ErrUnknownSuccessor  = errors.New("successor agency not in directory")
	ErrInactiveSuccessor = errors.New("successor agency not active")
	ErrParentCycle       = errors.New("parent cycle")
	ErrSuccessorCycle    = errors.New("successor cycle")
	ErrNotActive         = errors.New("agency not active")
	ErrImmutable         = errors.New("field cannot be changed")
	ErrTooManyRows       = errors.New("too many agencies")
)

// Agency is one entry of the agency directory.
type Agency struct {
	Code    Code // strictly valid identifier (either form)
	AltCode Code // optional: the same agency's code in the other form
	Name    string
	// Parent is optional. When empty, the Directory derives it from
	// Code.Parent() if that agency exists there; Directory methods return
	// the effective parent (primary code) here.
	Parent    Code
	ValidFrom time.Time // zero: valid since always
	ValidTo   time.Time // exclusive; zero: still valid. Non-zero means retired.
	Successor Code      // for retired codes: the agency that took over
	Endpoint  string    // optional delivery endpoint URL (http or https)
	// CertFingerprints are SHA-256 fingerprints of certificates bound to
	// the agency.
	CertFingerprints []Fingerprint
}

// ActiveAt reports whether a is valid at t: ValidFrom <= t < ValidTo, a zero
// bound being open.
func (a Agency) ActiveAt(t time.Time) bool {
	return (a.ValidFrom.IsZero() || !t.Before(a.ValidFrom)) &&
		(a.ValidTo.IsZero() || t.Before(a.ValidTo))
}

// Retired reports whether a has an end of validity (ValidTo set), in the past
// or scheduled.
func (a Agency) Retired() bool { return !a.ValidTo.IsZero() }

// maxRows is MaxRows, lowered by tests.
var maxRows = MaxRows

// ict is Vietnam time. A date without a time of day means the start of that
// day in Vietnam, the time zone of the decisions that set such dates.
var ict = time.FixedZone("ICT", 7*60*60)

const dateLayout = "2006-01-02"

// parseDate parses "YYYY-MM-DD" (midnight, UTC+07:00) or RFC 3339.
func parseDate(s string) (time.Time, error) {
	if len(s) == len(dateLayout) {
		t, err := time.ParseInLocation(dateLayout, s, ict)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD: %w", s, ErrBadDate)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339: %w", s, ErrBadDate)
	}
	return t, nil
}

// formatDate formats t as "YYYY-MM-DD" if it is midnight in Vietnam, else as
// RFC 3339 with its own offset; the zero time gives "".
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	v := t.In(ict)
	if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
		return v.Format(dateLayout)
	}
	return t.Format(time.RFC3339Nano)
}

// agencyJSON is the JSON shape of an Agency.
type agencyJSON struct {
	Code             string   `json:"code"`
	AltCode          string   `json:"altCode,omitempty"`
	Name             string   `json:"name"`
	Parent           string   `json:"parent,omitempty"`
	ValidFrom        string   `json:"validFrom,omitempty"`
	ValidTo          string   `json:"validTo,omitempty"`
	Successor        string   `json:"successor,omitempty"`
	Endpoint         string   `json:"endpoint,omitempty"`
	CertFingerprints []string `json:"certFingerprints,omitempty"`
}

// MarshalJSON implements json.Marshaler with lower-camel keys; empty fields
// are left out, dates are "YYYY-MM-DD" when at midnight Vietnam time and RFC
// 3339 otherwise, fingerprints are lower-case hex.
func (a Agency) MarshalJSON() ([]byte, error) {
	j := agencyJSON{
		Code: string(a.Code), AltCode: string(a.AltCode), Name: a.Name,
		Parent: string(a.Parent), ValidFrom: formatDate(a.ValidFrom), ValidTo: formatDate(a.ValidTo),
		Successor: string(a.Successor), Endpoint: a.Endpoint,
	}
	for _, f := range a.CertFingerprints {
		j.CertFingerprints = append(j.CertFingerprints, f.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler. Codes are parsed strictly,
// dates accept "YYYY-MM-DD" and RFC 3339, fingerprints accept the forms of
// ParseFingerprint. Empty strings leave fields at their zero value. Errors
// name the offending key. It does not check required fields or limits; the
// importers and the Directory do.
func (a *Agency) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var j agencyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var v Agency
	codes := []struct {
		key string
		s   string
		dst *Code
	}{
		{"code", j.Code, &v.Code}, {"altCode", j.AltCode, &v.AltCode},
		{"parent", j.Parent, &v.Parent}, {"successor", j.Successor, &v.Successor},
	}
	for _, c := range codes {
		if c.s == "" {
			continue
		}
		code, err := Parse(c.s)
		if err != nil {
			return &fieldError{field: c.key, err: err}
		}
		*c.dst = code
	}
	dates := []struct {
		key string
		s   string
		dst *time.Time
	}{{"validFrom", j.ValidFrom, &v.ValidFrom}, {"validTo", j.ValidTo, &v.ValidTo}}
	for _, d := range dates {
		if d.s == "" {
			continue
		}
		t, err := parseDate(d.s)
		if err != nil {
			return &fieldError{field: d.key, err: err}
		}
		*d.dst = t
	}
	if len(j.CertFingerprints) > MaxFingerprints {
		return &fieldError{field: "certFingerprints",
			msg: fmt.Sprintf("%d entries, maximum %d", len(j.CertFingerprints), MaxFingerprints), err: ErrFieldTooLong}
	}
	for _, s := range j.CertFingerprints {
		f, err := ParseFingerprint(s)
		if err != nil {
			return &fieldError{field: "certFingerprints", err: err}
		}
		v.CertFingerprints = append(v.CertFingerprints, f)
	}
	v.Name, v.Endpoint = j.Name, j.Endpoint
	*a = v
	return nil
}

// fieldError is an error about one field of an agency record. It matches
// ErrInvalidAgency as well as its own cause.
type fieldError struct {
	field string // JSON key
	msg   string // optional detail
	err   error
	state bool // about the record's relation to the directory, not the record itself
}

func (e *fieldError) Error() string { return e.field + ": " + e.cause().Error() }

// cause returns the error without the field name.
func (e *fieldError) cause() error {
	if e.msg == "" {
		return e.err
	}
	return fmt.Errorf("%s: %w", e.msg, e.err)
}

func (e *fieldError) Unwrap() error { return e.err }

// Is makes errors about the record itself match ErrInvalidAgency.
func (e *fieldError) Is(target error) bool { return target == ErrInvalidAgency && !e.state }

// stateError is an error about how the record relates to the directory
// (duplicate code, unknown parent, …); it does not match ErrInvalidAgency.
func stateError(field, msg string, err error) *fieldError {
	return &fieldError{field: field, msg: msg, err: err, state: true}
}

func invalid(field, msg string) *fieldError {
	return &fieldError{field: field, msg: msg, err: ErrInvalidAgency}
}

// validateFields checks one agency record on its own (no directory
// context).
func validateFields(a *Agency) error {
	if a.Code == "" {
		return &fieldError{field: "code", err: ErrMissingValue}
	}
	codeForm, perr := classify(string(a.Code))
	if perr != nil {
		return &fieldError{field: "code", err: perr}
	}
	if err := validateName(a.Name); err != nil {
		return err
	}
	if a.AltCode != "" {
		f, perr := classify(string(a.AltCode))
		switch {
		case perr != nil:
			return &fieldError{field: "altCode", err: perr}
		case f == codeForm:
			return invalid("altCode", fmt.Sprintf("%s is in the same form (%s) as the code; it must be in the other form", a.AltCode, f))
		}
	}
	if a.Parent != "" {
		if _, perr := classify(string(a.Parent)); perr != nil {
			return &fieldError{field: "parent", err: perr}
		}
		if a.Parent == a.Code || (a.AltCode != "" && a.Parent == a.AltCode) {
			return &fieldError{field: "parent", msg: "agency is its own parent", err: ErrParentCycle}
		}
	}
	if !a.ValidFrom.IsZero() && !a.ValidTo.IsZero() && !a.ValidTo.After(a.ValidFrom) {
		return invalid("validTo", fmt.Sprintf("%s is not after validFrom %s", formatDate(a.ValidTo), formatDate(a.ValidFrom)))
	}
	if a.Successor != "" {
		if _, perr := classify(string(a.Successor)); perr != nil {
			return &fieldError{field: "successor", err: perr}
		}
		if a.Successor == a.Code || (a.AltCode != "" && a.Successor == a.AltCode) {
			return &fieldError{field: "successor", msg: "agency is its own successor", err: ErrSuccessorCycle}
		}
		if a.ValidTo.IsZero() {
			return invalid("successor", "set on an agency without validTo")
		}
	}
	if err := validateEndpoint(a.Endpoint); err != nil {
		return err
	}
	if n := len(a.CertFingerprints); n > MaxFingerprints {
		return &fieldError{field: "certFingerprints", msg: fmt.Sprintf("%d entries, maximum %d", n, MaxFingerprints), err: ErrFieldTooLong}
	}
	for i, f := range a.CertFingerprints {
		if f.IsZero() {
			return &fieldError{field: "certFingerprints", msg: "all-zero fingerprint", err: ErrBadFingerprint}
		}
		for _, g := range a.CertFingerprints[:i] {
			if g == f {
				return &fieldError{field: "certFingerprints", msg: "duplicate " + f.String(), err: ErrBadFingerprint}
			}
		}
	}
	return nil
}

func validateName(name string) error {
	switch {
	case name == "":
		return &fieldError{field: "name", err: ErrMissingValue}
	case !utf8.ValidString(name):
		return invalid("name", "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLen {
		return &fieldError{field: "name", msg: fmt.Sprintf("%d characters, maximum %d", n, MaxNameLen), err: ErrFieldTooLong}
	}
	if strings.TrimSpace(name) != name {
		return invalid("name", "leading or trailing white space")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return invalid("name", fmt.Sprintf("control character %q", r))
		}
	}
	if len(appendFold(nil, name)) == 0 {
		return invalid("name", "no letters or digits")
	}
	return nil
}

func validateEndpoint(ep string) error {
	if ep == "" {
		return nil
	}
	if n := utf8.RuneCountInString(ep); n > MaxEndpointLen {
		return &fieldError{field: "endpoint", msg: fmt.Sprintf("%d characters, maximum %d", n, MaxEndpointLen), err: ErrFieldTooLong}
	}
	if strings.ContainsFunc(ep, unicode.IsSpace) {
		return invalid("endpoint", "contains white space")
	}
	u, err := url.Parse(ep)
	if err != nil {
		return invalid("endpoint", err.Error())
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid("endpoint", fmt.Sprintf("%q is not an absolute http or https URL", ep))
	}
	return nil
}
