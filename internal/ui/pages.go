package ui

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// scope is the clerk's agency, its alternative code and every unit below
// it in the directory, up to store.MaxScope codes.
func (c *Console) scope(agency agencyids.Code) []agencyids.Code {
	dir := c.cfg.Hub.Directory()
	out := []agencyids.Code{agency}
	seen := map[agencyids.Code]bool{agency: true}
	queue := []agencyids.Code{agency}
	if a, ok := dir.Lookup(agency); ok && a.AltCode != "" && !seen[a.AltCode] {
		seen[a.AltCode] = true
		out = append(out, a.AltCode)
	}
	for len(queue) > 0 && len(out) < store.MaxScope {
		for _, a := range dir.Children(queue[0]) {
			for _, code := range []agencyids.Code{a.Code, a.AltCode} {
				if code != "" && !seen[code] && len(out) < store.MaxScope {
					seen[code] = true
					out = append(out, code)
				}
			}
			queue = append(queue, a.Code)
		}
		queue = queue[1:]
	}
	return out
}

// agencyName is an agency's name in the directory, or its code.
func (c *Console) agencyName(code agencyids.Code) string {
	if a, ok := c.cfg.Hub.Directory().Lookup(code); ok && a.Name != "" {
		return a.Name
	}
	return string(code)
}

// searchForm is the search of the documents page, as typed.
type searchForm struct {
	Dir, Number, Subject, Counterpart, From, To, State string
}

// documentRow is one line of the documents page.
type documentRow struct {
	ID, Number, Subject, Counterpart string
	Sent                             bool
	At                               time.Time
	States                           []stateCount
}

type stateCount struct {
	State routing.DeliveryState
	N     int
}

type documentsData struct {
	Form   searchForm
	Fields *form // the messages at the fields
	Error  string
	Rows   []documentRow
	More   string // the next page's URL
	States []routing.DeliveryState
}

var allStates = []routing.DeliveryState{routing.StateQueued, routing.StateSending, routing.StatePulled, routing.StateAcked,
	routing.StateDelivered, routing.StateDead, routing.StateCancelled}

func (c *Console) documents(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	q := r.URL.Query()
	f := searchForm{Dir: q.Get("dir"), Number: strings.TrimSpace(q.Get("number")), Subject: strings.TrimSpace(q.Get("subject")),
		Counterpart: strings.TrimSpace(q.Get("counterpart")), From: q.Get("from"), To: q.Get("to"), State: q.Get("state")}
	data := documentsData{Form: f, States: allStates, Fields: newForm()}
	dq, err := f.query(c.scope(sess.User.Agency), q.Get("before"))
	if err != nil {
		data.Error, data.Fields = l.T("bad input")+": "+err.Error(), fieldForm(l, err)
		c.render(w, r, http.StatusBadRequest, "documents", sess, "documents", data)
		return
	}
	docs, err := c.cfg.Store.SearchDocuments(r.Context(), dq)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	for _, d := range docs {
		row := documentRow{ID: d.Document.ID, Subject: d.Document.Subject, Sent: d.Sent, At: d.Document.ReceivedAt, Number: d.Document.Number}
		if d.Document.Notation != "" {
			row.Number += "/" + d.Document.Notation
		}
		if d.Sent {
			var names []string
			for _, x := range d.Document.Recipients {
				names = append(names, c.agencyName(x))
			}
			row.Counterpart = strings.Join(names, "; ")
		} else {
			row.Counterpart = c.agencyName(d.Document.From)
		}
		for _, st := range allStates {
			n := 0
			for _, x := range d.Deliveries {
				if x.State == st {
					n++
				}
			}
			if n > 0 {
				row.States = append(row.States, stateCount{st, n})
			}
		}
		data.Rows = append(data.Rows, row)
	}
	if len(docs) == dq.Limit {
		next := r.URL.Query()
		next.Set("before", docs[len(docs)-1].Document.ID)
		data.More = "/ui/documents?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "documents", sess, "documents", data)
}

// badField is an error about one field of a search form.
type badField struct {
	field, key string // the field, and the message's key in messages
	err        error
}

func (e *badField) Error() string { return e.field + ": " + e.err.Error() }
func (e *badField) Unwrap() error { return e.err }

// fieldForm makes the form that shows err next to its field, if err is
// about one.
func fieldForm(l lang, err error) *form {
	f := newForm()
	var bf *badField
	if errors.As(err, &bf) {
		f.fail(bf.field, l.T(bf.key))
	}
	return f
}

// query checks the form and makes the store's query of it.
func (f searchForm) query(scope []agencyids.Code, before string) (store.DocumentQuery, error) {
	q := store.DocumentQuery{Scope: scope, Number: f.Number, Subject: f.Subject, Before: before, Limit: pageSize}
	switch f.Dir {
	case "", "all":
	case "sent":
		q.Direction = store.DirSent
	case "received":
		q.Direction = store.DirReceived
	default:
		return q, &badField{"dir", "bad choice", fmt.Errorf("direction %q", f.Dir)}
	}
	if f.Counterpart != "" {
		q.Counterpart = agencyids.Code(f.Counterpart)
		if !q.Counterpart.Valid() {
			return q, &badField{"counterpart", "bad code", fmt.Errorf("agency code %q", f.Counterpart)}
		}
	}
	var err error
	if q.From, err = day(f.From, 0); err != nil {
		return q, &badField{"from", "bad date", err}
	}
	if q.To, err = day(f.To, 24*time.Hour); err != nil { // the whole last day
		return q, &badField{"to", "bad date", err}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return q, &badField{"to", "date order", fmt.Errorf("%s is before %s", f.To, f.From)}
	}
	if f.State != "" {
		q.State = routing.DeliveryState(f.State)
		if !containsState(allStates, q.State) {
			return q, &badField{"state", "bad choice", fmt.Errorf("state %q", f.State)}
		}
	}
	switch {
	case len(f.Number) > 200:
		return q, &badField{"number", "too long", errors.New("too long")}
	case len(f.Subject) > 200:
		return q, &badField{"subject", "too long", errors.New("too long")}
	case len(before) > 64:
		return q, errors.New("cursor too long")
	}
	return q, nil
}

// day parses a date (YYYY-MM-DD) as midnight in Vietnam, plus add.
func day(s string, add time.Duration) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, vietnam)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q", s)
	}
	return t.Add(add), nil
}

