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
	"app":                 {"Cổng trao đổi văn bản điện tử", "Electronic document exchange gateway"},
	"signin":              {"Đăng nhập", "Sign in"},
	"signout":             {"Đăng xuất", "Sign out"},
	"username":            {"Tên đăng nhập", "User name"},
	"password":            {"Mật khẩu", "Password"},
	"bad login":           {"Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."},
	"locked":              {"Tài khoản tạm khoá 15 phút vì nhập sai mật khẩu nhiều lần.", "The account is locked for 15 minutes after too many failed sign-ins."},
	"documents":           {"Văn bản", "Documents"},
	"audit":               {"Nhật ký kiểm toán", "Audit log"},
	"dir":                 {"Loại", "Direction"},
	"dir all":             {"Tất cả", "All"},
	"dir sent":            {"Văn bản đi", "Sent"},
	"dir received":        {"Văn bản đến", "Received"},
	"number":              {"Số/Ký hiệu", "Number/notation"},
	"subject":             {"Trích yếu", "Subject"},
	"counterpart":         {"Cơ quan gửi/nhận (mã)", "Counterpart agency (code)"},
	"from date":           {"Từ ngày", "From"},
	"to date":             {"Đến ngày", "To"},
	"state":               {"Trạng thái gửi", "Delivery state"},
	"any":                 {"Bất kỳ", "Any"},
	"search":              {"Tìm kiếm", "Search"},
	"no documents":        {"Không có văn bản nào.", "No documents."},
	"more":                {"Xem tiếp", "More"},
	"received at":         {"Thời gian nhận", "Received"},
	"sender":              {"Nơi gửi", "Sender"},
	"recipients":          {"Nơi nhận", "Recipients"},
	"recipient":           {"Nơi nhận", "Recipient"},
	"timeline":            {"Diễn biến", "Timeline"},
	"attempts":            {"Số lần gửi", "Attempts"},
	"attempt":             {"lần", "attempt"},
	"last error":          {"Lỗi gần nhất", "Last error"},
	"statuses":            {"Trạng thái xử lý", "Processing statuses"},
	"document steps":      {"Văn bản trên trục", "The document on the hub"},
	"time":                {"Thời gian", "Time"},
	"step":                {"Bước", "Step"},
	"detail":              {"Chi tiết", "Detail"},
	"hub id":              {"Mã trên trục", "Hub id"},
	"edxml id":            {"Mã văn bản (edXML)", "Document id (edXML)"},
	"size":                {"Dung lượng", "Size"},
	"bad input":           {"Dữ liệu tìm kiếm không hợp lệ", "Invalid search"},
	"not found":           {"Không tìm thấy.", "Not found."},
	"forbidden":           {"Bạn không có quyền xem trang này.", "You may not see this page."},
	"unavailable":         {"Hệ thống tạm thời không phục vụ được, xin thử lại sau.", "The service is unavailable; please try again later."},
	"error":               {"Đã có lỗi xảy ra.", "Something went wrong."},
	"gone":                {"Bản gốc không còn được lưu trữ.", "The original is no longer archived."},
	"no pages":            {"Chưa có trang nào cho vai trò của bạn.", "There are no pages for your role yet."},
	"signed in as":        {"Đăng nhập với tên", "Signed in as"},
	"export":              {"Tải gói lưu trữ (ZIP)", "Download the archive bundle (ZIP)"},
	"export title":        {"Xuất hồ sơ lưu trữ của văn bản", "Export a document's archive record"},
	"document id":         {"Mã văn bản trên trục", "Hub document id"},
	"delivery id":         {"Mã lượt chuyển", "Delivery id"},
	"agency":              {"Cơ quan (mã)", "Agency (code)"},
	"actor":               {"Người/hệ thống thực hiện", "Actor"},
	"kind":                {"Loại sự kiện", "Event kind"},
	"seq":                 {"STT", "Seq"},
	"details":             {"Nội dung", "Details"},
	"filter":              {"Lọc", "Filter"},
	"no events":           {"Không có sự kiện nào.", "No events."},
	"original":            {"Nơi gửi khác phục vụ", "served by the sending hub"},
	"state queued":        {"Đang chờ chuyển", "Waiting"},
	"state sending":       {"Đang chuyển", "Sending"},
	"state pulled":        {"Bên nhận đã tải về", "Fetched by the recipient"},
	"state acked":         {"Bên nhận đã xác nhận", "Acknowledged"},
	"state delivered":     {"Đã chuyển đến nơi nhận", "Delivered"},
	"state dead":          {"Ngừng chuyển do lỗi", "Given up"},
	"state cancelled":     {"Đã huỷ", "Cancelled"},
	"step accepted":       {"Trục đã tiếp nhận", "Accepted by the hub"},
	"step archived":       {"Đã lưu bản gốc", "Original archived"},
	"step revoked":        {"Bị thu hồi", "Revoked"},
	"step updated":        {"Được cập nhật", "Updated"},
	"step replaced":       {"Được thay thế", "Replaced"},
	"step read":           {"Được xem", "Read"},
	"step queued":         {"Xếp hàng chuyển", "Queued"},
	"step pushed":         {"Đã đẩy đến hệ thống nơi nhận", "Pushed to the recipient's system"},
	"step forwarded":      {"Đã chuyển sang trục khác", "Forwarded to another hub"},
	"step attempt-failed": {"Chuyển không thành công", "Attempt failed"},
	"step dead":           {"Ngừng chuyển", "Given up"},
	"step pulled":         {"Nơi nhận đã tải về", "Fetched by the recipient"},
	"step fetched":        {"Nơi nhận tải lại", "Fetched again"},
	"step acked":          {"Nơi nhận đã xác nhận", "Acknowledged by the recipient"},
	"step arrived":        {"Đã đến nơi nhận", "Arrived"},
	"step status":         {"Trạng thái xử lý", "Status"},
	"step cancelled":      {"Đã huỷ", "Cancelled"},
	"err timeout":         {"Hệ thống nơi nhận không trả lời kịp thời.", "The recipient's system did not answer in time."},
	"err refused":         {"Không kết nối được tới hệ thống nơi nhận.", "Could not connect to the recipient's system."},
	"err dns":             {"Không tìm thấy địa chỉ của hệ thống nơi nhận.", "The recipient system's address could not be found."},
	"err certificate":     {"Chứng thư số (TLS) của hệ thống nơi nhận không được tin cậy.", "The recipient system's TLS certificate is not trusted."},
	"err server":          {"Hệ thống nơi nhận báo lỗi (HTTP %s); trục sẽ thử lại.", "The recipient's system reported an error (HTTP %s); the hub retries."},
	"err client":          {"Hệ thống nơi nhận từ chối văn bản (HTTP %s).", "The recipient's system refused the document (HTTP %s)."},
	"err no route":        {"Không có đường chuyển tới nơi nhận.", "No route reaches the recipient."},
	"err other":           {"Lỗi khi chuyển văn bản.", "The delivery failed."},
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
