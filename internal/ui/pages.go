package ui

import (
	"errors"
	"fmt"
	"net/http"
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
	data := documentsData{Form: f, States: allStates}
	dq, err := f.query(c.scope(sess.User.Agency), q.Get("before"))
	if err != nil {
		data.Error = l.T("bad input") + ": " + err.Error()
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
		return q, fmt.Errorf("direction %q", f.Dir)
	}
	if f.Counterpart != "" {
		q.Counterpart = agencyids.Code(f.Counterpart)
		if !q.Counterpart.Valid() {
			return q, fmt.Errorf("agency code %q", f.Counterpart)
		}
	}
	var err error
	if q.From, err = day(f.From, 0); err != nil {
		return q, err
	}
	if q.To, err = day(f.To, 24*time.Hour); err != nil { // the whole last day
		return q, err
	}
	if f.State != "" {
		q.State = routing.DeliveryState(f.State)
		if !containsState(allStates, q.State) {
			return q, fmt.Errorf("state %q", f.State)
		}
	}
	if len(f.Number) > 200 || len(f.Subject) > 200 || len(before) > 64 {
		return q, errors.New("too long")
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
}

// document shows a document's timeline. A clerk reads it as the agency of
// its scope that is party to it (the sender, else a recipient), so the
// hub's rules apply: a recipient sees only its own part. A document of
// no agency of the scope is read as the clerk's agency, which the hub
// refuses (404, audited).
func (c *Console) document(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	id := r.PathValue("id")
	p := routing.Principal{Role: routing.RoleAuditor, Name: sess.User.Name, Via: "console"}
	if sess.User.Role == store.UserClerk {
		p = routing.Principal{Role: routing.RoleAgency, Agency: c.party(r, sess.User.Agency, id), Name: sess.User.Name, Via: "console"}
	}
	tr, err := c.cfg.Hub.Trace(r.Context(), p, id)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data := documentData{Trace: tr, SenderName: c.agencyName(tr.Document.From), Names: map[agencyids.Code]string{},
		Auditor: sess.User.Role == store.UserAuditor}
	for _, x := range tr.Recipients {
		data.Names[x.Agency] = c.agencyName(x.Agency)
	}
	c.render(w, r, http.StatusOK, "document", sess, "timeline", data)
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
	data := auditData{Form: f}
	af := routing.AuditFilter{Document: f.Document, Delivery: f.Delivery, Agency: agencyids.Code(f.Agency), Actor: f.Actor,
		Kind: f.Kind, Limit: pageSize}
	var err error
	if af.From, err = day(f.From, 0); err == nil {
		af.To, err = day(f.To, 24*time.Hour)
	}
	if err == nil && q.Get("after") != "" {
		af.AfterSeq, err = strconv.ParseInt(q.Get("after"), 10, 64)
	}
	if err == nil {
		err = af.Validate()
	}
	if err != nil {
		data.Error = l.T("bad input") + ": " + err.Error()
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