func containsState(ss []routing.DeliveryState, s routing.DeliveryState) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// documentData is the document page's data.
type documentData struct {
	Trace      *routing.Trace
	SenderName string
	Names      map[agencyids.Code]string
	Auditor    bool
	// CanAct says the clerk's scope sent the document: it may resend and
	// cancel its deliveries.
	CanAct bool
	Notice string
	// Problems and Forms are an action's outcome, by delivery id: what
	// went wrong in plain words, and the cancel form as typed.
	Problems map[string]string
	Forms    map[string]*form
	// Attachments of the original; AttachmentsGone says it is purged.
	Attachments     []routing.AttachmentInfo
	AttachmentsGone bool
}

// document shows a document's timeline. A clerk reads it as the agency of
// its scope that is party to it (the sender, else a recipient), so the
// hub's rules apply: a recipient sees only its own part. A document of
// no agency of the scope is read as the clerk's agency, which the hub
// refuses (404, audited).
func (c *Console) document(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	notice := ""
	if done := r.URL.Query().Get("done"); done == "resent" || done == "cancelled" {
		notice = l.T("done " + done)
	}
	c.showDocument(w, r, sess, r.PathValue("id"), http.StatusOK, notice, nil, nil)
}

// showDocument renders a document's page with an action's outcome.
func (c *Console) showDocument(w http.ResponseWriter, r *http.Request, sess *store.Session, id string, status int, notice string,
	problems map[string]string, forms map[string]*form) {
	p := c.reader(r, sess, id)
	canAct := false
	if sess.User.Role == store.UserClerk {
		if doc, err := c.cfg.Store.Document(r.Context(), id); err == nil && doc.From == p.Agency {
			canAct = slices.Contains(c.scope(sess.User.Agency), p.Agency)
		}
	}
	tr, err := c.cfg.Hub.Trace(r.Context(), p, id)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data := documentData{Trace: tr, SenderName: c.agencyName(tr.Document.From), Names: map[agencyids.Code]string{},
		Auditor: sess.User.Role == store.UserAuditor, CanAct: canAct, Notice: notice, Problems: problems, Forms: forms}
	for _, x := range tr.Recipients {
		data.Names[x.Agency] = c.agencyName(x.Agency)
	}
	switch as, err := c.cfg.Hub.Attachments(r.Context(), p, id); {
	case err == nil:
		data.Attachments = as
	case errors.Is(err, routing.ErrGone):
		data.AttachmentsGone = true
	default:
		c.log.Warn("ui: attachments", "document", id, "err", err)
	}
	c.render(w, r, status, "document", sess, "timeline", data)
}

// reader is the principal a person reads document id as: a clerk as the
// agency of its scope that is party to it, an auditor as an auditor.
func (c *Console) reader(r *http.Request, sess *store.Session, id string) routing.Principal {
	if sess.User.Role == store.UserClerk {
		return routing.Principal{Role: routing.RoleAgency, Agency: c.party(r, sess.User.Agency, id), Name: sess.User.Name, Via: "console"}
	}
	return routing.Principal{Role: routing.RoleAuditor, Name: sess.User.Name, Via: "console"}
}

