package agencyids_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

func TestAgencyJSON(t *testing.T) {
	a := agencyids.Agency{
		Code: "000.00.04.H53", AltCode: "H53.04", Name: "Sở Kế hoạch và Đầu tư tỉnh Tây Ninh", Parent: "000.00.00.H53",
		ValidFrom: day(2016, 4, 1), ValidTo: time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC), Successor: "000.00.05.H53",
		Endpoint: "https://edoc.tayninh.gov.vn/edxml", CertFingerprints: []agencyids.Fingerprint{fpA},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":"000.00.04.H53","altCode":"H53.04","name":"Sở Kế hoạch và Đầu tư tỉnh Tây Ninh","parent":"000.00.00.H53",` +
		`"validFrom":"2016-04-01","validTo":"2025-03-01T08:30:00Z","successor":"000.00.05.H53",` +
		`"endpoint":"https://edoc.tayninh.gov.vn/edxml","certFingerprints":["` + fpA.String() + `"]}`
	if string(b) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", b, want)
	}
	var back agencyids.Agency
	if err := json.Unmarshal(b, &back); err != nil || !sameAgency(a, back) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if b, _ := json.Marshal(agencyids.Agency{Code: "G09", Name: "Bộ Nội vụ"}); string(b) != `{"code":"G09","name":"Bộ Nội vụ"}` {
		t.Errorf("minimal Marshal = %s", b)
	}

	dates := map[string]time.Time{
		"2020-09-15":                day(2020, 9, 15),
		"2020-09-15T00:00:00+07:00": day(2020, 9, 15),
		"2020-09-14T17:00:00Z":      day(2020, 9, 15),
		"2020-09-15T10:20:30.5Z":    time.Date(2020, 9, 15, 10, 20, 30, 5e8, time.UTC),
	}
	for s, want := range dates {
		var a agencyids.Agency
		if err := json.Unmarshal([]byte(`{"code":"G09","name":"x","validFrom":"`+s+`"}`), &a); err != nil || !a.ValidFrom.Equal(want) {
			t.Errorf("validFrom %q = %v, %v; want %v", s, a.ValidFrom, err, want)
		}
	}

	bad := []struct {
		doc string
		err error
		key string
	}{
		{`{"code":"01.02.G22"}`, agencyids.ErrBadLevel1, "code"},
		{`{"code":"G09","altCode":"g09"}`, agencyids.ErrLowerCase, "altCode"},
		{`{"code":"G09","parent":"G09 "}`, agencyids.ErrBadChar, "parent"},
		{`{"code":"G09","successor":"."}`, agencyids.ErrBadGroup, "successor"},
		{`{"code":"G09","validFrom":"15/09/2020"}`, agencyids.ErrBadDate, "validFrom"},
		{`{"code":"G09","validTo":"2020-02-30"}`, agencyids.ErrBadDate, "validTo"},
		{`{"code":"G09","certFingerprints":["00"]}`, agencyids.ErrBadFingerprint, "certFingerprints"},
		{`{"code":"G09","certFingerprints":[` + strings.Repeat(`"`+fpA.String()+`",`, 64) + `"` + fpA.String() + `"]}`, agencyids.ErrFieldTooLong, "certFingerprints"},
	}
	for _, tt := range bad {
		var a agencyids.Agency
		err := json.Unmarshal([]byte(tt.doc), &a)
		if !errors.Is(err, tt.err) || !strings.HasPrefix(err.Error(), tt.key+": ") {
			t.Errorf("Unmarshal(%.60s) = %v, want %v on %s", tt.doc, err, tt.err, tt.key)
		}
	}
	var x agencyids.Agency
	if err := json.Unmarshal([]byte(`{"name":5}`), &x); err == nil {
		t.Error("type error not reported")
	}
}

