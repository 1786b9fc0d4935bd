// Package history keeps the agent's runs in an embedded SQLite database
// (pure Go, no cgo) and computes drift between two runs: findings that are
// new, changed or resolved, bucket facts that changed, buckets added or
// removed, and provider-wide loss of reach.
//
// It must not scan, render or deliver anything: it stores what the agent
// produced and answers what changed. One process writes; any number of
// readers (such as `reachaudit history list`) may read at the same time.
package history
