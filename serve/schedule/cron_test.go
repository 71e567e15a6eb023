package schedule

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		spec string
		loc  *time.Location
		want time.Time
	}{
		{"*/30 * * * *", nil, at.Add(30 * time.Minute)},
		{"@hourly", nil, at.Add(time.Hour)},
		{"@every 2s", nil, at.Add(2 * time.Second)},
		{"0 9 * * *", paris, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)},             // 09:00 in Paris (UTC+1)
		{"CRON_TZ=UTC 0 9 * * *", paris, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}, // the prefix wins
	} {
		s, err := Parse(c.spec, c.loc)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if got := s.Next(at); !got.Equal(c.want) {
			t.Errorf("%s: next = %v, want %v", c.spec, got.UTC(), c.want)
		}
	}
	for _, bad := range []string{"", "* * *", "0 0 0 * * *", "@sometimes"} {
		if _, err := Parse(bad, nil); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestMissedAndInterval(t *testing.T) {
	s, _ := Parse("*/30 * * * *", nil)
	now := time.Date(2026, 11, 1, 10, 5, 0, 0, time.UTC)
	if !s.Missed(time.Time{}, now) {
		t.Error("never run: not missed")
	}
	if s.Missed(now.Add(-4*time.Minute), now) {
		t.Error("run at 10:01, now 10:05: missed")
	}
	if !s.Missed(now.Add(-7*time.Minute), now) {
		t.Error("run at 9:58, now 10:05 (10:00 passed): not missed")
	}
	if got := s.Interval(now); got != 30*time.Minute {
		t.Errorf("interval = %v", got)
	}
}

func TestFakeClock(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	ch := c.After(time.Second)
	c.Advance(500 * time.Millisecond)
	select {
	case <-ch:
		t.Fatal("fired early")
	default:
	}
	c.Advance(500 * time.Millisecond)
	select {
	case <-ch:
	default:
		t.Fatal("did not fire")
	}
}
