package server

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/routing"
)

// acceptDocument streams the body (an edXML packet, whatever its content
// type) to the hub: 202 with the receipt once it is archived and routed.
func (s *Server) acceptDocument(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > s.cfg.MaxBody {
		return detailf(routing.ErrTooLarge, "%d bytes; the limit is %d bytes", r.ContentLength, s.cfg.MaxBody)
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	rc, err := s.cfg.Hub.Accept(r.Context(), principal(r), body, r.ContentLength)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/documents/"+url.PathEscape(rc.ID))
	writeJSON(w, http.StatusAccepted, rc)
	return nil
}

// openDocument sends a document's original bytes.
func (s *Server) openDocument(w http.ResponseWriter, r *http.Request) error {
	doc, blob, err := s.cfg.Hub.OpenDocument(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	defer blob.Close()
	w.Header().Set("Edocgw-Document-Id", doc.ID)
	s.stream(w, r, blob, &doc.Digest)
	return nil
}

func (s *Server) trace(w http.ResponseWriter, r *http.Request) error {
	t, err := s.cfg.Hub.Trace(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// reprDigest is the Repr-Digest field (RFC 9530) of an original.
func reprDigest(d archive.Digest) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(d[:]) + ":"
}

// blobDigest is the digest blob knows (see digester), or nil.
func blobDigest(blob archive.Blob) *archive.Digest {
	dg, ok := blob.(digester)
	if !ok {
		return nil
	}
	d := dg.Digest()
	return &d
}

// originalHeader sets the fields that describe an original: its type, its
// length and, when d is known, Repr-Digest.
func originalHeader(h http.Header, blob archive.Blob, d *archive.Digest) {
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.FormatInt(blob.Size(), 10))
	if d != nil {
		h.Set("Repr-Digest", reprDigest(*d))
	}
}

// copyOriginal copies blob to w whole; a short blob is io.ErrUnexpectedEOF.
func copyOriginal(w io.Writer, blob archive.Blob) (int64, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	// Only Read verifies the digest: hide any WriteTo.
	n, err := io.CopyBuffer(w, struct{ io.Reader }{blob}, *buf)
	if err == nil && n != blob.Size() {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// copyBufs holds copyOriginal's buffers: io.Copy made one of 32 KiB for
// every original sent (a multipart part has no ReadFrom).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// stream sends an original as 200 application/xml, with Repr-Digest (RFC
// 9530) when the digest is known. A failure once the answer has begun (the
// archive found the blob corrupt, a short blob) aborts the connection: the
// client sees a broken transfer, never a truncated 200.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, blob archive.Blob, d *archive.Digest) {
	originalHeader(w.Header(), blob, d)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	n, err := copyOriginal(w, blob)
	if err != nil {
		if r.Context().Err() == nil {
			s.log.Error("server: original not sent in full", "path", r.URL.Path, "sent", n, "size", blob.Size(), "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}
