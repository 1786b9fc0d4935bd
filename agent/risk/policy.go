package risk

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/reachaudit/reachaudit/agent/scenario"
	"github.com/reachaudit/reachaudit/internal/iso3166"
	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
)

// Policy is what the rules judge against. A policy file overrides the keys
// it names on top of its profile.
type Policy struct {
	Profile       string              `yaml:"profile" json:"profile"`
	Home          []string            `yaml:"home" json:"home"`
	Trusted       []string            `yaml:"trusted" json:"trusted"`
	Concern       []string            `yaml:"concern" json:"concern"`
	Residency     Residency           `yaml:"residency" json:"residency"`
	SensitiveTags map[string][]string `yaml:"sensitive_tags" json:"sensitive_tags"`
	// Organisation lists, per provider, the accounts or projects that belong
	// to the audited organisation (EXP-008). Empty: the scanned ones.
	Organisation map[string][]string `yaml:"organisation" json:"organisation"`
	Exceptions   []Exception         `yaml:"exceptions" json:"exceptions"`
	// ContractCounts makes the contracting entity's jurisdiction a third
	// control axis beside controller and operator: the entity is who
	// receives a compelled-disclosure order for the data in its
	// "possession, custody, or control".
	ContractCounts bool `yaml:"contract_counts" json:"contract_counts"`
	// Scenarios are the specs evaluated after every scan (ban:alibaba,
	// cutoff:CN, ...); --scenario replaces them.
	Scenarios []string `yaml:"scenarios" json:"scenarios"`
	// Exit prices and times the exits those scenarios call for.
	Exit scenario.Exit `yaml:"exit" json:"exit"`
}

// Residency limits where data may sit.
type Residency struct {
	Allowed []string `yaml:"allowed" json:"allowed"`
}

// Exception suppresses matching findings until it expires.
type Exception struct {
	Rule string `yaml:"rule" json:"rule"`
	// Resource is provider:account:bucket; each part may be a glob.
	Resource string `yaml:"resource" json:"resource"`
	Reason   string `yaml:"reason" json:"reason"`
	// Expires is a date (YYYY-MM-DD); the exception applies through that day.
	Expires Date `yaml:"expires" json:"expires"`
}

// Date is a calendar day in UTC.
type Date struct{ time.Time }

const dateLayout = "2006-01-02"

// ParseDate reads a YYYY-MM-DD day.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD)", s)
	}
	return Date{t.UTC()}, nil
}

// String formats the day as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(dateLayout)
}

// The methods below replace the ones time.Time would lend Date, which speak
// RFC 3339 times rather than days.

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	return d.UnmarshalText([]byte(s))
}

func (d Date) MarshalYAML() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalYAML implements go-yaml's BytesUnmarshaler, which the decoder
// prefers over time.Time's own handling.
func (d *Date) UnmarshalYAML(b []byte) error {
	var s string
	if err := yaml.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	return d.UnmarshalText([]byte(s))
}

// Profile names.
const (
	ProfileUSAdversary   = "us-adversary"
	ProfileEUSovereignty = "eu-sovereignty"
	DefaultProfile       = ProfileUSAdversary
)

// concernList is the foreign adversaries of 15 CFR 791.4 and the countries
// of concern of 28 CFR 202.601 (CN includes HK and MO there; they are named
// because regions and data locations carry their own codes).
var concernList = []string{"CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"}

// profiles are the built-in policies, as data.
var profiles = map[string]Policy{
	ProfileUSAdversary: {
		Profile: ProfileUSAdversary,
		Home:    []string{"US"},
		Trusted: []string{},
		Concern: concernList,
		// The seed's question: what would a US ban of Alibaba Cloud, a
		// Chinese cutoff or a Chinese disclosure order do to us?
		Scenarios: []string{"ban:alibaba", "cutoff:CN", "compel:CN"},
		Exit:      scenario.Exit{BandwidthGbps: scenario.DefaultBandwidthGbps},
	},
	ProfileEUSovereignty: {
		Profile: ProfileEUSovereignty,
		Home:    providers.EUMembers,
		Trusted: []string{"IS", "LI", "NO"},
		Concern: concernList,
		// The CLOUD Act reaches US-controlled providers wherever they run.
		Scenarios: []string{"compel:US", "cutoff:US"},
		Exit:      scenario.Exit{BandwidthGbps: scenario.DefaultBandwidthGbps},
	},
}

