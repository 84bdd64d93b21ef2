package bundle

import (
	"archive/zip"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/edocgw/edocgw/archive"
)

// ZIP records (APPNOTE.TXT 4.3): signatures and fixed lengths.
const (
	sigEnd     = 0x06054b50
	sigCentral = 0x02014b50
	sigLocal   = 0x04034b50
	endLen     = 22
	centralLen = 46
	localLen   = 30
	maxComment = 0xffff
)

// container is a bundle's ZIP with its structure checked: every entry one
// of the bundle's, once, within the limits.
type container struct {
	zr    *zip.Reader
	files map[string]*zip.File
}

// dirEntry is what the central directory says of an entry, read by us
// before archive/zip reads it.
type dirEntry struct {
	name       string
	method     uint16
	header     int64 // offset of the local header
	compressed int64
}

func zipErr(file string, kind error, format string, args ...any) *Error {
	return &Error{File: file, Err: kind, Msg: fmt.Sprintf(format, args...)}
}

// openContainer checks the ZIP's structure (step 1) and opens it. Bounds
// come first: the end record is read and the entry count and directory size
// checked before anything proportional to them is read.
func openContainer(r io.ReaderAt, size int64) (*container, *Error) {
	dirOff, dirSize, records, e := readEnd(r, size)
	if e != nil {
		return nil, e
	}
	dir, e := readDirectory(r, dirOff, dirSize, records)
	if e != nil {
		return nil, e
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // path tricks are ours to name
		return nil, zipErr("", ErrMalformedZip, "%v", err)
	}
	if len(zr.File) != len(dir) {
		return nil, zipErr("", ErrMalformedZip, "archive/zip reads %d entries, the directory holds %d", len(zr.File), len(dir))
	}
	c := &container{zr: zr, files: map[string]*zip.File{}}
	var total uint64
	for i, f := range zr.File {
		if f.Name != dir[i].name {
			return nil, zipErr("", ErrMalformedZip, "archive/zip reads entry %d as %q, the directory says %q", i+1, f.Name, dir[i].name)
		}
		if e := c.add(f); e != nil {
			return nil, e
		}
		total += f.UncompressedSize64 // each at most MaxOriginalSize: no overflow
	}
	if total > MaxTotalSize {
		return nil, zipErr("", ErrTooLarge, "entries expand to %d bytes, at most %d", total, uint64(MaxTotalSize))
	}
	for _, e := range entries {
		if c.files[e.name] == nil {
			return nil, zipErr(e.name, ErrMissingEntry, "")
		}
	}
	if e := checkLayout(r, dir, dirOff); e != nil {
		return nil, e
	}
	return c, nil
}

// add checks one entry of the directory and records it.
func (c *container) add(f *zip.File) *Error {
	name := f.Name
	if len(name) > MaxNameLength {
		return zipErr(name[:MaxNameLength]+"…", ErrTooLarge, "name of %d bytes, at most %d", len(name), MaxNameLength)
	}
	if unsafeName(name) {
		return zipErr(name, ErrUnsafePath, "")
	}
	if c.files[name] != nil {
		return zipErr(name, ErrDuplicateEntry, "")
	}
	limit, known := entryLimit(name)
	if !known {
		return zipErr(name, ErrUnknownEntry, "")
	}
	us, cs := f.UncompressedSize64, f.CompressedSize64
	switch {
	case f.Flags&0x1 != 0:
		return zipErr(name, ErrMalformedZip, "encrypted")
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return zipErr(name, ErrMalformedZip, "compression method %d (only stored or deflated)", f.Method)
	case f.Method == zip.Store && cs != us:
		return zipErr(name, ErrMalformedZip, "stored with %d bytes for %d", cs, us)
	case us > uint64(limit):
		return zipErr(name, ErrTooLarge, "%d bytes, at most %d", us, limit)
	case us > ratioFloor && us/MaxRatio > cs:
		return zipErr(name, ErrZipBomb, "%d bytes compressed to %d: more than %d to 1", us, cs, MaxRatio)
	}
	c.files[name] = f
	return nil
}

