package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/routing"
)

// The audit event kinds of console accounts and sign-ins.
const (
	KindUserCreated    = "user.created"
	KindLoginSucceeded = "login.succeeded"
	KindLoginFailed    = "login.failed"
	KindLoginLocked    = "login.locked"
	KindLogout         = "logout"
)

// Sign-in limits: MaxFailedLogins wrong passwords in a row lock an account
// for LockoutPeriod.
const (
	MaxFailedLogins = 5
	LockoutPeriod   = 15 * time.Minute
	// MinPasswordLen is the shortest password an account may get.
	MinPasswordLen = 10
)

// UserRole is what a person may do in the console.
type UserRole string

// The console roles.
const (
	UserClerk   UserRole = "clerk"   // văn thư: the documents of one agency and its units
	UserAuditor UserRole = "auditor" // reads the audit log and exports records
	UserAdmin   UserRole = "admin"   // manages the hub
)

// Errors of sign-in: ErrBadLogin does not say whether the name or the
// password was wrong.
var (
	ErrBadLogin  = errors.New("store: wrong user name or password")
	ErrLocked    = errors.New("store: account locked after too many failed sign-ins")
	ErrNoSession = errors.New("store: no such session, or it expired")
)

// User is a console account.
type User struct {
	Name         string
	Role         UserRole
	Agency       agencyids.Code // a clerk's agency; empty for other roles
	FailedLogins int
	LockedUntil  time.Time // zero: not locked
	CreatedAt    time.Time
	DisabledAt   time.Time // zero: active
}

// Actor is how the audit log names the user: "clerk:NAME" and so on.
func (u *User) Actor() string { return string(u.Role) + ":" + u.Name }

// PasswordHash is an argon2id hash with its salt and parameters.
type PasswordHash struct {
	Hash, Salt []byte
	Time       uint32 // iterations
	Memory     uint32 // KiB
	Threads    uint8
}

// The argon2id parameters of new hashes (RFC 9106's second recommendation,
// lighter on memory: 64 MiB, 3 passes).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// HashPassword hashes pw with a new random salt.
func HashPassword(pw string) (PasswordHash, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return PasswordHash{}, err
	}
	h := PasswordHash{Salt: salt, Time: argonTime, Memory: argonMemory, Threads: argonThreads}
	h.Hash = argon2.IDKey([]byte(pw), salt, h.Time, h.Memory, h.Threads, argonKeyLen)
	return h, nil
}

// Matches reports, in constant time, whether pw hashes to h.
func (h PasswordHash) Matches(pw string) bool {
	if len(h.Hash) == 0 || h.Time == 0 || h.Memory == 0 || h.Threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), h.Salt, h.Time, h.Memory, h.Threads, uint32(len(h.Hash)))
	return subtle.ConstantTimeCompare(got, h.Hash) == 1
}

// dummyHash is checked against for unknown users, so that a wrong name
// takes as long as a wrong password.
var dummyHash = PasswordHash{Hash: make([]byte, argonKeyLen), Salt: make([]byte, 16), Time: argonTime, Memory: argonMemory, Threads: argonThreads}

// CheckUserName allows 1–64 lower-case letters, digits, '.', '_' and '-'.
func CheckUserName(name string) error {
	ok := len(name) > 0 && len(name) <= 64
	for _, c := range name {
		ok = ok && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("%w: user name %q: want 1–64 of a-z, 0-9, '.', '_', '-'", ErrBadArgument, name)
	}
	return nil
}

