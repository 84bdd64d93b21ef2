package vxp

import (
	"errors"
	"fmt"

	"github.com/edocgw/edocgw/routing"
)

// Code is a response's ErrorCode: "0" for success (§4), else one of the
// codes below. Only "0" is known from the national axis; the others are
// edocgw's, one per cause, stable.
type Code string

// The error codes.
const (
	CodeOK Code = "0"

	// Authentication (the request is refused before anything is read).
	CodeAuthHeaders  Code = "1001" // XroadVnpt-systemid, -sign-header or -hash-header missing or malformed
	CodeUnknownSys   Code = "1002" // no such systemId
	CodeBadHMAC      Code = "1003" // XroadVnpt-hash-header is not the HMAC of the sign-header
	CodeStaleRequest Code = "1004" // timestamp outside the window (only when one is configured)
	// CodeTooManyFailures: more than 10 failed authentications a minute
	// from the address; not audited one by one (internal/ratelimit).
	CodeTooManyFailures Code = "1005"

	// sendEdoc.
	CodeFromNotRegistered Code = "2001" // from, or the packet's From, is not an agency of the system
	CodeHashFile          Code = "2002" // hash-file missing or not the body's SHA-256
	CodeBody              Code = "2003" // no packet in the body
	CodeInvalidEdxml      Code = "2004" // not a valid edXML packet
	CodeSignature         Code = "2005" // the packet's signature is refused
	CodeSignatureRequired Code = "2006" // the sender's policy wants a signature
	CodeTooLarge          Code = "2007" // larger than the hub accepts
	CodeDuplicate         Code = "2008" // sent before (DocId is the first one's)
	CodeNoRoute           Code = "2009" // no recipient reachable, or the document of a status unknown
	CodeForbidden         Code = "2010" // the hub refuses it for this sender (a status about a document it did not receive …)

	// Reading and acknowledging.
	CodeBadParam Code = "3001" // a parameter is missing or malformed
	CodeNotFound Code = "3002" // no such docId for this system
	CodeConflict Code = "3003" // the delivery is not in a state that allows it
	CodeGone     Code = "3004" // the original is no longer archived

	// Directory.
	CodeAgencyAdmin Code = "4001" // registerAgency/deleteAgency: the operator registers agencies

	// Protocol.
	CodeNoMethod   Code = "4040" // no such method
	CodeHTTPMethod Code = "4050" // HTTP method not allowed on it

	CodeUnavailable Code = "5000" // the database or the archive is unavailable: retry
	CodeInternal    Code = "5001" // an internal error
)

// descriptions are the ErrorDesc texts, Vietnamese without diacritics
// (the sendEdoc answer is read as US-ASCII, §4).
var descriptions = map[Code]string{
	CodeOK:                "Thanh cong",
	CodeAuthHeaders:       "Thieu hoac sai thong tin xac thuc XroadVnpt",
	CodeUnknownSys:        "He thong chua duoc dang ky",
	CodeBadHMAC:           "Chu ky xac thuc XroadVnpt-hash-header khong hop le",
	CodeStaleRequest:      "Thoi diem gui yeu cau XroadVnpt-timestamp nam ngoai khoang cho phep",
	CodeTooManyFailures:   "Qua nhieu lan xac thuc that bai tu dia chi nay, vui long thu lai sau",
	CodeFromNotRegistered: "Don vi gui khong dung voi ma da dang ky",
	CodeHashFile:          "Ma bam tep hash-file khong khop voi noi dung goi tin",
	CodeBody:              "Khong doc duoc goi tin trong noi dung yeu cau",
	CodeInvalidEdxml:      "Goi tin edXML khong hop le",
	CodeSignature:         "Chu ky so cua goi tin khong hop le hoac khong duoc tin cay",
	CodeSignatureRequired: "Goi tin phai duoc ky so",
	CodeTooLarge:          "Goi tin vuot qua kich thuoc cho phep",
	CodeDuplicate:         "Goi tin da duoc gui truoc do",
	CodeNoRoute:           "Khong co duong chuyen toi don vi nhan",
	CodeForbidden:         "Don vi khong duoc phep thuc hien thao tac nay",
	CodeBadParam:          "Tham so khong hop le",
	CodeNotFound:          "Khong tim thay van ban",
	CodeConflict:          "Trang thai van ban khong cho phep thao tac nay",
	CodeGone:              "Ban goc cua van ban khong con duoc luu tru",
	CodeAgencyAdmin:       "Dang ky va huy don vi do quan tri vien truc lien thong thuc hien",
	CodeNoMethod:          "Phuong thuc khong ton tai",
	CodeHTTPMethod:        "Phuong thuc HTTP khong duoc ho tro",
	CodeUnavailable:       "He thong tam thoi khong san sang, vui long thu lai sau",
	CodeInternal:          "Loi he thong",
}

// Desc is the code's ErrorDesc.
func (c Code) Desc() string { return descriptions[c] }

// Error is a refused request: its code, an ErrorDesc and the cause.
type Error struct {
	Code Code
	// Desc replaces the code's description when set (e.g. the live
	// server's wording for a wrong from).
	Desc string
	// Detail is appended to the description: what exactly was wrong.
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := string(e.Code) + " " + e.desc()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) desc() string {
	d := e.Desc
	if d == "" {
		d = e.Code.Desc()
	}
	if e.Detail != "" {
		d += ": " + e.Detail
	}
	return d
}

func failf(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...), Err: err}
}

// hubErrors maps the hub's errors to codes, the first match winning (as
// internal/server maps them to problem types).
var hubErrors = []struct {
	err  error
	code Code
}{
	{routing.ErrUnavailable, CodeUnavailable},
	{routing.ErrTooLarge, CodeTooLarge},
	{routing.ErrInvalidPacket, CodeInvalidEdxml},
	{routing.ErrSignatureRequired, CodeSignatureRequired},
	{routing.ErrSignature, CodeSignature},
	{routing.ErrNoRoute, CodeNoRoute},
	{routing.ErrForbidden, CodeForbidden},
	{routing.ErrUnauthenticated, CodeForbidden},
	{routing.ErrNotFound, CodeNotFound},
	{routing.ErrStateConflict, CodeConflict},
	{routing.ErrGone, CodeGone},
	{routing.ErrBadRequest, CodeBadParam},
	{ErrBodyTooLarge, CodeTooLarge},
	{ErrHashFile, CodeHashFile},
	{ErrBody, CodeBody},
}

// errorOf turns any error into an *Error. Details of unavailable and
// internal errors stay in the log.
func errorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var dup *routing.DuplicateError
	if errors.As(err, &dup) {
		return &Error{Code: CodeDuplicate, Detail: "DocId " + WireID(dup.FirstID), Err: err}
	}
	for _, m := range hubErrors {
		if errors.Is(err, m.err) {
			e := &Error{Code: m.code, Err: err}
			if m.code != CodeUnavailable {
				e.Detail = err.Error()
			}
			return e
		}
	}
	return &Error{Code: CodeInternal, Err: err}
}
