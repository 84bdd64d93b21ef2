package agencyids

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxSuccessorHops bounds the successor chain that Resolve follows.
const maxSuccessorHops = 64

// entry is the directory's record of one agency.
type entry struct {
	a              Agency // a.Parent is unused (see parent); a.Successor is a primary code
	parent         *entry // effective parent, nil if none
	succ           *entry // successor, nil if none
	children       []*entry
	explicitParent bool   // the parent was given, not derived from the code
	fold           string // folded name
	visit          uint64 // scratch mark for cycle detection (under the write lock)
}

// agency returns a copy of the record with the effective parent filled in.
func (e *entry) agency() Agency {
	a := e.a
	a.Parent = ""
	if e.parent != nil {
		a.Parent = e.parent.a.Code
	}
	a.CertFingerprints = slices.Clone(a.CertFingerprints)
	return a
}

// Directory is an in-memory, concurrency-safe directory of agencies, keyed
// by primary code and by alternative code (which share one namespace). Codes
// are never deleted: a retired agency keeps its code, and a retired code can
// never be given to another agency. The zero Directory is empty and ready to
// use.
type Directory struct {
	mu        sync.RWMutex
	byCode    map[Code]*entry
	byAlt     map[Code]*entry
	formerAlt map[Code]*entry   // alternative codes an agency gave up: never reusable by others
	orphans   map[Code][]*entry // by structural parent code not (yet) in the directory
	byFP      map[Fingerprint][]*entry
	full      nameIndex // whole folded names
	inner     nameIndex // folded name suffixes starting at the second and later words
	epoch     uint64
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	d := &Directory{}
	d.init()
	return d
}

func (d *Directory) init() {
	if d.byCode == nil {
		d.byCode = make(map[Code]*entry)
		d.byAlt = make(map[Code]*entry)
		d.formerAlt = make(map[Code]*entry)
		d.orphans = make(map[Code][]*entry)
		d.byFP = make(map[Fingerprint][]*entry)
		d.full.full = true
	}
}

// find returns the agency whose code or alternative code is c.
func (d *Directory) find(c Code) *entry {
	if e := d.byCode[c]; e != nil {
		return e
	}
	return d.byAlt[c]
}

// Len returns the number of agencies, retired ones included.
func (d *Directory) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.byCode)
}

// Add adds one agency. It checks the record (strictly valid codes, non-empty
// name within limits, ValidTo after ValidFrom, …: ErrInvalidAgency), that its
// code and alternative code are unused (ErrExists; ErrRetiredCode for the code
// of a retired agency), that a given parent exists (ErrUnknownParent) and that
// a given successor exists (ErrUnknownSuccessor) without forming a cycle.
func (d *Directory) Add(a Agency) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.insert([]Agency{a}); err != nil {
		return fmt.Errorf("agencyids: add %s: %w", a.Code, err)
	}
	return nil
}

// Load adds many agencies at once, all or nothing: on error the directory is
// unchanged. Parents and successors may refer to agencies later in the
// slice. It applies the checks of Add and is O(n log n).
func (d *Directory) Load(agencies []Agency) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, err := d.insert(agencies); err != nil {
		if i < 0 {
			return fmt.Errorf("agencyids: load: %w", err)
		}
		return fmt.Errorf("agencyids: load: agency #%d (%s): %w", i, agencies[i].Code, err)
	}
	return nil
}

// claimErr reports why c cannot be used as a new code or alternative code
// by owner (nil: it can).
func (d *Directory) claimErr(c Code, owner *entry, field string) error {
	if e := d.byCode[c]; e != nil && e != owner {
		if e.a.Retired() {
			return stateError(field, string(c)+" is the code of a retired agency", ErrRetiredCode)
		}
		return stateError(field, string(c)+" is the code of "+e.a.Name, ErrExists)
	}
	if e := d.byAlt[c]; e != nil && e != owner {
		return stateError(field, fmt.Sprintf("%s is the alternative code of %s (%s)", c, e.a.Code, e.a.Name), ErrExists)
	}
	if e := d.formerAlt[c]; e != nil && e != owner {
		return stateError(field, fmt.Sprintf("%s is a former alternative code of %s", c, e.a.Code), ErrRetiredCode)
	}
	return nil
}

