package bundle_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/archive/bundle"
)

// The ZIP container: each refusal of step 1, with its own error.

func withExtra(t *testing.T, extra ...entry) []byte {
	return rezip(t, append(unzip(t, cleanBundle()), extra...))
}

func TestTamperExtraFile(t *testing.T) {
	_, err := verify(withExtra(t, entry{"notes.txt", []byte("đã kiểm tra: hợp lệ"), zip.Deflate}), theHub().cert)
	wantProblems(t, err, problem{bundle.ErrUnknownEntry, "notes.txt", 0, 0})
}

func TestTamperDuplicateEntry(t *testing.T) {
	_, err := verify(withExtra(t, entry{"trace.json", []byte(`{"steps":[]}`), zip.Deflate}), theHub().cert)
	wantProblems(t, err, problem{bundle.ErrDuplicateEntry, "trace.json", 0, 0})
}

func TestMissingEntry(t *testing.T) {
	es := slices.DeleteFunc(unzip(t, cleanBundle()), func(e entry) bool { return e.name == "trace.json" })
	_, err := verify(rezip(t, es), theHub().cert)
	wantProblems(t, err, problem{bundle.ErrMissingEntry, "trace.json", 0, 0})
}

func TestTooManyEntries(t *testing.T) {
	var extra []entry
	for i := range 8 {
		extra = append(extra, entry{strings.Repeat("x", i+1), nil, zip.Store})
	}
	_, err := verify(withExtra(t, extra...), theHub().cert)
	wantProblems(t, err, problem{bundle.ErrTooLarge, "", 0, 0}) // 17 entries: refused from the end record
}

func TestNameTooLong(t *testing.T) {
	name := strings.Repeat("a", 100)
	_, err := verify(withExtra(t, entry{name, nil, zip.Store}), theHub().cert)
	wantProblems(t, err, problem{bundle.ErrTooLarge, name[:64] + "…", 0, 0})
}

// An entry whose directory says it expands beyond its limit is refused
// before it is read.
func TestEntryTooLarge(t *testing.T) {
	z := bytes.Clone(cleanBundle())
	binary.LittleEndian.PutUint32(z[centralRecord(t, z, "verification.json")+24:], 16<<20+1)
	_, err := verify(z, theHub().cert)
	ps := wantProblems(t, err, problem{bundle.ErrTooLarge, "verification.json", 0, 0})
	if ps[0].Msg != "16777217 bytes, at most 16777216" {
		t.Fatal(ps[0].Msg)
	}
}

func TestUnsafePaths(t *testing.T) {
	for _, name := range []string{"../original.edxml", "/etc/passwd", "./trace.json", `docs\trace.json`, "C:trace.json",
		"trace.json\x00", "sub/../trace.json", "trace\u202enosj.txt", "trace\u200b.json", "\xff.json"} {
		t.Run(name, func(t *testing.T) {
			_, err := verify(withExtra(t, entry{name, []byte("{}"), zip.Store}), theHub().cert)
			wantProblems(t, err, problem{bundle.ErrUnsafePath, name, 0, 0})
		})
	}
}

// A local header that names its entry differently from the central
// directory: tools that read local headers would extract another file.
func TestLocalHeaderNameDiffers(t *testing.T) {
	z := bytes.Clone(cleanBundle())
	i := bytes.Index(z, []byte("trace.json"))
	if i < 30 || binary.LittleEndian.Uint32(z[i-30:]) != 0x04034b50 {
		t.Fatal("first trace.json is not in a local header")
	}
	z[i+len("trace.jso")] = 'N'
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrUnsafePath, "trace.json", 0, 0})
}

