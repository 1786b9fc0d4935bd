// Package risk is the risk engine: the policy (home, trusted and concern
// jurisdictions, residency, sensitive tags, organisation, exceptions), the
// built-in policy profiles, the rule catalogue, and the evaluation that
// turns bucket records into findings.
//
// The profiles and the catalogue are data (profiles in policy.go, rules in
// rules.go); Evaluate judges providers.Bucket records against them. Where a
// record holds an unknown, the rules that need it stay silent and UNK-001
// reports the unknown instead: unknown custody is not "none", copies that
// could not be read do not prove there are none, a probe that did not run is
// not a failed probe.
//
// It must not import any cloud SDK or provider plugin, know any provider's
// names for things, or do I/O beyond reading a policy file.
package risk
