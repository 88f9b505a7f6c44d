package digests

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is when a digest is sent: every day, or every week on one day,
// at a wall-clock time in a time zone.
type Schedule struct {
	Weekly  bool
	Weekday time.Weekday
	Hour    int
	Minute  int
	Loc     *time.Location
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseSchedule parses "daily HH:MM" or "weekly DAY HH:MM" in loc.
func ParseSchedule(text string, loc *time.Location) (Schedule, error) {
	s := Schedule{Loc: loc}
	fields := strings.Fields(text)
	clock := ""
	switch {
	case len(fields) == 2 && fields[0] == "daily":
		clock = fields[1]
	case len(fields) == 3 && fields[0] == "weekly":
		day, ok := weekdays[fields[1]]
		if !ok {
			return s, fmt.Errorf("parsing schedule %q: unknown day %q", text, fields[1])
		}
		s.Weekly, s.Weekday, clock = true, day, fields[2]
	default:
		return s, fmt.Errorf("parsing schedule %q: use \"daily HH:MM\" or \"weekly DAY HH:MM\"", text)
	}
	h, m, ok := strings.Cut(clock, ":")
	hour, herr := strconv.Atoi(h)
	minute, merr := strconv.Atoi(m)
	if !ok || herr != nil || merr != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return s, fmt.Errorf("parsing schedule %q: invalid time %q", text, clock)
	}
	s.Hour, s.Minute = hour, minute
	return s, nil
}

// at returns the send time on the calendar day of t in the schedule's
// zone. time.Date moves a wall time that a DST change skips forward by the
// length of the gap, and picks the first of two wall times that a change
// repeats, so each day has exactly one send time.
func (s Schedule) at(t time.Time) time.Time {
	y, m, d := t.In(s.Loc).Date()
	return time.Date(y, m, d, s.Hour, s.Minute, 0, 0, s.Loc)
}

// Due returns the latest send time at or before now. Its local date names
// the period.
func (s Schedule) Due(now time.Time) time.Time {
	local := now.In(s.Loc)
	for back := 0; back <= 8; back++ {
		day := local.AddDate(0, 0, -back)
		if s.Weekly && day.Weekday() != s.Weekday {
			continue
		}
		if at := s.at(day); !at.After(now) {
			return at
		}
	}
	panic("digests: no send time in the last 8 days") // unreachable: every week has the weekday
}

// Next returns the first send time after now.
func (s Schedule) Next(now time.Time) time.Time {
	local := now.In(s.Loc)
	for ahead := 0; ahead <= 8; ahead++ {
		day := local.AddDate(0, 0, ahead)
		if s.Weekly && day.Weekday() != s.Weekday {
			continue
		}
		if at := s.at(day); at.After(now) {
			return at
		}
	}
	panic("digests: no send time in the next 8 days") // unreachable: every week has the weekday
}

// Period returns the id of the period that starts at the send time due:
// its local date, such as "2026-12-07".
func (s Schedule) Period(due time.Time) string {
	return due.In(s.Loc).Format(time.DateOnly)
}

func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("loading time zone %q: %w", name, err)
	}
	return loc, nil
}