// unsafeName reports a name that is a path or could pass for another name
// once extracted or displayed: absolute, with a dot segment, a backslash,
// a drive colon, a control or format character (a right-to-left override,
// a zero-width space) or invalid UTF-8.
func unsafeName(name string) bool {
	if name == "" || name[0] == '/' || !utf8.ValidString(name) || strings.ContainsAny(name, `\:`) {
		return true
	}
	if strings.ContainsFunc(name, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }) {
		return true
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// readEnd finds the end of central directory record the way archive/zip
// does (the last one whose comment fits) and checks it: nothing after it,
// no comment, one disk, no ZIP64, a small directory right before it.
func readEnd(r io.ReaderAt, size int64) (dirOff, dirSize int64, records int, e *Error) {
	if size < endLen {
		return 0, 0, 0, zipErr("", ErrMalformedZip, "%d bytes: too short for a ZIP", size)
	}
	n := min(size, endLen+maxComment)
	buf := make([]byte, n)
	if err := readFull(r, buf, size-n); err != nil {
		return 0, 0, 0, zipErr("", ErrMalformedZip, "%v", err)
	}
	i := -1
	for j := len(buf) - endLen; j >= 0; j-- {
		if le32(buf[j:]) == sigEnd && j+endLen+int(le16(buf[j+20:])) <= len(buf) {
			i = j
			break
		}
	}
	if i < 0 {
		return 0, 0, 0, zipErr("", ErrMalformedZip, "no end of central directory record (truncated?)")
	}
	b := buf[i:]
	disk, dirDisk, here, total := le16(b[4:]), le16(b[6:]), le16(b[8:]), le16(b[10:])
	dsize, doff, comment := le32(b[12:]), le32(b[16:]), le16(b[20:])
	at := size - n + int64(i)
	switch {
	case i+endLen+int(comment) != len(buf):
		return 0, 0, 0, zipErr("", ErrMalformedZip, "%d bytes after the archive", len(buf)-i-endLen-int(comment))
	case comment != 0:
		return 0, 0, 0, zipErr("", ErrMalformedZip, "archive comment (a bundle has none)")
	case total == 0xffff || dsize == 0xffffffff || doff == 0xffffffff:
		return 0, 0, 0, zipErr("", ErrTooLarge, "ZIP64 archive (a bundle is smaller than 4 GiB)")
	case disk != 0 || dirDisk != 0 || here != total:
		return 0, 0, 0, zipErr("", ErrMalformedZip, "multi-disk archive")
	case int(total) > MaxEntries:
		return 0, 0, 0, zipErr("", ErrTooLarge, "%d entries, at most %d", total, MaxEntries)
	case dsize > maxDirectory:
		return 0, 0, 0, zipErr("", ErrTooLarge, "central directory of %d bytes, at most %d", dsize, maxDirectory)
	case int64(doff)+int64(dsize) != at:
		return 0, 0, 0, zipErr("", ErrMalformedZip, "central directory (%d bytes at %d) does not end where the end record starts (%d)", dsize, doff, at)
	}
	return int64(doff), int64(dsize), int(total), nil
}

// readDirectory reads the central directory's records: exactly records of
// them, filling exactly size bytes.
func readDirectory(r io.ReaderAt, off, size int64, records int) ([]dirEntry, *Error) {
	buf := make([]byte, size)
	if err := readFull(r, buf, off); err != nil {
		return nil, zipErr("", ErrMalformedZip, "central directory: %v", err)
	}
	var out []dirEntry
	for len(buf) > 0 {
		if len(out) == records {
			return nil, zipErr("", ErrMalformedZip, "central directory holds more than the %d entries the end record says", records)
		}
		if len(buf) < centralLen || le32(buf) != sigCentral {
			return nil, zipErr("", ErrMalformedZip, "central directory entry %d is not one", len(out)+1)
		}
		nameLen, extraLen, commentLen := int(le16(buf[28:])), int(le16(buf[30:])), int(le16(buf[32:]))
		n := centralLen + nameLen + extraLen + commentLen
		if n > len(buf) {
			return nil, zipErr("", ErrMalformedZip, "central directory entry %d runs past the directory", len(out)+1)
		}
		cs, us, hdr := le32(buf[20:]), le32(buf[24:]), le32(buf[42:])
		if cs == 0xffffffff || us == 0xffffffff || hdr == 0xffffffff {
			return nil, zipErr("", ErrTooLarge, "ZIP64 entry (a bundle is smaller than 4 GiB)")
		}
		if le16(buf[34:]) != 0 {
			return nil, zipErr("", ErrMalformedZip, "multi-disk archive")
		}
		out = append(out, dirEntry{name: string(buf[centralLen : centralLen+nameLen]), method: le16(buf[10:]),
			header: int64(hdr), compressed: int64(cs)})
		buf = buf[n:]
	}
	if len(out) != records {
		return nil, zipErr("", ErrMalformedZip, "central directory holds %d entries, the end record says %d", len(out), records)
	}
	return out, nil
}

// checkLayout reads each entry's local header: it must name the entry as
// the directory does (a tool that reads local headers would see another
// file), with the same method, and entries must follow one another without
// overlapping (the "better zip bomb" reuses one compressed stream for many
// entries) and end before the directory.
func checkLayout(r io.ReaderAt, dir []dirEntry, dirOff int64) *Error {
	sorted := slices.SortedFunc(slices.Values(dir), func(a, b dirEntry) int { return cmp.Compare(a.header, b.header) })
	var pos int64
	for i, d := range sorted {
		if i == 0 && d.header != 0 {
			return zipErr(d.name, ErrMalformedZip, "%d bytes before the first entry", d.header)
		}
		if d.header < pos {
			return zipErr(d.name, ErrZipBomb, "entry at %d overlaps the one before it (ending at %d)", d.header, pos)
		}
		var h [localLen]byte
		if err := readFull(r, h[:], d.header); err != nil {
			return zipErr(d.name, ErrMalformedZip, "local header: %v", err)
		}
		if le32(h[:]) != sigLocal {
			return zipErr(d.name, ErrMalformedZip, "no local header at %d", d.header)
		}
		nameLen, extraLen := int64(le16(h[26:])), int64(le16(h[28:]))
		if nameLen != int64(len(d.name)) {
			return zipErr(d.name, ErrUnsafePath, "local header names the entry differently")
		}
		name := make([]byte, nameLen)
		if err := readFull(r, name, d.header+localLen); err != nil {
			return zipErr(d.name, ErrMalformedZip, "local header: %v", err)
		}
		switch {
		case string(name) != d.name:
			return zipErr(d.name, ErrUnsafePath, "local header names the entry %s", printable(string(name)))
		case le16(h[8:]) != d.method:
			return zipErr(d.name, ErrMalformedZip, "local header says method %d, the directory %d", le16(h[8:]), d.method)
		case le16(h[6:])&0x1 != 0:
			return zipErr(d.name, ErrMalformedZip, "encrypted")
		}
		pos = d.header + localLen + nameLen + extraLen + d.compressed
		if pos > dirOff {
			return zipErr(d.name, ErrZipBomb, "data runs into the central directory")
		}
	}
	return nil
}

// readFull reads len(b) bytes at off.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// entryReader reads an entry, hashing and counting on the way. A CRC-32
// mismatch (the bytes are all there; the ZIP's checksum disagrees) reads as
// io.EOF and is remembered in crcBad, so that the SHA-256 comparison says
// what changed; any other read error is kept in failed.
type entryReader struct {
	rc     io.ReadCloser
	h      hash.Hash
	n      int64
	err    error // sticky
	failed error
	crcBad bool
}

func openEntry(f *zip.File) (*entryReader, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	return &entryReader{rc: rc, h: sha256.New()}, nil
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.rc.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, zip.ErrChecksum):
		r.crcBad, err = true, io.EOF
	case err != io.EOF:
		r.failed = err
	}
	r.err = err
	return n, err
}

