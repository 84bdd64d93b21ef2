// Package ui is the web console for people (design §1): clerks find their
// agency's documents, follow each recipient's timeline and resend or
// cancel a stuck delivery; auditors read the audit log, a document's full
// record, export archive bundles and verify the audit chain; admins keep
// the agency directory, the routing table and the accounts; admins and
// auditors see the operators' overview. Pages are rendered on the server
// from embedded templates and CSS, with no script and nothing loaded from
// elsewhere. It is mounted under /ui/ of the gateway.
//
// People sign in with local accounts (internal/store: argon2id, lock-out
// after store.MaxFailedLogins failures); the session lives in a
// __Host- cookie (HttpOnly, Secure, SameSite=Strict) whose SHA-256 the
// store keeps, ends when unused for Config.IdleTimeout, and every POST
// carries the session's CSRF token. What a page shows and what an action
// does is authorized by the hub itself: a clerk reads and acts as the
// agency of its account (routing.RoleAgency), an auditor as
// routing.RoleAuditor, an admin as routing.RoleAdmin; the audit log names
// the person.
package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

//go:embed templates/*.html static/*
var files embed.FS

// Hub is what the console needs of the hub (routing.Hub implements it).
type Hub interface {
	Trace(ctx context.Context, p routing.Principal, documentID string) (*routing.Trace, error)
	AuditEvents(ctx context.Context, p routing.Principal, f routing.AuditFilter) (*routing.AuditPage, error)
	ExportBundle(ctx context.Context, p routing.Principal, documentID string) (*routing.Export, error)
	Directory() *agencyids.Directory
	// Refused audits a refused request.
	Refused(ctx context.Context, actor, what, why string)
	// Resend and Cancel act on a delivery; actor names the person.
	Resend(ctx context.Context, p routing.Principal, deliveryID, actor string) (*routing.DeliveryInfo, error)
	Cancel(ctx context.Context, p routing.Principal, deliveryID, actor, reason string) (*routing.DeliveryInfo, error)
	// Record, VerifyAudit and LastVerification are the auditor's.
	Record(ctx context.Context, p routing.Principal, documentID string) (*routing.Record, error)
	VerifyAudit(ctx context.Context, p routing.Principal, originals bool) (*routing.AuditVerification, error)
	LastVerification(ctx context.Context, p routing.Principal) (*routing.AuditVerification, error)
	// Attachments and OpenAttachment read the original's attachments.
	Attachments(ctx context.Context, p routing.Principal, documentID string) ([]routing.AttachmentInfo, error)
	OpenAttachment(ctx context.Context, p routing.Principal, documentID string, n int) (*routing.AttachmentInfo, io.ReadCloser, error)
	// Reload makes the hub read the configuration an admin just changed.
	Reload()
}

// Store is what the console needs of the metadata store (*store.Store).
type Store interface {
	Login(ctx context.Context, name, password, from string, ttl time.Duration) (*store.Session, error)
	TouchSession(ctx context.Context, token string, idle time.Duration) (*store.Session, error)
	Logout(ctx context.Context, token string) error
	SearchDocuments(ctx context.Context, q store.DocumentQuery) ([]store.ConsoleDocument, error)
	Document(ctx context.Context, id string) (*routing.Document, error)
	Deliveries(ctx context.Context, document string) ([]*routing.Delivery, error)
	Overview(ctx context.Context, q store.OverviewQuery) (*store.Overview, error)

	// The admin's: the directory, members, routes and accounts, each
	// change audited by the store.
	Agencies(ctx context.Context) ([]agencyids.Agency, error)
	Directory(ctx context.Context) (*agencyids.Directory, error)
	SaveAgencies(ctx context.Context, agencies []agencyids.Agency, actor string) error
	Members(ctx context.Context) ([]routing.Member, error)
	AddMember(ctx context.Context, a *agencyids.Agency, m routing.Member, c *store.Credential, actor string) error
	Peers(ctx context.Context) ([]routing.Peer, error)
	Routes(ctx context.Context) ([]routing.Route, error)
	PutRoute(ctx context.Context, r routing.Route, actor string) error
	DeleteRoute(ctx context.Context, pattern, actor string) error
	Users(ctx context.Context) ([]store.User, error)
	CreateUser(ctx context.Context, u store.User, password, actor string) error
	SetUserDisabled(ctx context.Context, name string, disabled bool, actor string) error
	SetUserPassword(ctx context.Context, name, password, actor string) error
}

// Config configures the console.
type Config struct {
	Hub   Hub   // required
	Store Store // required
	// SessionTTL is how long a session lasts at most; 0: 8 hours.
	SessionTTL time.Duration
	// IdleTimeout ends a session not used for that long; 0: 30 minutes.
	IdleTimeout time.Duration
	Logger      *slog.Logger // nil: slog.Default()
	// Now is the clock of the overview's days (default time.Now).
	Now func() time.Time
}

