// Package vxpclient is a client of the national axis's SDK protocol
// written to ../shared/spec/vxp-protocol.md §2–§3 byte for byte: what a
// document-management system built on SDKVXP 2.0.1 sends, quirks included.
// Tests use it to drive edocgw's server side (internal/vxp) as a real DMS
// would.
//
// Like the SDK's VnptService it keeps one header map for its life: the
// timestamp is set once, when the client is made; every key a call puts
// stays and is signed again by later calls; the order of the signed JSON
// is java.util.HashMap's. sendEdoc sends the raw file and a CRLF, with the
// file's SHA-256 in the SDK's unpadded hex as hash-file; the "{}" methods
// send Expect: 100-continue.
package vxpclient

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/edocgw/edocgw/internal/vxp"
)

// The constants of the SDK (§3.1 step 7).
const (
	UserAgent = "JAVASDKAgent/1.0.0 XRoad/VPCP"
	Version   = "3.0.201608"
	// jdkAccept is what HttpURLConnection sends when no Accept is set.
	jdkAccept = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
)

// How a method travels (§2.2).
type transport int

const (
	emptyPost  transport = iota // HttpClient POST, empty form entity
	bracesPost                  // HttpClient POST, body "{}"
	jsonPost                    // HttpClient POST, the caller's data
	fileDoc                     // HttpURLConnection POST, file + CRLF
	download                    // HttpClient GET
)

// methods are the SDK's methods and how each travels.
var methods = map[string]transport{
	"getReceivedEdocList": emptyPost, "getSentEdocList": emptyPost, "getAgenciesList": emptyPost,
	"getAgenciesListQD20": emptyPost, "getSynchronizeUnit": emptyPost,
	"getEdoc": bracesPost, "updateStatus": bracesPost, "deleteAgency": bracesPost,
	"countReceiveEdoc": bracesPost, "countReceiveStatus": bracesPost,
	"registerAgency": jsonPost,
	"sendEdoc":       fileDoc,
	"downloadEdoc":   download,
}

// ErrTooLarge: an answer is larger than Client.MaxResponse.
var ErrTooLarge = errors.New("vxpclient: answer too large")

// Client is one SDK service object: one systemId and secret, one sticky
// header map. Its methods may be called from one goroutine at a time, as
// the SDK's (a mutex keeps the map whole).
type Client struct {
	Endpoint string // e.g. https://hub:8443/XrdAdapter/adapter
	SystemID string
	Secret   string
	HTTP     *http.Client
	// Multipart makes sendEdoc send a real multipart/form-data body with
	// the file in part file_doc (what other SDK builds may do, §11.1).
	Multipart bool
	// MaxResponse bounds an answer's size (0: no bound, as the SDK).
	MaxResponse int64

	mu      sync.Mutex
	headers *hashMap
}

// New returns a client whose timestamp is now's, for its whole life.
func New(endpoint, systemID, secret string, hc *http.Client, now time.Time) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{Endpoint: endpoint, SystemID: systemID, Secret: secret, HTTP: hc, headers: newHashMap()}
	// The constructor's puts (§3.1 step 1).
	c.headers.put("timestamp", vxp.FormatTimestamp(now))
	c.headers.put("systemid", systemID)
	return c
}

// Put sets a header key as an earlier call would have left it.
func (c *Client) Put(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.headers.put(key, value)
}

// Header returns a key of the header map.
func (c *Client) Header(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.headers.get(key)
}

// Signed is what one call signs and sends (§3.1 steps 3–7).
type Signed struct {
	// Headers in the order the SDK adds them: Content-Type and the
	// XroadVnpt-<key> headers, then sign-header-key, sign-header,
	// hash-header, User-Agent and version.
	Headers    [][2]string
	KeyList    string // XroadVnpt-sign-header-key
	SignHeader string // XroadVnpt-sign-header
	HashHeader string // XroadVnpt-hash-header
}

// Sign puts a method's keys into the header map as the SDK does (the
// Content-Type, then the caller JSON's members, then for sendEdoc its
// hash-file) and signs the whole map.
func (c *Client) Sign(method, jsonHeaders string, file []byte) (*Signed, error) {
	var sum []byte
	if methods[method] == fileDoc {
		s := sha256.Sum256(file)
		sum = s[:]
	}
	return c.sign(method, jsonHeaders, sum)
}