// finish reads what is left and closes the entry.
func (r *entryReader) finish() (archive.Digest, int64) {
	_, _ = io.Copy(io.Discard, r) // failures are in r.failed
	r.rc.Close()
	var d archive.Digest
	r.h.Sum(d[:0])
	return d, r.n
}

// readError is the problem of an entry that could not be read to its end.
// archive/zip stops an entry that inflates beyond its declared size with
// zip.ErrFormat: a zip bomb lying about its size.
func readError(f *zip.File, err error) *Error {
	if errors.Is(err, zip.ErrFormat) {
		return zipErr(f.Name, ErrZipBomb, "inflates beyond its declared %d bytes", f.UncompressedSize64)
	}
	return zipErr(f.Name, ErrMalformedZip, "%v", err)
}

// readWhole reads a small entry (its size is already checked against its
// limit).
func readWhole(f *zip.File) ([]byte, *entryReader, *Error) {
	r, err := openEntry(f)
	if err != nil {
		return nil, nil, zipErr(f.Name, ErrMalformedZip, "%v", err)
	}
	b, _ := io.ReadAll(io.LimitReader(r, int64(f.UncompressedSize64)))
	r.finish()
	if r.failed != nil {
		return nil, nil, readError(f, r.failed)
	}
	return b, r, nil
}