// insert validates and adds a batch under the write lock. On error it
// returns the index of the offending agency (-1 if none) and changes
// nothing.
func (d *Directory) insert(batch []Agency) (int, error) {
	d.init()
	if len(batch) > maxRows {
		return -1, fmt.Errorf("%d agencies, maximum %d: %w", len(batch), maxRows, ErrTooManyRows)
	}
	es := make([]*entry, len(batch))
	pending := make(map[Code]*entry, len(batch))
	claim := func(c Code, e *entry, field string) error {
		if err := d.claimErr(c, nil, field); err != nil {
			return err
		}
		if o := pending[c]; o != nil {
			return stateError(field, fmt.Sprintf("%s is also used by %s earlier in the batch", c, o.a.Code), ErrExists)
		}
		pending[c] = e
		return nil
	}
	for i := range batch {
		a := &batch[i]
		if err := validateFields(a); err != nil {
			return i, err
		}
		e := &entry{a: *a, explicitParent: a.Parent != "", fold: foldName(a.Name)}
		e.a.Parent, e.a.Successor = "", ""
		e.a.CertFingerprints = slices.Clip(slices.Clone(a.CertFingerprints))
		if len(e.a.CertFingerprints) == 0 {
			e.a.CertFingerprints = nil
		}
		if err := claim(a.Code, e, "code"); err != nil {
			return i, err
		}
		if a.AltCode != "" {
			if err := claim(a.AltCode, e, "altCode"); err != nil {
				return i, err
			}
		}
		es[i] = e
	}
	find := func(c Code) *entry {
		if e := d.find(c); e != nil {
			return e
		}
		return pending[c]
	}
	// Parents: explicit ones must exist; derived ones are used if present.
	for i, e := range es {
		if p := batch[i].Parent; p != "" {
			if e.parent = find(p); e.parent == nil {
				return i, stateError("parent", string(p)+" not found", ErrUnknownParent)
			}
		} else if pc, ok := e.a.Code.Parent(); ok {
			e.parent = find(pc)
		}
	}
	// Agencies already here waiting for one of the new codes as parent.
	adopt := make(map[*entry]*entry)
	for _, e := range es {
		for _, c := range [2]Code{e.a.Code, e.a.AltCode} {
			if c != "" {
				for _, o := range d.orphans[c] {
					adopt[o] = e
				}
			}
		}
	}
	parentOf := func(x *entry) *entry {
		if p, ok := adopt[x]; ok {
			return p
		}
		return x.parent
	}
	if i := d.cycleAt(es, parentOf); i >= 0 {
		return i, stateError("parent", "the parent chain leads back to "+string(es[i].a.Code), ErrParentCycle)
	}
	// Successors must exist.
	for i, e := range es {
		if s := batch[i].Successor; s != "" {
			if e.succ = find(s); e.succ == nil {
				return i, stateError("successor", string(s)+" not found", ErrUnknownSuccessor)
			}
			if e.succ == e {
				return i, stateError("successor", "agency is its own successor", ErrSuccessorCycle)
			}
			e.a.Successor = e.succ.a.Code
		}
	}
	if i := d.cycleAt(es, func(x *entry) *entry { return x.succ }); i >= 0 {
		return i, stateError("successor", "the successor chain leads back to "+string(es[i].a.Code), ErrSuccessorCycle)
	}

	// Commit; nothing below fails.
	for _, e := range es {
		d.byCode[e.a.Code] = e
		if e.a.AltCode != "" {
			d.byAlt[e.a.AltCode] = e
		}
		for _, f := range e.a.CertFingerprints {
			d.byFP[f] = append(d.byFP[f], e)
		}
		d.attach(e)
	}
	for o, p := range adopt {
		o.parent = p
		p.children = append(p.children, o)
	}
	for _, e := range es {
		delete(d.orphans, e.a.Code)
		if e.a.AltCode != "" {
			delete(d.orphans, e.a.AltCode)
		}
	}
	var full, inner []nameKey
	for _, e := range es {
		full, inner = keysOf(e, full, inner)
	}
	d.full.insert(full)
	d.inner.insert(inner)
	return -1, nil
}

