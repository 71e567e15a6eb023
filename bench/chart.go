package bench

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// series is one line of the chart: an engine's approach across scales.
type series struct {
	name   string
	color  string
	points [][2]float64 // people, seconds
	open   []bool       // did not finish: the point is a lower bound
}

// Chart draws seconds against people (both logarithmic) for every engine
// and approach of the identity comparison, as a standalone SVG.
func Chart(rep *Report) string {
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}
	byName := map[string]*series{}
	var all []*series
	for _, r := range rep.Identity {
		for _, a := range r.Approaches {
			k := r.Engine + " " + a.Approach
			s := byName[k]
			if s == nil {
				s = &series{name: k, color: colors[len(all)%len(colors)]}
				byName[k] = s
				all = append(all, s)
			}
			s.points = append(s.points, [2]float64{float64(r.People), math.Max(a.Seconds, 0.01)})
			s.open = append(s.open, !a.Finished)
		}
	}
	const W, H, L, T, R, B = 720, 420, 70, 30, 200, 50
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range all {
		for _, p := range s.points {
			minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
			minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
		}
	}
	if len(all) == 0 {
		minX, maxX, minY, maxY = 1e3, 1e6, 0.1, 100
	}
	x0, x1 := math.Floor(math.Log10(minX)), math.Ceil(math.Log10(maxX))
	y0, y1 := math.Floor(math.Log10(minY)), math.Ceil(math.Log10(maxY))
	if x1 == x0 {
		x1++
	}
	if y1 == y0 {
		y1++
	}
	px := func(v float64) float64 { return L + (math.Log10(v)-x0)/(x1-x0)*(W-L-R) }
	py := func(v float64) float64 { return H - B - (math.Log10(v)-y0)/(y1-y0)*(H-T-B) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	for e := x0; e <= x1; e++ {
		x := px(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
			x, T, x, H-B, x, H-B+18, human(int(math.Pow(10, e))))
	}
	for e := y0; e <= y1; e++ {
		y := py(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%g s</text>`+"\n",
			L, y, W-R, y, L-6, y+4, math.Pow(10, e))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">people (log scale)</text>`+"\n", (L+W-R)/2, H-10)
	fmt.Fprintf(&b, `<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">identity wall time (log scale)</text>`+"\n", (T+H-B)/2, (T+H-B)/2)
	for i, s := range all {
		sort.SliceStable(s.points, func(a, c int) bool { return s.points[a][0] < s.points[c][0] })
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p[0]), py(p[1])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.color, strings.Join(pts, " "))
		for j, p := range s.points {
			fill := s.color
			if s.open[j] {
				fill = "white"
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="%s"/>`+"\n", px(p[0]), py(p[1]), fill, s.color)
		}
		y := T + 16*i
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%s</text>`+"\n",
			W-R+12, y, W-R+32, y, s.color, W-R+38, y+4, s.name)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">open circle: stopped at its time budget</text>`+"\n", W-R+12, T+16*len(all)+8)
	b.WriteString("</svg>\n")
	return b.String()
}