// The cookies. __Host- makes browsers insist on Secure, Path=/ and no
// Domain.
const (
	sessionCookie = "__Host-edocgw_session"
	loginCookie   = "__Host-edocgw_login" // the CSRF token of the sign-in form
	pageSize      = 50
	maxForm       = 1 << 20 // bytes of a POST body (a PEM certificate fits)
)

// Console serves the pages under /ui/.
type Console struct {
	cfg  Config
	log  *slog.Logger
	tmpl map[string]*template.Template
	mux  *http.ServeMux
}

// New returns the console.
func New(cfg Config) (*Console, error) {
	if cfg.Hub == nil || cfg.Store == nil {
		return nil, errors.New("ui: Config.Hub and Config.Store are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{cfg: cfg, log: cfg.Logger, tmpl: map[string]*template.Template{}}
	for _, page := range []string{"login", "home", "documents", "document", "audit", "error", "record", "chain", "overview",
		"agencies", "agency", "agency-new", "routes", "users"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/forms.html", "templates/"+page+".html")
		if err != nil {
			return nil, err
		}
		c.tmpl[page] = t
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /ui/login", c.loginPage)
	m.HandleFunc("POST /ui/login", c.login)
	m.HandleFunc("POST /ui/logout", c.auth(c.logout))
	m.HandleFunc("GET /ui/{$}", c.auth(c.home))
	m.HandleFunc("GET /ui/documents", c.auth(c.documents, store.UserClerk))
	m.HandleFunc("GET /ui/documents/{id}", c.auth(c.document, store.UserClerk, store.UserAuditor))
	m.HandleFunc("GET /ui/documents/{id}/attachments/{n}", c.auth(c.attachment, store.UserClerk, store.UserAuditor))
	m.HandleFunc("GET /ui/audit", c.auth(c.audit, store.UserAuditor))
	m.HandleFunc("POST /ui/audit/export", c.auth(c.export, store.UserAuditor))
	m.HandleFunc("POST /ui/deliveries/{id}/resend", c.auth(c.resend, store.UserClerk, store.UserAdmin))
	m.HandleFunc("POST /ui/deliveries/{id}/cancel", c.auth(c.cancel, store.UserClerk, store.UserAdmin))
	m.HandleFunc("GET /ui/records", c.auth(c.findRecord, store.UserAuditor))
	m.HandleFunc("GET /ui/records/{id}", c.auth(c.record, store.UserAuditor))
	m.HandleFunc("GET /ui/audit/chain", c.auth(c.chain, store.UserAuditor))
	m.HandleFunc("POST /ui/audit/chain", c.auth(c.verifyChain, store.UserAuditor))
	m.HandleFunc("GET /ui/overview", c.auth(c.overview, store.UserAdmin, store.UserAuditor))
	m.HandleFunc("GET /ui/admin/agencies", c.auth(c.agencies, store.UserAdmin))
	m.HandleFunc("GET /ui/admin/agencies/new", c.auth(c.newAgency, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/agencies", c.auth(c.addAgency, store.UserAdmin))
	m.HandleFunc("GET /ui/admin/agencies/{code}", c.auth(c.agency, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/agencies/{code}/delivery", c.auth(c.setDelivery, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/agencies/{code}/certs", c.auth(c.bindCert, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/agencies/{code}/certs/remove", c.auth(c.unbindCert, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/agencies/{code}/retire", c.auth(c.retire, store.UserAdmin))
	m.HandleFunc("GET /ui/admin/routes", c.auth(c.routes, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/routes", c.auth(c.addRoute, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/routes/remove", c.auth(c.removeRoute, store.UserAdmin))
	m.HandleFunc("GET /ui/admin/users", c.auth(c.users, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/users", c.auth(c.addUser, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/users/{name}/disable", c.auth(c.disableUser, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/users/{name}/enable", c.auth(c.enableUser, store.UserAdmin))
	m.HandleFunc("POST /ui/admin/users/{name}/password", c.auth(c.resetPassword, store.UserAdmin))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, routing.ErrNotFound)
	})
	c.mux = m
	return c, nil
}

// ServeHTTP sets the security headers every answer carries.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	}
	if l, fromQuery := langOf(r); fromQuery {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/ui/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	}
	c.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	L       lang
	User    *store.User
	CSRF    string
	Path    string // the page's path, for the language links
	Title   string
	Data    any
	Problem string // the error page's message
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, sess *store.Session, title string, data any) {
	l, _ := langOf(r)
	p := page{L: l, Path: r.URL.Path, Title: l.T(title), Data: data}
	if sess != nil {
		p.User, p.CSRF = &sess.User, sess.CSRF
	}
	var b strings.Builder
	if err := c.tmpl[name].Execute(&b, p); err != nil {
		c.log.Error("ui: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail answers with the error page of err's kind.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, sess *store.Session, err error) {
	status, msg := http.StatusInternalServerError, "error"
	switch {
	case errors.Is(err, routing.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, routing.ErrNotFound):
		status, msg = http.StatusNotFound, "not found"
	case errors.Is(err, routing.ErrForbidden):
		status, msg = http.StatusForbidden, "forbidden"
	case errors.Is(err, routing.ErrBadRequest), errors.Is(err, store.ErrBadArgument):
		status, msg = http.StatusBadRequest, "bad input"
	case errors.Is(err, routing.ErrGone):
		status, msg = http.StatusGone, "gone"
	case errors.Is(err, routing.ErrStateConflict):
		status, msg = http.StatusConflict, "conflict"
	default:
		c.log.Error("ui: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	l, _ := langOf(r)
	c.render(w, r, status, "error", sess, msg, l.T(msg))
}

type sessionKey struct{}

// auth lets through a signed-in user of one of roles (any role when none
// is given) and checks the CSRF token of a POST. Others are sent to the
// sign-in page (GET) or refused, audited.
func (c *Console) auth(next func(http.ResponseWriter, *http.Request, *store.Session), roles ...store.UserRole) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var sess *store.Session
		ck, err := r.Cookie(sessionCookie)
		if err == nil {
			sess, err = c.cfg.Store.TouchSession(r.Context(), ck.Value, c.cfg.IdleTimeout)
		}
		switch {
		case errors.Is(err, store.ErrNoSession) || errors.Is(err, http.ErrNoCookie):
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.cfg.Hub.Refused(r.Context(), "anonymous", r.Method+" "+r.URL.Path, "console: no session (from "+r.RemoteAddr+")")
			c.fail(w, r, nil, routing.ErrForbidden)
			return
		case err != nil:
			c.fail(w, r, nil, err)
			return
		}
		if r.Method == http.MethodPost && !sameOrigin(r) || r.Method == http.MethodPost && !tokenOK(r.PostFormValue("csrf"), sess.CSRF) {
			c.cfg.Hub.Refused(r.Context(), sess.User.Actor(), r.Method+" "+r.URL.Path, "console: missing or wrong CSRF token")
			c.fail(w, r, sess, routing.ErrForbidden)
			return
		}
		if len(roles) > 0 && !contains(roles, sess.User.Role) {
			c.cfg.Hub.Refused(r.Context(), sess.User.Actor(), r.Method+" "+r.URL.Path, "console: role "+string(sess.User.Role)+" may not see this page")
			c.fail(w, r, sess, routing.ErrForbidden)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)), sess)
	}
}

func contains(roles []store.UserRole, r store.UserRole) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// tokenOK compares a form's token with the expected one in constant time.
func tokenOK(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a POST whose Origin header (if any) is another site.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || o == "https://"+r.Host
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	switch sess.User.Role {
	case store.UserClerk:
		http.Redirect(w, r, "/ui/documents", http.StatusSeeOther)
	case store.UserAuditor:
		http.Redirect(w, r, "/ui/audit", http.StatusSeeOther)
	case store.UserAdmin:
		http.Redirect(w, r, "/ui/overview", http.StatusSeeOther)
	default:
		c.render(w, r, http.StatusOK, "home", sess, "app", nil)
	}
}

// loginForm is the sign-in page's data.
type loginForm struct {
	Name, Next, Token string
	Error             string // shown under the password field
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.showLogin(w, r, http.StatusOK, loginForm{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, f loginForm) {
	f.Token = randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: f.Token, Path: "/", MaxAge: 3600,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	c.render(w, r, status, "login", nil, "signin", f)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) || !tokenOK(r.PostFormValue("csrf"), ck.Value) {
		c.cfg.Hub.Refused(r.Context(), "anonymous", "POST /ui/login", "console: missing or wrong CSRF token (from "+r.RemoteAddr+")")
		c.fail(w, r, nil, routing.ErrForbidden)
		return
	}
	f := loginForm{Name: strings.TrimSpace(r.PostFormValue("name")), Next: safeNext(r.PostFormValue("next"))}
	sess, err := c.cfg.Store.Login(r.Context(), f.Name, r.PostFormValue("password"), r.RemoteAddr, c.cfg.SessionTTL)
	l, _ := langOf(r)
	switch {
	case errors.Is(err, store.ErrBadLogin):
		f.Error = l.T("bad login")
		c.showLogin(w, r, http.StatusUnauthorized, f)
		return
	case errors.Is(err, store.ErrLocked):
		f.Error = l.T("locked")
		c.showLogin(w, r, http.StatusTooManyRequests, f)
		return
	case err != nil:
		c.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	next := f.Next
	if next == "" {
		next = "/ui/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	if err := c.cfg.Store.Logout(r.Context(), sess.Token); err != nil && !errors.Is(err, store.ErrNoSession) {
		c.fail(w, r, sess, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext keeps a redirect target only if it is a path of the console.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/ui/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return ""
	}
	return s
}

// Mount sends /ui and /ui/… to the console and everything else to api,
// untouched (no path cleaning or redirects of a ServeMux on the API).
func Mount(console, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ui":
			http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		case strings.HasPrefix(r.URL.Path, "/ui/"):
			console.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}