// attach links a new entry to its parent, or records it as an orphan
// waiting for its structural parent.
func (d *Directory) attach(e *entry) {
	if e.parent != nil {
		e.parent.children = append(e.parent.children, e)
		return
	}
	if !e.explicitParent {
		if pc, ok := e.a.Code.Parent(); ok {
			d.orphans[pc] = append(d.orphans[pc], e)
		}
	}
}

// cycleAt follows next from each of starts and returns the index of the
// first start whose chain loops, or -1. Chains through entries visited
// before are not walked again, so the total work is linear.
func (d *Directory) cycleAt(starts []*entry, next func(*entry) *entry) int {
	d.epoch += 2
	onPath, done := d.epoch, d.epoch+1
	var path []*entry
	for i, s := range starts {
		path = path[:0]
		x := s
		for x != nil && x.visit != onPath && x.visit != done {
			x.visit = onPath
			path = append(path, x)
			x = next(x)
		}
		if x != nil && x.visit == onPath {
			return i
		}
		for _, p := range path {
			p.visit = done
		}
	}
	return -1
}

// Upsert adds a (created is true) or, if an agency with code a.Code exists,
// updates its mutable fields: Name, AltCode, Endpoint and CertFingerprints.
// The other fields must match the stored record: Parent empty or the current
// parent, the same ValidFrom, ValidTo and Successor (ErrImmutable); an empty
// ValidTo for a retired agency is refused with ErrRetiredCode (use Retire to
// retire). An alternative code given up stays reserved for this agency.
func (d *Directory) Upsert(a Agency) (created bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	e := d.byCode[a.Code]
	if e == nil {
		if _, err := d.insert([]Agency{a}); err != nil {
			return false, fmt.Errorf("agencyids: upsert %s: %w", a.Code, err)
		}
		return true, nil
	}
	if err := d.update(e, &a); err != nil {
		return false, fmt.Errorf("agencyids: upsert %s: %w", a.Code, err)
	}
	return false, nil
}

