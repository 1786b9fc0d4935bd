// Package scenario answers "what if": what a provider ban, a jurisdiction's
// cutoff or compelled disclosure, the loss of a region or of a key would do
// to the estate a scan recorded — which buckets are lost, which survive at
// which copy, which are exposed, and how many bytes an exit must move.
//
// It is pure: it reads finished records (with their resolved copies) and
// makes no API call. A scenario is not a finding and never changes an exit
// code by itself; the caller decides what to gate on.
package scenario
