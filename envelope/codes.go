package envelope

import "fmt"

// StatusCode is a status packet's StatusCode: two digits on the wire.
type StatusCode int

// The status codes seen in the national-axis SDK (edxml.md §4.2).
const (
	StatusArrived        StatusCode = 1  // đã đến: the receiving system has it
	StatusRejected       StatusCode = 2  // từ chối nhận: the clerk refuses it
	StatusAccepted       StatusCode = 3  // đã tiếp nhận: registered
	StatusAssigned       StatusCode = 4  // đã chuyển xử lý: assigned for processing
	StatusProcessing     StatusCode = 5  // đang xử lý
	StatusFinished       StatusCode = 6  // đã hoàn thành
	StatusRecallRequest  StatusCode = 13 // thu hồi / lấy lại, sent by the original sender
	StatusChangeAccepted StatusCode = 15 // agrees to an update or take-back
	StatusChangeRefused  StatusCode = 16 // refuses an update or take-back
)

var statusNames = map[StatusCode][2]string{
	StatusArrived:        {"Đã đến", "arrived"},
	StatusRejected:       {"Từ chối nhận", "rejected"},
	StatusAccepted:       {"Đã tiếp nhận", "accepted"},
	StatusAssigned:       {"Đã chuyển xử lý", "assigned"},
	StatusProcessing:     {"Đang xử lý", "processing"},
	StatusFinished:       {"Đã hoàn thành", "finished"},
	StatusRecallRequest:  {"Yêu cầu thu hồi", "recall requested"},
	StatusChangeAccepted: {"Đồng ý cập nhật/thu hồi", "change accepted"},
	StatusChangeRefused:  {"Từ chối cập nhật/thu hồi", "change refused"},
}

// Known reports whether c is one of the codes of the SDK.
func (c StatusCode) Known() bool { _, ok := statusNames[c]; return ok }

// String is the two-digit wire form, e.g. "01".
func (c StatusCode) String() string { return fmt.Sprintf("%02d", int(c)) }

// NameVI is the Vietnamese name of a known code ("" otherwise).
func (c StatusCode) NameVI() string { return statusNames[c][0] }

// NameEN is the English name of a known code ("" otherwise).
func (c StatusCode) NameEN() string { return statusNames[c][1] }

// SentBySender reports whether the code is one only the original sender
// sends (13); the others come from a receiver.
func (c StatusCode) SentBySender() bool { return c == StatusRecallRequest }

// Priority is OtherInfo/Priority, the urgency (mức độ khẩn).
type Priority int

const (
	PriorityNormal     Priority = 0 // thường
	PriorityUrgent     Priority = 1 // khẩn
	PriorityVeryUrgent Priority = 2 // thượng khẩn
	PriorityFlash      Priority = 3 // hỏa tốc
	PriorityFlashTimed Priority = 4 // hỏa tốc hẹn giờ (implementations only)
)

// Known reports whether p is 0–4.
func (p Priority) Known() bool { return p >= PriorityNormal && p <= PriorityFlashTimed }

// NameVI is the Vietnamese name of a known priority.
func (p Priority) NameVI() string {
	switch p {
	case PriorityNormal:
		return "Thường"
	case PriorityUrgent:
		return "Khẩn"
	case PriorityVeryUrgent:
		return "Thượng khẩn"
	case PriorityFlash:
		return "Hỏa tốc"
	case PriorityFlashTimed:
		return "Hỏa tốc hẹn giờ"
	}
	return ""
}

// BusinessDocType is Bussiness/BussinessDocType.
type BusinessDocType int

const (
	BusinessNew         BusinessDocType = 0 // văn bản mới
	BusinessRevocation  BusinessDocType = 1 // thu hồi
	BusinessUpdate      BusinessDocType = 2 // cập nhật
	BusinessReplacement BusinessDocType = 3 // thay thế
)

// Known reports whether t is 0–3.
func (t BusinessDocType) Known() bool { return t >= BusinessNew && t <= BusinessReplacement }

func (t BusinessDocType) String() string {
	switch t {
	case BusinessNew:
		return "new"
	case BusinessRevocation:
		return "revocation"
	case BusinessUpdate:
		return "update"
	case BusinessReplacement:
		return "replacement"
	}
	return fmt.Sprintf("BusinessDocType(%d)", int(t))
}
