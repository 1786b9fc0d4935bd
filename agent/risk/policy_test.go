package risk

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

func TestBuiltInProfiles(t *testing.T) {
	if diff := cmp.Diff([]string{ProfileEUSovereignty, ProfileUSAdversary}, Profiles()); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	concern := []string{"CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"}
	us := DefaultPolicy()
	if us.Profile != ProfileUSAdversary || !slices.Equal(us.Home, []string{"US"}) || len(us.Trusted) != 0 || !slices.Equal(us.Concern, concern) {
		t.Errorf("us-adversary = %+v", us)
	}
	eu := mustProfile(ProfileEUSovereignty)
	if len(eu.Home) != 27 || slices.Contains(eu.Home, "GB") || !slices.Contains(eu.Home, "GR") || !slices.Contains(eu.Home, "HR") {
		t.Errorf("eu-sovereignty home = %v", eu.Home)
	}
	if !slices.Equal(eu.Trusted, []string{"IS", "LI", "NO"}) || !slices.Equal(eu.Concern, concern) {
		t.Errorf("eu-sovereignty = %+v", eu)
	}
	for _, p := range []Policy{us, eu} {
		for _, cc := range slices.Concat(p.Home, p.Trusted, p.Concern) {
			if !countryCode.MatchString(cc) {
				t.Errorf("%s: bad code %q", p.Profile, cc)
			}
		}
	}
	// A caller changing its copy must not change the built-in profile.
	us.Home[0] = "XX"
	if DefaultPolicy().Home[0] != "US" {
		t.Error("Profile returned the built-in table itself")
	}
}

