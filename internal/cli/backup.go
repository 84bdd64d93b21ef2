package cli

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// A backup of the embedded backend is a tar file of the data folder's
// parts, by their paths in it, and last a manifest:
//
//	edocgw.db                  a consistent snapshot of the database (VACUUM INTO)
//	blobs/sha256/ab/cd/abcd…   every original
//	pki/…                      the development PKI and the hub keys
//	manifest.json              every file's size and SHA-256, the audit chain head
const (
	backupFormat   = "edocgw-backup-1"
	manifestName   = "manifest.json"
	dbName         = "edocgw.db"
	blobsPrefix    = "blobs/sha256/"
	pkiPrefix      = "pki/"
	maxManifest    = 1 << 30
	productionNote = "back up PostgreSQL with pg_dump and the S3 bucket by replication (README: Backup and restore)"
)

// manifest describes a backup.
type manifest struct {
	Format    string         `json:"format"`
	CreatedAt time.Time      `json:"createdAt"`
	Source    string         `json:"source"` // the data folder
	Schema    int64          `json:"schemaVersion"`
	Documents int64          `json:"documents"`
	Purged    int64          `json:"purged"`
	Audit     manifestAudit  `json:"audit"`
	Files     []manifestFile `json:"files"`
}

// manifestAudit is the head of the audit chain in the snapshot.
type manifestAudit struct {
	Seq  int64  `json:"seq"`
	Head string `json:"head"`
}

type manifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// farFuture is later than any document: PurgeCandidates before it lists
// every document not purged.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func runBackup(args []string, env Env) error {
	f := newFlags("backup", "--data DIR -o FILE.tar", env)
	sf := addStoreFlags(f)
	out := f.String("o", "", "the backup file to write (must not exist)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("backup: unexpected argument %q", pos[0])
	case *sf.url != "":
		return usagef("backup: covers the embedded backend (--data) only; with --database-url (or $EDOCGW_DATABASE_URL), %s", productionNote)
	case *out == "":
		return usagef("backup: want -o FILE.tar")
	}
	if _, err := os.Stat(filepath.Join(*sf.data, dbName)); err != nil {
		return fmt.Errorf("backup: no embedded database in %s: %w", *sf.data, err)
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("backup: %s exists", *out)
	}
	ctx := context.Background()
	b := &backup{data: *sf.data, out: *out, env: env}
	if err := b.snapshot(ctx, sf); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	if err := b.write(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "BACKUP %s: %d documents (%d purged), %d blobs, %d files, audit chain to event %d %s\n",
		*out, b.m.Documents, b.m.Purged, b.blobs, len(b.m.Files)+1, b.m.Audit.Seq, b.m.Audit.Head)
	return nil
}

// backup is one run of the backup command.
type backup struct {
	data, out string
	env       Env
	tmp       string                  // a folder beside out, removed at the end
	m         manifest                // filled in as files are written
	needed    map[archive.Digest]bool // originals of documents not purged
	blobs     int
}

// snapshot records backup.created in the live store, then copies the
// database to b.tmp and reads from that copy what the manifest says of it.
func (b *backup) snapshot(ctx context.Context, sf storeFlags) error {
	abs, err := filepath.Abs(b.data)
	if err != nil {
		return err
	}
	outAbs, err := filepath.Abs(b.out)
	if err != nil {
		return err
	}
	b.m = manifest{Format: backupFormat, CreatedAt: b.env.now().UTC(), Source: abs}
	live, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer live.Close()
	details, _ := json.Marshal(map[string]string{"output": outAbs})
	if err := live.AppendEvents(ctx, &archive.Event{Kind: store.KindBackupCreated, Actor: actor(), Details: details}); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp(filepath.Dir(b.out), ".edocgw-backup-*"); err != nil {
		return err
	}
	file := filepath.Join(b.tmp, dbName)
	if err := live.Snapshot(ctx, file); err != nil {
		os.RemoveAll(b.tmp)
		return err
	}
	if err := b.readSnapshot(ctx, file); err != nil {
		os.RemoveAll(b.tmp)
		return err
	}
	return nil
}