// zipWith writes the clean bundle's entries, replacing one with a raw
// entry of the given header and compressed bytes.
func zipWith(t *testing.T, hdr *zip.FileHeader, raw []byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range unzip(t, cleanBundle()) {
		if e.name == hdr.Name {
			w, err := zw.CreateRaw(hdr)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(raw)
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func deflate(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// 8 MiB of zeros deflated to 8 KiB: refused from the directory, before a
// byte is inflated.
func TestZipBomb(t *testing.T) {
	zeros := make([]byte, 8<<20)
	raw := deflate(t, zeros)
	z := zipWith(t, &zip.FileHeader{Name: "original.edxml", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(zeros),
		CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(len(zeros))}, raw)
	_, err := verify(z, theHub().cert)
	ps := wantProblems(t, err, problem{bundle.ErrZipBomb, "original.edxml", 0, 0})
	if !strings.Contains(ps[0].Msg, "compressed to") {
		t.Fatal(ps[0].Msg)
	}
}

// An entry that says it expands to 100 bytes but inflates to 1 MiB: it is
// read no further than it says.
func TestZipBombLyingSize(t *testing.T) {
	data := append([]byte(`{"pad":"`), bytes.Repeat([]byte(" "), 1<<20)...)
	raw := deflate(t, data)
	z := zipWith(t, &zip.FileHeader{Name: "trace.json", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data[:100]),
		CompressedSize64: uint64(len(raw)), UncompressedSize64: 100}, raw)
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrZipBomb, "trace.json", 0, 0})
}

// Entries overlapping (one compressed stream serving several entries is
// how a "better zip bomb" multiplies itself): checkpoints.json's data is
// made to run into the next entry.
func TestZipBombOverlap(t *testing.T) {
	z := bytes.Clone(cleanBundle())
	rec := centralRecord(t, z, "checkpoints.json")
	cs := binary.LittleEndian.Uint32(z[rec+20:])
	binary.LittleEndian.PutUint32(z[rec+20:], cs+200)
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrZipBomb, "events.json", 0, 0})
}

// centralRecord returns the offset of name's central directory record.
func centralRecord(t *testing.T, z []byte, name string) int {
	for i := 0; i+46 < len(z); i++ {
		if binary.LittleEndian.Uint32(z[i:]) == 0x02014b50 {
			n := int(binary.LittleEndian.Uint16(z[i+28:]))
			if string(z[i+46:i+46+n]) == name {
				return i
			}
		}
	}
	t.Fatalf("no central record for %s", name)
	return 0
}

func TestUnsupportedMethod(t *testing.T) {
	data := []byte(`{"steps":[]}`)
	z := zipWith(t, &zip.FileHeader{Name: "trace.json", Method: 12, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))}, data)
	_, err := verify(z, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrMalformedZip, "trace.json", 0, 0})
}

func TestTruncated(t *testing.T) {
	z := cleanBundle()
	for _, n := range []int{0, 21, 100, len(z) / 2, len(z) - 200, len(z) - 22, len(z) - 1} {
		_, err := verify(z[:n], theHub().cert)
		wantProblems(t, err, problem{bundle.ErrMalformedZip, "", 0, 0})
	}
}

// Bytes before or after the archive, a comment, a ZIP64 marker: not what
// Write makes, refused.
func TestMalformedArchive(t *testing.T) {
	z := cleanBundle()
	commented := func() []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		zw.SetComment("Đã xác minh: hợp lệ / Verified OK")
		for _, e := range unzip(t, z) {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
			w.Write(e.data)
		}
		zw.Close()
		return b.Bytes()
	}()
	zip64 := bytes.Clone(z)
	binary.LittleEndian.PutUint16(zip64[len(zip64)-12:], 0xffff) // total entries
	for name, c := range map[string]struct {
		zip  []byte
		kind error
	}{
		"appended":  {append(bytes.Clone(z), "trailing"...), bundle.ErrMalformedZip},
		"prepended": {append([]byte("MZ\x90\x00 a stub before the archive"), z...), bundle.ErrMalformedZip},
		"comment":   {commented, bundle.ErrMalformedZip},
		"zip64":     {zip64, bundle.ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verify(c.zip, theHub().cert)
			wantProblems(t, err, problem{c.kind, "", 0, 0})
		})
	}
}

// Not a ZIP at all.
func TestNotAZip(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("PK"), bytes.Repeat([]byte("PK\x05\x06"), 40), testOriginal} {
		_, err := verify(b, theHub().cert)
		wantProblems(t, err, problem{bundle.ErrMalformedZip, "", 0, 0})
	}
}