func (d *Directory) update(e *entry, a *Agency) error {
	if err := validateFields(a); err != nil {
		return err
	}
	switch {
	case e.a.Retired() && a.ValidTo.IsZero():
		return stateError("validTo", "a retired agency cannot be made active again", ErrRetiredCode)
	case !a.ValidTo.Equal(e.a.ValidTo):
		return stateError("validTo", "changes only through Retire", ErrImmutable)
	case !a.ValidFrom.Equal(e.a.ValidFrom):
		return stateError("validFrom", "cannot change", ErrImmutable)
	case a.Successor != "" && d.find(a.Successor) != e.succ || a.Successor == "" && e.succ != nil:
		return stateError("successor", "changes only through Retire", ErrImmutable)
	case a.Parent != "" && d.find(a.Parent) != e.parent:
		return stateError("parent", "cannot change", ErrImmutable)
	}
	if a.AltCode != e.a.AltCode && a.AltCode != "" {
		if err := d.claimErr(a.AltCode, e, "altCode"); err != nil {
			return err
		}
		// Orphans waiting for the new alternative code become children.
		adopted := d.orphans[a.AltCode]
		for p := e; p != nil; p = p.parent {
			if slices.Contains(adopted, p) {
				return stateError("altCode", fmt.Sprintf("%s would become the parent of its ancestor %s", e.a.Code, p.a.Code), ErrParentCycle)
			}
		}
		for _, o := range adopted {
			o.parent = e
			e.children = append(e.children, o)
		}
		delete(d.orphans, a.AltCode)
	}

	// Commit.
	if a.AltCode != e.a.AltCode {
		if old := e.a.AltCode; old != "" {
			delete(d.byAlt, old)
			d.formerAlt[old] = e
		}
		if a.AltCode != "" {
			delete(d.formerAlt, a.AltCode)
			d.byAlt[a.AltCode] = e
		}
		e.a.AltCode = a.AltCode
	}
	if !slices.Equal(a.CertFingerprints, e.a.CertFingerprints) {
		for _, f := range e.a.CertFingerprints {
			d.byFP[f] = slices.DeleteFunc(d.byFP[f], func(x *entry) bool { return x == e })
			if len(d.byFP[f]) == 0 {
				delete(d.byFP, f)
			}
		}
		e.a.CertFingerprints = nil
		if len(a.CertFingerprints) > 0 {
			e.a.CertFingerprints = slices.Clip(slices.Clone(a.CertFingerprints))
		}
		for _, f := range e.a.CertFingerprints {
			d.byFP[f] = append(d.byFP[f], e)
		}
	}
	e.a.Endpoint = a.Endpoint
	if a.Name != e.a.Name {
		e.a.Name = a.Name
		if f := foldName(a.Name); f != e.fold {
			e.fold = f // the old keys become stale
			full, inner := keysOf(e, nil, nil)
			d.full.insert(full)
			d.inner.insert(inner)
		}
	}
	return nil
}

// Retire ends the validity of the agency with the given code (or
// alternative code) at time at, and records successor (optional) as the
// agency that took over. The successor must exist and be active at at, and
// must not lead back to the retired agency. A retired agency stays in the
// directory for ever; retiring it again is ErrRetiredCode.
func (d *Directory) Retire(code Code, at time.Time, successor Code) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.retire(code, at, successor); err != nil {
		return fmt.Errorf("agencyids: retire %s: %w", code, err)
	}
	return nil
}

func (d *Directory) retire(code Code, at time.Time, successor Code) error {
	e := d.find(code)
	switch {
	case e == nil:
		return ErrNotFound
	case e.a.Retired():
		return stateError("validTo", "already retired on "+formatDate(e.a.ValidTo), ErrRetiredCode)
	case at.IsZero():
		return invalid("validTo", "retirement time is zero")
	case !e.a.ValidFrom.IsZero() && !at.After(e.a.ValidFrom):
		return invalid("validTo", fmt.Sprintf("%s is not after validFrom %s", formatDate(at), formatDate(e.a.ValidFrom)))
	}
	var s *entry
	if successor != "" {
		s = d.find(successor)
		switch {
		case s == nil:
			return stateError("successor", string(successor)+" not found", ErrUnknownSuccessor)
		case s == e:
			return stateError("successor", "agency is its own successor", ErrSuccessorCycle)
		case !s.a.ActiveAt(at):
			return stateError("successor", fmt.Sprintf("%s is not active on %s", s.a.Code, formatDate(at)), ErrInactiveSuccessor)
		}
		for x, n := s, 0; x != nil && n <= len(d.byCode); x, n = x.succ, n+1 {
			if x == e {
				return stateError("successor", "the successor chain of "+string(s.a.Code)+" leads back", ErrSuccessorCycle)
			}
		}
	}
	e.a.ValidTo = at
	if s != nil {
		e.succ = s
		e.a.Successor = s.a.Code
	}
	return nil
}

// Lookup returns the agency whose code or alternative code is code.
func (d *Directory) Lookup(code Code) (Agency, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if e := d.find(code); e != nil {
		return e.agency(), true
	}
	return Agency{}, false
}