func (b *backup) readSnapshot(ctx context.Context, file string) error {
	snap, err := store.Open(ctx, file, store.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	defer snap.Close()
	head, last, err := archive.VerifyChain(snap.AuditAll(ctx))
	if err != nil {
		return fmt.Errorf("backup refused: the audit chain does not verify (%w); copy the data folder as it is to keep the evidence", err)
	}
	b.m.Audit = manifestAudit{Seq: last, Head: head.String()}
	if b.m.Schema, err = snap.Version(ctx); err != nil {
		return err
	}
	if b.m.Documents, b.m.Purged, err = snap.DocumentCounts(ctx); err != nil {
		return err
	}
	b.needed, err = unpurgedDigests(ctx, snap)
	if err != nil {
		return err
	}
	return snap.Close()
}

// unpurgedDigests returns the digests of the documents not purged.
func unpurgedDigests(ctx context.Context, s *store.Store) (map[archive.Digest]bool, error) {
	out := map[archive.Digest]bool{}
	var after *routing.Document
	for {
		page, err := s.PurgeCandidates(ctx, farFuture, after, 1000)
		if err != nil || len(page) == 0 {
			return out, err
		}
		for _, d := range page {
			out[d.Digest] = true
		}
		after = &page[len(page)-1]
	}
}

// write streams the tar file to a temporary file beside b.out and renames
// it into place once complete.
func (b *backup) write() (err error) {
	f, err := os.CreateTemp(filepath.Dir(b.out), "."+filepath.Base(b.out)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	snap := filepath.Join(b.tmp, dbName)
	if err := b.add(tw, snap, dbName, 0o600); err != nil {
		return err
	}
	if err := b.addBlobs(tw); err != nil {
		return err
	}
	if err := b.addTree(tw, filepath.Join(b.data, "pki"), pkiPrefix); err != nil {
		return err
	}
	mj, err := json.MarshalIndent(b.m, "", "  ")
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(mj)), ModTime: b.m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(mj); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	name := f.Name()
	f = nil
	if err := os.Rename(name, b.out); err != nil {
		os.Remove(name)
		return err
	}
	return syncDirOf(b.out)
}

// add streams the file src into the tar as name, hashing it, and lists it
// in the manifest.
func (b *backup) add(tw *tar.Writer, src, name string, mode int64) error {
	_, err := b.addHashed(tw, src, name, mode)
	return err
}

// addHashed is add, returning the file's SHA-256.
func (b *backup) addHashed(tw *tar.Writer, src, name string, mode int64) (archive.Digest, error) {
	f, err := os.Open(src)
	if err != nil {
		return archive.Digest{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return archive.Digest{}, err
	}
	if !info.Mode().IsRegular() {
		return archive.Digest{}, fmt.Errorf("backup: %s is not a regular file", src)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: info.Size(), ModTime: info.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return archive.Digest{}, err
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(tw, h), f, info.Size()); err != nil {
		return archive.Digest{}, fmt.Errorf("backup: %s: %w", src, err)
	}
	var d archive.Digest
	h.Sum(d[:0])
	b.m.Files = append(b.m.Files, manifestFile{Path: name, Size: info.Size(), SHA256: d.String()})
	return d, nil
}

// addBlobs adds every original under DATA/blobs/sha256, checking that each
// hashes to its name and that every document not purged has its original.
func (b *backup) addBlobs(tw *tar.Writer) error {
	root := filepath.Join(b.data, "blobs", "sha256")
	seen := map[archive.Digest]bool{}
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && p == root:
			return fs.SkipAll // no blobs yet
		case err != nil:
			return err
		case !e.Type().IsRegular():
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		want, ok := blobName(filepath.ToSlash(rel))
		if !ok {
			return nil // not a blob of fsblob's layout
		}
		got, err := b.addHashed(tw, p, blobsPrefix+filepath.ToSlash(rel), 0o444)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil // purged meanwhile; checked against needed below
		case err != nil:
			return err
		case got != want:
			return fmt.Errorf("backup refused: blob %s is corrupt (its bytes hash to %s)", p, got)
		}
		seen[want] = true
		b.blobs++
		return nil
	})
	if err != nil {
		return err
	}
	for d := range b.needed {
		if !seen[d] {
			return fmt.Errorf("backup refused: the original %s of a document not purged is missing from %s", d, filepath.Dir(root))
		}
	}
	return nil
}

// blobName returns the digest of a path of fsblob's layout, ab/cd/abcd….
func blobName(rel string) (archive.Digest, bool) {
	parts := strings.Split(rel, "/")
	if len(parts) != 3 {
		return archive.Digest{}, false
	}
	d, err := archive.ParseDigest(parts[2])
	if err != nil || parts[2] != d.String() || parts[0] != parts[2][0:2] || parts[1] != parts[2][2:4] {
		return archive.Digest{}, false
	}
	return d, true
}

// addTree adds the regular files under dir as prefix/…; a missing dir adds
// nothing.
func (b *backup) addTree(tw *tar.Writer, dir, prefix string) error {
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && p == dir:
			return fs.SkipAll
		case err != nil:
			return err
		case !e.Type().IsRegular():
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		return b.add(tw, p, prefix+filepath.ToSlash(rel), 0o600)
	})
	return err
}

