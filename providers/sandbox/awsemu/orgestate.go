package awsemu

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Organization is the aws section's `organization:` block: the AWS
// Organization as Organizations lists it. With it, the configuration the
// emulator hands out discovers the accounts (organization: true) instead
// of naming them.
type Organization struct {
	// Management is the management account; default the first member.
	Management string `yaml:"management"`
	// Root is the root's id; default r-0000.
	Root string `yaml:"root"`
	// OUs are organisational units; an OU's parent is the root or another OU.
	OUs []OU `yaml:"ous"`
	// Members are the member accounts. An ACTIVE member that is not an
	// estate account has no role to assume: AssumeRole refuses it.
	// Absent: every estate account that holds buckets, ACTIVE, under the root.
	Members []Member `yaml:"members"`
	// Deny lists Organizations calls that answer AccessDeniedException
	// (ListAccounts, ListChildren, ListAccountsForParent).
	Deny []string `yaml:"deny"`
}

// OU is an organisational unit.
type OU struct {
	ID     string `yaml:"id"`
	Parent string `yaml:"parent"` // default the root
}

// Member is a member account.
type Member struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Status string `yaml:"status"` // ACTIVE (default) | SUSPENDED | PENDING_CLOSURE
	Parent string `yaml:"parent"` // an OU id; default the root
}

var (
	rootIDRe = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouIDRe   = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	orgOps   = []string{"ListAccounts", "ListChildren", "ListAccountsForParent"}
)

const defaultRoot = "r-0000"

func (o *Organization) root() string { return orDefault(o.Root, defaultRoot) }

// id is the organisation id in ARNs.
func (o *Organization) id() string { return o.root()[2:] + "example" }

func (o *Organization) denies(op string) bool { return slices.Contains(o.Deny, op) }

func (o *Organization) parentOf(m Member) string { return orDefault(m.Parent, o.root()) }

func (o *Organization) parentOfOU(u OU) string { return orDefault(u.Parent, o.root()) }

func (o *Organization) hasParent(id string) bool {
	if id == o.root() {
		return true
	}
	return slices.ContainsFunc(o.OUs, func(u OU) bool { return u.ID == id })
}

func (o *Organization) validate(c *yamlfile.Check, p string) {
	if o.Root != "" && !rootIDRe.MatchString(o.Root) {
		c.Errorf(p+".root", "%q is not a root id such as r-ab12", o.Root)
	}
	if o.Management != "" && !accountIDRe.MatchString(o.Management) {
		c.Errorf(p+".management", "%q is not a 12-digit AWS account id", o.Management)
	}
	ous := map[string]bool{}
	for i, u := range o.OUs {
		if !ouIDRe.MatchString(u.ID) {
			c.Errorf(fmt.Sprintf("%s.ous[%d].id", p, i), "%q is not an OU id such as ou-ab12-11111111", u.ID)
		}
		ous[u.ID] = true
	}
	for i, u := range o.OUs {
		if u.Parent != "" && u.Parent != o.root() && !ous[u.Parent] {
			c.Errorf(fmt.Sprintf("%s.ous[%d].parent", p, i), "%q is neither the root nor an OU of the organization", u.Parent)
		}
		// A cycle would make the OU tree endless.
		seen := map[string]bool{u.ID: true}
		for at := u.Parent; at != "" && at != o.root(); {
			if seen[at] {
				c.Errorf(fmt.Sprintf("%s.ous[%d].parent", p, i), "OU %s is its own ancestor", u.ID)
				break
			}
			seen[at] = true
			next := ""
			for _, v := range o.OUs {
				if v.ID == at {
					next = v.Parent
				}
			}
			at = next
		}
	}
	members := map[string]bool{}
	for i, m := range o.Members {
		mp := fmt.Sprintf("%s.members[%d]", p, i)
		c.Required(mp+".id", m.ID)
		if m.ID != "" && !accountIDRe.MatchString(m.ID) {
			c.Errorf(mp+".id", "%q is not a 12-digit AWS account id", m.ID)
		}
		if members[m.ID] {
			c.Errorf(mp+".id", "account %s is listed twice", m.ID)
		}
		members[m.ID] = true
		if m.Status != "" {
			c.OneOf(mp+".status", m.Status, "ACTIVE", "SUSPENDED", "PENDING_CLOSURE")
		}
		if m.Parent != "" && m.Parent != o.root() && !ous[m.Parent] {
			c.Errorf(mp+".parent", "%q is neither the root nor an OU of the organization", m.Parent)
		}
	}
	for i, d := range o.Deny {
		c.OneOf(fmt.Sprintf("%s.deny[%d]", p, i), d, orgOps...)
	}
}

// organizationOf returns the estate's organisation with its defaults
// filled in: every account that holds buckets a member, ACTIVE, under the
// root; the management account the first member. Nil without one.
func organizationOf(e *Estate) *Organization {
	if e.Organization == nil {
		return nil
	}
	o := *e.Organization
	if len(o.Members) == 0 {
		for _, a := range e.Accounts {
			if len(a.Buckets) > 0 {
				o.Members = append(o.Members, Member{ID: a.ID})
			}
		}
	}
	if o.Management == "" && len(o.Members) > 0 {
		o.Management = o.Members[0].ID
	}
	return &o
}

// active reports whether account is an ACTIVE member (nil-safe).
func (o *Organization) active(account string) bool {
	if o == nil {
		return false
	}
	for _, m := range o.Members {
		if m.ID == account {
			return orDefault(m.Status, "ACTIVE") == "ACTIVE"
		}
	}
	return false
}