// CreateUser adds an account with its password and its audit event
// ("user.created", never with the password) in one transaction.
func (s *Store) CreateUser(ctx context.Context, u User, password, actor string) error {
	if err := CheckUserName(u.Name); err != nil {
		return err
	}
	switch u.Role {
	case UserClerk:
		if !u.Agency.Valid() {
			return fmt.Errorf("%w: a clerk needs a valid agency code, not %q", ErrBadArgument, u.Agency)
		}
	case UserAuditor, UserAdmin:
		if u.Agency != "" {
			return fmt.Errorf("%w: an %s has no agency", ErrBadArgument, u.Role)
		}
	default:
		return fmt.Errorf("%w: role %q: want clerk, auditor or admin", ErrBadArgument, u.Role)
	}
	if utf8.RuneCountInString(password) < MinPasswordLen || len(password) > 1024 {
		return fmt.Errorf("%w: a password has %d to 1024 characters", ErrBadArgument, MinPasswordLen)
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	err = s.InTx(ctx, func(tx Tx) error {
		switch err := tx.QueryRow(ctx, "SELECT 1 FROM users WHERE name = $1", u.Name).Scan(new(int)); {
		case err == nil:
			return fmt.Errorf("%w: user %s exists", ErrBadArgument, u.Name)
		case !isNoRows(err):
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO users (name, role, agency, pw_hash, pw_salt, pw_time, pw_memory, pw_threads, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, u.Name, string(u.Role), string(u.Agency), h.Hash, h.Salt,
			int64(h.Time), int64(h.Memory), int64(h.Threads), s.timeArg(u.CreatedAt)); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		e, err := configEvent(KindUserCreated, actor, u.Agency, map[string]any{"user": u.Name, "role": u.Role})
		if err != nil {
			return err
		}
		return s.AppendAudit(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("store: create user %s: %w", u.Name, err)
	}
	return nil
}

const userColumns = "name, role, agency, pw_hash, pw_salt, pw_time, pw_memory, pw_threads, failed_logins, locked_until, created_at, disabled_at"

func (s *Store) scanUser(scan func(...any) error) (*User, PasswordHash, error) {
	var (
		u                         User
		h                         PasswordHash
		role, agency              string
		tm, mem, thr              int64
		locked, created, disabled any
	)
	if err := scan(&u.Name, &role, &agency, &h.Hash, &h.Salt, &tm, &mem, &thr, &u.FailedLogins, &locked, &created, &disabled); err != nil {
		return nil, h, err
	}
	u.Role, u.Agency = UserRole(role), agencyids.Code(agency)
	h.Time, h.Memory, h.Threads = uint32(tm), uint32(mem), uint8(thr)
	var err error
	if u.LockedUntil, err = s.parseNullTime(locked); err != nil {
		return nil, h, err
	}
	if u.CreatedAt, err = s.parseTime(created); err != nil {
		return nil, h, err
	}
	if u.DisabledAt, err = s.parseNullTime(disabled); err != nil {
		return nil, h, err
	}
	return &u, h, nil
}

// user reads an account; found says whether there is one.
func (s *Store) user(ctx context.Context, name string) (u *User, h PasswordHash, found bool, err error) {
	err = s.query(ctx, "SELECT "+userColumns+" FROM users WHERE name = $1", []any{name}, func(scan func(...any) error) error {
		var err error
		u, h, err = s.scanUser(scan)
		found = err == nil
		return err
	})
	return u, h, found, err
}

// User returns an account; routing.ErrNotFound when there is none.
func (s *Store) User(ctx context.Context, name string) (*User, error) {
	u, _, found, err := s.user(ctx, name)
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: user %s: %w", name, err)
	case !found:
		return nil, fmt.Errorf("store: user %s: %w", name, routing.ErrNotFound)
	}
	return u, nil
}

// Session is a signed-in user's session. Token is the cookie's value and
// is only known to Login's caller; the store keeps its SHA-256.
type Session struct {
	Token     string
	CSRF      string // the token every form of the session carries
	User      User
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Login checks a password and opens a session of ttl. Every attempt is
// audited: "login.succeeded", "login.failed" (with the reason), and
// "login.locked" when the MaxFailedLogins-th failure in a row locks the
// account for LockoutPeriod. from (the client's address) goes into the
// events. Errors: ErrBadLogin, ErrLocked, or the database's.
func (s *Store) Login(ctx context.Context, name, password, from string, ttl time.Duration) (*Session, error) {
	fail := func(reason string, agency agencyids.Code) error {
		e, err := configEvent(KindLoginFailed, "anonymous", agency, map[string]any{"user": name, "reason": reason, "from": from})
		if err == nil {
			err = s.InTx(ctx, func(tx Tx) error { return s.AppendAudit(ctx, tx, e) })
		}
		return err
	}
	if len(name) > 64 || !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name[:min(len(name), 64)], "") // bounded in the log
	}
	u, h, found, err := s.user(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("store: login: %w", err)
	}
	if !found {
		dummyHash.Matches(password)
		if err := fail("unknown user", ""); err != nil {
			return nil, err
		}
		return nil, ErrBadLogin
	}
	ok := h.Matches(password)
	now := s.now()
	switch {
	case !u.DisabledAt.IsZero():
		if err := fail("disabled", u.Agency); err != nil {
			return nil, err
		}
		return nil, ErrBadLogin
	case now.Before(u.LockedUntil):
		if err := fail("locked", u.Agency); err != nil {
			return nil, err
		}
		return nil, ErrLocked
	}
	if !ok {
		var locked bool
		err := s.InTx(ctx, func(tx Tx) error {
			var n int
			if err := tx.QueryRow(ctx, "UPDATE users SET failed_logins = failed_logins + 1 WHERE name = $1 RETURNING failed_logins", name).Scan(&n); err != nil {
				return err
			}
			events := []*archive.Event{{Kind: KindLoginFailed, Actor: "anonymous", Agency: u.Agency,
				Details: mustJSON(map[string]any{"user": name, "reason": "wrong password", "failures": n, "from": from})}}
			locked = n >= MaxFailedLogins
			if locked {
				until := now.Add(LockoutPeriod)
				if _, err := tx.Exec(ctx, "UPDATE users SET failed_logins = 0, locked_until = $1 WHERE name = $2", s.timeArg(until), name); err != nil {
					return err
				}
				events = append(events, &archive.Event{Kind: KindLoginLocked, Actor: "hub", Agency: u.Agency,
					Details: mustJSON(map[string]any{"user": name, "failures": n, "until": until.UTC().Format(time.RFC3339)})})
			}
			return s.AppendAudit(ctx, tx, events...)
		})
		switch {
		case err != nil:
			return nil, fmt.Errorf("store: login: %w", err)
		case locked:
			return nil, ErrLocked
		}
		return nil, ErrBadLogin
	}
	sess := &Session{User: *u, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	tok, csrf := make([]byte, 32), make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	if _, err := rand.Read(csrf); err != nil {
		return nil, err
	}
	sess.Token, sess.CSRF = base64.RawURLEncoding.EncodeToString(tok), base64.RawURLEncoding.EncodeToString(csrf)
	th := sha256.Sum256([]byte(sess.Token))
	var lockedNow bool
	err = s.InTx(ctx, func(tx Tx) error {
		// A concurrent failure may have locked the account meanwhile.
		var lu any
		if err := tx.QueryRow(ctx, "SELECT locked_until FROM users WHERE name = $1", name).Scan(&lu); err != nil {
			return err
		}
		t, err := s.parseNullTime(lu)
		if err != nil {
			return err
		}
		if lockedNow = now.Before(t); lockedNow {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = $1", name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO sessions (hash, user_name, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
			th[:], name, sess.CSRF, s.timeArg(now), s.timeArg(sess.ExpiresAt)); err != nil {
			return err
		}
		// Expired sessions go as new ones come.
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at < $1", s.timeArg(now)); err != nil {
			return err
		}
		return s.AppendAudit(ctx, tx, &archive.Event{Kind: KindLoginSucceeded, Actor: u.Actor(), Agency: u.Agency,
			Details: mustJSON(map[string]any{"user": name, "session": sessionID(th), "from": from})})
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: login: %w", err)
	case lockedNow:
		return nil, ErrLocked
	}
	sess.User.FailedLogins, sess.User.LockedUntil = 0, time.Time{}
	return sess, nil
}

// sessionID names a session in the log: a prefix of its hash.
func sessionID(h [32]byte) string { return fmt.Sprintf("%x", h[:8]) }

// LookupSession returns the session of a cookie's token if it has not
// expired and its user is not disabled; ErrNoSession otherwise.
func (s *Store) LookupSession(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrNoSession
	}
	th := sha256.Sum256([]byte(token))
	var (
		sess  *Session
		found bool
	)
	err := s.query(ctx, "SELECT s.csrf, s.created_at, s.expires_at, "+prefixed("u", userColumns)+
		" FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.hash = $1", []any{th[:]},
		func(scan func(...any) error) error {
			var (
				csrf             string
				created, expires any
			)
			u, _, err := s.scanUser(func(dest ...any) error {
				return scan(append([]any{&csrf, &created, &expires}, dest...)...)
			})
			if err != nil {
				return err
			}
			sess = &Session{Token: token, CSRF: csrf, User: *u}
			if sess.CreatedAt, err = s.parseTime(created); err != nil {
				return err
			}
			if sess.ExpiresAt, err = s.parseTime(expires); err != nil {
				return err
			}
			found = true
			return nil
		})
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: session: %w", err)
	case !found || !s.now().Before(sess.ExpiresAt) || !sess.User.DisabledAt.IsZero():
		return nil, ErrNoSession
	}
	return sess, nil
}

// Logout deletes a session, audited ("logout"); an unknown token is
// ErrNoSession.
func (s *Store) Logout(ctx context.Context, token string) error {
	sess, err := s.LookupSession(ctx, token)
	if err != nil {
		return err
	}
	th := sha256.Sum256([]byte(token))
	err = s.InTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, "DELETE FROM sessions WHERE hash = $1", th[:])
		if err != nil || n == 0 {
			return err
		}
		return s.AppendAudit(ctx, tx, &archive.Event{Kind: KindLogout, Actor: sess.User.Actor(), Agency: sess.User.Agency,
			Details: mustJSON(map[string]any{"user": sess.User.Name, "session": sessionID(th)})})
	})
	if err != nil {
		return fmt.Errorf("store: logout: %w", err)
	}
	return nil
}

func mustJSON(m map[string]any) []byte {
	e, err := configEvent("x", "", "", m)
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return e.Details
}
