package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/routing"
)

// runVXP runs the tests of the SDK protocol's systems.
func runVXP(t *testing.T, open Open) {
	t.Run("VXPSystems", func(t *testing.T) { testVXPSystems(t, open) })
	t.Run("VXPRefused", func(t *testing.T) { testVXPRefused(t, open) })
}

// vxpStore is a store with pull members G22, H41 and H53 and push member
// G17.
func vxpStore(t *testing.T, open Open) *store.Store {
	t.Helper()
	ctx := context.Background()
	s := open(t, store.Options{})
	for _, c := range []agencyids.Code{g22, h41, h53} {
		if err := s.PutMember(ctx, routing.Member{Code: c, Mode: routing.ModePull}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutMember(ctx, routing.Member{Code: "000.00.00.G17", Mode: routing.ModePush, PushURL: "https://dms.g17.example/"}, "test"); err != nil {
		t.Fatal(err)
	}
	return s
}

// lastEvent returns the newest audit event.
func lastEvent(t *testing.T, s *store.Store) (kind, actor string, agency agencyids.Code, details map[string]any) {
	t.Helper()
	n := count(t, s, "audit_events")
	es, err := s.AuditEvents(context.Background(), n-1, 1)
	if err != nil || len(es) != 1 {
		t.Fatalf("AuditEvents: %v, %d", err, len(es))
	}
	if err := json.Unmarshal(es[0].Details, &details); err != nil {
		t.Fatal(err)
	}
	return es[0].Kind, es[0].Actor, es[0].Agency, details
}

func testVXPSystems(t *testing.T, open Open) {
	ctx := context.Background()
	s := vxpStore(t, open)
	sealed := []byte{1, 2, 3, 0, 0xff}
	if err := s.AddVXPSystem(ctx, vxp.System{ID: "vxp.saas.02", Agencies: []agencyids.Code{h53, g22, h53}, Secret: sealed, KeyID: "k1"}, "cli:admin"); err != nil {
		t.Fatal(err)
	}
	kind, actor, _, det := lastEvent(t, s)
	if kind != store.KindVXPSystemAdded || actor != "cli:admin" || det["system"] != "vxp.saas.02" || det["keyId"] != "k1" ||
		len(det["agencies"].([]any)) != 2 {
		t.Errorf("add event = %s %s %v", kind, actor, det)
	}
	for k := range det {
		if k == "secret" {
			t.Errorf("the secret is in the audit log: %v", det)
		}
	}
	got, err := s.VXPSystem(ctx, "vxp.saas.02")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Secret, sealed) || got.KeyID != "k1" || !slices.Equal(got.Agencies, []agencyids.Code{g22, h53}) ||
		got.CreatedAt.IsZero() || !got.RotatedAt.Equal(got.CreatedAt) {
		t.Errorf("VXPSystem = %+v", got)
	}

	// Agencies are replaced; an agency freed by one system may join another.
	if err := s.SetVXPAgencies(ctx, "vxp.saas.02", []agencyids.Code{h53}, "cli:admin"); err != nil {
		t.Fatal(err)
	}
	if kind, _, agency, det := lastEvent(t, s); kind != store.KindVXPSystemUpdated || agency != h53 || len(det["previous"].([]any)) != 2 {
		t.Errorf("update event = %s %s %v", kind, agency, det)
	}
	if err := s.AddVXPSystem(ctx, vxp.System{ID: "00.53.W00", Agencies: []agencyids.Code{g22}, Secret: []byte{9}, KeyID: "k1"}, "cli:admin"); err != nil {
		t.Fatal(err)
	}

	if err := s.RotateVXPSecret(ctx, "vxp.saas.02", []byte{7, 7}, "k2", "cli:admin"); err != nil {
		t.Fatal(err)
	}
	if kind, _, _, det := lastEvent(t, s); kind != store.KindVXPSecretRotated || det["keyId"] != "k2" {
		t.Errorf("rotate event = %s %v", kind, det)
	}
	got, err = s.VXPSystem(ctx, "vxp.saas.02")
	if err != nil || !bytes.Equal(got.Secret, []byte{7, 7}) || got.KeyID != "k2" {
		t.Errorf("after rotate = %+v, %v", got, err)
	}

	all, err := s.VXPSystems(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "00.53.W00" || all[1].ID != "vxp.saas.02" || !slices.Equal(all[0].Agencies, []agencyids.Code{g22}) {
		t.Fatalf("VXPSystems = %+v, %v", all, err)
	}

	if err := s.RemoveVXPSystem(ctx, "vxp.saas.02", "cli:admin"); err != nil {
		t.Fatal(err)
	}
	if kind, _, _, det := lastEvent(t, s); kind != store.KindVXPSystemRemoved || det["system"] != "vxp.saas.02" {
		t.Errorf("remove event = %s %v", kind, det)
	}
	if _, err := s.VXPSystem(ctx, "vxp.saas.02"); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("removed system: %v", err)
	}
	// Its agency is free again, and still a member.
	if err := s.AddVXPSystem(ctx, vxp.System{ID: "vxp.saas.03", Agencies: []agencyids.Code{h53}, Secret: []byte{1}, KeyID: "k2"}, "cli:admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Member(ctx, h53); err != nil {
		t.Error(err)
	}
	verifyChain(t, s)
}

func testVXPRefused(t *testing.T, open Open) {
	ctx := context.Background()
	s := vxpStore(t, open)
	if err := s.AddVXPSystem(ctx, vxp.System{ID: "vxp.saas.02", Agencies: []agencyids.Code{g22}, Secret: []byte{1}, KeyID: "k"}, "cli:admin"); err != nil {
		t.Fatal(err)
	}
	sys := func(id string, agencies ...agencyids.Code) vxp.System {
		return vxp.System{ID: id, Agencies: agencies, Secret: []byte{1}, KeyID: "k"}
	}
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"exists", func() error { return s.AddVXPSystem(ctx, sys("vxp.saas.02", h41), "x") }, store.ErrBadArgument},
		{"bad id", func() error { return s.AddVXPSystem(ctx, sys("vxp saas", h41), "x") }, store.ErrBadArgument},
		{"no agency", func() error { return s.AddVXPSystem(ctx, sys("vxp.saas.04"), "x") }, store.ErrBadArgument},
		{"invalid code", func() error { return s.AddVXPSystem(ctx, sys("vxp.saas.04", "G22"), "x") }, store.ErrBadArgument},
		{"no secret", func() error {
			return s.AddVXPSystem(ctx, vxp.System{ID: "vxp.saas.04", Agencies: []agencyids.Code{h41}}, "x")
		}, store.ErrBadArgument},
		{"not a member", func() error { return s.AddVXPSystem(ctx, sys("vxp.saas.04", "000.00.00.H14"), "x") }, store.ErrBadArgument},
		{"push member", func() error { return s.AddVXPSystem(ctx, sys("vxp.saas.04", "000.00.00.G17"), "x") }, store.ErrBadArgument},
		{"of another system", func() error { return s.AddVXPSystem(ctx, sys("vxp.saas.04", h41, g22), "x") }, store.ErrBadArgument},
		{"update unknown", func() error { return s.SetVXPAgencies(ctx, "vxp.saas.09", []agencyids.Code{h41}, "x") }, routing.ErrNotFound},
		{"update to another's", func() error {
			if err := s.AddVXPSystem(ctx, sys("vxp.saas.05", h53), "x"); err != nil {
				return err
			}
			return s.SetVXPAgencies(ctx, "vxp.saas.05", []agencyids.Code{g22}, "x")
		}, store.ErrBadArgument},
		{"rotate unknown", func() error { return s.RotateVXPSecret(ctx, "vxp.saas.09", []byte{1}, "k", "x") }, routing.ErrNotFound},
		{"rotate empty", func() error { return s.RotateVXPSecret(ctx, "vxp.saas.02", nil, "k", "x") }, store.ErrBadArgument},
		{"remove unknown", func() error { return s.RemoveVXPSystem(ctx, "vxp.saas.09", "x") }, routing.ErrNotFound},
	}
	for _, tt := range tests {
		before := count(t, s, "audit_events")
		if err := tt.do(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		after := count(t, s, "audit_events")
		if tt.name == "update to another's" {
			after-- // the setup's own add
		}
		if after != before {
			t.Errorf("%s: a refused change appended %d events", tt.name, after-before)
		}
	}
	// Nothing of the refused ones was kept.
	all, err := s.VXPSystems(ctx)
	if err != nil || len(all) != 2 || !slices.Equal(all[0].Agencies, []agencyids.Code{g22}) || !slices.Equal(all[1].Agencies, []agencyids.Code{h53}) {
		t.Errorf("VXPSystems = %+v, %v", all, err)
	}
	verifyChain(t, s)
}