// LookupAt is like Lookup but only finds an agency active at t.
func (d *Directory) LookupAt(code Code, t time.Time) (Agency, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if e := d.find(code); e != nil && e.a.ActiveAt(t) {
		return e.agency(), true
	}
	return Agency{}, false
}

// Active reports whether the agency with the given code exists and is active
// at t.
func (d *Directory) Active(code Code, t time.Time) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e := d.find(code)
	return e != nil && e.a.ActiveAt(t)
}

// Resolve returns the agency that handles code at time t: the agency itself
// if it is active at t, otherwise, if it was retired by t, its successor,
// followed transitively. It fails with ErrNotFound for an unknown code,
// ErrNotActive when the chain ends without an agency active at t (not yet
// valid, or retired without successor), and ErrSuccessorCycle if the chain
// loops or exceeds 64 hops.
func (d *Directory) Resolve(code Code, t time.Time) (Agency, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e := d.find(code)
	if e == nil {
		return Agency{}, fmt.Errorf("agencyids: resolve %s: %w", code, ErrNotFound)
	}
	var seen [maxSuccessorHops]*entry
	for hops := 0; ; hops++ {
		if e.a.ActiveAt(t) {
			return e.agency(), nil
		}
		if e.succ == nil || !e.a.Retired() || t.Before(e.a.ValidTo) {
			return Agency{}, fmt.Errorf("agencyids: resolve %s at %s: %s is not active and no successor applies: %w",
				code, t.Format(time.RFC3339), e.a.Code, ErrNotActive)
		}
		if hops == maxSuccessorHops || slices.Contains(seen[:hops], e) {
			return Agency{}, fmt.Errorf("agencyids: resolve %s: successor chain loops or is longer than %d: %w",
				code, maxSuccessorHops, ErrSuccessorCycle)
		}
		seen[hops] = e
		e = e.succ
	}
}

// SearchName returns up to limit agencies (all if limit <= 0) whose name, or
// a part of it starting at a word, begins with prefix, ignoring case,
// Vietnamese diacritics (Đ/đ matches d) and punctuation: "uy ban" finds "Ủy
// ban nhân dân…", "noi vu" finds "Sở Nội vụ". A prefix ending in a space or
// punctuation must end at a word boundary. Results are sorted by folded name,
// then name, then code. An empty prefix (after folding) finds nothing.
func (d *Directory) SearchName(prefix string, limit int) []Agency {
	p := foldQuery(prefix)
	if p == "" {
		return nil
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	t := topK{limit: limit}
	d.full.collect(p, &t)
	d.inner.collect(p, &t)
	return agencies(t.sorted())
}

func agencies(es []*entry) []Agency {
	if len(es) == 0 {
		return nil
	}
	out := make([]Agency, len(es))
	for i, e := range es {
		out[i] = e.agency()
	}
	return out
}

func sortByCode(es []*entry) []*entry {
	slices.SortFunc(es, func(a, b *entry) int { return strings.Compare(string(a.a.Code), string(b.a.Code)) })
	return es
}

// Children returns the agencies whose effective parent is the agency with
// the given code (or alternative code), sorted by code.
func (d *Directory) Children(code Code) []Agency {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e := d.find(code)
	if e == nil {
		return nil
	}
	return agencies(sortByCode(slices.Clone(e.children)))
}

// All returns every agency, retired ones included, sorted by code.
func (d *Directory) All() []Agency {
	d.mu.RLock()
	defer d.mu.RUnlock()
	es := make([]*entry, 0, len(d.byCode))
	for _, e := range d.byCode {
		es = append(es, e)
	}
	return agencies(sortByCode(es))
}

// ByFingerprint returns the agencies bound to the certificate with
// fingerprint fp, sorted by code.
func (d *Directory) ByFingerprint(fp Fingerprint) []Agency {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return agencies(sortByCode(slices.Clone(d.byFP[fp])))
}
