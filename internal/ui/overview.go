package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/edocgw/edocgw/internal/store"
)

// overviewDays is how many days the overview's chart shows.
const overviewDays = 14

// bar is one day of the chart, in the SVG's coordinates.
type bar struct {
	X, Y, W, H int
	TextX      int // the middle of the bar
	Label      string
	Count      int64
}

// chart is a bar chart drawn on the server as inline SVG.
type chart struct {
	W, H, Base int // the view box, and the y of the axis
	Bars       []bar
	Max        int64
}

// The chart's geometry (SVG user units; the picture scales to the page).
const (
	chartW, chartH = 700, 240
	chartTop       = 24 // room for the counts above the bars
	chartBottom    = 28 // room for the day labels
)

// newChart draws counts per day.
func newChart(days []store.DayCount) chart {
	c := chart{W: chartW, H: chartH, Base: chartH - chartBottom}
	for _, d := range days {
		c.Max = max(c.Max, d.Documents)
	}
	if len(days) == 0 {
		return c
	}
	slot := chartW / len(days)
	for i, d := range days {
		h := 0
		if c.Max > 0 {
			h = int(d.Documents * int64(c.Base-chartTop) / c.Max)
		}
		if d.Documents > 0 && h < 2 {
			h = 2 // a day with documents is never invisible
		}
		b := bar{X: i*slot + slot/6, W: slot * 2 / 3, H: h, Y: c.Base - h, Count: d.Documents,
			Label: d.Day.In(vietnam).Format("02/01")}
		b.TextX = b.X + b.W/2
		c.Bars = append(c.Bars, b)
	}
	return c
}

type overviewData struct {
	Chart          chart
	Total          int64
	Overview       *store.Overview
	OldestWaiting  string // how long the oldest has waited, in hours and minutes
	Admin, Auditor bool
	Notice         string
	Problems       map[string]string
	Forms          map[string]*form
}

// overview is the operators' page: documents per day, deliveries
// waiting, dead letters (an admin resends or cancels them here) and the
// oldest undelivered document.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, _ := langOf(r)
	notice := ""
	if done := r.URL.Query().Get("done"); done == "resent" || done == "cancelled" {
		notice = l.T("done " + done)
	}
	c.showOverview(w, r, sess, http.StatusOK, notice, nil, nil)
}

func (c *Console) showOverview(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, notice string,
	problems map[string]string, forms map[string]*form) {
	now := c.cfg.Now().In(vietnam)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, vietnam)
	o, err := c.cfg.Store.Overview(r.Context(), store.OverviewQuery{Since: today.AddDate(0, 0, 1-overviewDays), Days: overviewDays, DeadLetters: pageSize})
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	data := overviewData{Chart: newChart(o.Days), Overview: o, Admin: sess.User.Role == store.UserAdmin,
		Auditor: sess.User.Role == store.UserAuditor, Notice: notice, Problems: problems, Forms: forms}
	for _, d := range o.Days {
		data.Total += d.Documents
	}
	if o.Oldest != nil {
		data.OldestWaiting = waited(now.Sub(o.Oldest.Delivery.CreatedAt))
	}
	c.render(w, r, status, "overview", sess, "overview", data)
}

// waited formats a wait as "2 d 3 h", "3 h 5 min" or "4 min".
func waited(d time.Duration) string {
	d = max(d, 0)
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return strconv.Itoa(days) + " d " + strconv.Itoa(hours) + " h"
	case hours > 0:
		return strconv.Itoa(hours) + " h " + strconv.Itoa(mins) + " min"
	}
	return strconv.Itoa(mins) + " min"
}
