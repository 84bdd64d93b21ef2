package agencygen

// Reference data for the synthetic directory. Province order follows the
// alphabetical H01–H63 numbering as reported in the spec digest (§2.2); only
// some numbers are confirmed there, the rest are plausible stand-ins.

type province struct {
	name string // "Tây Ninh"
	city bool   // centrally-run city (thành phố), not a province (tỉnh)
}

var provinces = [63]province{
	{"An Giang", false}, {"Bà Rịa - Vũng Tàu", false}, {"Bắc Giang", false}, {"Bắc Kạn", false},
	{"Bạc Liêu", false}, {"Bắc Ninh", false}, {"Bến Tre", false}, {"Bình Định", false},
	{"Bình Dương", false}, {"Bình Phước", false}, {"Bình Thuận", false}, {"Cà Mau", false},
	{"Cần Thơ", true}, {"Cao Bằng", false}, {"Đắk Lắk", false}, {"Đắk Nông", false},
	{"Đà Nẵng", true}, {"Điện Biên", false}, {"Đồng Nai", false}, {"Đồng Tháp", false},
	{"Gia Lai", false}, {"Hà Giang", false}, {"Hà Nam", false}, {"Hà Tĩnh", false},
	{"Hải Dương", false}, {"Hà Nội", true}, {"Hải Phòng", true}, {"Hậu Giang", false},
	{"Hồ Chí Minh", true}, {"Hòa Bình", false}, {"Hưng Yên", false}, {"Khánh Hòa", false},
	{"Kiên Giang", false}, {"Kon Tum", false}, {"Lai Châu", false}, {"Lâm Đồng", false},
	{"Lạng Sơn", false}, {"Lào Cai", false}, {"Long An", false}, {"Nam Định", false},
	{"Nghệ An", false}, {"Ninh Bình", false}, {"Ninh Thuận", false}, {"Phú Thọ", false},
	{"Phú Yên", false}, {"Quảng Bình", false}, {"Quảng Nam", false}, {"Quảng Ngãi", false},
	{"Quảng Ninh", false}, {"Quảng Trị", false}, {"Sóc Trăng", false}, {"Sơn La", false},
	{"Tây Ninh", false}, {"Thái Bình", false}, {"Thái Nguyên", false}, {"Thanh Hóa", false},
	{"Huế", true}, {"Tiền Giang", false}, {"Trà Vinh", false}, {"Tuyên Quang", false},
	{"Vĩnh Long", false}, {"Vĩnh Phúc", false}, {"Yên Bái", false},
}

// ministries is the G list after QĐ 09/2025 (spec §2.2).
var ministries = []struct {
	num  int
	name string
}{
	{1, "Bộ Công an"}, {2, "Bộ Công Thương"}, {3, "Bộ Giáo dục và Đào tạo"},
	{6, "Bộ Khoa học và Công nghệ"}, {8, "Bộ Ngoại giao"}, {9, "Bộ Nội vụ"},
	{10, "Bộ Nông nghiệp và Môi trường"}, {11, "Bộ Quốc phòng"}, {12, "Bộ Tài chính"},
	{15, "Bộ Tư pháp"}, {16, "Bộ Văn hóa, Thể thao và Du lịch"}, {17, "Bộ Xây dựng"},
	{18, "Bộ Y tế"}, {19, "Ngân hàng Nhà nước Việt Nam"}, {20, "Thanh tra Chính phủ"},
	{21, "Bộ Dân tộc và Tôn giáo"}, {22, "Văn phòng Chính phủ"}, {27, "Đài Tiếng nói Việt Nam"},
	{28, "Đài Truyền hình Việt Nam"}, {30, "Thông tấn xã Việt Nam"},
	{31, "Viện Hàn lâm Khoa học và Công nghệ Việt Nam"}, {32, "Viện Hàn lâm Khoa học xã hội Việt Nam"},
	{35, "Ủy ban An toàn giao thông quốc gia"}, {38, "Ủy ban sông Mê Công Việt Nam"},
	{39, "Hội đồng đánh giá trữ lượng khoáng sản quốc gia"},
}

