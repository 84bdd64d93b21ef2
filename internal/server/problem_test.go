package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/routing"
)

func TestProblemFor(t *testing.T) {
	missing := &envelope.Error{Path: "/edXML/edXMLEnvelope", Err: envelope.ErrMissing, Msg: "edXMLHeader missing"}
	badCode := &envelope.Error{Path: "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From/OrganId", Err: envelope.ErrAgencyCode, Msg: "bad code"}
	const hidden = "internal error; the server log has the details"
	tests := []struct {
		name   string
		err    error
		status int
		typ    string
		detail string         // "" : the error's text
		ext    map[string]any // the extensions, as JSON decodes them
		header http.Header
	}{
		{"unauthenticated", fmt.Errorf("%w: no token", routing.ErrUnauthenticated), 401, "unauthenticated", "", nil,
			http.Header{"Www-Authenticate": {`Bearer realm="edocgw"`}}},
		{"forbidden", fmt.Errorf("%w: From is not you", routing.ErrForbidden), 403, "forbidden", "", nil, nil},
		{"not found", fmt.Errorf("document x: %w", routing.ErrNotFound), 404, "not-found", "", nil, nil},
		{"duplicate", fmt.Errorf("accept: %w", &routing.DuplicateError{FirstID: "01J", Key: "number-notation"}), 409, "duplicate", "",
			map[string]any{"firstId": "01J", "key": "number-notation"}, nil},
		{"conflict", fmt.Errorf("ack: %w", routing.ErrStateConflict), 409, "conflict", "", nil, nil},
		{"too large", fmt.Errorf("%w: 2 GiB", routing.ErrTooLarge), 413, "too-large", "", nil, nil},
		{"body limit", fmt.Errorf("spool: %w", &http.MaxBytesError{Limit: 10}), 413, "too-large", "the limit is 10 bytes", nil, nil},
		{"invalid packet, problems", fmt.Errorf("%w: %w", routing.ErrInvalidPacket, envelope.Problems{missing, badCode}), 422, "invalid-envelope", "",
			map[string]any{"errors": []any{decoded(t, missing), decoded(t, badCode)}}, nil},
		{"invalid packet, one error", fmt.Errorf("%w: %w", routing.ErrInvalidPacket, missing), 422, "invalid-envelope", "",
			map[string]any{"errors": []any{decoded(t, missing)}}, nil},
		{"invalid packet, no detail", routing.ErrInvalidPacket, 422, "invalid-envelope", "", map[string]any{"errors": []any{}}, nil},
		{"signature", fmt.Errorf("%w: signer not bound", routing.ErrSignature), 422, "signature-invalid", "", nil, nil},
		{"signature required", routing.ErrSignatureRequired, 422, "signature-required", "", nil, nil},
		{"no route", fmt.Errorf("%w: 000.00.00.H99", routing.ErrNoRoute), 422, "no-route", "", nil, nil},
		{"gone", fmt.Errorf("%w: purged", routing.ErrGone), 410, "gone", "", nil, nil},
		{"bad request", fmt.Errorf("%w: cursor", routing.ErrBadRequest), 400, "bad-request", "", nil, nil},
		{"unavailable", fmt.Errorf("%w: archive: %w", routing.ErrUnavailable, errors.New("s3 at 10.1.1.1 down")), 503, "unavailable",
			"a dependency of the hub is unavailable; retry later", nil, http.Header{"Retry-After": {"5"}}},
		{"unavailable wins", fmt.Errorf("%w: %w", routing.ErrUnavailable, routing.ErrNotFound), 503, "unavailable",
			"a dependency of the hub is unavailable; retry later", nil, http.Header{"Retry-After": {"5"}}},
		{"detail error", detailf(routing.ErrBadRequest, "limit must be 1–500"), 400, "bad-request", "limit must be 1–500", nil, nil},
		{"method", detailf(errMethodNotAllowed, "PUT"), 405, "method-not-allowed", "", nil, nil},
		{"agency code", detailf(errInvalidAgencyCode, "x"), 400, "invalid-agency-code", "", nil, nil},
		{"agency", detailf(errAgencyNotFound, "x"), 404, "agency-not-found", "", nil, nil},
		{"other", errors.New("pq: password authentication failed"), 500, "internal", hidden, nil, nil},
		{"cancelled", fmt.Errorf("read: %w", context.Canceled), 500, "internal", hidden, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problemFor(tt.err)
			var got map[string]any
			if err := json.Unmarshal(jsonOf(t, p), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"type": ProblemTypeBase + tt.typ, "title": p.kind.title, "status": float64(tt.status), "detail": tt.detail}
			if tt.detail == "" {
				want["detail"] = tt.err.Error()
			}
			for k, v := range tt.ext {
				want[k] = v
			}
			if p.kind.title == "" || !reflect.DeepEqual(got, want) {
				t.Errorf("problem\n%v\nwant\n%v", got, want)
			}
			if tt.header == nil {
				tt.header = http.Header{}
			}
			if !reflect.DeepEqual(p.header, tt.header) {
				t.Errorf("header %v, want %v", p.header, tt.header)
			}
		})
	}
}

// decoded returns v as JSON decodes it into an any.
func decoded(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal(jsonOf(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