func TestImportSample(t *testing.T) {
	f, err := os.Open("../testdata/agencies/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	as, err := agencyids.ImportCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) < 150 || len(as) > 250 {
		t.Fatalf("sample has %d agencies", len(as))
	}
	d := agencyids.NewDirectory()
	if err := d.Load(as); err != nil {
		t.Fatal(err)
	}
	var retired, withAlt, withEndpoint int
	levels := map[int]int{}
	for _, a := range d.All() {
		levels[a.Code.Level()]++
		if a.Retired() {
			retired++
			if a.Successor != "" {
				if _, err := d.Resolve(a.Code, day(2030, 1, 1)); err != nil {
					t.Errorf("Resolve(%s): %v", a.Code, err)
				}
			}
		}
		if a.AltCode != "" {
			withAlt++
		}
		if a.Endpoint != "" {
			withEndpoint++
		}
	}
	if retired == 0 || withAlt == 0 || withEndpoint == 0 || levels[1] == 0 || levels[2] == 0 || levels[3] == 0 || levels[4] == 0 {
		t.Errorf("sample lacks variety: retired %d, alt %d, endpoint %d, levels %v", retired, withAlt, withEndpoint, levels)
	}
	if got := d.SearchName("uy ban nhan dan", 5); len(got) != 5 {
		t.Errorf("SearchName on sample: %d results", len(got))
	}
	roundTrip(t, d)
}

// roundTrip writes d as CSV and as JSON, reads both back into new
// directories and checks they equal d.
func roundTrip(t *testing.T, d *agencyids.Directory) {
	t.Helper()
	want := d.All()
	for _, format := range []string{"csv", "json"} {
		var buf bytes.Buffer
		var err error
		if format == "csv" {
			err = d.WriteCSV(&buf)
		} else {
			err = d.WriteJSON(&buf)
		}
		if err != nil {
			t.Fatalf("%s: write: %v", format, err)
		}
		var as []agencyids.Agency
		if format == "csv" {
			as, err = agencyids.ImportCSV(&buf)
		} else {
			as, err = agencyids.ImportJSON(&buf)
		}
		if err != nil {
			t.Fatalf("%s: import: %v", format, err)
		}
		d2 := agencyids.NewDirectory()
		if err := d2.Load(as); err != nil {
			t.Fatalf("%s: load: %v", format, err)
		}
		got := d2.All()
		if len(got) != len(want) {
			t.Fatalf("%s: %d agencies, want %d", format, len(got), len(want))
		}
		for i := range got {
			if !sameAgency(got[i], want[i]) {
				t.Errorf("%s: %+v\nwant %+v", format, got[i], want[i])
			}
		}
	}
}

