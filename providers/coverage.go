package providers

import "errors"

// APIError is a failed call that kept the audit from covering something (an
// account that could not be listed, an organisation that could not be
// read), with what a person needs to fix it: the API that failed and the
// permission that lets it answer. Plugins wrap their Accounts and List
// errors in it; the agent turns it into the UNK-002 finding, so the agent
// never needs to know a provider's API names.
type APIError struct {
	API        string // the provider's own name of the call: ListBuckets, storage.buckets.list
	Permission string // what to grant: s3:ListAllMyBuckets
	Err        error
}

func (e *APIError) Error() string { return e.Err.Error() }
func (e *APIError) Unwrap() error { return e.Err }

// APIOf returns the API and permission an error names, if it names them.
func APIOf(err error) (api, permission string) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.API, ae.Permission
	}
	return "", ""
}

// Discovery is what a plugin knows of the accounts it will scan besides
// their ids: where they came from, which it left out and why, and which
// partitions (separate clouds under one provider: aws, aws-cn, aws-us-gov)
// they span. The agent reports it in the run's coverage.
type Discovery struct {
	// Source is how the accounts were found: "config", or the discovery
	// API ("organizations:ListAccounts").
	Source string
	// Skipped counts accounts found but left out, by reason ("SUSPENDED",
	// "excluded").
	Skipped map[string]int
	// Partitions are the partitions the accounts span, sorted.
	Partitions []string
	// PartitionOf places each account in its partition, for a provider
	// with several (aws, aws-cn, aws-us-gov); the run's coverage then
	// names the partitions of the accounts it listed.
	PartitionOf map[string]string
}

// Discoverer is implemented by a Provider that can tell of its accounts
// more than their ids. Discovery is called after Accounts.
type Discoverer interface {
	Discovery() Discovery
}
