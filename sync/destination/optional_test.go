package destination_test

import (
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
)

func TestMatchReportString(t *testing.T) {
	cases := map[string]destination.MatchReport{
		"received 1200, invalid 3 (0.2%)":                  {Received: 1200, Invalid: 3},
		"received 200, matched 50 (25.0%)":                 {Received: 200, Matched: 50},
		"received 10, match rate 41-50%":                   {Received: 10, Range: "41-50%"},
		"match rate <20%":                                  {Range: "<20%"},
		"received 4, invalid 1 (25.0%), match rate 20-30%": {Received: 4, Invalid: 1, Range: "20-30%"},
		"": {},
	}
	for want, m := range cases {
		if got := m.String(); got != want {
			t.Errorf("%+v: %q, want %q", m, got, want)
		}
		if m.IsZero() != (want == "") {
			t.Errorf("%+v: IsZero %v", m, m.IsZero())
		}
	}
}
