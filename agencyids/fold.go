package agencyids

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name folding for SearchName. A folded name is lower case, without
// diacritics (Đ/đ become d), with every run of characters other than letters
// and digits replaced by one space, and each word followed by one space:
// "Ủy ban nhân dân tỉnh Tây Ninh" folds to "uy ban nhan dan tinh tay ninh ".

// foldBase lists Latin letters with diacritics (Vietnamese first, plus a few
// common in foreign names) by the ASCII letter they fold to. Upper-case forms
// are derived.
var foldBase = [...]struct {
	base     byte
	variants string
}{
	{'a', "àáảãạăằắẳẵặâầấẩẫậäåā"},
	{'e', "èéẻẽẹêềếểễệëē"},
	{'i', "ìíỉĩịïîī"},
	{'o', "òóỏõọôồốổỗộơờớởỡợöøō"},
	{'u', "ùúủũụưừứửữựüûū"},
	{'y', "ỳýỷỹỵÿ"},
	{'d', "đð"},
	{'c', "ç"},
	{'n', "ñ"},
}

const (
	foldExtLo = 0x1EA0 // first Vietnamese letter in Latin Extended Additional
	foldExtHi = 0x1F00
)

var (
	foldLatin [0x250]byte                 // runes below U+0250
	foldExt   [foldExtHi - foldExtLo]byte // runes U+1EA0..U+1EFF
)

func init() {
	set := func(r rune, b byte) {
		switch {
		case r < rune(len(foldLatin)):
			foldLatin[r] = b
		case r >= foldExtLo && r < foldExtHi:
			foldExt[r-foldExtLo] = b
		default:
			panic("agencyids: fold table rune out of range: " + string(r))
		}
	}
	for _, fb := range foldBase {
		for _, r := range fb.variants {
			set(r, fb.base)
			set(unicode.ToUpper(r), fb.base)
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		foldLatin[c] = byte(c - 'A' + 'a')
		foldLatin[c-'A'+'a'] = byte(c - 'A' + 'a')
	}
	for c := '0'; c <= '9'; c++ {
		foldLatin[c] = byte(c)
	}
}

// appendFold appends the folded form of s to dst: each word followed by a
// space.
func appendFold(dst []byte, s string) []byte {
	inWord := false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		var b byte
		switch {
		case r < rune(len(foldLatin)):
			b = foldLatin[r]
		case r >= foldExtLo && r < foldExtHi:
			b = foldExt[r-foldExtLo]
		}
		if b != 0 {
			dst = append(dst, b)
			inWord = true
			continue
		}
		switch {
		case r >= 0x80 && unicode.Is(unicode.Mn, r):
			// Combining mark (decomposed diacritic): drop it, stay in the word.
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
			inWord = true
		default:
			if inWord {
				dst = append(dst, ' ')
				inWord = false
			}
		}
	}
	if inWord {
		dst = append(dst, ' ')
	}
	return dst
}

// foldName returns the folded form of a name ("" if it has no letters or
// digits).
func foldName(s string) string { return string(appendFold(make([]byte, 0, len(s)+1), s)) }

// foldQuery folds a search prefix. The final word keeps its trailing space
// only if the query ends with a separator, so "so noi vu" matches "so noi vu
// tinh …" and "so " matches the word "so" but not "son".
func foldQuery(s string) string {
	f := foldName(s)
	if f == "" {
		return ""
	}
	last, _ := utf8.DecodeLastRuneInString(strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.Is(unicode.Mn, r)
	}))
	if unicode.IsLetter(last) || unicode.IsDigit(last) {
		f = f[:len(f)-1]
	}
	return f
}

// FoldName returns the search form of a name as used by
// Directory.SearchName: lower case, Vietnamese diacritics removed (Đ/đ
// become d), words separated by single spaces. "Sở Nội vụ, tỉnh Tây Ninh"
// folds to "so noi vu tinh tay ninh".
func FoldName(s string) string {
	f := appendFold(nil, s)
	if len(f) > 0 {
		f = f[:len(f)-1]
	}
	return string(f)
}