// ministryUnits are level-2 units of every ministry, with their level-3
// sub-units.
var ministryUnits = []struct {
	name string
	subs []string
}{
	{"Văn phòng", []string{"Phòng Hành chính", "Phòng Văn thư - Lưu trữ", "Phòng Tổng hợp", "Phòng Quản trị"}},
	{"Thanh tra", []string{"Phòng Thanh tra 1", "Phòng Thanh tra 2", "Phòng Tiếp công dân và Xử lý đơn thư"}},
	{"Vụ Tổ chức cán bộ", nil},
	{"Vụ Pháp chế", nil},
	{"Vụ Kế hoạch - Tài chính", nil},
	{"Vụ Hợp tác quốc tế", nil},
	{"Vụ Khoa học và Công nghệ", nil},
	{"Vụ Thi đua - Khen thưởng", nil},
	{"Trung tâm Công nghệ thông tin", []string{"Phòng Hạ tầng kỹ thuật", "Phòng Ứng dụng", "Phòng An toàn thông tin", "Trung tâm Dữ liệu"}},
	{"Cục Quản lý chất lượng", []string{"Phòng Tổng hợp", "Phòng Tiêu chuẩn", "Phòng Kiểm tra"}},
	{"Cục Kế hoạch và Đầu tư", []string{"Phòng Tổng hợp", "Phòng Đầu tư công"}},
	{"Viện Chiến lược và Chính sách", []string{"Phòng Nghiên cứu chính sách", "Phòng Thông tin - Tư liệu"}},
	{"Báo điện tử", []string{"Ban Thư ký tòa soạn", "Ban Điện tử"}},
	{"Tạp chí", nil},
	{"Trường Bồi dưỡng cán bộ", []string{"Phòng Đào tạo", "Khoa Quản lý nhà nước"}},
}

// provinceDepts are the level-2 departments of a provincial People's
// Committee (codes 02..), with their specific level-3 units. Every
// department also gets the generic units below.
var provinceDepts = []struct {
	name string
	subs []string
}{
	{"Sở Nội vụ", []string{"Ban Thi đua - Khen thưởng", "Ban Tôn giáo", "Chi cục Văn thư - Lưu trữ"}},
	{"Sở Tư pháp", []string{"Trung tâm Trợ giúp pháp lý nhà nước", "Phòng Công chứng số 1", "Trung tâm Dịch vụ đấu giá tài sản"}},
	{"Sở Kế hoạch và Đầu tư", []string{"Trung tâm Xúc tiến đầu tư", "Phòng Đăng ký kinh doanh"}},
	{"Sở Tài chính", []string{"Phòng Quản lý ngân sách", "Phòng Quản lý giá và công sản"}},
	{"Sở Công Thương", []string{"Trung tâm Khuyến công và Xúc tiến thương mại", "Phòng Quản lý năng lượng"}},
	{"Sở Nông nghiệp và Phát triển nông thôn", []string{"Chi cục Kiểm lâm", "Chi cục Thủy lợi", "Chi cục Trồng trọt và Bảo vệ thực vật", "Chi cục Chăn nuôi và Thú y", "Trung tâm Khuyến nông"}},
	{"Sở Giao thông vận tải", []string{"Ban Quản lý dự án giao thông", "Trung tâm Đăng kiểm phương tiện"}},
	{"Sở Xây dựng", []string{"Trung tâm Kiểm định chất lượng xây dựng", "Phòng Quản lý nhà và thị trường bất động sản"}},
	{"Sở Tài nguyên và Môi trường", []string{"Chi cục Bảo vệ môi trường", "Văn phòng Đăng ký đất đai", "Trung tâm Kỹ thuật Tài nguyên và Môi trường"}},
	{"Sở Thông tin và Truyền thông", []string{"Trung tâm Công nghệ thông tin và Truyền thông", "Phòng Bưu chính, Viễn thông"}},
	{"Sở Lao động - Thương binh và Xã hội", []string{"Trung tâm Dịch vụ việc làm", "Trung tâm Bảo trợ xã hội", "Cơ sở Cai nghiện ma túy"}},
	{"Sở Văn hóa, Thể thao và Du lịch", []string{"Bảo tàng", "Thư viện", "Trung tâm Văn hóa - Điện ảnh", "Trung tâm Huấn luyện và Thi đấu thể thao"}},
	{"Sở Khoa học và Công nghệ", []string{"Chi cục Tiêu chuẩn Đo lường Chất lượng", "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ"}},
	{"Sở Giáo dục và Đào tạo", []string{"Phòng Giáo dục trung học", "Phòng Khảo thí và Kiểm định chất lượng giáo dục"}},
	{"Sở Y tế", []string{"Chi cục Dân số - Kế hoạch hóa gia đình", "Chi cục An toàn vệ sinh thực phẩm", "Bệnh viện Đa khoa", "Trung tâm Kiểm soát bệnh tật"}},
	{"Sở Ngoại vụ", nil},
	{"Thanh tra", []string{"Phòng Thanh tra kinh tế - xã hội", "Phòng Tiếp công dân"}},
	{"Ban Dân tộc", nil},
	{"Ban Quản lý các khu công nghiệp", nil},
	{"Đài Phát thanh và Truyền hình", nil},
	{"Sở Nông nghiệp và Môi trường", nil}, // created 2025-03-01
}

