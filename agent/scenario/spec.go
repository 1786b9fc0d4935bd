package scenario

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Kinds of event, as spelled before the first colon of a spec.
const (
	Ban    = "ban"
	Cutoff = "cutoff"
	Compel = "compel"
	Region = "region"
	Key    = "key"
)

// Spec is one parsed scenario spec, such as ban:alibaba or region:gcp:nam4.
type Spec struct {
	Kind string
	// Provider is set for ban and region, in lower case.
	Provider string
	// Jurisdiction is set for cutoff and compel, an upper-case ISO code.
	Jurisdiction string
	// Region is set for region, in lower case (region codes are compared
	// without case, as GCS answers them in upper case).
	Region string
	// Key is the key pattern of a key spec, as given (ids are case-sensitive).
	Key string
}

var (
	isoCode  = regexp.MustCompile(`^[A-Za-z]{2}$`)
	provName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
)

// forms says what each kind expects after its name, for error messages.
var forms = map[string]string{
	Ban:    "ban:PROVIDER (such as ban:alibaba)",
	Cutoff: "cutoff:JURISDICTION (an ISO 3166-1 alpha-2 code such as cutoff:CN)",
	Compel: "compel:JURISDICTION (an ISO 3166-1 alpha-2 code such as compel:US)",
	Region: "region:PROVIDER:REGION (such as region:alibaba:cn-hangzhou)",
	Key:    "key:KEY (a KMS key id, ARN or name; a glob such as key:*/cryptoKeys/ledger-* is allowed)",
}

const kindsList = "ban:PROVIDER, cutoff:JURISDICTION, compel:JURISDICTION, region:PROVIDER:REGION or key:KEY"

// Parse reads a spec; kinds, providers, jurisdictions and regions are
// case-insensitive. The error names the spec and the form expected.
func Parse(s string) (Spec, error) {
	raw := strings.TrimSpace(s)
	kind, rest, ok := strings.Cut(raw, ":")
	kind = strings.ToLower(kind)
	form, known := forms[kind]
	if !ok || !known {
		return Spec{}, fmt.Errorf("scenario %q: want %s", s, kindsList)
	}
	bad := func() (Spec, error) { return Spec{}, fmt.Errorf("scenario %q: want %s", s, form) }
	switch kind {
	case Ban:
		if !provName.MatchString(rest) {
			return bad()
		}
		return Spec{Kind: kind, Provider: strings.ToLower(rest)}, nil
	case Cutoff, Compel:
		if !isoCode.MatchString(rest) {
			return bad()
		}
		return Spec{Kind: kind, Jurisdiction: strings.ToUpper(rest)}, nil
	case Region:
		p, r, ok := strings.Cut(rest, ":")
		if !ok || !provName.MatchString(p) || strings.TrimSpace(r) == "" || strings.ContainsAny(r, " \t") {
			return bad()
		}
		return Spec{Kind: kind, Provider: strings.ToLower(p), Region: strings.ToLower(r)}, nil
	default: // Key
		if strings.TrimSpace(rest) == "" {
			return bad()
		}
		if _, err := path.Match(rest, ""); err != nil {
			return Spec{}, fmt.Errorf("scenario %q: %q is not a valid glob: want %s", s, rest, form)
		}
		return Spec{Kind: kind, Key: rest}, nil
	}
}

// ParseAll parses every spec, stopping at the first bad one.
func ParseAll(specs []string) ([]Spec, error) {
	out := make([]Spec, 0, len(specs))
	for _, s := range specs {
		sp, err := Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// String is the spec in its canonical spelling, which Parse reads back.
func (s Spec) String() string {
	switch s.Kind {
	case Ban:
		return Ban + ":" + s.Provider
	case Cutoff, Compel:
		return s.Kind + ":" + s.Jurisdiction
	case Region:
		return Region + ":" + s.Provider + ":" + s.Region
	case Key:
		return Key + ":" + s.Key
	}
	return ""
}

// Title says what the event is, in words.
func (s Spec) Title() string {
	switch s.Kind {
	case Ban:
		return "Ban of " + s.Provider
	case Cutoff:
		return s.Jurisdiction + " cuts off service"
	case Compel:
		return s.Jurisdiction + " compels disclosure"
	case Region:
		return "Loss of " + s.Provider + " region " + s.Region
	case Key:
		return "Key " + s.Key + " disabled or destroyed"
	}
	return ""
}
