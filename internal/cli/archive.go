package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// maxRetentionDays bounds DAYS (a time.Duration holds about 290 years).
const maxRetentionDays = 100000

// purgePage is how many candidates the purge reads at a time.
const purgePage = 200

func runArchiveRetention(args []string, env Env) error {
	f := newFlags("archive retention", "[--data DIR | --database-url URL] [--archive-url URL] [DAYS|permanent]", env)
	sf := addStoreFlags(f)
	archiveURL := f.String("archive-url", os.Getenv("EDOCGW_ARCHIVE_URL"), archiveHelp+"\n(only compared with the period: an object lock longer than it keeps originals past it)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("archive retention: want at most one DAYS or permanent")
	}
	set, days := len(pos) == 1, 0
	if set && pos[0] != "permanent" {
		days, err = strconv.Atoi(pos[0])
		if err != nil || days < 1 || days > maxRetentionDays {
			return usagef("archive retention: %q: want DAYS from 1 to %d, or permanent", pos[0], maxRetentionDays)
		}
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	keep, err := s.Retention(ctx)
	if err != nil {
		return err
	}
	if set {
		prev := keep
		keep = time.Duration(days) * store.Day
		if err := s.SetRetention(ctx, keep, actor()); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "retention set to %s (was %s)\n", retentionText(keep), retentionText(prev))
	} else if keep == 0 {
		fmt.Fprintln(env.Stdout, "retention permanent: originals are never purged")
	} else {
		fmt.Fprintf(env.Stdout, "retention %s: originals received before %s may be purged\n",
			retentionText(keep), env.now().Add(-keep).UTC().Format(time.RFC3339))
	}
	if lock := lockDays(*archiveURL); lock > 0 && keep > 0 && time.Duration(lock)*store.Day > keep {
		fmt.Fprintf(env.Stderr, "edocgw: note: the archive locks each original for %d days; purge keeps (KEPT: retained) those still locked\n", lock)
	}
	return nil
}

// retentionText is "3650 days" or "permanent".
func retentionText(d time.Duration) string {
	if d == 0 {
		return "permanent"
	}
	return fmt.Sprintf("%d days", d/store.Day)
}

// lockDays is the object lock retention an s3:// archive URL asks for, 0
// for none or another URL.
func lockDays(raw string) int {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Query().Get("lock") == "" {
		return 0
	}
	n, _ := strconv.Atoi(u.Query().Get("retention"))
	return n
}

// purgeRecord is a line of archive purge --json.
type purgeRecord struct {
	Outcome  string `json:"outcome"` // purged, kept, would-purge
	Document string `json:"document"`
	Digest   string `json:"digest"`
	Received string `json:"receivedAt"`
	Reason   string `json:"reason,omitempty"`
}

func runArchivePurge(args []string, env Env) error {
	f := newFlags("archive purge", "[--data DIR | --database-url URL] [--archive-url URL] [--dry-run] --confirm [--json]", env)
	sf := addStoreFlags(f)
	archiveURL := f.String("archive-url", os.Getenv("EDOCGW_ARCHIVE_URL"), archiveHelp)
	dryRun := f.Bool("dry-run", false, "list what would be purged and change nothing (the archive's locks are not asked)")
	confirm := f.Bool("confirm", false, "remove the originals for good")
	asJSON := f.Bool("json", false, "print one JSON record per document")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("archive purge: unexpected argument %q", pos[0])
	case !*dryRun && !*confirm:
		return usagef("archive purge removes originals for good: add --confirm (--dry-run lists what it would remove)")
	case *sf.url != "" && *archiveURL == "":
		// The default DATA/blobs would hold none of them: every original
		// would look absent.
		return usagef("archive purge: --database-url needs the --archive-url the gateway uses")
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	keep, err := s.Retention(ctx)
	if err != nil {
		return err
	}
	if keep == 0 {
		return errors.New("retention is permanent: no original is ever purged (edocgw archive retention DAYS sets a period)")
	}
	blobs, where, err := openArchive(ctx, *archiveURL, *sf.data, 0, env.Now)
	if err != nil {
		return err
	}
	purger, ok := blobs.(archive.Purger)
	if !ok {
		return fmt.Errorf("archive %s cannot delete originals", where)
	}
	p := &purge{s: s, purger: purger, env: env, json: *asJSON, dryRun: *dryRun, actor: actor(),
		now: env.now().UTC(), keep: keep}
	p.before = p.now.Add(-keep)
	err = p.run(ctx)
	verb := "purged"
	if p.dryRun {
		verb = "would purge"
	}
	fmt.Fprintf(env.Stderr, "edocgw: %s %d, kept %d (retention %s: received before %s)\n",
		verb, p.purged, p.kept, retentionText(keep), p.before.Format(time.RFC3339))
	if err != nil {
		return err
	}
	if len(p.reused) > 0 {
		for _, m := range p.reused {
			fmt.Fprintf(env.Stderr, "edocgw: %s\n", m)
		}
		return &silentError{ExitInput}
	}
	return nil
}

