package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// auditorP is the hub principal of an auditor.
func auditorP(sess *store.Session) routing.Principal {
	return routing.Principal{Role: routing.RoleAuditor, Name: sess.User.Name, Via: "console"}
}

// findRecord opens the record of the document typed on the audit page.
func (c *Console) findRecord(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	id := strings.TrimSpace(r.URL.Query().Get("document"))
	if id == "" || len(id) > 64 {
		c.fail(w, r, sess, routing.ErrNotFound)
		return
	}
	http.Redirect(w, r, "/ui/records/"+url.PathEscape(id), http.StatusSeeOther)
}

type recordData struct {
	Record     *routing.Record
	SenderName string
}

// record shows a document's full record to an auditor (the hub audits the
// read): its deliveries, every audit event and its original verified
// again, with the bundle's download.
func (c *Console) record(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	rec, err := c.cfg.Hub.Record(r.Context(), auditorP(sess), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.render(w, r, http.StatusOK, "record", sess, "record", recordData{Record: rec, SenderName: c.agencyName(rec.Document.From)})
}

type chainData struct {
	Last *routing.AuditVerification
}

// chain shows the last verification of the audit chain, with the button
// that runs one.
func (c *Console) chain(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	last, err := c.cfg.Hub.LastVerification(r.Context(), auditorP(sess))
	if err != nil && !errors.Is(err, routing.ErrNotFound) {
		c.fail(w, r, sess, err)
		return
	}
	c.render(w, r, http.StatusOK, "chain", sess, "chain", chainData{Last: last})
}

// verifyChain verifies the chain now, as `edocgw audit verify` does, and
// shows the result (recorded by the hub).
func (c *Console) verifyChain(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	v, err := c.cfg.Hub.VerifyAudit(r.Context(), auditorP(sess), r.PostFormValue("originals") == "on")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.render(w, r, http.StatusOK, "chain", sess, "chain", chainData{Last: v})
}
