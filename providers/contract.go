package providers

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Contract is who the customer contracts with for a bucket's account, and
// on what terms, as far as the user declared them. The contracting entity
// is not who runs the region: it is the party that receives a
// compelled-disclosure order for the data in its "possession, custody, or
// control" (18 U.S.C. 2713), whatever the region's operator.
type Contract struct {
	Entity string `json:"entity"`
	// Jurisdiction is where the entity is incorporated (ISO 3166-1 alpha-2).
	Jurisdiction   string `json:"jurisdiction"`
	GoverningLaw   string `json:"governing_law,omitempty"`
	BillingCountry string `json:"billing_country,omitempty"`
	Reference      string `json:"reference,omitempty"`
	Start          string `json:"start,omitempty"` // YYYY-MM-DD
	End            string `json:"end,omitempty"`   // YYYY-MM-DD
	NoticeDays     *int   `json:"notice_days,omitempty"`
	// Parent is the entity's ultimate parent where the provider's table
	// knows it: the provider's own parent for its subsidiaries, none for a
	// licensed operator outside its group or an entity the table lacks.
	Parent *Party `json:"parent,omitempty"`
	// Source says where the entity came from: ContractDeclared when the
	// config names it, ContractFromTable when the provider's table gave it
	// for the billing country.
	Source string `json:"source"`
}

// Contract sources.
const (
	ContractDeclared  = "declared"
	ContractFromTable = "provider-table"
)

// ContractingRule is one row of a provider's table of contracting entities:
// the entity a customer contracts with when its billing country is one of
// Countries (empty: any) and not one of Except, and the bucket sits in
// Partition (empty: any) and one of Regions (empty: any).
type ContractingRule struct {
	Partition string
	Regions   []string
	Countries []string
	Except    []string
	Entity    Party
	// Independent marks an entity outside the provider's group (a region's
	// licensed operator): the provider's parent is not its parent.
	Independent bool
}

func (r ContractingRule) billedIn(country string) bool {
	return (len(r.Countries) == 0 || slices.Contains(r.Countries, country)) && !slices.Contains(r.Except, country)
}

// ContractingTable is a provider's contracting entities, first match wins.
// Each plugin registers its own; the lookup lives here once.
type ContractingTable []ContractingRule

// Lookup returns the rule for a billing country and a bucket's place.
func (t ContractingTable) Lookup(billing string, pl Place) (ContractingRule, bool) {
	for _, r := range t {
		if r.Partition != "" && r.Partition != pl.Partition {
			continue
		}
		if len(r.Regions) > 0 && !slices.Contains(r.Regions, pl.Region) {
			continue
		}
		if !r.billedIn(billing) {
			continue
		}
		return r, true
	}
	return ContractingRule{}, false
}

// resolves reports whether some rule that holds in any place gives an
// entity for the billing country, so that a config entry naming only a
// billing country can be checked before any bucket is seen.
func (t ContractingTable) resolves(billing string) bool {
	for _, r := range t {
		if r.Partition == "" && len(r.Regions) == 0 && r.billedIn(billing) {
			return true
		}
	}
	return false
}

// Entities lists the table's entities by name, for matching a declared
// entity to its jurisdiction.
func (t ContractingTable) Entities() []Party {
	var out []Party
	for _, r := range t {
		if !slices.ContainsFunc(out, func(p Party) bool { return p.Entity == r.Entity.Entity }) {
			out = append(out, r.Entity)
		}
	}
	return out
}

func (t ContractingTable) byName(entity string) (ContractingRule, bool) {
	for _, r := range t {
		if strings.EqualFold(r.Entity.Entity, strings.TrimSpace(entity)) {
			return r, true
		}
	}
	return ContractingRule{}, false
}

// ContractTerms is one entry of the `contracts:` section: the contract that
// covers the accounts matching Account at one provider.
type ContractTerms struct {
	// Account is a glob over account ids; empty means every account.
	Account string `yaml:"account" json:"account,omitempty"`
	// Entity is the contracting entity; empty: the provider's table gives it
	// from BillingCountry.
	Entity string `yaml:"entity" json:"entity,omitempty"`
	// EntityCountry is where Entity is incorporated, needed only for an
	// entity the provider's table does not know.
	EntityCountry  string `yaml:"entity_country" json:"entity_country,omitempty"`
	GoverningLaw   string `yaml:"governing_law" json:"governing_law,omitempty"`
	BillingCountry string `yaml:"billing_country" json:"billing_country,omitempty"`
	Reference      string `yaml:"reference" json:"reference,omitempty"`
	Start          string `yaml:"start" json:"start,omitempty"`
	End            string `yaml:"end" json:"end,omitempty"`
	NoticeDays     *int   `yaml:"notice_days" json:"notice_days,omitempty"`
}

// Contracts is the `contracts:` section of a config or estate file:
// provider name → entries, the first entry whose account glob matches an
// account applies to it.
type Contracts map[string][]ContractTerms

