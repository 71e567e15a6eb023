package phone

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Region is one territory of libphonenumber's metadata, as the warehouse
// table of regions holds it (see Tables). Non-geographical entities (+800,
// +882…) are regions named "001:<cc>".
type Region struct {
	ID       string // ISO 3166 alpha-2, or 001:<cc>
	CC       int    // country calling code
	Ord      int    // position in the calling code's region list (0: main region)
	NRegions int    // regions sharing the calling code
	IDD      string // international_prefix pattern ("" when none)
	NPP      string // national_prefix_for_parsing pattern ("" when none)
	// NPT is national_prefix_transform_rule with \1 group references ("" when none).
	NPT string
	// Probe matches at the start of a number exactly when the last group of
	// NPP takes part in its match (only set with NPT): libphonenumber
	// applies the transform rule only then, and strips the prefix otherwise.
	Probe   string
	General string // general_desc national number pattern
	Lengths []int  // general_desc possible lengths (sorted; [-1]: none)
	Local   []int  // general_desc local-only lengths
	Leading string // leading_digits pattern ("" when none)
	// Types are the region's number types (premium rate, toll free, shared
	// cost, VoIP, personal, pager, UAN, voicemail, fixed line, mobile): a
	// national number is valid when it fits the general description and
	// at least one type.
	Types [NumTypes]Type
}

// NumTypes is the number of number types a region describes.
const NumTypes = 10

// Type is one number type of a region ("" pattern: the region has none).
type Type struct {
	Lengths []int // possible lengths ([]: any)
	Pattern string
}

// Meta is libphonenumber's metadata as the SQL normalizer uses it.
type Meta struct {
	Regions []Region
	// CCs lists the known calling codes by number of digits (1, 2, 3).
	CCs [3][]string
	// Version identifies the metadata (a digest of everything above): the
	// warehouse tables are named after it, so an upgrade builds new ones.
	Version string
}

var (
	metaOnce sync.Once
	metaVal  *Meta
	metaErr  error
)

// Metadata returns the metadata of the linked github.com/nyaruka/phonenumbers.
func Metadata() (*Meta, error) {
	metaOnce.Do(func() { metaVal, metaErr = build() })
	return metaVal, metaErr
}

