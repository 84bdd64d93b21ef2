package bigpacket_test

import (
	"io"
	"testing"

	"github.com/edocgw/edocgw/internal/bigpacket"
)

func TestReaderAt(t *testing.T) {
	r, err := bigpacket.Around([]byte("<a>QUJD</a>"), "QUJD", 12, "WFla")
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != 19 {
		t.Fatalf("size %d", r.Size())
	}
	all, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || string(all) != "<a>WFlaWFlaWFla</a>" {
		t.Fatalf("%q %v", all, err)
	}
	buf := make([]byte, 6)
	if n, err := r.ReadAt(buf, 5); n != 6 || err != nil || string(buf) != "laWFla" {
		t.Fatalf("ReadAt middle: %d %v %q", n, err, buf)
	}
	if n, err := r.ReadAt(buf, 16); n != 3 || err != io.EOF || string(buf[:n]) != "/a>" {
		t.Fatalf("ReadAt end: %d %v %q", n, err, buf[:n])
	}
	if _, err := bigpacket.Around([]byte("x"), "QUJD", 12, "WFla"); err == nil {
		t.Fatal("missing payload accepted")
	}
	if _, err := bigpacket.Around([]byte("QUJD<"), "QUJD", 10, "WFla"); err == nil {
		t.Fatal("partial repetition accepted")
	}
}
