package agencyids

import (
	"testing"
	"unicode/utf8"
)

func TestFoldName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ủy ban nhân dân tỉnh Tây Ninh", "uy ban nhan dan tinh tay ninh "},
		{"ỦY BAN NHÂN DÂN", "uy ban nhan dan "},
		{"Sở Nội vụ", "so noi vu "},
		{"Đài Phát thanh và Truyền hình Đồng Tháp", "dai phat thanh va truyen hinh dong thap "},
		{"Sở Văn hóa, Thể thao và Du lịch", "so van hoa the thao va du lich "},
		{"  Bà Rịa - Vũng Tàu  ", "ba ria vung tau "},
		{"Viện Hàn lâm KH&CN", "vien han lam kh cn "},
		{"Trường THPT số 2", "truong thpt so 2 "},
		{"ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ", "aaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy "},
		{"ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝĂĐĨŨƠƯ", "aaaaeeeiioooouuyadiuou "},
		// Decomposed (NFD) input: base letters plus combining marks.
		{"U\u031b\u0309y ban", "uy ban "},
		{"So\u031b\u0309 No\u0302\u0323i vu\u0323", "so noi vu "},
		{"Ðà Nẵng", "da nang "}, // U+00D0, often typed for Đ
		{"Straße Ωmega", "straße ωmega "},
		{"---", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := foldName(tt.in); got != tt.want {
			t.Errorf("foldName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := FoldName("Sở Nội vụ, tỉnh Tây Ninh"); got != "so noi vu tinh tay ninh" {
		t.Errorf("FoldName = %q", got)
	}
	if got := FoldName("!!"); got != "" {
		t.Errorf("FoldName(!!) = %q", got)
	}
}

func TestFoldTableCoversVietnamese(t *testing.T) {
	// Every precomposed letter in the Latin Extended Additional block used
	// by Vietnamese (U+1EA0..U+1EF9) must fold to an ASCII letter.
	for r := rune(0x1EA0); r <= 0x1EF9; r++ {
		f := foldName(string(r))
		if len(f) != 2 || f[0] < 'a' || f[0] > 'z' {
			t.Errorf("foldName(%q U+%04X) = %q", r, r, f)
		}
	}
	if !utf8.ValidString(foldName("\xff\xfeabc")) || foldName("\xffabc") != "abc " {
		t.Errorf("invalid UTF-8 not handled: %q", foldName("\xffabc"))
	}
}

func TestFoldQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"so noi vu", "so noi vu"},
		{"Sở Nội Vụ", "so noi vu"},
		{"so ", "so "},
		{"Sở,", "so "},
		{"  uy   ban  ", "uy ban "},
		{"vu\u0323", "vu"},
		{"", ""},
		{" - ", ""},
	}
	for _, tt := range tests {
		if got := foldQuery(tt.in); got != tt.want {
			t.Errorf("foldQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
