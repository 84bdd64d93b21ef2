package ui

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// vietnam is Vietnam time (UTC+7, no daylight saving), fixed so that no
// time zone database is needed.
var vietnam = time.FixedZone("ICT", 7*60*60)

// lang is a page's language: "vi" (the default) or "en".
type lang string

const langCookie = "edocgw_lang"

// langOf is ?lang= if given (and remembered in a cookie by the caller),
// else the cookie, else Vietnamese.
func langOf(r *http.Request) (l lang, fromQuery bool) {
	if q := r.URL.Query().Get("lang"); q == "en" || q == "vi" {
		return lang(q), true
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == "en" {
		return "en", false
	}
	return "vi", false
}

// T is the text of key in l; a key without a text is shown as itself.
func (l lang) T(key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if l == "en" {
		return m[1]
	}
	return m[0]
}

// Time formats t in Vietnam time.
func (l lang) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vietnam).Format("02/01/2006 15:04:05")
}

// messages are the console's texts: key → {Vietnamese, English}.
var messages = map[string][2]string{
	"app":                   {"Cổng trao đổi văn bản điện tử", "Electronic document exchange gateway"},
	"signin":                {"Đăng nhập", "Sign in"},
	"signout":               {"Đăng xuất", "Sign out"},
	"username":              {"Tên đăng nhập", "User name"},
	"password":              {"Mật khẩu", "Password"},
	"bad login":             {"Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."},
	"locked":                {"Tài khoản tạm khoá 15 phút vì nhập sai mật khẩu nhiều lần.", "The account is locked for 15 minutes after too many failed sign-ins."},
	"documents":             {"Văn bản", "Documents"},
	"audit":                 {"Nhật ký kiểm toán", "Audit log"},
	"dir":                   {"Loại", "Direction"},
	"dir all":               {"Tất cả", "All"},
	"dir sent":              {"Văn bản đi", "Sent"},
	"dir received":          {"Văn bản đến", "Received"},
	"number":                {"Số/Ký hiệu", "Number/notation"},
	"subject":               {"Trích yếu", "Subject"},
	"counterpart":           {"Cơ quan gửi/nhận (mã)", "Counterpart agency (code)"},
	"from date":             {"Từ ngày", "From"},
	"to date":               {"Đến ngày", "To"},
	"state":                 {"Trạng thái gửi", "Delivery state"},
	"any":                   {"Bất kỳ", "Any"},
	"search":                {"Tìm kiếm", "Search"},
	"no documents":          {"Không có văn bản nào.", "No documents."},
	"more":                  {"Xem tiếp", "More"},
	"received at":           {"Thời gian nhận", "Received"},
	"sender":                {"Nơi gửi", "Sender"},
	"recipients":            {"Nơi nhận", "Recipients"},
	"recipient":             {"Nơi nhận", "Recipient"},
	"timeline":              {"Diễn biến", "Timeline"},
	"attempts":              {"Số lần gửi", "Attempts"},
	"attempt":               {"lần", "attempt"},
	"last error":            {"Lỗi gần nhất", "Last error"},
	"statuses":              {"Trạng thái xử lý", "Processing statuses"},
	"document steps":        {"Văn bản trên trục", "The document on the hub"},
	"time":                  {"Thời gian", "Time"},
	"step":                  {"Bước", "Step"},
	"detail":                {"Chi tiết", "Detail"},
	"hub id":                {"Mã trên trục", "Hub id"},
	"edxml id":              {"Mã văn bản (edXML)", "Document id (edXML)"},
	"size":                  {"Dung lượng", "Size"},
	"bad input":             {"Dữ liệu tìm kiếm không hợp lệ", "Invalid search"},
	"not found":             {"Không tìm thấy.", "Not found."},
	"forbidden":             {"Bạn không có quyền xem trang này.", "You may not see this page."},
	"unavailable":           {"Hệ thống tạm thời không phục vụ được, xin thử lại sau.", "The service is unavailable; please try again later."},
	"error":                 {"Đã có lỗi xảy ra.", "Something went wrong."},
	"gone":                  {"Bản gốc không còn được lưu trữ.", "The original is no longer archived."},
	"no pages":              {"Chưa có trang nào cho vai trò của bạn.", "There are no pages for your role yet."},
	"signed in as":          {"Đăng nhập với tên", "Signed in as"},
	"export":                {"Tải gói lưu trữ (ZIP)", "Download the archive bundle (ZIP)"},
	"export title":          {"Xuất hồ sơ lưu trữ của văn bản", "Export a document's archive record"},
	"document id":           {"Mã văn bản trên trục", "Hub document id"},
	"delivery id":           {"Mã lượt chuyển", "Delivery id"},
	"agency":                {"Cơ quan (mã)", "Agency (code)"},
	"actor":                 {"Người/hệ thống thực hiện", "Actor"},
	"kind":                  {"Loại sự kiện", "Event kind"},
	"seq":                   {"STT", "Seq"},
	"details":               {"Nội dung", "Details"},
	"filter":                {"Lọc", "Filter"},
	"no events":             {"Không có sự kiện nào.", "No events."},
	"original":              {"Nơi gửi khác phục vụ", "served by the sending hub"},
	"state queued":          {"Đang chờ chuyển", "Waiting"},
	"state sending":         {"Đang chuyển", "Sending"},
	"state pulled":          {"Bên nhận đã tải về", "Fetched by the recipient"},
	"state acked":           {"Bên nhận đã xác nhận", "Acknowledged"},
	"state delivered":       {"Đã chuyển đến nơi nhận", "Delivered"},
	"state dead":            {"Ngừng chuyển do lỗi", "Given up"},
	"state cancelled":       {"Đã huỷ", "Cancelled"},
	"step accepted":         {"Trục đã tiếp nhận", "Accepted by the hub"},
	"step archived":         {"Đã lưu bản gốc", "Original archived"},
	"step revoked":          {"Bị thu hồi", "Revoked"},
	"step updated":          {"Được cập nhật", "Updated"},
	"step replaced":         {"Được thay thế", "Replaced"},
	"step read":             {"Được xem", "Read"},
	"step queued":           {"Xếp hàng chuyển", "Queued"},
	"step pushed":           {"Đã đẩy đến hệ thống nơi nhận", "Pushed to the recipient's system"},
	"step forwarded":        {"Đã chuyển sang trục khác", "Forwarded to another hub"},
	"step pulled-from-peer": {"Nhận từ trục khác", "Taken from another hub"},
	"step attempt-failed":   {"Chuyển không thành công", "Attempt failed"},
	"step dead":             {"Ngừng chuyển", "Given up"},
	"step pulled":           {"Nơi nhận đã tải về", "Fetched by the recipient"},
	"step fetched":          {"Nơi nhận tải lại", "Fetched again"},
	"step acked":            {"Nơi nhận đã xác nhận", "Acknowledged by the recipient"},
	"step arrived":          {"Đã đến nơi nhận", "Arrived"},
	"step status":           {"Trạng thái xử lý", "Status"},
	"step cancelled":        {"Đã huỷ", "Cancelled"},
	"err timeout":           {"Hệ thống nơi nhận không trả lời kịp thời.", "The recipient's system did not answer in time."},
	"err refused":           {"Không kết nối được tới hệ thống nơi nhận.", "Could not connect to the recipient's system."},
	"err dns":               {"Không tìm thấy địa chỉ của hệ thống nơi nhận.", "The recipient system's address could not be found."},
	"err certificate":       {"Chứng thư số (TLS) của hệ thống nơi nhận không được tin cậy.", "The recipient system's TLS certificate is not trusted."},
	"err server":            {"Hệ thống nơi nhận báo lỗi (HTTP %s); trục sẽ thử lại.", "The recipient's system reported an error (HTTP %s); the hub retries."},
	"err client":            {"Hệ thống nơi nhận từ chối văn bản (HTTP %s).", "The recipient's system refused the document (HTTP %s)."},
	"err no route":          {"Không có đường chuyển tới nơi nhận.", "No route reaches the recipient."},
	"err other":             {"Lỗi khi chuyển văn bản.", "The delivery failed."},

	"attachments":    {"Tệp đính kèm", "Attachments"},
	"no attachments": {"Văn bản không có tệp đính kèm.", "No attachments."},

	// Actions on deliveries.
	"step requeued":   {"Được gửi lại", "Sent again"},
	"resend":          {"Gửi lại", "Resend"},
	"cancel delivery": {"Huỷ chuyển", "Cancel delivery"},
	"reason":          {"Lý do huỷ", "Reason"},
	"done resent":     {"Đã xếp lượt chuyển vào hàng đợi để gửi lại.", "The delivery is queued to be sent again."},
	"done cancelled":  {"Đã huỷ lượt chuyển.", "The delivery is cancelled."},
	"need reason":     {"Cần ghi lý do huỷ (tối đa 500 ký tự).", "Give a reason (at most 500 characters)."},
	"conflict":        {"Lượt chuyển đã đổi trạng thái trong lúc bạn thao tác; hãy tải lại trang và xem lại.", "The delivery changed state meanwhile; reload the page and look again."},
	"not dead":        {"Chỉ gửi lại được lượt chuyển đã ngừng do lỗi.", "Only a delivery that was given up can be resent."},
	"sending now":     {"Lượt chuyển đang được gửi đi; hãy thử lại sau ít phút.", "The delivery is being sent at this moment; try again in a minute."},
	"too late":        {"Lượt chuyển đã hoàn tất hoặc đã huỷ, không huỷ được nữa.", "The delivery is done or cancelled and can no longer be cancelled."},
	"still no route":  {"Vẫn chưa có đường chuyển tới nơi nhận: quản trị viên cần đăng ký cơ quan này hoặc khai báo tuyến trước khi gửi lại.", "There is still no route to the recipient: an admin must register it or add a route first."},
	"actions":         {"Thao tác", "Actions"},

	// The auditor's pages.
	"record":            {"Hồ sơ văn bản", "Document record"},
	"open record":       {"Xem hồ sơ", "Open the record"},
	"deliveries":        {"Các lượt chuyển", "Deliveries"},
	"events":            {"Sự kiện nhật ký", "Audit events"},
	"verification":      {"Kiểm tra chữ ký số bản gốc", "The original's signature, verified again"},
	"signature valid":   {"Chữ ký số hợp lệ", "Valid signature"},
	"signature invalid": {"Chữ ký số không hợp lệ", "Invalid signature"},
	"unsigned":          {"Văn bản không ký số", "Not signed"},
	"signer":            {"Người ký", "Signer"},
	"issuer":            {"Tổ chức cấp chứng thư", "Issuer"},
	"as of":             {"Tại thời điểm", "As of"},
	"digest":            {"Mã băm SHA-256", "SHA-256 digest"},
	"route":             {"Tuyến", "Route"},
	"created":           {"Tạo lúc", "Created"},
	"updated":           {"Cập nhật", "Updated"},
	"chain":             {"Kiểm tra toàn vẹn nhật ký", "Audit chain verification"},
	"verify now":        {"Kiểm tra ngay", "Verify now"},
	"with originals":    {"Băm lại toàn bộ bản gốc (lâu hơn)", "Re-hash every original (slower)"},
	"last verification": {"Lần kiểm tra gần nhất", "Last verification"},
	"never verified":    {"Chưa kiểm tra lần nào trên hệ thống này.", "Never verified here."},
	"chain ok":          {"TOÀN VẸN: nhật ký không bị sửa, xoá hay chèn.", "INTACT: nothing was edited, removed or inserted."},
	"chain broken":      {"PHÁT HIỆN SAI LỆCH", "BROKEN"},
	"by":                {"Người kiểm tra", "By"},
	"events checked":    {"Số sự kiện", "Events"},
	"head":              {"Mã băm cuối chuỗi", "Chain head"},
	"checkpoints":       {"Điểm neo đã ký", "Signed checkpoints"},
	"timestamped":       {"có dấu thời gian", "timestamped"},
	"originals":         {"Bản gốc đã băm lại", "Originals re-hashed"},
	"originals skipped": {"không băm lại bản gốc", "originals not re-hashed"},
	"purged":            {"đã huỷ theo thời hạn lưu trữ", "purged after retention"},
	"problem":           {"Sai lệch", "Problem"},
	"broken at":         {"tại sự kiện/điểm neo", "at event/checkpoint"},

	// The overview.
	"overview":          {"Tổng quan vận hành", "Operations overview"},
	"documents per day": {"Văn bản tiếp nhận theo ngày (14 ngày)", "Documents received per day (14 days)"},
	"waiting":           {"Lượt chuyển đang chờ", "Deliveries waiting"},
	"dead letters":      {"Lượt chuyển ngừng do lỗi", "Dead letters"},
	"oldest":            {"Văn bản chờ lâu nhất", "Oldest undelivered document"},
	"none waiting":      {"Không có lượt chuyển nào đang chờ.", "No delivery is waiting."},
	"waiting since":     {"chờ từ", "waiting since"},
	"no dead letters":   {"Không có lượt chuyển nào ngừng do lỗi.", "No dead letters."},
	"total":             {"Văn bản trong 14 ngày", "Documents in 14 days"},

	// The admin's pages.
	"directory":         {"Danh bạ cơ quan", "Agency directory"},
	"routes":            {"Bảng định tuyến", "Routing table"},
	"users":             {"Tài khoản", "Accounts"},
	"find agency":       {"Tìm theo mã hoặc tên", "Find by code or name"},
	"add agency":        {"Thêm cơ quan", "Add an agency"},
	"code":              {"Mã định danh", "Code"},
	"name":              {"Tên cơ quan", "Name"},
	"alt code":          {"Mã theo dạng còn lại (QĐ 20 / QCVN 102)", "Code in the other form"},
	"parent":            {"Cơ quan cấp trên (mã)", "Parent agency (code)"},
	"member":            {"Cơ quan do trục này phục vụ", "Served by this hub"},
	"mode":              {"Cách nhận văn bản", "Delivery mode"},
	"mode pull":         {"Tự lấy về (pull)", "Pull (its system polls)"},
	"mode push":         {"Trục đẩy đến (push)", "Push (the hub posts)"},
	"push url":          {"Địa chỉ nhận (HTTPS)", "Push endpoint (HTTPS)"},
	"signature policy":  {"Yêu cầu ký số", "Signature policy"},
	"sig required":      {"Văn bản phải ký số", "Documents signed"},
	"sig all":           {"Mọi gói tin phải ký số", "Every packet signed"},
	"sig optional":      {"Không bắt buộc", "Optional"},
	"save":              {"Lưu", "Save"},
	"add":               {"Thêm", "Add"},
	"remove":            {"Gỡ", "Remove"},
	"status":            {"Tình trạng", "Status"},
	"active":            {"Đang hoạt động", "Active"},
	"retired":           {"Đã dừng hoạt động", "Retired"},
	"not member":        {"Chỉ có trong danh bạ", "Directory only"},
	"certificates":      {"Chứng thư số đã gắn", "Bound certificates"},
	"no certificates":   {"Chưa gắn chứng thư số nào.", "No certificate bound."},
	"bind cert":         {"Gắn chứng thư số", "Bind a certificate"},
	"pem":               {"Chứng thư số (PEM): dán nội dung", "Certificate (PEM): paste it"},
	"pem file":          {"hoặc chọn tệp .pem", "or choose a .pem file"},
	"cert mtls note":    {"Hệ thống của cơ quan dùng chứng thư này để xác thực TLS hai chiều (mTLS) khi cơ quan là thành viên của trục.", "The agency's system authenticates with this certificate over mutual TLS while the agency is a member of this hub."},
	"retire":            {"Dừng hoạt động mã cơ quan", "Retire the code"},
	"successor":         {"Cơ quan kế thừa (mã)", "Successor (code)"},
	"retire at":         {"Ngày dừng", "Date"},
	"retire note":       {"Mã đã dừng không bao giờ được dùng lại; văn bản gửi đến mã này được chuyển cho cơ quan kế thừa.", "A retired code is never reused; documents to it go to the successor."},
	"delivery settings": {"Cách chuyển văn bản", "Delivery"},
	"units":             {"Đơn vị trực thuộc", "Units"},
	"endpoint":          {"Địa chỉ nhận", "Endpoint"},
	"no agencies":       {"Không tìm thấy cơ quan nào.", "No agency found."},
	"members only":      {"Đang hiển thị các cơ quan do trục này phục vụ.", "Showing the agencies this hub serves."},
	"saved":             {"Đã lưu.", "Saved."},
	"pattern":           {"Mẫu tuyến (*, mã cấp 1 như H53, hoặc mã cơ quan)", "Pattern (*, a level-1 group such as H53, or a code)"},
	"peer":              {"Trục kết nối", "Peer hub"},
	"peers":             {"Các trục kết nối", "Peer hubs"},
	"no routes":         {"Chưa có tuyến nào.", "No routes."},
	"no peers":          {"Chưa khai báo trục kết nối nào (edocgw peer add).", "No peer hub yet (edocgw peer add)."},
	"add route":         {"Thêm tuyến", "Add a route"},
	"role":              {"Vai trò", "Role"},
	"role clerk":        {"Văn thư", "Clerk"},
	"role auditor":      {"Kiểm toán viên", "Auditor"},
	"role admin":        {"Quản trị viên", "Admin"},
	"add user":          {"Thêm tài khoản", "Add an account"},
	"disable":           {"Khoá tài khoản", "Disable"},
	"enable":            {"Mở khoá", "Enable"},
	"disabled":          {"Đã khoá", "Disabled"},
	"locked until":      {"Tạm khoá đến", "Locked until"},
	"new password":      {"Mật khẩu mới", "New password"},
	"reset password":    {"Đặt lại mật khẩu", "Reset the password"},

	// Form errors, next to their field.
	"required":        {"Không được để trống.", "Required."},
	"bad code":        {"Mã định danh không hợp lệ", "Not a valid agency code"},
	"code exists":     {"Mã này đã có trong danh bạ.", "This code is already in the directory."},
	"no such agency":  {"Không có cơ quan này trong danh bạ.", "No such agency in the directory."},
	"bad name":        {"Tên không hợp lệ", "Not a valid name"},
	"bad url":         {"Cần một địa chỉ https:// đầy đủ.", "An absolute https:// URL is required."},
	"url pull":        {"Cơ quan nhận kiểu pull không dùng địa chỉ nhận.", "A pull agency has no push endpoint."},
	"bad choice":      {"Lựa chọn không hợp lệ.", "Not a valid choice."},
	"bad pem":         {"Không đọc được chứng thư số PEM", "Not a PEM certificate"},
	"cert expired":    {"Chứng thư số đã hết hạn.", "The certificate has expired."},
	"cert bound":      {"Chứng thư số này đã được gắn cho cơ quan này.", "This certificate is already bound to this agency."},
	"cert elsewhere":  {"Chứng thư số này đang gắn cho cơ quan khác", "This certificate is bound to another agency"},
	"too many certs":  {"Đã đủ số chứng thư tối đa.", "The most certificates are bound already."},
	"bad date":        {"Ngày không hợp lệ (năm-tháng-ngày).", "Not a valid date (YYYY-MM-DD)."},
	"bad successor":   {"Cơ quan kế thừa không hợp lệ", "Not a valid successor"},
	"already retired": {"Mã này đã dừng hoạt động.", "This code is already retired."},
	"bad pattern":     {"Mẫu tuyến không hợp lệ: dùng *, mã cấp 1 (H53, G09) hoặc mã cơ quan.", "Not a pattern: use *, a level-1 group (H53, G09) or an agency code."},
	"no such peer":    {"Không có trục kết nối này.", "No such peer hub."},
	"bad user name":   {"Tên đăng nhập gồm 1–64 ký tự a-z, 0-9, '.', '_', '-'.", "A user name has 1–64 of a-z, 0-9, '.', '_', '-'."},
	"user exists":     {"Tên đăng nhập này đã có.", "This user name is taken."},
	"short password":  {"Mật khẩu cần từ 10 đến 1024 ký tự.", "A password has 10 to 1024 characters."},
	"clerk agency":    {"Văn thư cần mã cơ quan có trong danh bạ.", "A clerk needs an agency of the directory."},
	"no agency":       {"Chỉ văn thư mới gắn với cơ quan.", "Only a clerk belongs to an agency."},
	"not yourself":    {"Không thể tự khoá tài khoản của mình.", "You cannot disable your own account."},
	"date order":      {"Đến ngày phải không trước từ ngày.", "The end date may not be before the start."},
	"too long":        {"Quá dài (tối đa 200 ký tự).", "Too long (200 characters at most)."},
	"form error":      {"Chưa lưu: hãy sửa các ô được đánh dấu.", "Not saved: correct the marked fields."},
}

// httpStatus finds the status of "push endpoint answered 503 …".
var httpStatus = regexp.MustCompile(`answered ([45][0-9][0-9])\b`)

// PlainError explains a delivery error in words a clerk understands; the
// raw text is shown beside it.
func (l lang) PlainError(raw string) string {
	if raw == "" {
		return ""
	}
	low := strings.ToLower(raw)
	switch {
	case strings.Contains(low, "timeout") || strings.Contains(low, "deadline exceeded"):
		return l.T("err timeout")
	case strings.Contains(low, "connection refused") || strings.Contains(low, "connection reset") || strings.Contains(low, "unreachable"):
		return l.T("err refused")
	case strings.Contains(low, "no such host"):
		return l.T("err dns")
	case strings.Contains(low, "x509") || strings.Contains(low, "certificate"):
		return l.T("err certificate")
	case strings.Contains(low, "no route"):
		return l.T("err no route")
	}
	if m := httpStatus.FindStringSubmatch(raw); m != nil {
		if m[1][0] == '5' {
			return strings.Replace(l.T("err server"), "%s", m[1], 1)
		}
		return strings.Replace(l.T("err client"), "%s", m[1], 1)
	}
	return l.T("err other")
}