// Profiles returns the names of the built-in profiles, sorted.
func Profiles() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Profile returns a copy of the built-in profile called name.
func Profile(name string) (Policy, bool) {
	p, ok := profiles[name]
	if !ok {
		return Policy{}, false
	}
	return p.clone(), true
}

// DefaultPolicy is the default profile with nothing overridden.
func DefaultPolicy() Policy {
	p, _ := Profile(DefaultProfile)
	return p
}

// clone deep-copies p so that callers cannot change the built-in tables, and
// gives every collection a non-nil value so that the JSON shows [] and {}.
func (p Policy) clone() Policy {
	q := p
	q.Home = cloneList(p.Home)
	q.Trusted = cloneList(p.Trusted)
	q.Concern = cloneList(p.Concern)
	q.Residency.Allowed = cloneList(p.Residency.Allowed)
	q.SensitiveTags = cloneMap(p.SensitiveTags)
	q.Organisation = cloneMap(p.Organisation)
	q.Exceptions = append([]Exception{}, p.Exceptions...)
	q.Scenarios = cloneList(p.Scenarios)
	q.Exit.EgressPerGB = maps.Clone(p.Exit.EgressPerGB)
	return q
}

func cloneList(s []string) []string { return append([]string{}, s...) }

func cloneMap(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = cloneList(v)
	}
	return out
}

// policyFile is the policy file as written: pointers and nil maps tell a key
// that is present (and overrides the profile) from one that is absent.
type policyFile struct {
	Profile        *string              `yaml:"profile"`
	Home           *[]string            `yaml:"home"`
	Trusted        *[]string            `yaml:"trusted"`
	Concern        *[]string            `yaml:"concern"`
	Residency      *residencyFile       `yaml:"residency"`
	SensitiveTags  *map[string][]string `yaml:"sensitive_tags"`
	Organisation   *map[string][]string `yaml:"organisation"`
	Exceptions     *[]exceptionFile     `yaml:"exceptions"`
	ContractCounts *bool                `yaml:"contract_counts"`
	Scenarios      *[]string            `yaml:"scenarios"`
	Exit           *ExitFile            `yaml:"exit"`
}

// ExitFile is the `exit:` section as written, in a policy or a config:
// each key present overrides the one below it.
type ExitFile struct {
	BandwidthGbps *float64           `yaml:"bandwidth_gbps"`
	EgressPerGB   map[string]float64 `yaml:"egress_per_gb"`
}

// Validate checks the bandwidth and the prices of a config's `exit:`.
func (f *ExitFile) Validate(c *yamlfile.Check) { f.check(c, "") }

// check validates the section found at the path at ("" for the root).
func (f *ExitFile) check(c *yamlfile.Check, at string) {
	if at != "" {
		at += "."
	}
	if f.BandwidthGbps != nil && !(*f.BandwidthGbps > 0) {
		c.Errorf(at+"bandwidth_gbps", "must be a positive number of Gbit/s, such as 1 or 0.5")
	}
	for _, k := range sortedKeys(f.EgressPerGB) {
		if !providerName.MatchString(k) {
			c.Errorf(at+"egress_per_gb."+k, "%q is not a provider name (lower case, such as aws, gcp, alibaba)", k)
		}
		if v := f.EgressPerGB[k]; !(v >= 0) {
			c.Errorf(at+"egress_per_gb."+k, "must be a price per GB of zero or more")
		}
	}
}

// Apply lays the keys present over e.
func (f *ExitFile) Apply(e *scenario.Exit) {
	if f == nil {
		return
	}
	if f.BandwidthGbps != nil {
		e.BandwidthGbps = *f.BandwidthGbps
	}
	if f.EgressPerGB != nil {
		e.EgressPerGB = maps.Clone(f.EgressPerGB)
	}
}

