package vxp

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/edocgw/edocgw/agencyids"
)

// The directory endpoints (§5 rows 9–13) answer from the hub's agency
// directory. Registering and deleting agencies is the operator's (edocgw
// vxp system, edocgw agency): registerAgency's body is not signed (§3.1).

// agencyItem is an item of getAgenciesList (§5 row 9).
type agencyItem struct {
	Code    string `json:"code"`
	ID      string `json:"id"`
	Mail    string `json:"mail"`
	Name    string `json:"name"`
	PID     string `json:"pid"`
	OldCode string `json:"oldCode"`
}

// qd20Item is an item of getAgenciesListQD20 (§5 row 10).
type qd20Item struct {
	Code    string `json:"code"`
	ID      string `json:"id"`
	Mail    string `json:"mail"`
	Name    string `json:"name"`
	Code102 string `json:"code102"`
}

// unitItem is an item of getSynchronizeUnit (§5 row 11).
type unitItem struct {
	Code       string `json:"code"`
	ID         string `json:"id"`
	Mail       string `json:"mail"`
	Name       string `json:"name"`
	PID        string `json:"pid"`
	Version    int    `json:"version"`
	CenterCode string `json:"centerCode"`
	Deleted    bool   `json:"deleted"`
	ModifyDate string `json:"modifyDate"`
	IsAgency   bool   `json:"isAgency"`
}

// getAgenciesList lists the agencies active now; oldCode is a retired
// code they succeeded.
func (h *Handler) getAgenciesList(c *call) error {
	all := h.cfg.Hub.Directory().All()
	now := h.cfg.Now()
	old := map[agencyids.Code]agencyids.Code{}
	for _, a := range all {
		if a.Successor != "" && a.Retired() {
			if _, ok := old[a.Successor]; !ok {
				old[a.Successor] = a.Code
			}
		}
	}
	lw := &listWriter{w: c.w}
	for _, a := range all {
		if !a.ActiveAt(now) {
			continue
		}
		if err := lw.add(agencyItem{Code: string(a.Code), ID: string(a.Code), Name: a.Name, PID: string(a.Parent), OldCode: string(old[a.Code])}); err != nil {
			return err
		}
	}
	return lw.end()
}

// getAgenciesListQD20 lists the active agencies that have a QĐ 20/2020
// code, of one level if level is given.
func (h *Handler) getAgenciesListQD20(c *call) error {
	level := 0
	if v := strings.TrimSpace(c.p.Get("level")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > agencyids.MaxLevels {
			return failf(CodeBadParam, nil, "level %q: want 1-%d", clip(v), agencyids.MaxLevels)
		}
		level = n
	}
	now := h.cfg.Now()
	lw := &listWriter{w: c.w}
	for _, a := range h.cfg.Hub.Directory().All() {
		qd20, code102 := forms(a)
		if qd20 == "" || !a.ActiveAt(now) || (level > 0 && qd20.Level() != level) {
			continue
		}
		if err := lw.add(qd20Item{Code: string(qd20), ID: string(a.Code), Name: a.Name, Code102: string(code102)}); err != nil {
			return err
		}
	}
	return lw.end()
}

// forms returns an agency's codes in the QĐ 20 and QCVN 102 forms ("" for
// a form it lacks).
func forms(a agencyids.Agency) (qd20, code102 agencyids.Code) {
	for _, c := range []agencyids.Code{a.Code, a.AltCode} {
		switch c.Form() {
		case agencyids.FormQD20:
			qd20 = c
		case agencyids.FormQCVN102:
			code102 = c
		}
	}
	return qd20, code102
}

// getSynchronizeUnit lists every agency, retired ones as deleted.
func (h *Handler) getSynchronizeUnit(c *call) error {
	now := h.cfg.Now()
	lw := &listWriter{w: c.w}
	for _, a := range h.cfg.Hub.Directory().All() {
		it := unitItem{Code: string(a.Code), ID: string(a.Code), Name: a.Name, PID: string(a.Parent), Version: 1,
			CenterCode: string(a.Code.Root()), Deleted: !a.ActiveAt(now), IsAgency: true}
		if a.Retired() {
			it.ModifyDate = h.date(a.ValidTo)
		}
		if err := lw.add(it); err != nil {
			return err
		}
	}
	return lw.end()
}

// registerAgency confirms an agency already registered to the system
// (a DMS may register its units at start-up); any other is refused: the
// body is not signed, and the operator registers agencies.
func (h *Handler) registerAgency(c *call) error {
	var req struct {
		Code  string `json:"code"`
		PCode string `json:"pcode"`
	}
	b, err := io.ReadAll(io.LimitReader(c.r.Body, maxSmallBody))
	if err != nil {
		return fmt.Errorf("vxp: read body: %w", err)
	}
	if err := json.Unmarshal(b, &req); err != nil || strings.TrimSpace(req.Code) == "" {
		return failf(CodeBadParam, err, "the body is not a JSON object with a code")
	}
	code := agencyids.Code(strings.TrimSpace(req.Code))
	if _, ok := c.sys.Has(code, h.cfg.Hub.Directory()); ok {
		writeReply(c.w, okHead(), shapePlain, "", 0)
		return nil
	}
	return h.agencyAdmin(c, "registerAgency", code)
}

// deleteAgency is refused: the operator removes agencies.
func (h *Handler) deleteAgency(c *call) error {
	return h.agencyAdmin(c, "deleteAgency", agencyids.Code(c.p.Get("AgencyCode")))
}

func (h *Handler) agencyAdmin(c *call, method string, code agencyids.Code) error {
	h.cfg.Hub.Refused(c.ctx, c.actor(), c.what, fmt.Sprintf("%s %q by system %s: agencies are registered by the operator", method, clip(string(code)), c.sys.ID))
	return failf(CodeAgencyAdmin, nil, "edocgw vxp system update %s --agency %s", c.sys.ID, clip(string(code)))
}
