package ui

import (
	"errors"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// principal is the hub principal a person acts as: a clerk as its agency
// (whose units the hub includes), an admin as an admin; the audit log
// names the person (actor).
func principal(sess *store.Session) (p routing.Principal, actor string) {
	u := sess.User
	switch u.Role {
	case store.UserClerk:
		p = routing.Principal{Role: routing.RoleAgency, Agency: u.Agency, Name: u.Name, Via: "console"}
	case store.UserAdmin:
		p = routing.Principal{Role: routing.RoleAdmin, Name: u.Name, Via: "console"}
	default:
		p = routing.Principal{Role: routing.RoleAuditor, Name: u.Name, Via: "console"}
	}
	return p, u.Actor()
}

// resend re-queues a dead delivery (POST /ui/deliveries/{id}/resend).
func (c *Console) resend(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	p, actor := principal(sess)
	info, err := c.cfg.Hub.Resend(r.Context(), p, r.PathValue("id"), actor)
	c.afterAction(w, r, sess, "resent", info, err, nil)
}

// cancel withdraws a delivery (POST /ui/deliveries/{id}/cancel); the
// reason is required.
func (c *Console) cancel(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	f := newForm().read(r, "reason")
	if n := utf8.RuneCountInString(f.V["reason"]); n == 0 || n > routing.MaxReason {
		f.fail("reason", l.T("need reason"))
		c.afterAction(w, r, sess, "cancelled", nil, routing.ErrBadRequest, f)
		return
	}
	p, actor := principal(sess)
	info, err := c.cfg.Hub.Cancel(r.Context(), p, r.PathValue("id"), actor, f.V["reason"])
	c.afterAction(w, r, sess, "cancelled", info, err, f)
}

// afterAction goes back to the page the action was taken on (the
// document, or the overview with back=overview): with a confirmation when
// it was done, else with the problem in plain words at the delivery.
// Another agency's delivery is the error page (404 or 403).
func (c *Console) afterAction(w http.ResponseWriter, r *http.Request, sess *store.Session, done string, info *routing.DeliveryInfo, err error, f *form) {
	l, _ := langOf(r)
	id := r.PathValue("id")
	overview := r.PostFormValue("back") == "overview"
	if err == nil {
		to := "/ui/documents/" + url.PathEscape(info.Document) + "?done=" + done + "&delivery=" + url.QueryEscape(info.ID) + "#recipient-" + string(info.Recipient)
		if overview {
			to = "/ui/overview?done=" + done
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	var problem string
	status := http.StatusConflict
	switch {
	case errors.Is(err, routing.ErrBadRequest):
		status = http.StatusBadRequest
		if f == nil || f.E["reason"] == "" {
			problem = l.T("need reason")
		}
	case errors.Is(err, routing.ErrNoRoute):
		problem = l.T("still no route")
	case errors.Is(err, routing.ErrBeingSent):
		problem = l.T("sending now")
	case errors.Is(err, routing.ErrStateConflict) && done == "resent":
		problem = l.T("not dead")
	case errors.Is(err, routing.ErrStateConflict):
		problem = l.T("too late")
	default:
		c.fail(w, r, sess, err)
		return
	}
	problems := map[string]string{}
	if problem != "" {
		problems[id] = problem
	}
	forms := map[string]*form{}
	if f != nil {
		forms[id] = f
	}
	if overview {
		c.showOverview(w, r, sess, status, "", problems, forms)
		return
	}
	c.showDocument(w, r, sess, r.PostFormValue("document"), status, "", problems, forms)
}
