package schedule

import (
	"fmt"
	"maps"
	pathpkg "path"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // CRON_TZ= must work in minimal images without a zoneinfo database

	"github.com/robfig/cron/v3"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
)

// Schedule is one entry of the config's `schedules:` list.
type Schedule struct {
	Name string `yaml:"name"`
	// Cron is a five-field spec with optional seconds, or a descriptor
	// (@daily, @every 1h), optionally after CRON_TZ=Zone; UTC otherwise.
	Cron string `yaml:"cron"`
	// Timeout cuts a run short (it is recorded as partial); 0: none.
	Timeout time.Duration `yaml:"timeout"`
	// Jitter delays each run's start by a random time below it, so that
	// many agents on the same spec do not hit the provider APIs at once.
	Jitter time.Duration `yaml:"jitter"`
	// RunOnStart runs the schedule once when the agent starts, besides its
	// cron times: a nightly schedule need not wait a day for its first run.
	RunOnStart bool `yaml:"run_on_start"`
	// Providers, Accounts and Tags narrow what the schedule scans (see
	// agent.Scope: a tag value may be a glob); empty: everything the config
	// names.
	Providers []string          `yaml:"providers"`
	Accounts  []string          `yaml:"accounts"`
	Tags      map[string]string `yaml:"tags"`
}

// Scope returns what s's runs cover, for the scan.
func (s *Schedule) Scope() agent.Scope {
	return agent.Scope{Providers: s.Providers, Accounts: s.Accounts, Tags: s.Tags}
}

// parser accepts standard five-field specs, an optional leading seconds
// field and descriptors; the one parser both validation and the scheduler
// use, so a spec that validates is a spec that runs.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse parses a schedule's cron spec.
func Parse(spec string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	// cron v3.0.1 slices out of range on a time zone with nothing after it.
	if (strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=")) && !strings.Contains(spec, " ") {
		return nil, fmt.Errorf("%q names a time zone but no schedule", spec)
	}
	if d, ok := Interval(spec); ok && d < time.Second {
		// cron rounds these up to a second: "@every 1ms" or "@every -1h"
		// would run every second.
		return nil, fmt.Errorf("%q: the interval must be at least 1s", spec)
	}
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", spec, err)
	}
	// A spec such as "0 0 30 2 *" parses but names no date: cron looks
	// five years ahead and gives up, and the schedule would never run.
	if s.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("%q names no date that exists, so it would never run", spec)
	}
	return s, nil
}

// Interval returns the interval of an "@every" spec; ok is false for any
// other spec (or one whose interval does not parse).
func Interval(spec string) (d time.Duration, ok bool) {
	spec = strings.TrimSpace(spec)
	if i := strings.IndexByte(spec, ' '); i >= 0 && (strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=")) {
		spec = strings.TrimSpace(spec[i+1:])
	}
	rest, found := strings.CutPrefix(spec, "@every ")
	if !found {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	return d, err == nil
}

// MinInterval is the shortest "@every" a schedule may use against real
// providers: a shorter one would scan again before a scan of any size ends
// and burn the accounts' API quotas. The sandbox is exempt, for tests.
const MinInterval = time.Minute

// Validate checks one schedule; paths are relative to it.
func (s *Schedule) Validate(c *yamlfile.Check) { s.validate(c, "") }

func (s *Schedule) validate(c *yamlfile.Check, at string) {
	path := func(field string) string {
		if at == "" {
			return field
		}
		return at + "." + field
	}
	c.Required(path("name"), s.Name)
	if s.Cron == "" {
		c.Errorf(path("cron"), "is required")
	} else if _, err := Parse(s.Cron); err != nil {
		c.Errorf(path("cron"), "bad cron spec: %v (want five fields with optional seconds, or @daily, @every 1h, optionally after CRON_TZ=Zone)", err)
	}
	if s.Timeout < 0 {
		c.Errorf(path("timeout"), "must not be negative")
	}
	if s.Jitter < 0 {
		c.Errorf(path("jitter"), "must not be negative")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
		if _, err := pathpkg.Match(s.Tags[k], ""); err != nil {
			c.Errorf(path("tags."+k), "%q is not a valid glob", s.Tags[k])
		}
	}
	for i, p := range s.Providers {
		if _, ok := providers.Lookup(p); !ok {
			c.Errorf(fmt.Sprintf("%s[%d]", path("providers"), i), "unknown provider %q (known: %s)", p, strings.Join(providers.Names(), ", "))
		}
	}
}

// List is the config's `schedules:` section.
type List []Schedule

// Validate checks every schedule and that names are unique; paths are
// relative to the list, such as [1].cron.
func (l List) Validate(c *yamlfile.Check) {
	seen := map[string]int{}
	for i := range l {
		at := fmt.Sprintf("[%d]", i)
		l[i].validate(c, at)
		if j, dup := seen[l[i].Name]; dup && l[i].Name != "" {
			c.Errorf(at+".name", "%q is also the name of schedule %d", l[i].Name, j)
		}
		seen[l[i].Name] = i
	}
}
