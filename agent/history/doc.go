// Package history keeps the agent's runs in an embedded SQLite database
// (pure Go, no cgo), or in PostgreSQL for a fleet of agents that share one
// history, and computes drift between two runs: findings that are
// new, changed or resolved, bucket facts that changed, buckets added or
// removed, and provider-wide loss of reach.
//
// It must not scan, render or deliver anything: it stores what the agent
// produced and answers what changed. An SQLite file has one writing
// process; PostgreSQL any number; readers (such as `reachaudit history
// list`) read at the same time.
package history
