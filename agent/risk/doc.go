// Package risk is the risk engine: the policy (home, trusted and concern
// jurisdictions, residency, sensitive tags, organisation, exceptions), the
// built-in policy profiles, the rule catalogue, and the evaluation that
// turns bucket records into findings.
//
// Rules see providers.Bucket records only, never SDK types, and do no I/O.
package risk
