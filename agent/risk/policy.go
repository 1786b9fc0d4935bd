package risk

import "time"

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