func TestRoundTripAllFields(t *testing.T) {
	d := newFixture(t)
	if err := d.Add(agencyids.Agency{Code: "G09.01.05", AltCode: "005.00.01.G09", Name: `Phòng "Văn thư", Lưu trữ; số 1`,
		ValidFrom: time.Date(2019, 1, 2, 3, 4, 5, 6, time.UTC), Endpoint: "https://x.vn/a,b;c",
		CertFingerprints: []agencyids.Fingerprint{fpB, fpC}}); err == nil {
		t.Fatal("alt code with a level gap accepted")
	}
	if err := d.Add(agencyids.Agency{Code: "G09.01.05", AltCode: "000.05.01.G09", Name: `Phòng "Văn thư", Lưu trữ; số 1`,
		ValidFrom: time.Date(2019, 1, 2, 3, 4, 5, 6, time.UTC), Endpoint: "https://x.vn/a,b;c",
		CertFingerprints: []agencyids.Fingerprint{fpB, fpC}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Retire("000.21.31.H53", time.Date(2020, 1, 1, 12, 0, 0, 0, ict), "000.20.31.H53"); err != nil {
		t.Fatal(err)
	}
	if err := d.Retire("000.12.31.H53", day(2021, 1, 1), ""); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, d)
	roundTrip(t, agencyids.NewDirectory())
}

func TestWriteEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := agencyids.NewDirectory().WriteJSON(&b); err != nil || b.String() != "[]\n" {
		t.Errorf("WriteJSON(empty) = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := agencyids.NewDirectory().WriteCSV(&b); err != nil || b.String() != "code,name,parent,alt_code,valid_from,valid_to,successor,endpoint,cert_fingerprints\n" {
		t.Errorf("WriteCSV(empty) = %q, %v", b.String(), err)
	}
}

func TestImportCSVAccepts(t *testing.T) {
	in := "\uFEFF Name ,CODE,Valid_From,cert_fingerprints\n" +
		"\"Ủy ban nhân dân, tỉnh Tây Ninh\",000.00.00.H53,2016-04-01,\" " + strings.ToUpper(colons(fpA.String())) + "\n;\n" + fpB.String() + ";\"\n" +
		"\n" +
		"  Bộ Nội vụ  ,  G09  ,,\n"
	as, err := agencyids.ImportCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []agencyids.Agency{
		{Code: "000.00.00.H53", Name: "Ủy ban nhân dân, tỉnh Tây Ninh", ValidFrom: day(2016, 4, 1), CertFingerprints: []agencyids.Fingerprint{fpA, fpB}},
		{Code: "G09", Name: "Bộ Nội vụ"},
	}
	if len(as) != len(want) {
		t.Fatalf("got %d agencies", len(as))
	}
	for i := range want {
		if !sameAgency(as[i], want[i]) {
			t.Errorf("got %+v\nwant %+v", as[i], want[i])
		}
	}
}

func TestImportCSVErrors(t *testing.T) {
	const header = "code,name,valid_from,cert_fingerprints,endpoint\n"
	long := strings.Repeat("Đ", 501)
	tests := []struct {
		name   string
		in     string
		line   int
		column string
		err    error
	}{
		{"empty", "", 1, "", agencyids.ErrBadHeader},
		{"unknown column", "code,name,note\n", 1, "note", agencyids.ErrBadHeader},
		{"duplicate column", "code,name,Code\n", 1, "code", agencyids.ErrBadHeader},
		{"missing name column", "code,parent\n", 1, "name", agencyids.ErrBadHeader},
		{"bad code", header + "000.00.00.H53,A,,,\n01.02.G22,B,,,\n", 3, "code", agencyids.ErrBadLevel1},
		{"lower-case code", header + "000.00.00.h53,A,,,\n", 2, "code", agencyids.ErrLowerCase},
		{"empty code", header + " ,A,,,\n", 2, "code", agencyids.ErrMissingValue},
		{"empty name", header + "G09,,,,\n", 2, "name", agencyids.ErrMissingValue},
		{"name too long", header + "G09," + long + ",,,\n", 2, "name", agencyids.ErrFieldTooLong},
		{"name with newline", header + "G09,\"a\nb\",,,\n", 2, "name", agencyids.ErrInvalidAgency},
		{"line after multi-line field", header + "G09,A,,\"" + fpA.String() + "\n;\n" + fpB.String() + "\",\nG10,B,2020-13-01,,\n", 5, "valid_from", agencyids.ErrBadDate},
		{"column after multi-line field", header + "G09,A,,\"" + fpA.String() + "\n;\n" + fpB.String() + "\",ftp://x.vn\n", 4, "endpoint", agencyids.ErrInvalidAgency},
		{"multi-line field", header + "G09,A,,\"" + fpA.String() + "\n;\nxyz\",\n", 2, "cert_fingerprints", agencyids.ErrBadFingerprint},
		{"bad date", header + "G09,A,,,\nG10,B,01/01/2020,,\n", 3, "valid_from", agencyids.ErrBadDate},
		{"bad fingerprint", header + "G09,A,,abc,\n", 2, "cert_fingerprints", agencyids.ErrBadFingerprint},
		{"duplicate fingerprint", header + "G09,A,," + fpA.String() + ";" + fpA.String() + ",\n", 2, "cert_fingerprints", agencyids.ErrBadFingerprint},
		{"too many fingerprints", header + "G09,A,," + strings.Repeat(fpA.String()+";", 65) + ",\n", 2, "cert_fingerprints", agencyids.ErrFieldTooLong},
		{"endpoint too long", header + "G09,A,,,https://x.vn/" + strings.Repeat("a", 2040) + "\n", 2, "endpoint", agencyids.ErrFieldTooLong},
		{"endpoint invalid", header + "G09,A,,,mailto:x@y.vn\n", 2, "endpoint", agencyids.ErrInvalidAgency},
		{"duplicate code", header + "G09,A,,,\nG10,B,,,\nG09,C,,,\n", 4, "code", agencyids.ErrExists},
		{"alt code equals a code", "code,name,alt_code\n000.00.00.G09,A,G10\nG10,B,\n", 3, "code", agencyids.ErrExists},
		{"alt code same form", "code,name,alt_code\nG09,A,G10\n", 2, "alt_code", agencyids.ErrInvalidAgency},
		{"validTo before validFrom", "code,name,valid_from,valid_to\nG09,A,2020-01-01,2019-01-01\n", 2, "valid_to", agencyids.ErrInvalidAgency},
		{"successor without validTo", "code,name,successor\nG09,A,G10\n", 2, "successor", agencyids.ErrInvalidAgency},
		{"field count", header + "G09,A,,,\nG10,B\n", 3, "", csv.ErrFieldCount},
		{"bare quote", header + "G09,A\"b,,,\n", 2, "", csv.ErrBareQuote},
		{"huge record", header + "G09," + strings.Repeat("a", 2*agencyids.MaxRecordBytes) + ",,,\n", 0, "", agencyids.ErrRecordTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, err := agencyids.ImportCSV(strings.NewReader(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("ImportCSV = %d agencies, %v; want %v", len(as), err, tt.err)
			}
			var ie *agencyids.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *ImportError", err)
			}
			if tt.line > 0 && ie.Line != tt.line || ie.Column != tt.column || ie.Index != -1 {
				t.Errorf("Line %d Column %q Index %d; want %d %q -1 (%v)", ie.Line, ie.Column, ie.Index, tt.line, tt.column, err)
			}
			if as != nil {
				t.Errorf("partial result of %d agencies", len(as))
			}
			if tt.line > 0 && !strings.Contains(err.Error(), "line ") {
				t.Errorf("message %q lacks the line", err)
			}
		})
	}
}

