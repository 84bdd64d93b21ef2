package ui

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// The admin's pages: the agency directory (add, delivery mode and
// endpoint, certificates, retirement), the routing table and the
// accounts. Changes go through the store, which audits each with the
// admin as actor; the hub then reads the new configuration at once.

// maxPEM bounds a certificate upload.
const maxPEM = 64 << 10

// members maps the members by code.
func (c *Console) members(ctx context.Context) (map[agencyids.Code]routing.Member, error) {
	ms, err := c.cfg.Store.Members(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[agencyids.Code]routing.Member, len(ms))
	for _, m := range ms {
		out[m.Code] = m
	}
	return out, nil
}

// changed makes the hub see a change now and goes to the page to.
func (c *Console) changed(w http.ResponseWriter, r *http.Request, to string) {
	c.cfg.Hub.Reload()
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"done=saved", http.StatusSeeOther)
}

// savedNotice is the confirmation of a change, after its redirect.
func savedNotice(r *http.Request) string {
	if r.URL.Query().Get("done") != "saved" {
		return ""
	}
	l, _ := langOf(r)
	return l.T("saved")
}

type agencyRow struct {
	A      agencyids.Agency
	Member *routing.Member
}

type agenciesData struct {
	Q           string
	MembersOnly bool
	Rows        []agencyRow
}

// maxAgencyRows bounds one listing of the directory.
const maxAgencyRows = 100

// agencies lists the members, or the agencies whose code starts with q or
// whose name has a word starting with q.
func (c *Console) agencies(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	dir := c.cfg.Hub.Directory()
	ms, err := c.members(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data := agenciesData{Q: q, MembersOnly: q == ""}
	seen := map[agencyids.Code]bool{}
	add := func(a agencyids.Agency) {
		if seen[a.Code] || len(data.Rows) >= maxAgencyRows {
			return
		}
		seen[a.Code] = true
		row := agencyRow{A: a}
		if m, ok := ms[a.Code]; ok {
			row.Member = &m
		}
		data.Rows = append(data.Rows, row)
	}
	if q == "" {
		for _, m := range sortedMembers(ms) {
			a, ok := dir.Lookup(m.Code)
			if !ok {
				a = agencyids.Agency{Code: m.Code, Name: string(m.Code)}
			}
			add(a)
		}
	} else {
		if a, ok := dir.Lookup(agencyids.Code(q)); ok {
			add(a)
		}
		up := strings.ToUpper(q)
		for _, a := range dir.All() {
			if strings.HasPrefix(string(a.Code), up) || a.AltCode != "" && strings.HasPrefix(string(a.AltCode), up) {
				add(a)
			}
		}
		for _, a := range dir.SearchName(q, maxAgencyRows) {
			add(a)
		}
	}
	c.render(w, r, http.StatusOK, "agencies", sess, "directory", data)
}

func sortedMembers(ms map[agencyids.Code]routing.Member) []routing.Member {
	out := make([]routing.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b routing.Member) int { return strings.Compare(string(a.Code), string(b.Code)) })
	return out
}

type agencyFormData struct {
	Form *form
}

// newAgency shows the form that adds an agency.
func (c *Console) newAgency(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	f := newForm()
	f.V["member"], f.V["mode"], f.V["signature"] = "on", string(routing.ModePull), string(routing.SignatureRequired)
	c.render(w, r, http.StatusOK, "agency-new", sess, "add agency", agencyFormData{Form: f})
}

