package risk

import "fmt"

// Severity of a finding, ordered.
type Severity int

const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", name)
}

// Raise returns the severity one step up, at most Critical.
func (s Severity) Raise() Severity {
	if s >= Critical {
		return Critical
	}
	return s + 1
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Risk kinds.
const (
	RiskExpose    = "expose"
	RiskBlock     = "block"
	RiskResidency = "residency"
	RiskHygiene   = "hygiene"
	RiskUnknown   = "unknown"
)

// Finding statuses.
const (
	StatusOpen       = "open"
	StatusSuppressed = "suppressed"
)

// Finding is one rule firing on one bucket.
type Finding struct {
	// ID is stable across runs for the same rule, bucket and subject (the
	// field of an UNK-001, the replica of an EXP-007).
	ID               string   `json:"id"`
	Rule             string   `json:"rule"`
	Risk             string   `json:"risk"`
	Severity         Severity `json:"severity"`
	Status           string   `json:"status"`
	SuppressedReason string   `json:"suppressed_reason,omitempty"`
	Provider         string   `json:"provider"`
	Account          string   `json:"account"`
	Bucket           string   `json:"bucket"`
	Region           string   `json:"region"`
	Title            string   `json:"title"`
	// Evidence holds the record fields that made the rule fire.
	Evidence map[string]any `json:"evidence"`
	// Jurisdictions involved (ISO 3166-1 alpha-2), sorted.
	Jurisdictions []string `json:"jurisdictions"`
	LegalBasis    []string `json:"legal_basis"`
	Remediation   string   `json:"remediation"`
	// Unverified marks a finding of an earlier run kept open because what
	// decides it could not be read this time (evidence "unverified_because"
	// says what): not seen fixed, so not resolved.
	Unverified bool `json:"unverified,omitempty"`
}
