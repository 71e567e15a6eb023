package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/cdpkit/cdp/models"
)

// Schedule is a parsed cron expression.
type Schedule struct {
	Spec  string
	sched cron.Schedule
}

// Parse reads spec in the time zone loc (nil: UTC) unless the spec starts
// with its own CRON_TZ= prefix. It is models.ParseSchedule — the parser
// `cdp validate` checks schedules with — so what validates is what runs:
// five fields "m h dom mon dow", or @hourly, @daily, @every 10m ….
func Parse(spec string, loc *time.Location) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty schedule")
	}
	s, err := models.ParseSchedule(spec, loc)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v (five fields \"m h dom mon dow\", or @hourly, @daily, @every 10m …)", spec, err)
	}
	return &Schedule{Spec: spec, sched: s}, nil
}

// Next returns the first fire time strictly after t.
func (s *Schedule) Next(t time.Time) time.Time { return s.sched.Next(t) }

// Missed reports whether a fire time passed between the last run's start and
// now, so the run is owed once at start-up. A sync that never ran is owed
// its first run.
func (s *Schedule) Missed(last, now time.Time) bool {
	if last.IsZero() {
		return true
	}
	n := s.Next(last)
	return !n.IsZero() && !n.After(now)
}

// Interval returns the length of the schedule's period around t (the gap
// between the two fire times following t); stale alerts count in it.
func (s *Schedule) Interval(t time.Time) time.Duration {
	a := s.Next(t)
	b := s.Next(a)
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

// LoadLocation reads an IANA zone name; "" is UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("serve.timezone %q: %v", name, err)
	}
	return loc, nil
}