type residencyFile struct {
	Allowed *[]string `yaml:"allowed"`
}

// exceptionFile keeps expires as text so that a bad date is reported by
// Validate, with its line, rather than by the decoder without one.
type exceptionFile struct {
	Rule     string `yaml:"rule"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
	Expires  string `yaml:"expires"`
}

var (
	countryCode  = regexp.MustCompile(`^[A-Z]{2}$`)
	providerName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

// Validate checks the values a strict decode cannot.
func (f *policyFile) Validate(c *yamlfile.Check) {
	if f.Profile != nil {
		if _, ok := profiles[*f.Profile]; !ok {
			c.Errorf("profile", "unknown profile %q (want %s)", *f.Profile, strings.Join(Profiles(), " or "))
		}
	}
	checkCountries(c, "home", f.Home)
	checkCountries(c, "trusted", f.Trusted)
	checkCountries(c, "concern", f.Concern)
	if f.Residency != nil {
		checkCountries(c, "residency.allowed", f.Residency.Allowed)
	}
	// A country both home and of concern would make every rule about it
	// fire and not fire at once; the profile's lists count too.
	if f.Profile == nil || profiles[*f.Profile].Profile != "" {
		p := f.resolve()
		home := map[string]bool{}
		for _, cc := range p.Home {
			home[cc] = true
		}
		for i, cc := range p.Concern {
			if home[cc] {
				at := "concern"
				if f.Concern != nil {
					at = fmt.Sprintf("concern[%d]", i)
				} else if f.Home != nil {
					at = "home"
				}
				c.Errorf(at, "%s is both a home country and a country of concern", cc)
				break
			}
		}
	}
	if f.SensitiveTags != nil {
		for _, k := range sortedKeys(*f.SensitiveTags) {
			at := "sensitive_tags." + k
			if strings.TrimSpace(k) == "" {
				c.Errorf("sensitive_tags", "a tag key is empty")
				continue
			}
			vals := (*f.SensitiveTags)[k]
			if len(vals) == 0 {
				c.Errorf(at, `lists no values (use "*" to match any value)`)
			}
			for i, v := range vals {
				if v == "" {
					c.Errorf(fmt.Sprintf("%s[%d]", at, i), "is empty")
				} else if _, err := path.Match(v, ""); err != nil {
					c.Errorf(fmt.Sprintf("%s[%d]", at, i), "%q is not a valid glob", v)
				}
			}
		}
	}
	if f.Organisation != nil {
		for _, k := range sortedKeys(*f.Organisation) {
			at := "organisation." + k
			if !providerName.MatchString(k) {
				c.Errorf(at, "%q is not a provider name (lower case, such as aws, gcp, alibaba)", k)
			}
			for i, a := range (*f.Organisation)[k] {
				if strings.TrimSpace(a) == "" {
					c.Errorf(fmt.Sprintf("%s[%d]", at, i), "is empty")
				}
			}
		}
	}
	if f.Exceptions != nil {
		for i, e := range *f.Exceptions {
			e.validate(c, fmt.Sprintf("exceptions[%d]", i))
		}
	}
	if f.Scenarios != nil {
		for i, sp := range *f.Scenarios {
			if _, err := scenario.Parse(sp); err != nil {
				c.Errorf(fmt.Sprintf("scenarios[%d]", i), "%v", err)
			}
		}
	}
	if f.Exit != nil {
		f.Exit.check(c, "exit")
	}
}

func (e exceptionFile) validate(c *yamlfile.Check, at string) {
	c.Required(at+".rule", e.Rule)
	if e.Rule != "" {
		if _, ok := RuleByID(e.Rule); !ok {
			c.Errorf(at+".rule", "unknown rule %q (see `reachaudit rules`)", e.Rule)
		}
	}
	c.Required(at+".resource", e.Resource)
	if e.Resource != "" {
		if err := checkResource(e.Resource); err != nil {
			c.Errorf(at+".resource", "%v", err)
		}
	}
	if strings.TrimSpace(e.Reason) == "" {
		c.Errorf(at+".reason", "is required: say why the finding is accepted")
	}
	c.Required(at+".expires", e.Expires)
	if e.Expires != "" {
		if _, err := ParseDate(e.Expires); err != nil {
			c.Errorf(at+".expires", "%v", err)
		}
	}
}

func checkResource(r string) error {
	parts := strings.Split(r, ":")
	if len(parts) != 3 {
		return fmt.Errorf("%q is not provider:account:bucket", r)
	}
	for _, p := range parts {
		if p == "" {
			return fmt.Errorf("%q has an empty part (use * to match any)", r)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%q: %q is not a valid glob", r, p)
		}
	}
	return nil
}

func checkCountries(c *yamlfile.Check, at string, list *[]string) {
	if list == nil {
		return
	}
	for i, cc := range *list {
		if !countryCode.MatchString(cc) {
			c.Errorf(fmt.Sprintf("%s[%d]", at, i), "%q is not an ISO 3166-1 alpha-2 country code (two upper-case letters)", cc)
		} else if !iso3166.Valid(cc) {
			c.Errorf(fmt.Sprintf("%s[%d]", at, i), "%q is not an assigned ISO 3166-1 alpha-2 country code", cc)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resolve lays the keys present in the file over the chosen profile.
func (f *policyFile) resolve() Policy {
	name := DefaultProfile
	if f.Profile != nil {
		name = *f.Profile
	}
	p, _ := Profile(name)
	if f.Home != nil {
		p.Home = cloneList(*f.Home)
	}
	if f.Trusted != nil {
		p.Trusted = cloneList(*f.Trusted)
	}
	if f.Concern != nil {
		p.Concern = cloneList(*f.Concern)
	}
	if f.Residency != nil && f.Residency.Allowed != nil {
		p.Residency.Allowed = cloneList(*f.Residency.Allowed)
	}
	if f.SensitiveTags != nil {
		p.SensitiveTags = cloneMap(*f.SensitiveTags)
	}
	if f.Organisation != nil {
		p.Organisation = cloneMap(*f.Organisation)
	}
	if f.ContractCounts != nil {
		p.ContractCounts = *f.ContractCounts
	}
	if f.Exceptions != nil {
		p.Exceptions = make([]Exception, 0, len(*f.Exceptions))
		for _, e := range *f.Exceptions {
			d, _ := ParseDate(e.Expires) // validated
			p.Exceptions = append(p.Exceptions, Exception{Rule: e.Rule, Resource: e.Resource, Reason: e.Reason, Expires: d})
		}
	}
	if f.Scenarios != nil {
		p.Scenarios = cloneList(*f.Scenarios)
	}
	f.Exit.Apply(&p.Exit)
	return p
}

// LoadPolicy decodes a policy document (from the file called name) strictly
// and lays it over its profile. An empty document is the default profile.
func LoadPolicy(name string, data []byte) (Policy, error) {
	var f policyFile
	if err := yamlfile.Decode(name, data, &f); err != nil {
		return Policy{}, err
	}
	return f.resolve(), nil
}

// PolicyFromFile reads a policy file; see LoadPolicy.
func PolicyFromFile(file string) (Policy, error) {
	var f policyFile
	if err := yamlfile.ReadFile(file, &f); err != nil {
		return Policy{}, err
	}
	return f.resolve(), nil
}

// PolicyFromNode decodes a policy given inline in another document (the
// config's `policy:` section); root is the node's path from the document
// root, used to name fields in errors.
func PolicyFromNode(name string, data []byte, node ast.Node, root string) (Policy, error) {
	var f policyFile
	if err := yamlfile.DecodeNode(name, data, node, root, &f); err != nil {
		return Policy{}, err
	}
	return f.resolve(), nil
}

//go:embed demo-policy.yaml
var demoPolicy []byte

// DemoPolicyYAML is the demo policy's text, for showing and for tests.
func DemoPolicyYAML() []byte { return slices.Clone(demoPolicy) }

// DemoPolicy is the policy the demo runs with when none is given.
func DemoPolicy() (Policy, error) {
	return LoadPolicy("demo-policy.yaml", demoPolicy)
}
