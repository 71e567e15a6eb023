package models

import (
	"regexp"
	"strings"
)

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// MaxNameLength is the longest model name in bytes: PostgreSQL's identifier
// limit (NAMEDATALEN - 1), the smallest of the engines.
const MaxNameLength = 63

// checkName reports a name that does not match [a-z][a-z0-9_]*.
func (l *loader) checkName(kind, name string, pos Pos) bool {
	if nameRe.MatchString(name) && len(name) > MaxNameLength {
		// PostgreSQL keeps the first 63 bytes of an identifier: two names
		// equal in those would be one column ("ambiguous") there
		l.errorf(pos, "PostgreSQL keeps only the first 63 bytes of a name; shorten it",
			"%s name `%s…` is %d bytes, more than %d", kind, name[:20], len(name), MaxNameLength)
		return false
	}
	if nameRe.MatchString(name) {
		return true
	}
	hint := "names are lowercase letters, digits and `_`, starting with a letter"
	if fixed := fixName(name); fixed != "" && fixed != name {
		hint += "; e.g. `" + fixed + "`"
	}
	l.errorf(pos, hint, "bad %s name `%s`", kind, name)
	return false
}

// fixName proposes a valid spelling of name, or "".
func fixName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '.':
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), "0123456789_")
	if !nameRe.MatchString(s) {
		return ""
	}
	return s
}

// maxSuggestCandidates bounds the work spent on "did you mean" hints.
const maxSuggestCandidates = 5000

// closest returns the candidate nearest to s by edit distance, or "" when none
// is close enough to be a plausible typo.
func closest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestDist := "", 1<<30
	limit := min(3, max(1, (len(s)+2)/3))
	if len(candidates) > maxSuggestCandidates {
		return ""
	}
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if len(c) > 64 || len(c) > len(s)+limit || len(c) < len(s)-limit {
			continue
		}
		d := editDistance(ls, strings.ToLower(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist <= limit {
		return best
	}
	if len(s) >= 3 {
		for _, c := range candidates {
			if strings.HasPrefix(strings.ToLower(c), ls) {
				return c
			}
		}
	}
	return ""
}

// didYouMean returns a "did you mean `x`?" hint, or "".
func didYouMean(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return "did you mean `" + c + "`?"
	}
	return ""
}

// unknownHint suggests the closest known key, or lists the known keys.
func unknownHint(key string, known []string) string {
	if h := didYouMean(key, known); h != "" {
		return h
	}
	return "known keys: " + strings.Join(known, ", ")
}

// editDistance is the optimal string alignment distance between a and b, over
// bytes: insertions, deletions, substitutions and adjacent transpositions.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Closest returns the candidate that is a plausible typo of s (by edit
// distance, or a prefix), or "" — for "did you mean" hints outside models.
func Closest(s string, candidates []string) string { return closest(s, candidates) }