var alpha2 = regexp.MustCompile(`^[A-Z]{2}$`)

const dayLayout = "2006-01-02"

// Validate checks every entry against its provider's contracting table.
func (cs Contracts) Validate(c *yamlfile.Check) {
	names := make([]string, 0, len(cs))
	for n := range cs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pl, ok := Lookup(n)
		if !ok {
			c.Errorf(n, "unknown provider %q (want one of %s)", n, strings.Join(Names(), ", "))
			continue
		}
		for i, t := range cs[n] {
			t.validate(c, fmt.Sprintf("%s[%d]", n, i), pl)
		}
	}
}

func (t ContractTerms) validate(c *yamlfile.Check, at string, pl Plugin) {
	if _, err := path.Match(t.Account, ""); err != nil {
		c.Errorf(at+".account", "%q is not a valid glob", t.Account)
	}
	for _, f := range []struct{ name, v string }{
		{"billing_country", t.BillingCountry}, {"governing_law", t.GoverningLaw}, {"entity_country", t.EntityCountry},
	} {
		if f.v != "" && !alpha2.MatchString(f.v) {
			c.Errorf(at+"."+f.name, "%q is not an ISO 3166-1 alpha-2 country code (two upper-case letters)", f.v)
		}
	}
	switch {
	case t.Entity == "" && t.BillingCountry == "":
		c.Errorf(at, "give entity, or billing_country for %s's table to name the entity", pl.Name)
	case t.Entity == "" && t.EntityCountry != "":
		c.Errorf(at+".entity_country", "is only for a named entity")
	case t.Entity == "" && alpha2.MatchString(t.BillingCountry) && !pl.Contracting.resolves(t.BillingCountry):
		c.Errorf(at+".billing_country", "%s's table names no contracting entity for billing country %s: give entity (and entity_country)", pl.Name, t.BillingCountry)
	case t.Entity != "" && t.EntityCountry == "":
		if _, known := pl.Contracting.byName(t.Entity); !known {
			c.Errorf(at+".entity_country", "is required: %q is not in %s's table (%s)", t.Entity, pl.Name, entityNames(pl.Contracting))
		}
	}
	var start, end time.Time
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"start", t.Start, &start}, {"end", t.End, &end}} {
		if f.v == "" {
			continue
		}
		d, err := time.Parse(dayLayout, f.v)
		if err != nil {
			c.Errorf(at+"."+f.name, "%q is not a date (want YYYY-MM-DD)", f.v)
			continue
		}
		*f.t = d
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		c.Errorf(at+".end", "%s is not after start %s", t.End, t.Start)
	}
	if t.NoticeDays != nil && *t.NoticeDays < 0 {
		c.Errorf(at+".notice_days", "must not be negative")
	}
}

func entityNames(t ContractingTable) string {
	var names []string
	for _, p := range t.Entities() {
		names = append(names, p.Entity)
	}
	if len(names) == 0 {
		return "it has none"
	}
	return strings.Join(names, "; ")
}

// Merge returns cs with the entries of more appended after cs's own, so
// that the first file's entries win.
func (cs Contracts) Merge(more Contracts) Contracts {
	out := Contracts{}
	for n, ts := range cs {
		out[n] = append(out[n], ts...)
	}
	for n, ts := range more {
		out[n] = append(out[n], ts...)
	}
	return out
}

// For returns the contract that covers a bucket, or nil when no entry
// matches its provider and account. Entries are validated, so an entry
// that matches always resolves, except where a provider's table names no
// entity for the bucket's place (then nil as well).
func (cs Contracts) For(b *Bucket) *Contract {
	pl, ok := Lookup(b.Provider)
	if !ok {
		return nil
	}
	for _, t := range cs[b.Provider] {
		if m, _ := path.Match(globOrAll(t.Account), b.Account); !m {
			continue
		}
		c := &Contract{
			Entity: t.Entity, GoverningLaw: t.GoverningLaw, BillingCountry: t.BillingCountry,
			Reference: t.Reference, Start: t.Start, End: t.End, NoticeDays: t.NoticeDays,
			Source: ContractDeclared,
		}
		var rule ContractingRule
		switch {
		case t.Entity != "" && t.EntityCountry != "":
			c.Jurisdiction = t.EntityCountry
			return c
		case t.Entity != "":
			rule, _ = pl.Contracting.byName(t.Entity)
		default:
			place, _ := pl.Place(b.Region)
			place.Region = b.Region
			var found bool
			if rule, found = pl.Contracting.Lookup(t.BillingCountry, place); !found {
				return nil
			}
			c.Source = ContractFromTable
		}
		c.Entity, c.Jurisdiction = rule.Entity.Entity, rule.Entity.Jurisdiction
		if !rule.Independent {
			parent := pl.Controller
			c.Parent = &parent
		}
		return c
	}
	return nil
}

func globOrAll(g string) string {
	if g == "" {
		return "*"
	}
	return g
}