func build() (*Meta, error) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil, fmt.Errorf("phone metadata: %w", err)
	}
	m := &Meta{}
	byRegion := map[string]*phonenumbers.PhoneMetadata{}
	nonGeo := map[int]*phonenumbers.PhoneMetadata{}
	for _, md := range coll.Metadata {
		if md.GetId() == "001" {
			nonGeo[int(md.GetCountryCode())] = md
		} else {
			byRegion[md.GetId()] = md
		}
	}
	ccs := []int{}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		ccs = append(ccs, cc)
	}
	sort.Ints(ccs)
	for _, cc := range ccs {
		s := strconv.Itoa(cc)
		if len(s) <= 3 {
			m.CCs[len(s)-1] = append(m.CCs[len(s)-1], s)
		}
		regions := phonenumbers.GetRegionCodesForCountryCode(cc)
		for ord, rc := range regions {
			md, id := byRegion[rc], rc
			if rc == "001" {
				md, id = nonGeo[cc], "001:"+s
			}
			if md == nil {
				continue
			}
			r, err := regionOf(md, id, cc, ord, len(regions))
			if err != nil {
				return nil, err
			}
			m.Regions = append(m.Regions, r)
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%v|%v|%v", regionColumns(), m.Regions, m.CCs)
	m.Version = hex.EncodeToString(h.Sum(nil))[:10]
	return m, nil
}

func regionOf(md *phonenumbers.PhoneMetadata, id string, cc, ord, n int) (Region, error) {
	g := md.GetGeneralDesc()
	r := Region{ID: id, CC: cc, Ord: ord, NRegions: n, IDD: md.GetInternationalPrefix(),
		NPP: md.GetNationalPrefixForParsing(), General: g.GetNationalNumberPattern(),
		Lengths: ints(g.GetPossibleLength()), Local: ints(g.GetPossibleLengthLocalOnly()),
		Leading: md.GetLeadingDigits(), Types: typesOf(md)}
	sort.Ints(r.Lengths)
	if len(r.Lengths) == 0 {
		r.Lengths = []int{-1}
	}
	if rule := md.GetNationalPrefixTransformRule(); rule != "" && r.NPP != "" {
		r.NPT = dollarToBackslash(rule)
		probe, err := participationProbe(r.NPP)
		if err != nil {
			return r, fmt.Errorf("phone metadata %s: %w", id, err)
		}
		r.Probe = probe
	}
	return r, nil
}

func typesOf(md *phonenumbers.PhoneMetadata) [NumTypes]Type {
	var out [NumTypes]Type
	for i, d := range []*phonenumbers.PhoneNumberDesc{md.PremiumRate, md.TollFree, md.SharedCost,
		md.Voip, md.PersonalNumber, md.Pager, md.Uan, md.Voicemail, md.FixedLine, md.Mobile} {
		if d == nil || d.GetNationalNumberPattern() == "" {
			continue
		}
		l := ints(d.GetPossibleLength())
		sort.Ints(l)
		out[i] = Type{Lengths: l, Pattern: d.GetNationalNumberPattern()}
	}
	return out
}

func ints(v []int32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// dollarToBackslash turns a transform rule's $1 references into \1.
func dollarToBackslash(rule string) string {
	var b strings.Builder
	for i := 0; i < len(rule); i++ {
		if rule[i] == '$' && i+1 < len(rule) && rule[i+1] >= '0' && rule[i+1] <= '9' {
			b.WriteByte('\\')
			continue
		}
		if rule[i] == '\\' {
			b.WriteString(`\\`)
			continue
		}
		b.WriteByte(rule[i])
	}
	return b.String()
}

// participationProbe derives, from a national_prefix_for_parsing pattern
// whose transform rule uses its last group, a pattern that matches at the
// start of a number exactly when that group takes part in the (leftmost-first)
// match. Three shapes occur in libphonenumber's metadata:
//   - `(A)$|B|…`: the group is in the first alternative: probe `^(?:(A)$)`;
//   - `P(?:…(G)…)?`: the group is in a trailing optional group: probe `^(?:P(?:…(G)…))`;
//   - no top-level alternation and no optional tail: the group always takes
//     part when the pattern matches: probe `^(?:pattern)`.
func participationProbe(npp string) (string, error) {
	alts := topLevelAlternatives(npp)
	if len(alts) > 1 {
		if !strings.Contains(stripNonCapturing(alts[0]), "(") {
			return "", fmt.Errorf("transform group is not in the first alternative of %q", npp)
		}
		for _, a := range alts[1:] {
			if strings.Contains(stripNonCapturing(a), "(") {
				return "", fmt.Errorf("more than one alternative has a group in %q", npp)
			}
		}
		return "^(?:" + alts[0] + ")", nil
	}
	if strings.HasSuffix(npp, ")?") {
		open := matchingOpen(npp, len(npp)-2)
		if open >= 0 && strings.Contains(stripNonCapturing(npp[open:]), "(") {
			return "^(?:" + npp[:len(npp)-1] + ")", nil
		}
	}
	return "^(?:" + npp + ")", nil
}

// stripNonCapturing removes "(?:" so that a remaining "(" is a capture.
func stripNonCapturing(p string) string {
	p = strings.ReplaceAll(p, `\(`, "")
	return strings.ReplaceAll(p, "(?:", "")
}

// topLevelAlternatives splits a pattern at its top-level | characters.
func topLevelAlternatives(p string) []string {
	var out []string
	depth, class, start := 0, false, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case class:
			if c == ']' {
				class = false
			}
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// matchingOpen returns the index of the ( that the ) at close closes.
func matchingOpen(p string, close int) int {
	depth := 0
	for i := close; i >= 0; i-- {
		switch p[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