// addAgency adds an agency to the directory and, unless unchecked, makes
// it a member of this hub, in one audited transaction.
func (c *Console) addAgency(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	f := newForm().read(r, "code", "name", "alt_code", "parent", "member", "mode", "push_url", "signature")
	a := agencyids.Agency{Name: f.V["name"]}
	a.Code = checkCode(l, f, "code", true)
	a.AltCode = checkCode(l, f, "alt_code", false)
	a.Parent = checkCode(l, f, "parent", false)
	checkName(l, f, "name")
	member := f.V["member"] == "on"
	var m routing.Member
	if member {
		m = checkDelivery(l, f)
		m.Code, a.Endpoint = a.Code, m.PushURL
	}
	dir, err := c.cfg.Store.Directory(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	if f.ok() {
		if _, ok := dir.Lookup(a.Code); ok {
			f.fail("code", l.T("code exists"))
		}
		if _, ok := dir.Lookup(a.Parent); a.Parent != "" && !ok {
			f.fail("parent", l.T("no such agency"))
		}
	}
	if f.ok() {
		if err := dir.Add(a); err != nil {
			directoryError(l, f, err)
		}
	}
	if !f.ok() {
		f.Err = l.T("form error")
		c.render(w, r, http.StatusBadRequest, "agency-new", sess, "add agency", agencyFormData{Form: f})
		return
	}
	a, _ = dir.Lookup(a.Code) // as the directory settled it (the effective parent)
	if member {
		err = c.cfg.Store.AddMember(r.Context(), &a, m, nil, sess.User.Actor())
	} else {
		err = c.cfg.Store.SaveAgencies(r.Context(), []agencyids.Agency{a}, sess.User.Actor())
	}
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.changed(w, r, "/ui/admin/agencies/"+url.PathEscape(string(a.Code)))
}

// checkCode parses a code field; required says it may not be empty.
func checkCode(l lang, f *form, field string, required bool) agencyids.Code {
	s := f.V[field]
	if s == "" {
		if required {
			f.fail(field, l.T("required"))
		}
		return ""
	}
	code, err := agencyids.Parse(s)
	if err != nil {
		f.fail(field, l.T("bad code")+" (000.00.00.H53, G09.01).")
		return ""
	}
	return code
}

// checkName applies the directory's rules for a name.
func checkName(l lang, f *form, field string) {
	switch n := f.V[field]; {
	case n == "":
		f.fail(field, l.T("required"))
	case utf8.RuneCountInString(n) > agencyids.MaxNameLen || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' }):
		f.fail(field, l.T("bad name")+".")
	}
}

// checkDelivery reads the fields mode, push_url and signature.
func checkDelivery(l lang, f *form) routing.Member {
	m := routing.Member{Mode: routing.Mode(f.V["mode"]), PushURL: f.V["push_url"], Signature: routing.SignaturePolicy(f.V["signature"])}
	switch m.Mode {
	case routing.ModePull:
		if m.PushURL != "" {
			f.fail("push_url", l.T("url pull"))
		}
	case routing.ModePush:
		if !httpsURL(m.PushURL) {
			f.fail("push_url", l.T("bad url"))
		}
	default:
		f.fail("mode", l.T("bad choice"))
	}
	switch m.Signature {
	case routing.SignatureRequired, routing.SignatureAll, routing.SignatureOptional:
	default:
		f.fail("signature", l.T("bad choice"))
	}
	return m
}

// httpsURL accepts an absolute https URL with a host, no spaces, no
// user information, as the directory bounds endpoints.
func httpsURL(s string) bool {
	if s == "" || len(s) > agencyids.MaxEndpointLen || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Hostname() != ""
}

// directoryError puts an error of the agency directory next to the field
// it is about (its message names the field's JSON key).
func directoryError(l lang, f *form, err error) {
	fields := []struct{ key, field, msg string }{
		{": altCode:", "alt_code", "bad code"}, {": parent:", "parent", "no such agency"}, {": code:", "code", "code exists"},
		{": name:", "name", "bad name"}, {": successor:", "successor", "bad successor"}, {": validTo:", "at", "bad date"},
		{": endpoint:", "push_url", "bad url"}, {": certFingerprints:", "pem", "too many certs"},
	}
	for _, x := range fields {
		if strings.Contains(err.Error(), x.key) {
			f.fail(x.field, l.T(x.msg))
			return
		}
	}
	f.Err = l.T("form error")
}

type agencyData struct {
	A                      agencyids.Agency
	Member                 *routing.Member
	ParentName             string
	SuccessorName          string
	Units                  []agencyids.Agency
	Delivery, Cert, Retire *form
	Notice                 string
}

// agency shows one agency with the forms that change it.
func (c *Console) agency(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c.showAgency(w, r, sess, http.StatusOK, nil, nil, nil)
}

// showAgency renders the agency page; a form given is shown as typed.
func (c *Console) showAgency(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, delivery, cert, retire *form) {
	code := agencyids.Code(r.PathValue("code"))
	dir, err := c.cfg.Store.Directory(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	a, ok := dir.Lookup(code)
	if !ok {
		c.fail(w, r, sess, routing.ErrNotFound)
		return
	}
	ms, err := c.members(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data := agencyData{A: a, Units: dir.Children(a.Code), Delivery: delivery, Cert: cert, Retire: retire}
	if m, ok := ms[a.Code]; ok {
		data.Member = &m
	}
	if p, ok := dir.Lookup(a.Parent); a.Parent != "" && ok {
		data.ParentName = p.Name
	}
	if s, ok := dir.Lookup(a.Successor); a.Successor != "" && ok {
		data.SuccessorName = s.Name
	}
	if data.Delivery == nil {
		data.Delivery = newForm()
		data.Delivery.V["mode"], data.Delivery.V["signature"] = string(routing.ModePull), string(routing.SignatureRequired)
		if m := data.Member; m != nil {
			data.Delivery.V["mode"], data.Delivery.V["push_url"], data.Delivery.V["signature"] = string(m.Mode), m.PushURL, string(m.Signature)
		}
	}
	if data.Cert == nil {
		data.Cert = newForm()
	}
	if data.Retire == nil {
		data.Retire = newForm()
		data.Retire.V["at"] = c.cfg.Now().In(vietnam).Format(time.DateOnly)
	}
	if status == http.StatusOK {
		data.Notice = savedNotice(r)
	}
	c.render(w, r, status, "agency", sess, string(a.Code), data)
}

// editable returns the agency of the path from a fresh directory, which
// the caller changes and saves; nil after an error page.
func (c *Console) editable(w http.ResponseWriter, r *http.Request, sess *store.Session) (*agencyids.Directory, *agencyids.Agency) {
	dir, err := c.cfg.Store.Directory(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return nil, nil
	}
	a, ok := dir.Lookup(agencyids.Code(r.PathValue("code")))
	if !ok || string(a.Code) != r.PathValue("code") {
		c.fail(w, r, sess, routing.ErrNotFound)
		return nil, nil
	}
	return dir, &a
}

// setDelivery makes the agency a member served by pull, or by push to an
// HTTPS endpoint, with its signature policy.
func (c *Console) setDelivery(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	dir, a := c.editable(w, r, sess)
	if a == nil {
		return
	}
	f := newForm().read(r, "mode", "push_url", "signature")
	m := checkDelivery(l, f)
	m.Code = a.Code
	if a.Retired() {
		f.Err = l.T("already retired")
	}
	if f.ok() {
		a.Endpoint = m.PushURL
		if _, err := dir.Upsert(*a); err != nil {
			directoryError(l, f, err)
		}
	}
	if !f.ok() {
		c.showAgency(w, r, sess, http.StatusBadRequest, f, nil, nil)
		return
	}
	if err := c.cfg.Store.AddMember(r.Context(), a, m, nil, sess.User.Actor()); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.changed(w, r, "/ui/admin/agencies/"+url.PathEscape(string(a.Code)))
}

// bindCert binds a certificate (pasted or uploaded PEM) to the agency: a
// member's system may then authenticate with it over mutual TLS, as with
// `edocgw agency add --cert`.
func (c *Console) bindCert(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	dir, a := c.editable(w, r, sess)
	if a == nil {
		return
	}
	f := newForm().read(r, "pem")
	text := f.V["pem"]
	if file, _, err := r.FormFile("pem_file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(file, maxPEM+1))
		file.Close()
		if err != nil || len(b) > maxPEM {
			f.fail("pem", l.T("bad pem")+".")
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			text = string(b)
		}
	}
	cert := parseCert(l, f, text, c.cfg.Now())
	if cert != nil {
		fp := agencyids.FingerprintOf(cert.Raw)
		switch {
		case slices.Contains(a.CertFingerprints, fp):
			f.fail("pem", l.T("cert bound"))
		case len(a.CertFingerprints) >= agencyids.MaxFingerprints:
			f.fail("pem", l.T("too many certs"))
		}
		for _, other := range dir.ByFingerprint(fp) {
			if other.Code != a.Code {
				f.fail("pem", l.T("cert elsewhere")+": "+string(other.Code)+".")
			}
		}
		if f.ok() {
			a.CertFingerprints = append(a.CertFingerprints, fp)
			if _, err := dir.Upsert(*a); err != nil {
				directoryError(l, f, err)
			}
		}
	}
	if !f.ok() {
		f.V["pem"] = text
		c.showAgency(w, r, sess, http.StatusBadRequest, nil, f, nil)
		return
	}
	c.saveAgency(w, r, sess, a)
}

// parseCert reads the first certificate of a PEM text, and refuses one
// that is not valid now.
func parseCert(l lang, f *form, text string, now time.Time) *x509.Certificate {
	if strings.TrimSpace(text) == "" {
		f.fail("pem", l.T("required"))
		return nil
	}
	rest := []byte(text)
	for {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			f.fail("pem", l.T("bad pem")+": BEGIN CERTIFICATE.")
			return nil
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			f.fail("pem", l.T("bad pem")+".")
			return nil
		}
		if now.After(cert.NotAfter) {
			f.fail("pem", l.T("cert expired"))
			return nil
		}
		return cert
	}
}

// unbindCert removes a bound certificate.
func (c *Console) unbindCert(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	dir, a := c.editable(w, r, sess)
	if a == nil {
		return
	}
	fp, err := agencyids.ParseFingerprint(strings.TrimSpace(r.PostFormValue("fingerprint")))
	if err != nil || !slices.Contains(a.CertFingerprints, fp) {
		c.fail(w, r, sess, fmt.Errorf("%w: no such certificate", routing.ErrBadRequest))
		return
	}
	a.CertFingerprints = slices.DeleteFunc(a.CertFingerprints, func(x agencyids.Fingerprint) bool { return x == fp })
	if _, err := dir.Upsert(*a); err != nil {
		f := newForm()
		directoryError(l, f, err)
		c.showAgency(w, r, sess, http.StatusBadRequest, nil, f, nil)
		return
	}
	c.saveAgency(w, r, sess, a)
}

// saveAgency stores a changed directory entry (audited) and shows its page.
func (c *Console) saveAgency(w http.ResponseWriter, r *http.Request, sess *store.Session, a *agencyids.Agency) {
	if err := c.cfg.Store.SaveAgencies(r.Context(), []agencyids.Agency{*a}, sess.User.Actor()); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.changed(w, r, "/ui/admin/agencies/"+url.PathEscape(string(a.Code)))
}

// retire closes the agency's code on a date, naming its successor; codes
// are never deleted or reused.
func (c *Console) retire(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	dir, a := c.editable(w, r, sess)
	if a == nil {
		return
	}
	f := newForm().read(r, "successor", "at")
	successor := checkCode(l, f, "successor", false)
	at, err := time.ParseInLocation(time.DateOnly, f.V["at"], vietnam)
	if err != nil {
		f.fail("at", l.T("bad date"))
	}
	if successor != "" {
		if s, ok := dir.Lookup(successor); !ok {
			f.fail("successor", l.T("no such agency"))
		} else if s.Code == a.Code {
			f.fail("successor", l.T("bad successor")+".")
		}
	}
	if a.Retired() {
		f.Err = l.T("already retired")
	}
	if f.ok() {
		if err := dir.Retire(a.Code, at, successor); err != nil {
			switch {
			case errors.Is(err, agencyids.ErrUnknownSuccessor), errors.Is(err, agencyids.ErrInactiveSuccessor), errors.Is(err, agencyids.ErrSuccessorCycle):
				f.fail("successor", l.T("bad successor")+".")
			case errors.Is(err, agencyids.ErrRetiredCode):
				f.Err = l.T("already retired")
			case errors.Is(err, agencyids.ErrInvalidAgency):
				f.fail("at", l.T("bad date"))
			default:
				directoryError(l, f, err)
			}
		}
	}
	if !f.ok() {
		c.showAgency(w, r, sess, http.StatusBadRequest, nil, nil, f)
		return
	}
	retired, _ := dir.Lookup(a.Code)
	c.saveAgency(w, r, sess, &retired)
}

type routesData struct {
	Routes []routing.Route
	Peers  []routing.Peer
	Form   *form
	Notice string
}

// routes shows the routing table and the form that adds a route.
func (c *Console) routes(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c.showRoutes(w, r, sess, http.StatusOK, nil)
}

func (c *Console) showRoutes(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, f *form) {
	routes, err := c.cfg.Store.Routes(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	peers, err := c.cfg.Store.Peers(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data := routesData{Routes: routes, Peers: peers, Form: f}
	if f == nil {
		data.Form, data.Notice = newForm(), savedNotice(r)
	}
	c.render(w, r, status, "routes", sess, "routes", data)
}

// addRoute sends a pattern's agencies to a peer hub.
func (c *Console) addRoute(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	f := newForm().read(r, "pattern", "peer")
	f.V["pattern"] = strings.ToUpper(f.V["pattern"])
	if f.V["pattern"] == "" {
		f.fail("pattern", l.T("required"))
	} else if err := store.ValidRoutePattern(f.V["pattern"]); err != nil {
		f.fail("pattern", l.T("bad pattern"))
	}
	peers, err := c.cfg.Store.Peers(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	if !slices.ContainsFunc(peers, func(p routing.Peer) bool { return p.Name == f.V["peer"] }) {
		f.fail("peer", l.T("no such peer"))
	}
	if !f.ok() {
		c.showRoutes(w, r, sess, http.StatusBadRequest, f)
		return
	}
	if err := c.cfg.Store.PutRoute(r.Context(), routing.Route{Pattern: f.V["pattern"], Peer: f.V["peer"]}, sess.User.Actor()); err != nil {
		if errors.Is(err, store.ErrBadArgument) {
			f.Err = l.T("form error")
			c.showRoutes(w, r, sess, http.StatusBadRequest, f)
			return
		}
		c.fail(w, r, sess, err)
		return
	}
	c.changed(w, r, "/ui/admin/routes")
}

// removeRoute deletes a route.
func (c *Console) removeRoute(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	pattern := strings.TrimSpace(r.PostFormValue("pattern"))
	if err := c.cfg.Store.DeleteRoute(r.Context(), pattern, sess.User.Actor()); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.changed(w, r, "/ui/admin/routes")
}

type usersData struct {
	Users  []store.User
	Form   *form
	Forms  map[string]*form // by user: disable and password errors
	Me     string
	Notice string
	Now    time.Time
}

// users lists the accounts with the forms that manage them.
func (c *Console) users(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c.showUsers(w, r, sess, http.StatusOK, nil, nil)
}

func (c *Console) showUsers(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, f *form, forms map[string]*form) {
	us, err := c.cfg.Store.Users(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data := usersData{Users: us, Form: f, Forms: forms, Me: sess.User.Name, Now: c.cfg.Now()}
	if f == nil {
		data.Form = newForm()
		data.Form.V["role"] = string(store.UserClerk)
		if forms == nil {
			data.Notice = savedNotice(r)
		}
	}
	c.render(w, r, status, "users", sess, "users", data)
}

// addUser creates an account.
func (c *Console) addUser(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	f := newForm().read(r, "name", "role", "agency")
	pw := r.PostFormValue("password")
	u := store.User{Name: f.V["name"], Role: store.UserRole(f.V["role"])}
	if err := store.CheckUserName(u.Name); err != nil {
		f.fail("name", l.T("bad user name"))
	}
	switch u.Role {
	case store.UserClerk:
		if f.V["agency"] == "" {
			f.fail("agency", l.T("clerk agency"))
		} else if a, ok := c.cfg.Hub.Directory().Lookup(agencyids.Code(f.V["agency"])); !ok {
			f.fail("agency", l.T("clerk agency"))
		} else {
			u.Agency = a.Code
		}
	case store.UserAuditor, store.UserAdmin:
		if f.V["agency"] != "" {
			f.fail("agency", l.T("no agency"))
		}
	default:
		f.fail("role", l.T("bad choice"))
	}
	if n := utf8.RuneCountInString(pw); n < store.MinPasswordLen || len(pw) > 1024 {
		f.fail("password", l.T("short password"))
	}
	us, err := c.cfg.Store.Users(r.Context())
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	if slices.ContainsFunc(us, func(x store.User) bool { return x.Name == u.Name }) {
		f.fail("name", l.T("user exists"))
	}
	if f.ok() {
		if err := c.cfg.Store.CreateUser(r.Context(), u, pw, sess.User.Actor()); err != nil {
			if !errors.Is(err, store.ErrBadArgument) {
				c.fail(w, r, sess, err)
				return
			}
			f.Err = l.T("form error")
		}
	}
	if !f.ok() {
		c.showUsers(w, r, sess, http.StatusBadRequest, f, nil)
		return
	}
	c.changed(w, r, "/ui/admin/users")
}

func (c *Console) disableUser(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c.setDisabled(w, r, sess, true)
}

func (c *Console) enableUser(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c.setDisabled(w, r, sess, false)
}

// setDisabled disables (ending its sessions) or enables an account; an
// admin does not lock itself out.
func (c *Console) setDisabled(w http.ResponseWriter, r *http.Request, sess *store.Session, disabled bool) {
	l, _ := langOf(r)
	name := r.PathValue("name")
	if disabled && name == sess.User.Name {
		f := newForm()
		f.Err = l.T("not yourself")
		c.showUsers(w, r, sess, http.StatusBadRequest, nil, map[string]*form{name: f})
		return
	}
	if err := c.cfg.Store.SetUserDisabled(r.Context(), name, disabled, sess.User.Actor()); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.changed(w, r, "/ui/admin/users")
}

// resetPassword gives an account a new password (lifting a lock-out and
// ending its sessions).
func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	name := r.PathValue("name")
	pw := r.PostFormValue("password")
	if n := utf8.RuneCountInString(pw); n < store.MinPasswordLen || len(pw) > 1024 {
		f := newForm()
		f.fail("password-"+name, l.T("short password"))
		c.showUsers(w, r, sess, http.StatusBadRequest, nil, map[string]*form{name: f})
		return
	}
	if err := c.cfg.Store.SetUserPassword(r.Context(), name, pw, sess.User.Actor()); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.changed(w, r, "/ui/admin/users")
}