// Indexes into provinceDepts used by the 2025 mergers.
const (
	deptNoiVu    = 0
	deptTaiChinh = 3
	deptKHDT     = 2
	deptNNPTNT   = 5
	deptGTVT     = 6
	deptXayDung  = 7
	deptTNMT     = 8
	deptTTTT     = 9
	deptLDTBXH   = 10
	deptKHCN     = 12
	deptGDDT     = 13
	deptYTe      = 14
	deptNNMT     = 20
)

var deptGeneric = []string{"Văn phòng", "Phòng Kế hoạch - Tài chính", "Phòng Tổ chức cán bộ"}

// Level-3 units of the provincial People's Committee office (01); the first
// two are real (spec §2.3).
var officeUnits = []string{"Ban Tiếp công dân", "Trung tâm Hành chính công", "Cổng Thông tin điện tử", "Phòng Hành chính - Tổ chức", "Phòng Kinh tế - Ngành"}

// districtOffices are the level-3 offices (01..) of a district People's
// Committee; index 7 is the education office that runs the schools.
var districtOffices = []string{
	"Văn phòng HĐND và UBND", "Phòng Nội vụ", "Phòng Tư pháp", "Phòng Tài chính - Kế hoạch",
	"Phòng Tài nguyên và Môi trường", "Phòng Lao động - Thương binh và Xã hội", "Phòng Văn hóa và Thông tin",
	"Phòng Giáo dục và Đào tạo", "Phòng Y tế", "Thanh tra", "Phòng Kinh tế và Hạ tầng", "Phòng Nông nghiệp và Phát triển nông thôn",
}

const officeGDDT = 7

var schoolKinds = []string{"Trường Mầm non", "Trường Tiểu học", "Trường THCS", "Trường Tiểu học", "Trường Mầm non"}

var partyDepts = []string{
	"Văn phòng", "Ban Tổ chức", "Ban Tuyên giáo", "Ủy ban Kiểm tra", "Ban Dân vận", "Ban Nội chính",
	"Trường Chính trị", "Đảng ủy Khối các cơ quan", "Đảng ủy Khối Doanh nghiệp",
}

var districtPartyDepts = []string{"Văn phòng", "Ban Tổ chức", "Ban Tuyên giáo", "Ủy ban Kiểm tra", "Ban Dân vận", "Trung tâm Chính trị"}

var councilUnits = []string{"Văn phòng Đoàn ĐBQH và HĐND", "Ban Pháp chế", "Ban Kinh tế - Ngân sách", "Ban Văn hóa - Xã hội", "Ban Dân tộc"}

