// Package agencygen generates a synthetic but realistic national agency
// directory for tests, benchmarks and demos.
package agencygen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

// ict is Vietnam time; dates are midnight there.
var ict = time.FixedZone("ICT", 7*60*60)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, ict) }

var (
	merger2020 = date(2020, 1, 1) // commune mergers (NQ of the NA Standing Committee, 2019)
	merger2025 = date(2025, 3, 1) // department mergers
	latest     = date(2019, 6, 30)
)

// node is one generated agency.
type node struct {
	a      agencyids.Agency
	parent int // index in gen.nodes, -1 for level 1
	succ   int // successor index, -1 if none
	level  int
	// school: index of the district whose education office this is (-1 if
	// it is not one); extra schools are added under it.
	school int
}

type district struct {
	name     string   // "huyện Bến Cầu"
	communes []string // "xã An Thạnh"
	bare     []string // "An Thạnh"
}

type gen struct {
	r         *rand.Rand
	nodes     []node
	districts [63][]district
	schools   []int // education offices, for extra schools
}

// MaxAgencies is the largest n that Generate honours; larger requests are
// capped.
const MaxAgencies = 400_000

// Generate returns n agencies (at most MaxAgencies) forming a hierarchical
// national directory: People's Committees H01–H63 and Councils K01–K63,
// provincial Party committees A01–A63, 25 G ministries and the B, C, D, E,
// F, I and J bodies, with departments, districts, communes, schools and
// ministry networks below them in QCVN 102 codes, QĐ 20 alternative codes
// for levels 1 and 2, endpoints and certificate fingerprints for the units
// that exchange documents, and several hundred retired codes with successors
// (commune mergers of 2020, some merged again in 2025, and the department
// mergers of 2025). Parents precede children in the result. For n smaller
// than the national tree a subset closed under parents and successors is
// chosen; for larger n more schools are added. The result depends only on n
// and seed.
func Generate(n int, seed int64) []agencyids.Agency {
	n = min(max(n, 0), MaxAgencies)
	g := &gen{r: newRand(seed)}
	g.geography()
	g.build()
	g.retire()
	var keep []bool
	if n <= len(g.nodes) {
		keep = g.choose(n)
	} else {
		g.extraSchools(n - len(g.nodes))
	}
	out := make([]agencyids.Agency, 0, n)
	for i := range g.nodes {
		if keep == nil || keep[i] {
			out = append(out, g.nodes[i].a)
		}
	}
	return out
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9E3779B97F4A7C15))
}

func (g *gen) intn(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) placeName(used map[string]bool) string {
	for {
		s := syllables[g.r.IntN(len(syllables))] + " " + syllables[g.r.IntN(len(syllables))]
		a, b, _ := strings.Cut(s, " ")
		if a != b && !used[s] {
			used[s] = true
			return s
		}
	}
}

// geography invents districts and communes for every province.
func (g *gen) geography() {
	g.nodes = make([]node, 0, 120_000)
	for p, pr := range provinces {
		nd := g.intn(7, 15)
		if pr.city {
			nd = g.intn(12, 24)
		}
		used := map[string]bool{}
		for d := range nd {
			kind := "huyện"
			switch {
			case pr.city && d < nd*2/3:
				kind = "quận"
			case d == 0:
				kind = "thành phố"
			case d == 1 && g.r.IntN(2) == 0:
				kind = "thị xã"
			}
			dist := district{name: kind + " " + g.placeName(used)}
			nc := g.intn(9, 21)
			cused := map[string]bool{}
			for c := range nc {
				ck := "xã"
				switch {
				case kind == "quận" || (kind != "huyện" && c < nc*2/3):
					ck = "phường"
				case c == 0:
					ck = "thị trấn"
				}
				bare := g.placeName(cused)
				dist.communes = append(dist.communes, ck+" "+bare)
				dist.bare = append(dist.bare, bare)
			}
			g.districts[p] = append(g.districts[p], dist)
		}
	}
}

func code(l4, l3, l2 int, l1 string) agencyids.Code {
	return agencyids.MustParse(fmt.Sprintf("%03d.%02d.%02d.%s", l4, l3, l2, l1))
}

