package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SizeClass is one kind of document of a mix: packets of about Bytes
// bytes, sent Weight times out of the mix's total weight.
type SizeClass struct {
	Name   string  `json:"size"` // as given, e.g. 10KB
	Bytes  int64   `json:"bytes"`
	Weight float64 `json:"weight"`
}

// Mix is the size mix of the documents sent.
type Mix []SizeClass

// MeanBytes is the weighted mean document size.
func (m Mix) MeanBytes() float64 {
	var w, b float64
	for _, c := range m {
		w += c.Weight
		b += c.Weight * float64(c.Bytes)
	}
	if w == 0 {
		return 0
	}
	return b / w
}

// ParseSize reads a size: a number and a unit B, KB, MB or GB (powers of
// 1024; KiB, MiB, GiB too), case-insensitive; no unit means bytes.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || !(f > 0) || f*float64(mult) > 1<<40 { // NaN and Inf too
		return 0, fmt.Errorf("size %q: want a positive number and a unit (B, KB, MB, GB)", s)
	}
	return int64(math.Round(f * float64(mult))), nil
}

// ParseMix reads SIZE=WEIGHT,… (10KB=90,200KB=9,5MB=1); a lone SIZE has
// weight 1.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasW := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		b, err := ParseSize(name)
		if err != nil {
			return nil, fmt.Errorf("mix: %w", err)
		}
		weight := 1.0
		if hasW {
			weight, err = strconv.ParseFloat(strings.TrimSpace(w), 64)
			if err != nil || !(weight > 0) || math.IsInf(weight, 0) {
				return nil, fmt.Errorf("mix: %q: the weight must be a positive number", part)
			}
		}
		m = append(m, SizeClass{Name: name, Bytes: b, Weight: weight})
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("mix %q: want SIZE=WEIGHT,… such as 10KB=90,200KB=9,5MB=1", s)
	}
	return m, nil
}

// pick maps u in [0, 1) to a class, each in proportion to its weight.
func (m Mix) pick(u float64) int {
	total := 0.0
	for _, c := range m {
		total += c.Weight
	}
	x := u * total
	for i, c := range m {
		if x < c.Weight {
			return i
		}
		x -= c.Weight
	}
	return len(m) - 1
}

// String is the mix as ParseMix reads it.
func (m Mix) String() string {
	parts := make([]string, len(m))
	for i, c := range m {
		parts[i] = c.Name + "=" + strconv.FormatFloat(c.Weight, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// ParseRate reads R, R/s or R/m as documents per second; "" is 0.
func ParseRate(s string) (float64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	per := 1.0
	switch strings.TrimSpace(unit) {
	case "", "s":
	case "m", "min":
		per = 60
	default:
		return 0, fmt.Errorf("rate %q: want R, R/s or R/m", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("rate %q: want a positive number of documents per second", s)
	}
	return v / per, nil
}