// otherBodies are level-1 bodies outside the G, H, K and A groups.
var otherBodies = []struct {
	code     string
	name     string
	units    []string
	branches string // if set: one level-2 branch per province named "<branches> <tỉnh X>"
	local    string // if set: one level-3 unit per district of each branch
}{
	{"B01", "Văn phòng Chủ tịch nước", []string{"Vụ Tổng hợp", "Vụ Pháp luật", "Vụ Đặc xá", "Vụ Thi đua - Khen thưởng", "Vụ Hành chính - Quản trị"}, "", ""},
	{"C01", "Văn phòng Quốc hội", []string{"Vụ Tổng hợp", "Vụ Pháp luật", "Vụ Kinh tế", "Vụ Tài chính - Ngân sách", "Vụ Công tác đại biểu", "Trung tâm Tin học", "Báo Đại biểu Nhân dân", "Truyền hình Quốc hội"}, "", ""},
	{"C02", "Hội đồng Dân tộc của Quốc hội", []string{"Vụ Dân tộc"}, "", ""},
	{"C03", "Ủy ban Pháp luật của Quốc hội", []string{"Vụ Pháp luật"}, "", ""},
	{"D01", "Tòa án nhân dân tối cao", []string{"Văn phòng", "Vụ Tổ chức - Cán bộ", "Vụ Pháp chế và Quản lý khoa học", "Tòa án nhân dân cấp cao tại Hà Nội", "Tòa án nhân dân cấp cao tại Đà Nẵng", "Tòa án nhân dân cấp cao tại Thành phố Hồ Chí Minh"}, "Tòa án nhân dân", "Tòa án nhân dân"},
	{"E01", "Viện kiểm sát nhân dân tối cao", []string{"Văn phòng", "Vụ Tổ chức cán bộ", "Vụ Pháp chế và Quản lý khoa học", "Cục Thống kê tội phạm và Công nghệ thông tin"}, "Viện kiểm sát nhân dân", "Viện kiểm sát nhân dân"},
	{"F01", "Kiểm toán nhà nước", []string{"Văn phòng", "Vụ Tổng hợp", "Vụ Pháp chế", "Kiểm toán nhà nước chuyên ngành I", "Kiểm toán nhà nước chuyên ngành II", "Kiểm toán nhà nước khu vực I", "Kiểm toán nhà nước khu vực II", "Kiểm toán nhà nước khu vực III", "Kiểm toán nhà nước khu vực IV"}, "", ""},
	{"I01", "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam", []string{"Văn phòng", "Ban Tổ chức - Cán bộ", "Ban Dân chủ - Pháp luật", "Ban Tuyên giáo"}, "Ủy ban Mặt trận Tổ quốc Việt Nam", ""},
	{"I02", "Tổng Liên đoàn Lao động Việt Nam", []string{"Văn phòng", "Ban Tổ chức", "Ban Chính sách - Pháp luật", "Báo Lao động"}, "Liên đoàn Lao động", ""},
	{"I03", "Trung ương Đoàn Thanh niên Cộng sản Hồ Chí Minh", []string{"Văn phòng", "Ban Tổ chức", "Ban Tuyên giáo", "Báo Tuổi trẻ"}, "Tỉnh đoàn", ""},
	{"I04", "Trung ương Hội Liên hiệp Phụ nữ Việt Nam", []string{"Văn phòng", "Ban Tổ chức", "Báo Phụ nữ Việt Nam"}, "Hội Liên hiệp Phụ nữ", ""},
	{"I05", "Trung ương Hội Nông dân Việt Nam", []string{"Văn phòng", "Ban Tổ chức", "Báo Nông thôn Ngày nay"}, "Hội Nông dân", ""},
	{"I06", "Trung ương Hội Cựu chiến binh Việt Nam", []string{"Văn phòng", "Ban Tổ chức", "Báo Cựu chiến binh Việt Nam"}, "Hội Cựu chiến binh", ""},
	{"J01", "Liên hiệp các Hội Khoa học và Kỹ thuật Việt Nam", []string{"Văn phòng", "Ban Tổ chức - Cán bộ"}, "", ""},
	{"J02", "Liên hiệp các tổ chức hữu nghị Việt Nam", []string{"Văn phòng", "Ban Tổ chức - Cán bộ"}, "", ""},
	{"J03", "Hội Nhà báo Việt Nam", []string{"Văn phòng", "Ban Tổ chức - Kiểm tra", "Báo Người làm báo"}, "", ""},
	{"J04", "Hội Luật gia Việt Nam", []string{"Văn phòng", "Ban Tổ chức"}, "", ""},
	{"J05", "Hội Chữ thập đỏ Việt Nam", []string{"Văn phòng", "Ban Tổ chức"}, "Hội Chữ thập đỏ", ""},
	{"J06", "Liên minh Hợp tác xã Việt Nam", []string{"Văn phòng", "Ban Tổ chức"}, "", ""},
}

// Ministry networks with one level-3 branch per province and one level-4
// office per district: ministry number, level-2 group, its name, the
// branch name prefix, the district office prefix.
var ministryNetworks = []struct {
	ministry               int
	group                  int
	name, branch, district string
}{
	{12, 40, "Cục Thuế", "Cục Thuế", "Chi cục Thuế"},
	{12, 41, "Kho bạc Nhà nước", "Kho bạc Nhà nước", "Kho bạc Nhà nước"},
	{15, 40, "Tổng cục Thi hành án dân sự", "Cục Thi hành án dân sự", "Chi cục Thi hành án dân sự"},
	{1, 40, "Cục Cảnh sát quản lý hành chính về trật tự xã hội", "Công an", "Công an"},
	{19, 40, "Vụ Quản lý chi nhánh", "Ngân hàng Nhà nước chi nhánh", ""},
	{10, 40, "Cục Thống kê", "Chi cục Thống kê", "Đội Thống kê"},
}

// syllables form place names ("An Thạnh", "Long Giang").
var syllables = []string{
	"An", "Bình", "Phú", "Long", "Tân", "Hòa", "Thạnh", "Mỹ", "Phước", "Hưng", "Thành", "Đông",
	"Tây", "Nam", "Bắc", "Trung", "Xuân", "Hải", "Sơn", "Lâm", "Quang", "Minh", "Đức", "Hiệp",
	"Thuận", "Lợi", "Vĩnh", "Yên", "Hà", "Cát", "Kim", "Ngọc", "Thanh", "Hồng", "Lạc", "Định",
	"Hội", "Châu", "Gia", "Thới", "Lộc", "Phong", "Tiến", "Thắng", "Nghĩa", "Khánh", "Thịnh", "Đồng",
	"Hương", "Liên", "Tịnh", "Điền", "Cầu", "Giang", "Lương", "Hoàng", "Quý", "Tường", "Trạch", "Lệ",
	"Ninh", "Thái", "Hậu", "Mai", "Cường", "Chánh", "Bến", "Ea", "Na", "Pác", "Mường", "Krông",
}