// add appends a node; its ValidFrom is a little after its parent's.
func (g *gen) add(parent int, c agencyids.Code, name string) int {
	from := date(2016, 4, 1).AddDate(0, 0, g.r.IntN(400))
	level := 1
	if parent >= 0 {
		p := &g.nodes[parent]
		from = p.a.ValidFrom.AddDate(0, 0, g.r.IntN(200))
		level = p.level + 1
		if from.After(latest) {
			from = latest
		}
	}
	a := agencyids.Agency{Code: c, Name: name, ValidFrom: from}
	if parent >= 0 {
		a.Parent = g.nodes[parent].a.Code
	}
	if level <= 2 {
		// QĐ 20 alternative code: level-1 group first, then level 2.
		alt := c.Level1()
		if level == 2 {
			alt += "." + c.Group(2)
		}
		a.AltCode = agencyids.MustParse(alt)
	}
	g.nodes = append(g.nodes, node{a: a, parent: parent, succ: -1, level: level, school: -1})
	return len(g.nodes) - 1
}

// connect gives a node a delivery endpoint and one or two certificates.
func (g *gen) connect(i int, host string) {
	a := &g.nodes[i].a
	a.Endpoint = "https://" + host + "/edxml/v1"
	if a.Code.Level() > 1 {
		a.Endpoint += "/" + strings.ReplaceAll(string(a.Code), ".", "-")
	}
	for k := range 1 + g.r.IntN(2) {
		a.CertFingerprints = append(a.CertFingerprints,
			agencyids.FingerprintOf(fmt.Appendf(nil, "synthetic certificate %d of %s", k, a.Code)))
	}
}

// slug turns "Bà Rịa - Vũng Tàu" into "bariavungtau".
func slug(s string) string {
	return strings.ReplaceAll(agencyids.FoldName(s), " ", "")
}

func (g *gen) build() {
	for p, pr := range provinces {
		g.province(p, pr)
	}
	for _, m := range ministries {
		g.ministry(m.num, m.name)
	}
	for _, b := range otherBodies {
		g.body(b.code, b.name, b.units, b.branches, b.local)
	}
}

func (g *gen) province(p int, pr province) {
	l1 := fmt.Sprintf("H%02d", p+1)
	kind := "tỉnh"
	if pr.city {
		kind = "thành phố"
	}
	where := kind + " " + pr.name // "tỉnh Tây Ninh"
	host := "edoc." + slug(pr.name) + ".gov.vn"

	root := g.add(-1, code(0, 0, 0, l1), "Ủy ban nhân dân "+where)
	g.connect(root, host)
	office := g.add(root, code(0, 0, 1, l1), "Văn phòng Ủy ban nhân dân "+where)
	g.connect(office, host)
	for i, u := range officeUnits {
		g.add(office, code(0, i+1, 1, l1), u+" "+where)
	}
	dists := g.districts[p]
	var health int
	for di, dept := range provinceDepts {
		d := g.add(root, code(0, 0, di+2, l1), dept.name+" "+where)
		g.connect(d, host)
		if di == deptNNMT {
			g.nodes[d].a.ValidFrom = merger2025
			continue
		}
		k := 1
		for _, u := range deptGeneric {
			g.add(d, code(0, k, di+2, l1), u+" "+dept.name+" "+where)
			k++
		}
		for _, u := range dept.subs {
			g.add(d, code(0, k, di+2, l1), u+" "+where)
			k++
		}
		switch di {
		case deptYTe:
			health, k = d, 20
		case deptGDDT:
			g.add(d, code(0, k, di+2, l1), "Trường THPT Chuyên "+pr.name)
			k = 20
			for _, dist := range dists {
				g.add(d, code(0, k, di+2, l1), "Trường THPT "+dist.bare[0])
				k++
			}
		}
	}
	for di, dist := range dists {
		l2 := 31 + di
		dn := dist.name + ", " + where
		u := g.add(root, code(0, 0, l2, l1), "Ủy ban nhân dân "+dn)
		g.connect(u, host)
		var gddt int
		for oi, o := range districtOffices {
			x := g.add(u, code(0, oi+1, l2, l1), o+" "+dist.name)
			if oi == officeGDDT {
				gddt = x
				g.nodes[x].school = di
				g.schools = append(g.schools, x)
			}
		}
		for ci, c := range dist.communes {
			g.add(u, code(0, 20+ci, l2, l1), "Ủy ban nhân dân "+c)
		}
		// Schools under the district education office, health stations under
		// the district health centre (a unit of the provincial Sở Y tế).
		k := 1
		for ci := range dist.communes {
			for s := range g.intn(3, 5) {
				name := schoolKinds[s] + " " + dist.bare[ci]
				if s >= 3 {
					name += " B"
				}
				g.add(gddt, code(k, officeGDDT+1, l2, l1), name)
				k++
			}
		}
		ttyt := g.add(health, code(0, 20+di, deptYTe+2, l1), "Trung tâm Y tế "+dist.name)
		for ci, c := range dist.communes {
			g.add(ttyt, code(ci+1, 20+di, deptYTe+2, l1), "Trạm Y tế "+c)
		}
	}

	// People's Council.
	k := g.add(-1, code(0, 0, 0, "K"+l1[1:]), "Hội đồng nhân dân "+where)
	g.connect(k, host)
	for i, u := range councilUnits {
		g.add(k, code(0, 0, i+1, "K"+l1[1:]), u+" "+where)
	}

	// Provincial Party committee.
	committee := "Tỉnh ủy"
	if pr.city {
		committee = "Thành ủy"
	}
	a := g.add(-1, code(0, 0, 0, "A"+l1[1:]), committee+" "+pr.name)
	g.connect(a, "dangbo."+slug(pr.name)+".vn")
	for i, u := range partyDepts {
		g.add(a, code(0, 0, i+1, "A"+l1[1:]), u+" "+committee+" "+pr.name)
	}
	for di, dist := range dists {
		l2 := 31 + di
		hu := "Huyện ủy"
		switch {
		case strings.HasPrefix(dist.name, "quận"):
			hu = "Quận ủy"
		case strings.HasPrefix(dist.name, "thành phố"):
			hu = "Thành ủy"
		case strings.HasPrefix(dist.name, "thị xã"):
			hu = "Thị ủy"
		}
		bare := dist.name[strings.IndexByte(dist.name, ' ')+1:]
		if strings.HasPrefix(dist.name, "thành phố") || strings.HasPrefix(dist.name, "thị xã") {
			bare = strings.SplitN(dist.name, " ", 3)[2]
		}
		h := g.add(a, code(0, 0, l2, "A"+l1[1:]), hu+" "+bare)
		for i, u := range districtPartyDepts {
			g.add(h, code(0, i+1, l2, "A"+l1[1:]), u+" "+hu+" "+bare)
		}
		for ci, c := range dist.communes {
			g.add(h, code(0, 20+ci, l2, "A"+l1[1:]), "Đảng ủy "+c)
		}
	}
}

