package bench

import (
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"10KB", 10 << 10}, {"200kb", 200 << 10}, {"5MB", 5 << 20}, {"1.5MiB", 3 << 19}, {"512", 512},
		{"512B", 512}, {"2K", 2 << 10}, {"1GB", 1 << 30}, {" 64 KB ", 64 << 10},
		{"", -1}, {"KB", -1}, {"-1KB", -1}, {"0", -1}, {"10XB", -1}, {"2TB", -1}, {"NaN", -1},
	} {
		got, err := ParseSize(tc.in)
		if tc.want < 0 && err == nil || tc.want >= 0 && (err != nil || got != tc.want) {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mix
	}{
		{"10KB=90,200KB=9,5MB=1", Mix{{"10KB", 10 << 10, 90}, {"200KB", 200 << 10, 9}, {"5MB", 5 << 20, 1}}},
		{"10KB", Mix{{"10KB", 10 << 10, 1}}},
		{" 1MB = 0.5 , 2MB=1.5 ", Mix{{"1MB", 1 << 20, 0.5}, {"2MB", 2 << 20, 1.5}}},
		{"", nil}, {"10KB=0", nil}, {"10KB=-1", nil}, {"10KB=x", nil}, {"ten=1", nil}, {",", nil},
	} {
		got, err := ParseMix(tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("ParseMix(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseMix(%q) = %v, %v", tc.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseMix(%q)[%d] = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
	m, _ := ParseMix("10KB=90,200KB=9,5MB=1")
	if s := m.String(); s != "10KB=90,200KB=9,5MB=1" {
		t.Errorf("String() = %q", s)
	}
}

func TestMixPick(t *testing.T) {
	m := Mix{{"a", 1, 90}, {"b", 2, 9}, {"c", 3, 1}}
	counts := make([]int, len(m))
	const n = 10000
	for i := range n {
		counts[m.pick((float64(i)+0.5)/n)]++
	}
	if counts[0] != 9000 || counts[1] != 900 || counts[2] != 100 {
		t.Fatalf("counts %v, want 9000 900 100", counts)
	}
	if m.pick(0) != 0 || m.pick(0.99999999) != 2 {
		t.Fatal("edges")
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"", 0}, {"50", 50}, {"50/s", 50}, {" 2.5 / s", 2.5}, {"120/m", 2}, {"30/min", 0.5},
		{"0", -1}, {"-3", -1}, {"fast", -1}, {"5/h", -1}, {"Inf", -1}, {"NaN/s", -1},
	} {
		got, err := ParseRate(tc.in)
		if tc.want < 0 && err == nil || tc.want >= 0 && (err != nil || got != tc.want) {
			t.Errorf("ParseRate(%q) = %g, %v; want %g", tc.in, got, err, tc.want)
		}
	}
}