// attachment sends an attachment of a document's original as a download
// (the hub audits the read). Whatever its declared type, it goes as
// application/octet-stream, so that nothing of it runs in the console.
func (c *Console) attachment(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	id := r.PathValue("id")
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		c.fail(w, r, sess, routing.ErrNotFound)
		return
	}
	info, body, err := c.cfg.Hub.OpenAttachment(r.Context(), c.reader(r, sess, id), id, n)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	cd := mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(info.Name, n)})
	if cd == "" { // a name mime cannot carry
		cd = mime.FormatMediaType("attachment", map[string]string{"filename": downloadName("", n)})
	}
	w.Header().Set("Content-Disposition", cd)
	if _, err := io.Copy(w, body); err != nil {
		c.log.Error("ui: attachment", "document", id, "n", n, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// downloadName is a file name for an attachment: its own without any
// path, or "attachment-N".
func downloadName(name string, n int) string {
	name = strings.TrimSpace(path.Base(strings.ReplaceAll(name, "\\", "/")))
	if name == "" || name == "." || name == "/" || len(name) > 255 {
		return "attachment-" + strconv.Itoa(n+1)
	}
	return name
}

// party is the agency of the clerk's scope that sent or received document
// id; the clerk's own agency when none did (or on any error).
func (c *Console) party(r *http.Request, agency agencyids.Code, id string) agencyids.Code {
	doc, err := c.cfg.Store.Document(r.Context(), id)
	if err != nil {
		return agency
	}
	in := map[agencyids.Code]bool{}
	for _, x := range c.scope(agency) {
		in[x] = true
	}
	if in[doc.From] {
		return doc.From
	}
	dels, err := c.cfg.Store.Deliveries(r.Context(), id)
	if err != nil {
		return agency
	}
	for _, d := range dels {
		if in[d.Recipient] {
			return d.Recipient
		}
	}
	return agency
}

// auditForm is the audit page's filter, as typed.
type auditForm struct {
	Document, Delivery, Agency, Actor, Kind, From, To string
}

type auditData struct {
	Form   auditForm
	Fields *form // the messages at the fields
	Error  string
	Events []routing.AuditEvent
	More   string
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	q := r.URL.Query()
	f := auditForm{Document: strings.TrimSpace(q.Get("document")), Delivery: strings.TrimSpace(q.Get("delivery")),
		Agency: strings.TrimSpace(q.Get("agency")), Actor: strings.TrimSpace(q.Get("actor")), Kind: strings.TrimSpace(q.Get("kind")),
		From: q.Get("from"), To: q.Get("to")}
	data := auditData{Form: f, Fields: newForm()}
	af := routing.AuditFilter{Document: f.Document, Delivery: f.Delivery, Agency: agencyids.Code(f.Agency), Actor: f.Actor,
		Kind: f.Kind, Limit: pageSize}
	var err error
	if af.From, err = day(f.From, 0); err != nil {
		err = &badField{"from", "bad date", err}
	} else if af.To, err = day(f.To, 24*time.Hour); err != nil {
		err = &badField{"to", "bad date", err}
	}
	if err == nil && !af.From.IsZero() && !af.To.IsZero() && !af.To.After(af.From) {
		err = &badField{"to", "date order", fmt.Errorf("%s is before %s", f.To, f.From)}
	}
	if err == nil && q.Get("after") != "" {
		af.AfterSeq, err = strconv.ParseInt(q.Get("after"), 10, 64)
	}
	if err == nil {
		err = af.Validate()
	}
	if err != nil {
		data.Error, data.Fields = l.T("bad input")+": "+err.Error(), fieldForm(l, err)
		c.render(w, r, http.StatusBadRequest, "audit", sess, "audit", data)
		return
	}
	page, err := c.cfg.Hub.AuditEvents(r.Context(), routing.Principal{Role: routing.RoleAuditor, Name: sess.User.Name, Via: "console"}, af)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data.Events = page.Events
	if page.Next != "" {
		next := r.URL.Query()
		next.Set("after", page.Next)
		data.More = "/ui/audit?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "audit", sess, "audit", data)
}

// export sends a document's archive bundle (the hub audits the export).
func (c *Console) export(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	id := strings.TrimSpace(r.PostFormValue("document"))
	ex, err := c.cfg.Hub.ExportBundle(r.Context(), routing.Principal{Role: routing.RoleAuditor, Name: sess.User.Name, Via: "console"}, id)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+ex.Filename()+`"`)
	if err := ex.Write(w); err != nil {
		// The answer has begun: the client sees a truncated ZIP.
		c.log.Error("ui: export", "document", id, "err", err)
		panic(http.ErrAbortHandler)
	}
}