func TestImportJSON(t *testing.T) {
	in := ` [ {"code":"000.00.00.H53","name":"Ủy ban nhân dân tỉnh Tây Ninh","altCode":"H53","validFrom":"2016-04-01"},
	{"code":"000.00.01.H53","name":"Văn phòng","unknownKey":1} ] `
	as, err := agencyids.ImportJSON(strings.NewReader("\uFEFF" + in))
	if err != nil || len(as) != 2 || as[0].AltCode != "H53" || !as[0].ValidFrom.Equal(day(2016, 4, 1)) {
		t.Fatalf("ImportJSON = %+v, %v", as, err)
	}
	if as, err := agencyids.ImportJSON(strings.NewReader("[]")); err != nil || len(as) != 0 {
		t.Errorf("empty array: %v, %v", as, err)
	}
	tests := []struct {
		name  string
		in    string
		index int
		key   string
		err   error
	}{
		{"empty", "", -1, "", agencyids.ErrBadJSON},
		{"object", `{"code":"G09"}`, -1, "", agencyids.ErrBadJSON},
		{"truncated", `[{"code":"G09","name":"A"}`, -1, "", agencyids.ErrBadJSON},
		{"trailing data", `[{"code":"G09","name":"A"}] []`, -1, "", agencyids.ErrBadJSON},
		{"syntax error", `[{"code":"G09","name":"A"},{"code":}]`, 1, "", agencyids.ErrBadJSON},
		{"bad code", `[{"code":"G09","name":"A"},{"code":"g10","name":"B"}]`, 1, "code", agencyids.ErrLowerCase},
		{"bad date", `[{"code":"G09","name":"A","validTo":"2020"}]`, 0, "validTo", agencyids.ErrBadDate},
		{"wrong type", `[{"code":"G09","name":["A"]}]`, 0, "name", nil},
		{"null element", `[null]`, 0, "code", agencyids.ErrMissingValue},
		{"missing name", `[{"code":"G09"}]`, 0, "name", agencyids.ErrMissingValue},
		{"name too long", `[{"code":"G09","name":"` + strings.Repeat("a", 501) + `"}]`, 0, "name", agencyids.ErrFieldTooLong},
		{"duplicate", `[{"code":"G09","name":"A"},{"code":"G10","name":"B","altCode":"000.00.00.G09"},{"code":"000.00.00.G09","name":"C"}]`, 2, "code", agencyids.ErrExists},
		{"huge element", `[{"code":"G09","name":"` + strings.Repeat("a", 2*agencyids.MaxRecordBytes) + `"}]`, 0, "", agencyids.ErrRecordTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, err := agencyids.ImportJSON(strings.NewReader(tt.in))
			var ie *agencyids.ImportError
			if err == nil || !errors.As(err, &ie) {
				t.Fatalf("ImportJSON = %d agencies, %v", len(as), err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
			if ie.Index != tt.index || ie.Column != tt.key || ie.Line != 0 {
				t.Errorf("Index %d Column %q Line %d; want %d %q (%v)", ie.Index, ie.Column, ie.Line, tt.index, tt.key, err)
			}
			if tt.index >= 0 && !strings.Contains(err.Error(), "element ") {
				t.Errorf("message %q lacks the element", err)
			}
		})
	}
}