// sign is Sign with the file's SHA-256 given.
func (c *Client) sign(method, jsonHeaders string, sum []byte) (*Signed, error) {
	tr, ok := methods[method]
	if !ok {
		return nil, fmt.Errorf("vxpclient: no method %q", method)
	}
	members, err := callerMembers(jsonHeaders, tr == fileDoc)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := "application/json"
	if tr == fileDoc {
		ct = "application/octet-stream"
	}
	c.headers.put("Content-Type", ct)
	for _, m := range members {
		c.headers.put(m[0], m[1])
	}
	if tr == fileDoc {
		c.headers.put("hash-file", vxp.HashFileHex(sum))
	}
	s := &Signed{}
	var obj, keys strings.Builder
	obj.WriteByte('{')
	for i, k := range c.headers.order() {
		v, _ := c.headers.get(k)
		if k == "Content-Type" {
			s.Headers = append(s.Headers, [2]string{"Content-Type", v})
		}
		s.Headers = append(s.Headers, [2]string{"XroadVnpt-" + k, v})
		if i > 0 {
			obj.WriteByte(',')
			keys.WriteByte(';')
		}
		obj.WriteString(gsonQuote("XroadVnpt-" + k))
		obj.WriteByte(':')
		obj.WriteString(gsonQuote(v))
		keys.WriteString(k)
	}
	obj.WriteByte('}')
	s.KeyList, s.SignHeader = keys.String(), obj.String()
	mac := hmac.New(sha256.New, []byte(c.Secret))
	mac.Write([]byte(s.SignHeader))
	s.HashHeader = hex.EncodeToString(mac.Sum(nil))
	s.Headers = append(s.Headers,
		[2]string{"XroadVnpt-sign-header-key", s.KeyList},
		[2]string{"XroadVnpt-sign-header", s.SignHeader},
		[2]string{"XroadVnpt-hash-header", s.HashHeader},
		[2]string{"User-Agent", UserAgent},
		[2]string{"XroadVnpt-version", Version})
	return s, nil
}

// Request builds the request a method sends, signed, without sending it:
// tests alter it to play a broken client. data is sendEdoc's file or
// registerAgency's JSON.
func (c *Client) Request(ctx context.Context, method, jsonHeaders string, data []byte) (*http.Request, *Signed, error) {
	s, err := c.Sign(method, jsonHeaders, data)
	if err != nil {
		return nil, nil, err
	}
	tr := methods[method]
	var body []byte
	httpMethod := http.MethodPost
	switch tr {
	case bracesPost:
		body = []byte("{}")
	case jsonPost:
		body = data
	case fileDoc:
		body = append(append([]byte{}, data...), '\r', '\n')
	case download:
		httpMethod = http.MethodGet
	}
	contentType := ""
	if tr == fileDoc && c.Multipart {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file_doc", "edoc.edxml")
		if err == nil {
			_, err = fw.Write(data)
		}
		if err == nil {
			err = mw.Close()
		}
		if err != nil {
			return nil, nil, err
		}
		body, contentType = buf.Bytes(), mw.FormDataContentType()
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, c.Endpoint+"/"+method, rd)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	for _, h := range s.Headers {
		// As given: Go would canonicalize the names' case.
		req.Header[h[0]] = []string{h[1]}
	}
	if contentType != "" {
		req.Header["Content-Type"] = []string{contentType}
	}
	switch tr {
	case fileDoc:
		req.Header["Accept"] = []string{jdkAccept}
	default:
		req.Header["Accept-Encoding"] = []string{"gzip,deflate"}
		if len(body) > 0 {
			req.Header["Expect"] = []string{"100-continue"}
		}
	}
	return req, s, nil
}

// Response is an answer as the SDK reads it (§4), with the raw bytes.
type Response struct {
	HTTPStatus int
	Header     http.Header
	Raw        []byte
	Status     string
	ErrorCode  string
	ErrorDesc  string
	// Data is data as sent: a list's array, getEdoc's base64 string.
	Data  json.RawMessage
	DocID string
	Count *int
}