func syncDirOf(file string) error {
	d, err := os.Open(filepath.Dir(file))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func runRestore(args []string, env Env) error {
	f := newFlags("restore", "--data NEWDIR FILE.tar", env)
	sf := addStoreFlags(f)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usagef("restore: want one FILE.tar")
	case *sf.url != "":
		return usagef("restore: restores the embedded backend (--data) only; with --database-url (or $EDOCGW_DATABASE_URL), restore with pg_restore and the bucket's replica, then run edocgw audit verify (README: Backup and restore)")
	}
	r := &restore{dir: *sf.data, file: pos[0], env: env}
	if err := r.prepare(); err != nil {
		return err
	}
	ctx := context.Background()
	if err := r.run(ctx, sf); err != nil {
		r.undo()
		return err
	}
	fmt.Fprintf(env.Stdout, "RESTORED %d documents, %d blobs, audit chain OK to event %d\n", r.documents, r.blobs, r.m.Audit.Seq)
	return nil
}

// restore is one run of the restore command.
type restore struct {
	dir, file string
	env       Env
	created   string // the topmost folder prepare made, if any
	m         manifest
	got       map[string]manifestFile // extracted files, as hashed
	documents int64
	blobs     int
}

// prepare checks that the target folder is empty, creating it (and its
// missing parents) if needed.
func (r *restore) prepare() error {
	entries, err := os.ReadDir(r.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.created = filepath.Clean(r.dir)
		for {
			up := filepath.Dir(r.created)
			if _, err := os.Lstat(up); err == nil || up == r.created {
				break
			}
			r.created = up
		}
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("restore: %s is not empty: restore into a new folder", r.dir)
	}
	return nil
}

// undo removes what a failed restore wrote, leaving the folder as it was.
func (r *restore) undo() {
	if r.created != "" {
		os.RemoveAll(r.created)
		return
	}
	entries, _ := os.ReadDir(r.dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(r.dir, e.Name()))
	}
}

func (r *restore) run(ctx context.Context, sf storeFlags) error {
	if err := r.extract(); err != nil {
		return err
	}
	if err := r.check(); err != nil {
		return err
	}
	if err := r.rehashBlobs(ctx); err != nil {
		return err
	}
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	head, last, err := archive.VerifyChain(s.AuditAll(ctx))
	if err != nil {
		return fmt.Errorf("restore refused: the restored audit chain does not verify: %w", err)
	}
	if last != r.m.Audit.Seq || head.String() != r.m.Audit.Head {
		return fmt.Errorf("restore refused: the restored audit chain ends at event %d %s, the manifest says %d %s", last, head, r.m.Audit.Seq, r.m.Audit.Head)
	}
	needed, err := unpurgedDigests(ctx, s)
	if err != nil {
		return err
	}
	for d := range needed {
		if _, ok := r.got[blobPath(d)]; !ok {
			return fmt.Errorf("restore refused: the original %s of a document not purged is not in the backup", d)
		}
	}
	if r.documents, _, err = s.DocumentCounts(ctx); err != nil {
		return err
	}
	abs, _ := filepath.Abs(r.file)
	details, _ := json.Marshal(map[string]any{"file": abs, "backupCreatedAt": r.m.CreatedAt, "source": r.m.Source,
		"auditSeq": r.m.Audit.Seq, "auditHead": r.m.Audit.Head})
	return s.AppendEvents(ctx, &archive.Event{Kind: store.KindBackupRestored, Actor: actor(), Details: details})
}

func blobPath(d archive.Digest) string {
	h := d.String()
	return blobsPrefix + h[0:2] + "/" + h[2:4] + "/" + h
}

// extract writes every entry of the tar file under r.dir, hashing it, and
// reads the manifest. Only regular files with clean relative paths of the
// backup's layout are accepted.
func (r *restore) extract() error {
	in, err := os.Open(r.file)
	if err != nil {
		return err
	}
	defer in.Close()
	tr := tar.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.got = map[string]manifestFile{}
	haveManifest := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: %s: %w", r.file, err)
		}
		if err := checkEntry(h); err != nil {
			return fmt.Errorf("restore refused: %w", err)
		}
		if _, dup := r.got[h.Name]; dup || (h.Name == manifestName && haveManifest) {
			return fmt.Errorf("restore refused: entry %q appears twice", h.Name)
		}
		if h.Name == manifestName {
			dec := json.NewDecoder(io.LimitReader(tr, maxManifest))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r.m); err != nil {
				return fmt.Errorf("restore refused: %s: %w", manifestName, err)
			}
			haveManifest = true
			continue
		}
		mf, err := r.writeFile(h, tr)
		if err != nil {
			return err
		}
		r.got[h.Name] = mf
	}
	switch {
	case !haveManifest:
		return fmt.Errorf("restore refused: %s has no %s", r.file, manifestName)
	case r.m.Format != backupFormat:
		return fmt.Errorf("restore refused: backup format %q, want %q", r.m.Format, backupFormat)
	}
	return nil
}