func (g *gen) ministry(num int, name string) {
	l1 := fmt.Sprintf("G%02d", num)
	host := fmt.Sprintf("edoc.%s.gov.vn", strings.ToLower(l1))
	root := g.add(-1, code(0, 0, 0, l1), name)
	g.connect(root, host)
	for i, u := range ministryUnits {
		un := u.name + " - " + name // "Vụ Pháp chế - Bộ Tư pháp"
		if (u.name == "Văn phòng" || u.name == "Thanh tra") && strings.HasPrefix(name, "Bộ ") {
			un = u.name + " " + name // "Văn phòng Bộ Nội vụ"
		}
		x := g.add(root, code(0, 0, i+1, l1), un)
		if i < 2 {
			g.connect(x, host)
		}
		for j, s := range u.subs {
			g.add(x, code(0, j+1, i+1, l1), s+", "+un)
		}
	}
	for _, nw := range ministryNetworks {
		if nw.ministry != num {
			continue
		}
		x := g.add(root, code(0, 0, nw.group, l1), nw.name+" - "+name)
		g.connect(x, host)
		for p, pr := range provinces {
			where := "tỉnh " + pr.name
			if pr.city {
				where = "thành phố " + pr.name
			}
			b := g.add(x, code(0, p+1, nw.group, l1), nw.branch+" "+where)
			if nw.district == "" {
				continue
			}
			for di, dist := range g.districts[p] {
				g.add(b, code(di+1, p+1, nw.group, l1), nw.district+" "+dist.name)
			}
		}
	}
}

func (g *gen) body(l1, name string, units []string, branches, local string) {
	host := fmt.Sprintf("edoc.%s.gov.vn", strings.ToLower(l1))
	root := g.add(-1, code(0, 0, 0, l1), name)
	g.connect(root, host)
	for i, u := range units {
		g.add(root, code(0, 0, i+1, l1), u+" - "+name)
	}
	if branches == "" {
		return
	}
	for p, pr := range provinces {
		where := "tỉnh " + pr.name
		if pr.city {
			where = "thành phố " + pr.name
		}
		b := g.add(root, code(0, 0, 31+p, l1), branches+" "+where)
		if local == "" {
			continue
		}
		for di, dist := range g.districts[p] {
			g.add(b, code(0, di+1, 31+p, l1), local+" "+dist.name)
		}
	}
}

