package agent

import (
	"slices"
	"sort"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// Coverage is what a run covered of one provider: the accounts (AWS
// accounts, GCP projects, Alibaba accounts) it was asked to cover, those
// it listed and those it could not. "*" stands for accounts that could not
// even be found (the provider would not open, its organisation could not
// be read, the account of the default credentials could not be told).
type Coverage struct {
	Asked  []string `json:"asked"`
	Listed []string `json:"listed"`
	Failed []string `json:"failed"`
	// Source is how the accounts were found: "config" or a discovery API.
	Source string `json:"source,omitempty"`
	// Skipped counts accounts found and left out, by reason.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Partitions are the provider's partitions the run covered (aws,
	// aws-cn, aws-us-gov): those of the accounts it listed, for a
	// provider whose accounts sit in partitions.
	Partitions []string `json:"partitions,omitempty"`
}

// Coverage states of a run.
const (
	// CoverageComplete: every asked-for account was listed.
	CoverageComplete = "complete"
	// CoveragePartial: some were listed, others not.
	CoveragePartial = "partial"
	// CoverageNone: nothing the run was asked to cover could be listed;
	// the run audited nothing, whatever its findings say.
	CoverageNone = "none"
)

// CoverageState sums up the coverage of every provider; "" for a result
// that carries none (one recorded before runs did).
func CoverageState(cov map[string]*Coverage) string {
	if cov == nil {
		return ""
	}
	listed, failed := 0, 0
	for _, c := range cov {
		listed += len(c.Listed)
		failed += len(c.Failed)
	}
	switch {
	case listed == 0:
		return CoverageNone
	case failed > 0:
		return CoveragePartial
	}
	return CoverageComplete
}

// coverageBook collects the run's coverage and its gaps as listing goes.
type coverageBook struct {
	cov  map[string]*Coverage
	gaps []risk.Gap
	// partitionOf places each provider's accounts in their partitions.
	partitionOf map[string]map[string]string
}

func newCoverageBook() *coverageBook { return &coverageBook{cov: map[string]*Coverage{}} }

func (b *coverageBook) of(provider string) *Coverage {
	c := b.cov[provider]
	if c == nil {
		c = &Coverage{Asked: []string{}, Listed: []string{}, Failed: []string{}}
		b.cov[provider] = c
	}
	return c
}

func (b *coverageBook) asked(provider, account string) {
	c := b.of(provider)
	c.Asked = append(c.Asked, account)
}

func (b *coverageBook) listed(provider, account string) {
	c := b.of(provider)
	c.Listed = append(c.Listed, account)
}

// failed records an account (or "*") that could not be listed, and its
// UNK-002. fallbackAPI names the step when the error names no API.
func (b *coverageBook) failed(provider, account, fallbackAPI string, err error) {
	c := b.of(provider)
	c.Failed = append(c.Failed, account)
	api, perm := providers.APIOf(err)
	if api == "" {
		api = fallbackAPI
	}
	b.gaps = append(b.gaps, risk.Gap{Provider: provider, Account: account, API: api, Error: providers.ErrorText(err), Permission: perm})
}

func (b *coverageBook) discovered(provider string, d providers.Discovery) {
	c := b.of(provider)
	c.Source, c.Skipped, c.Partitions = d.Source, d.Skipped, d.Partitions
	if len(d.PartitionOf) > 0 {
		if b.partitionOf == nil {
			b.partitionOf = map[string]map[string]string{}
		}
		b.partitionOf[provider] = d.PartitionOf
	}
}

// done sorts the lists, for stable documents, and names the partitions
// covered: those of the accounts listed.
func (b *coverageBook) done() map[string]*Coverage {
	for prov, of := range b.partitionOf {
		c := b.cov[prov]
		if c == nil {
			continue
		}
		c.Partitions = nil
		for _, a := range c.Listed {
			if p := of[a]; p != "" && !slices.Contains(c.Partitions, p) {
				c.Partitions = append(c.Partitions, p)
			}
		}
		sort.Strings(c.Partitions)
	}
	for _, c := range b.cov {
		sort.Strings(c.Asked)
		sort.Strings(c.Listed)
		sort.Strings(c.Failed)
	}
	return b.cov
}