func TestPolicyFileOverridesOnlyWhatItNames(t *testing.T) {
	eu := mustProfile(ProfileEUSovereignty)
	tests := []struct {
		name string
		doc  string
		want func(p *Policy)
	}{
		{"empty document is the default profile", "", func(p *Policy) { *p = DefaultPolicy() }},
		{"profile only", "profile: eu-sovereignty\n", func(p *Policy) { *p = eu }},
		{"home replaces, the rest of the profile stays", "home: [CA]\n", func(p *Policy) {
			*p = DefaultPolicy()
			p.Home = []string{"CA"}
		}},
		{"an empty list is present and empties the key", "profile: eu-sovereignty\ntrusted: []\n", func(p *Policy) {
			*p = eu
			p.Trusted = []string{}
		}},
		{"null is absent", "profile: eu-sovereignty\ntrusted:\n", func(p *Policy) { *p = eu }},
		{"residency and sensitive tags", "residency:\n  allowed: [US, CA]\nsensitive_tags:\n  data-class: [restricted]\n", func(p *Policy) {
			*p = DefaultPolicy()
			p.Residency.Allowed = []string{"US", "CA"}
			p.SensitiveTags = map[string][]string{"data-class": {"restricted"}}
		}},
		{"residency without allowed keeps the profile's", "residency: {}\n", func(p *Policy) { *p = DefaultPolicy() }},
		{"organisation and exceptions", `organisation:
  aws: ["111122223333"]
  gcp: [acme-prod]
exceptions:
  - rule: BLK-002
    resource: "aws:111122223333:logs-*"
    reason: archive copy kept by contract
    expires: 2027-01-31
`, func(p *Policy) {
			*p = DefaultPolicy()
			p.Organisation = map[string][]string{"aws": {"111122223333"}, "gcp": {"acme-prod"}}
			p.Exceptions = []Exception{{Rule: "BLK-002", Resource: "aws:111122223333:logs-*", Reason: "archive copy kept by contract",
				Expires: Date{time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadPolicy("policy.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var want Policy
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		line  int
		field string
		msg   string
	}{
		{"unknown key", "profile: us-adversary\nhomes: [US]\n", 2, "homes", `unknown key (want one of concern, contract_counts, exceptions, exit, home, organisation, profile, residency, scenarios, sensitive_tags, trusted); did you mean "home"?`},
		{"unknown profile", "home: [US]\nprofile: us-adversery\n", 2, "profile", "unknown profile"},
		{"lower-case country", "home: [US]\nconcern:\n  - CN\n  - ru\n", 4, "concern[1]", "two upper-case letters"},
		{"three-letter country", "residency:\n  allowed: [USA]\n", 2, "residency.allowed[0]", "ISO 3166-1 alpha-2"},
		{"unknown rule", "exceptions:\n  - rule: EXP-999\n    resource: 'aws:*:*'\n    reason: r\n    expires: 2027-01-01\n", 2, "exceptions[0].rule", "unknown rule"},
		{"resource with two parts", "exceptions:\n  - rule: EXP-001\n    resource: 'aws:bucket'\n    reason: r\n    expires: 2027-01-01\n", 3, "exceptions[0].resource", "provider:account:bucket"},
		{"resource with a bad glob", "exceptions:\n  - rule: EXP-001\n    resource: 'aws:*:[a'\n    reason: r\n    expires: 2027-01-01\n", 3, "exceptions[0].resource", "not a valid glob"},
		{"missing reason", "exceptions:\n  - rule: EXP-001\n    resource: 'aws:*:*'\n    expires: 2027-01-01\n", 2, "exceptions[0].reason", "is required"},
		{"bad date", "exceptions:\n  - rule: EXP-001\n    resource: 'aws:*:*'\n    reason: r\n    expires: 2027-02-30\n", 5, "exceptions[0].expires", "not a date"},
		{"missing date", "exceptions:\n  - rule: EXP-001\n    resource: 'aws:*:*'\n    reason: r\n", 2, "exceptions[0].expires", "is required"},
		{"sensitive tag with no values", "sensitive_tags:\n  data-class: []\n", 2, "sensitive_tags.data-class", "lists no values"},
		{"organisation with an upper-case provider", "organisation:\n  AWS: ['1']\n", 2, "organisation.AWS", "not a provider name"},
		{"exception list is not a list", "exceptions: {rule: EXP-001}\n", 1, "exceptions", "expected a list of mappings (key: value), got a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadPolicy("policy.yaml", []byte(tt.doc))
			var ye *yamlfile.Error
			if !errors.As(err, &ye) {
				t.Fatalf("want a yamlfile.Error, got %v", err)
			}
			if ye.File != "policy.yaml" || ye.Line != tt.line || ye.Field != tt.field || !strings.Contains(ye.Msg, tt.msg) {
				t.Errorf("got %q (line %d, field %q), want line %d field %q message containing %q", err, ye.Line, ye.Field, tt.line, tt.field, tt.msg)
			}
		})
	}
}

func TestPolicyFromFileAndNode(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte("profile: eu-sovereignty\nconcern: [RU]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := PolicyFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if p.Profile != ProfileEUSovereignty || !slices.Equal(p.Concern, []string{"RU"}) || len(p.Home) != 27 {
		t.Errorf("policy %+v", p)
	}
	if _, err := PolicyFromFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}

	config := []byte("providers: {}\npolicy:\n  profile: eu-sovereignty\n  home: [FR, de]\n")
	secs, err := yamlfile.Sections("config.yaml", config)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.Key != "policy" {
			continue
		}
		_, err := PolicyFromNode("config.yaml", config, s.Node, "policy")
		var ye *yamlfile.Error
		if !errors.As(err, &ye) || ye.Line != 4 || ye.Field != "policy.home[1]" {
			t.Errorf("inline policy error = %v", err)
		}
		return
	}
	t.Fatal("no policy section")
}

func TestDateEncodings(t *testing.T) {
	d, err := ParseDate("2027-01-31")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Exception{Rule: "BLK-002", Expires: d})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"expires":"2027-01-31"`) {
		t.Errorf("json %s", b)
	}
	var back Exception
	if err := json.Unmarshal(b, &back); err != nil || !back.Expires.Equal(d.Time) {
		t.Errorf("json round trip: %v %v", back.Expires, err)
	}
	// A Policy decodes straight from YAML too (for callers that do not need
	// override semantics), with plain and quoted dates.
	var p Policy
	doc := "profile: us-adversary\nexceptions:\n  - {rule: BLK-002, resource: 'a:b:c', reason: r, expires: 2027-01-31}\n  - {rule: BLK-002, resource: 'a:b:c', reason: r, expires: \"2028-02-29\"}\n"
	if err := yaml.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	if p.Exceptions[0].Expires.String() != "2027-01-31" || p.Exceptions[1].Expires.String() != "2028-02-29" {
		t.Errorf("yaml dates %v", p.Exceptions)
	}
	out, err := yaml.Marshal(p.Exceptions[0])
	if err != nil || !strings.Contains(string(out), "expires: 2027-01-31") {
		t.Errorf("yaml marshal %q %v", out, err)
	}
	if err := yaml.Unmarshal([]byte("expires: 31/01/2027\n"), &back); err == nil {
		t.Error("a non-ISO date was accepted")
	}
}

func TestDemoPolicy(t *testing.T) {
	p, err := DemoPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if p.Profile != ProfileUSAdversary || !slices.Equal(p.Residency.Allowed, []string{"US"}) {
		t.Errorf("demo policy %+v", p)
	}
	if diff := cmp.Diff(map[string][]string{"data-class": {"restricted", "confidential"}}, p.SensitiveTags); diff != "" {
		t.Errorf("sensitive tags (-want +got):\n%s", diff)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var live, expired int
	for _, e := range p.Exceptions {
		if e.Reason == "" {
			t.Errorf("exception without reason: %+v", e)
		}
		if e.Expires.Before(today) {
			expired++
		} else {
			live++
		}
	}
	if live != 1 || expired != 1 {
		t.Errorf("want one live and one expired exception, got %d and %d", live, expired)
	}
}