// OK reports status OK and ErrorCode 0.
func (r *Response) OK() bool { return r.Status == "OK" && r.ErrorCode == "0" }

// Edoc decodes getEdoc's data.
func (r *Response) Edoc() ([]byte, error) {
	var s string
	if err := json.Unmarshal(r.Data, &s); err != nil {
		return nil, fmt.Errorf("vxpclient: data is not a string: %w", err)
	}
	return base64.StdEncoding.DecodeString(s)
}

// List decodes a list's data into v.
func (r *Response) List(v any) error { return json.Unmarshal(r.Data, v) }

// Do sends a request Request built and reads the answer as JSON (except
// downloadEdoc's, left in Raw).
func (c *Client) Do(req *http.Request) (*Response, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if c.MaxResponse > 0 {
		body = io.LimitReader(resp.Body, c.MaxResponse+1)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if c.MaxResponse > 0 && int64(len(raw)) > c.MaxResponse {
		return nil, fmt.Errorf("%w: an answer of more than %d bytes", ErrTooLarge, c.MaxResponse)
	}
	r := &Response{HTTPStatus: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasSuffix(req.URL.Path, "/downloadEdoc") {
		return r, nil
	}
	var env struct {
		Status    string          `json:"status"`
		ErrorCode json.RawMessage `json:"ErrorCode"`
		ErrorDesc string          `json:"ErrorDesc"`
		Data      json.RawMessage `json:"data"`
		DocID     *string         `json:"DocId"`
		Count     *int            `json:"count"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return r, fmt.Errorf("vxpclient: answer is not JSON: %w: %.200q", err, raw)
	}
	if env.Status == "" || len(env.ErrorCode) == 0 {
		return r, fmt.Errorf("vxpclient: answer without status or ErrorCode (the SDK throws): %.200q", raw)
	}
	// getAsString: a string, or a number's text.
	code := string(env.ErrorCode)
	var s string
	if json.Unmarshal(env.ErrorCode, &s) == nil {
		code = s
	}
	r.Status, r.ErrorCode, r.ErrorDesc, r.Data, r.Count = env.Status, code, env.ErrorDesc, env.Data, env.Count
	if env.DocID != nil {
		r.DocID = *env.DocID
	}
	return r, nil
}

// Call signs and sends one method.
func (c *Client) Call(ctx context.Context, method, jsonHeaders string, data []byte) (*Response, error) {
	req, _, err := c.Request(ctx, method, jsonHeaders, data)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// The SDK's methods, one call each.

// GetReceivedEdocList lists pending documents or statuses (§5 row 1).
func (c *Client) GetReceivedEdocList(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "getReceivedEdocList", jsonHeaders, nil)
}

// GetSentEdocList reports the recipients of a sent document (§5 row 2).
func (c *Client) GetSentEdocList(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "getSentEdocList", jsonHeaders, nil)
}

// SendEdoc sends an edXML file (§5 row 3).
func (c *Client) SendEdoc(ctx context.Context, jsonHeaders string, file []byte) (*Response, error) {
	return c.Call(ctx, "sendEdoc", jsonHeaders, file)
}

// SendEdocStream sends an edXML file of size bytes read from file, whose
// SHA-256 is sum, as SendEdoc does, without holding it in memory.
func (c *Client) SendEdocStream(ctx context.Context, jsonHeaders string, sum []byte, file io.Reader, size int64) (*Response, error) {
	s, err := c.sign("sendEdoc", jsonHeaders, sum)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/sendEdoc", io.MultiReader(file, strings.NewReader("\r\n")))
	if err != nil {
		return nil, err
	}
	req.ContentLength = size + 2
	for _, h := range s.Headers {
		req.Header[h[0]] = []string{h[1]}
	}
	req.Header["Accept"] = []string{jdkAccept}
	return c.Do(req)
}

// GetEdoc fetches a packet as base64 in data (§5 row 4).
func (c *Client) GetEdoc(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "getEdoc", jsonHeaders, nil)
}

// DownloadEdoc fetches a packet's raw bytes, in Raw (§5 row 5).
func (c *Client) DownloadEdoc(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "downloadEdoc", jsonHeaders, nil)
}

// UpdateStatus acknowledges a packet: done, fail or processing (§5 row 6).
func (c *Client) UpdateStatus(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "updateStatus", jsonHeaders, nil)
}

// CountReceiveEdoc counts pending documents (§5 row 7).
func (c *Client) CountReceiveEdoc(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "countReceiveEdoc", jsonHeaders, nil)
}

// CountReceiveStatus counts pending statuses (§5 row 8).
func (c *Client) CountReceiveStatus(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "countReceiveStatus", jsonHeaders, nil)
}

// GetAgenciesList lists the agency directory (§5 row 9).
func (c *Client) GetAgenciesList(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "getAgenciesList", jsonHeaders, nil)
}

// GetAgenciesListQD20 lists agencies by their QĐ 20/2020 codes (§5 row 10).
func (c *Client) GetAgenciesListQD20(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "getAgenciesListQD20", jsonHeaders, nil)
}

// GetSynchronizeUnit lists every unit, deleted ones too (§5 row 11).
func (c *Client) GetSynchronizeUnit(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "getSynchronizeUnit", jsonHeaders, nil)
}

// RegisterAgency sends data, the agency's JSON, as the unsigned body
// (§5 row 12).
func (c *Client) RegisterAgency(ctx context.Context, jsonHeaders, data string) (*Response, error) {
	return c.Call(ctx, "registerAgency", jsonHeaders, []byte(data))
}

// DeleteAgency asks to remove an agency (§5 row 13).
func (c *Client) DeleteAgency(ctx context.Context, jsonHeaders string) (*Response, error) {
	return c.Call(ctx, "deleteAgency", jsonHeaders, nil)
}

// callerMembers reads the caller JSON's members in order (Gson's
// JsonObject keeps insertion order, a repeated key its first place): each
// value as getAsString gives it, except sendEdoc's to, whose JSON text is
// kept (toString, §3.1 step 2).
func callerMembers(s string, sendEdoc bool) ([][2]string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("vxpclient: caller JSON %q is not an object", s)
	}
	var out [][2]string
	at := map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("vxpclient: caller JSON: %w", err)
		}
		k := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("vxpclient: caller JSON: %w", err)
		}
		var v string
		switch {
		case sendEdoc && k == "to":
			if v, err = gsonText(raw); err != nil {
				return nil, err
			}
		case raw[0] == '"':
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
		case raw[0] == '{' || raw[0] == '[' || raw[0] == 'n':
			return nil, fmt.Errorf("vxpclient: %s: getAsString of %s throws", k, raw)
		default:
			v = string(raw)
		}
		if i, ok := at[k]; ok {
			out[i][1] = v
			continue
		}
		at[k] = len(out)
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// gsonText is a JSON value as Gson's toString writes it: compact, its
// strings quoted by gsonQuote.
func gsonText(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	// needComma[i]: the container at depth i has a member already;
	// isObj[i]: it is an object (its members alternate key, value).
	var needComma, isObj, wantValue []bool
	for {
		t, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		d := len(needComma) - 1
		if d >= 0 {
			switch {
			case t == json.Delim('}') || t == json.Delim(']'):
			case isObj[d] && wantValue[d]:
				b.WriteByte(':')
				wantValue[d] = false
			default:
				if needComma[d] {
					b.WriteByte(',')
				}
				needComma[d] = true
				if isObj[d] {
					wantValue[d] = true
				}
			}
		}
		switch v := t.(type) {
		case json.Delim:
			b.WriteString(v.String())
			if v == '{' || v == '[' {
				needComma, isObj, wantValue = append(needComma, false), append(isObj, v == '{'), append(wantValue, false)
			} else {
				needComma, isObj, wantValue = needComma[:d], isObj[:d], wantValue[:d]
			}
		case string:
			b.WriteString(gsonQuote(v))
		case json.Number:
			b.WriteString(v.String())
		case bool:
			fmt.Fprint(&b, v)
		case nil:
			b.WriteString("null")
		}
	}
}

// gsonQuote quotes a string as Gson's JsonWriter does without HTML
// safety: ", \ and control characters escaped (\t \b \n \r \f short),
// U+2028 and U+2029 as \u2028 \u2029, the rest as it is.
func gsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
