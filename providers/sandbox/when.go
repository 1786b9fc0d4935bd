package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// When is a time in an estate file: an RFC 3339 time, or a time relative to
// the sandbox's start such as "+20d", "-3d" or "+36h", so that an estate
// (the demo's among them) keeps meaning "expires in 20 days" whenever it is
// run.
type When struct {
	abs   time.Time
	rel   time.Duration
	set   bool
	isRel bool
}

// UnmarshalYAML decodes the scalar itself (see Versioning.UnmarshalYAML
// for why not through UnmarshalText).
func (w *When) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	return w.UnmarshalText([]byte(s))
}

// UnmarshalText reads either form.
func (w *When) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*w = When{}
		return nil
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := parseRel(s)
		if err != nil {
			return err
		}
		*w = When{rel: d, set: true, isRel: true}
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if t2, err2 := time.Parse("2006-01-02", s); err2 == nil {
			t, err = t2, nil
		}
	}
	if err != nil {
		return fmt.Errorf("%q is neither an RFC 3339 time nor a relative time like +20d", s)
	}
	*w = When{abs: t.UTC(), set: true}
	return nil
}

// MarshalText writes the form it was read in.
func (w When) MarshalText() ([]byte, error) {
	switch {
	case !w.set:
		return nil, nil
	case w.isRel:
		return []byte(formatRel(w.rel)), nil
	}
	return []byte(w.abs.Format(time.RFC3339)), nil
}

// IsZero reports whether no time was given.
func (w When) IsZero() bool { return !w.set }

// At resolves the time against the sandbox's reference time now; ok is
// false when no time was given.
func (w When) At(now time.Time) (t time.Time, ok bool) {
	switch {
	case !w.set:
		return time.Time{}, false
	case w.isRel:
		return now.Add(w.rel).UTC().Truncate(time.Second), true
	}
	return w.abs, true
}

func parseRel(s string) (time.Duration, error) {
	sign := time.Duration(1)
	if s[0] == '-' {
		sign = -1
	}
	body := s[1:]
	if strings.HasSuffix(body, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(body, "d"))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q: want a whole number of days like +20d", s)
		}
		if n > maxRelDays {
			return 0, fmt.Errorf("%q: more than %d days away", s, maxRelDays)
		}
		return sign * time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(body)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a relative time like +20d or -36h", s)
	}
	if d > maxRelDays*24*time.Hour {
		return 0, fmt.Errorf("%q: more than %d days away", s, maxRelDays)
	}
	return sign * d, nil
}

// maxRelDays bounds a relative time to a century, far inside what a
// time.Duration holds (292 years): "+106752d" once wrapped to the 1700s.
const maxRelDays = 36500

func formatRel(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%s%dd", sign, d/(24*time.Hour))
	}
	return sign + d.String()
}