// retire applies the 2025 department mergers in every province and merges
// about 2 % of communes into a neighbour in 2020, some of the successors
// merging again in 2025.
func (g *gen) retire() {
	byCode := make(map[agencyids.Code]int, len(g.nodes))
	for i := range g.nodes {
		byCode[g.nodes[i].a.Code] = i
	}
	set := func(i, succ int, at time.Time) {
		g.nodes[i].a.ValidTo = at
		g.nodes[i].a.Successor = g.nodes[succ].a.Code
		g.nodes[i].succ = succ
	}
	mergers := [][2]int{
		{deptKHDT, deptTaiChinh}, {deptTTTT, deptKHCN}, {deptGTVT, deptXayDung},
		{deptLDTBXH, deptNoiVu}, {deptTNMT, deptNNMT}, {deptNNPTNT, deptNNMT},
	}
	for p := range provinces {
		l1 := fmt.Sprintf("H%02d", p+1)
		for _, m := range mergers {
			set(byCode[code(0, 0, m[0]+2, l1)], byCode[code(0, 0, m[1]+2, l1)], merger2025)
		}
		for di, dist := range g.districts[p] {
			retired := make([]bool, len(dist.communes))
			isSucc := make([]bool, len(dist.communes))
			for ci := range dist.communes {
				if g.r.IntN(50) != 0 || len(dist.communes) < 3 || isSucc[ci] || retired[ci] {
					continue
				}
				// Merge into a neighbour that is not itself merged in 2020.
				sj := (ci + 1 + g.r.IntN(len(dist.communes)-1)) % len(dist.communes)
				if retired[sj] || g.nodes[byCode[code(0, 20+sj, 31+di, l1)]].succ >= 0 {
					continue
				}
				retired[ci], isSucc[sj] = true, true
				i, s := byCode[code(0, 20+ci, 31+di, l1)], byCode[code(0, 20+sj, 31+di, l1)]
				set(i, s, merger2020)
				if g.r.IntN(6) == 0 {
					// The successor itself merges in 2025 into a third commune.
					for t := range dist.communes {
						ti := byCode[code(0, 20+t, 31+di, l1)]
						if t != ci && t != sj && g.nodes[ti].succ < 0 && !retired[t] {
							set(s, ti, date(2025, 7, 1))
							retired[sj], isSucc[t] = true, true
							break
						}
					}
				}
			}
		}
	}
}

// choose picks n nodes closed under parents and successors: a few retired
// ones first (so small samples show retirements), then nodes at random.
func (g *gen) choose(n int) []bool {
	keep := make([]bool, len(g.nodes))
	count := 0
	var closure []int
	var need func(i int)
	need = func(i int) {
		for ; i >= 0 && !keep[i] && !contains(closure, i); i = g.nodes[i].parent {
			closure = append(closure, i)
			if s := g.nodes[i].succ; s >= 0 {
				need(s)
			}
		}
	}
	try := func(i int) {
		closure = closure[:0]
		need(i)
		if count+len(closure) <= n {
			for _, j := range closure {
				keep[j] = true
			}
			count += len(closure)
		}
	}
	order := g.r.Perm(len(g.nodes))
	var retired []int
	for _, i := range order {
		if g.nodes[i].succ >= 0 {
			retired = append(retired, i)
		}
	}
	for _, i := range retired[:min(len(retired), n/40)] {
		try(i)
	}
	for _, i := range order {
		if count == n {
			break
		}
		try(i)
	}
	return keep
}

func contains(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// extraSchools adds k more schools, round robin over the district education
// offices.
func (g *gen) extraSchools(k int) {
	next := make(map[int]int) // education office -> next level-4 number
	for i := range g.nodes {
		if p := g.nodes[i].parent; p >= 0 && g.nodes[p].school >= 0 {
			next[p]++
		}
	}
	round := make(map[int]int)
	for added := 0; added < k; {
		progress := false
		for _, s := range g.schools {
			if added == k {
				break
			}
			if next[s] >= 999 {
				continue
			}
			next[s]++
			round[s]++
			o := g.nodes[s].a.Code
			p := g.districtOf(s)
			bare := p.bare[g.r.IntN(len(p.bare))]
			name := fmt.Sprintf("%s %s số %d", schoolKinds[g.r.IntN(3)], bare, round[s]+1)
			g.add(s, agencyids.MustParse(fmt.Sprintf("%03d%s", next[s], string(o)[3:])), name)
			added++
			progress = true
		}
		if !progress {
			return
		}
	}
}

func (g *gen) districtOf(office int) district {
	c := g.nodes[office].a.Code
	var p int
	fmt.Sscanf(c.Level1()[1:], "%d", &p)
	return g.districts[p-1][g.nodes[office].school]
}
