// Package renewal builds the pack a person takes to a contract renewal with
// one provider: a one-page summary of what is held there, the accounts and
// buckets, the legal bases the findings cite, questions for the provider
// generated from what the scan found, and an evidence appendix (when the
// scan ran, what it read, what it could not). It renders the pack as JSON,
// Markdown or HTML that prints on A4.
//
// It reads a finished run and makes no provider calls; it must not judge
// anything the risk engine has not (it counts and phrases, never rates).
package renewal
