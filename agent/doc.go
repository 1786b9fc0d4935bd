// Package agent runs audits: it opens the configured provider plugins, lists
// and describes every bucket with bounded concurrency and per-account caps,
// resolves copies across providers, runs the risk engine and returns the
// run Result that the reports render.
//
// It must not import any cloud SDK or any report encoder: plugins join
// through package providers, outputs are driven by the caller.
package agent