// purge is one run of archive purge.
type purge struct {
	s            *store.Store
	purger       archive.Purger
	env          Env
	json, dryRun bool
	actor        string
	now, before  time.Time
	keep         time.Duration

	purged, kept int
	reused       []string // digests a document accepted during the purge needs again
}

func (p *purge) run(ctx context.Context) error {
	var after *routing.Document
	for {
		page, err := p.s.PurgeCandidates(ctx, p.before, after, purgePage)
		if err != nil || len(page) == 0 {
			return err
		}
		for i := range page {
			if err := p.one(ctx, &page[i]); err != nil {
				return err
			}
		}
		after = &page[len(page)-1]
	}
}

// one purges the original of d, or says why it is kept.
func (p *purge) one(ctx context.Context, d *routing.Document) error {
	inUse, err := p.s.DigestInUse(ctx, d.Digest, p.before)
	if err != nil {
		return err
	}
	if inUse {
		return p.report(d, "kept", "digest shared with a retained document")
	}
	if p.dryRun {
		return p.report(d, "would-purge", "")
	}
	extra := map[string]any{"retentionDays": int64(p.keep / store.Day)}
	switch err := p.purger.Delete(ctx, d.Digest); {
	case err == nil:
	case errors.Is(err, archive.ErrRetained):
		return p.report(d, "kept", "retained by the archive's object lock: "+err.Error())
	case errors.Is(err, archive.ErrNotFound):
		// Deleted already: by the purge of another document with the same
		// bytes, or by a purge interrupted before it recorded this one.
		extra["alreadyAbsent"] = true
	default:
		return fmt.Errorf("purge %s: %w", d.ID, err)
	}
	e, err := store.PurgedEvent(d, p.actor, extra)
	if err != nil {
		return err
	}
	if err := p.s.MarkPurged(ctx, d.ID, p.now, []*archive.Event{e}); err != nil {
		return fmt.Errorf("purge %s: the original is deleted but the purge is not recorded (run the purge again): %w", d.ID, err)
	}
	// A document accepted between the check and the deletion, with the
	// same bytes, has lost its original.
	again, err := p.s.DigestInUse(ctx, d.Digest, p.before)
	if err != nil {
		return fmt.Errorf("purge %s: checking its digest again: %w", d.ID, err)
	}
	if again {
		p.reused = append(p.reused, fmt.Sprintf("digest %s of %s is needed by a document accepted during the purge: that document's original must be sent again", d.Digest, d.ID))
	}
	return p.report(d, "purged", "")
}

func (p *purge) report(d *routing.Document, outcome, reason string) error {
	switch outcome {
	case "kept":
		p.kept++
	default:
		p.purged++
	}
	if p.json {
		return writeJSONLine(p.env.Stdout, purgeRecord{Outcome: outcome, Document: d.ID, Digest: d.Digest.String(),
			Received: d.ReceivedAt.UTC().Format(time.RFC3339Nano), Reason: reason})
	}
	var err error
	switch outcome {
	case "kept":
		_, err = fmt.Fprintf(p.env.Stdout, "KEPT %s: %s\n", d.ID, reason)
	default:
		_, err = fmt.Fprintf(p.env.Stdout, "%s %s %s\n", strings.ToUpper(strings.ReplaceAll(outcome, "-", " ")), d.ID, d.Digest)
	}
	return err
}
