package engine

import (
	"fmt"
	"strconv"
	"strings"
)

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// parseRate turns "20/s", "100/m" or "3600/h" into requests per second (0 for "").
func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	v, err := strconv.ParseFloat(n, 64)
	if !ok || err != nil || v <= 0 {
		return 0, fmt.Errorf("bad rate_limit %q: use N/s, N/m or N/h", s)
	}
	switch unit {
	case "s":
		return v, nil
	case "m":
		return v / 60, nil
	case "h":
		return v / 3600, nil
	}
	return 0, fmt.Errorf("bad rate_limit %q: use N/s, N/m or N/h", s)
}

// removalLimit turns max_removals ("10%" or "500") into a count for an
// audience of delivered records; -1 means no limit.
func removalLimit(s string, delivered int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return -1, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("bad max_removals %q", s)
		}
		return int64(float64(delivered) * v / 100), nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad max_removals %q", s)
	}
	return v, nil
}