// checkEntry accepts a regular file with a clean, relative path of the
// backup's layout.
func checkEntry(h *tar.Header) error {
	name := h.Name
	switch {
	case h.Typeflag != tar.TypeReg:
		return fmt.Errorf("entry %q is not a regular file (type %q)", name, h.Typeflag)
	case !filepath.IsLocal(name) || path.IsAbs(name) || strings.Contains(name, `\`) || path.Clean(name) != name:
		return fmt.Errorf("entry %q: unsafe path", name)
	case slices.Contains(strings.Split(name, "/"), ".."):
		return fmt.Errorf("entry %q: unsafe path", name)
	case h.Size < 0:
		return fmt.Errorf("entry %q: negative size", name)
	}
	switch {
	case name == dbName, name == manifestName:
	case strings.HasPrefix(name, blobsPrefix):
		if _, ok := blobName(strings.TrimPrefix(name, blobsPrefix)); !ok {
			return fmt.Errorf("entry %q is not a blob path", name)
		}
	case strings.HasPrefix(name, pkiPrefix) && len(name) > len(pkiPrefix):
	default:
		return fmt.Errorf("entry %q is not part of a backup", name)
	}
	return nil
}

// writeFile writes an entry to its new file (which must not exist),
// hashing it, and fsyncs it.
func (r *restore) writeFile(h *tar.Header, src io.Reader) (mf manifestFile, err error) {
	dst := filepath.Join(r.dir, filepath.FromSlash(h.Name))
	dirMode := os.FileMode(0o700)
	if strings.HasPrefix(h.Name, blobsPrefix) {
		dirMode = 0o750 // as fsblob makes them
	}
	if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
		return mf, err
	}
	mode := os.FileMode(0o600)
	if strings.HasPrefix(h.Name, blobsPrefix) {
		mode = 0o444
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return mf, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, hash), src)
	if err != nil {
		return mf, fmt.Errorf("restore: %s: %w", h.Name, err)
	}
	if err := f.Sync(); err != nil {
		return mf, err
	}
	if err := f.Chmod(mode); err != nil {
		return mf, err
	}
	return manifestFile{Path: h.Name, Size: n, SHA256: hex.EncodeToString(hash.Sum(nil))}, nil
}

// check compares the extracted files with the manifest, naming the first
// file that differs.
func (r *restore) check() error {
	listed := map[string]bool{}
	for _, want := range r.m.Files {
		listed[want.Path] = true
		got, ok := r.got[want.Path]
		switch {
		case !ok:
			return fmt.Errorf("restore refused: %s is in the manifest but not in the backup", want.Path)
		case got.SHA256 != want.SHA256 || got.Size != want.Size:
			return fmt.Errorf("restore refused: %s: SHA-256 %s (%d bytes), the manifest says %s (%d bytes): the backup is damaged",
				want.Path, got.SHA256, got.Size, want.SHA256, want.Size)
		}
	}
	for p := range r.got {
		if !listed[p] {
			return fmt.Errorf("restore refused: %s is in the backup but not in the manifest", p)
		}
	}
	if !listed[dbName] {
		return fmt.Errorf("restore refused: the backup has no %s", dbName)
	}
	return nil
}

// rehashBlobs reads every restored original back through the blob store,
// which verifies its digest.
func (r *restore) rehashBlobs(ctx context.Context) error {
	bs, err := fsblob.New(filepath.Join(r.dir, "blobs"), fsblob.Options{})
	if err != nil {
		return err
	}
	for p := range r.got {
		if !strings.HasPrefix(p, blobsPrefix) {
			continue
		}
		d, _ := blobName(strings.TrimPrefix(p, blobsPrefix))
		b, err := bs.Open(ctx, d)
		if err != nil {
			return fmt.Errorf("restore refused: %s: %w", p, err)
		}
		_, err = io.Copy(io.Discard, b)
		b.Close()
		if err != nil {
			return fmt.Errorf("restore refused: %s: %w", p, err)
		}
		r.blobs++
	}
	return nil
}
