package aws

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/reachaudit/reachaudit/providers"
)

// discoverySource names, in the run's coverage, how the accounts were found.
const (
	sourceConfig       = "config"
	sourceOrganization = "organizations:ListAccounts"
	sourceOUs          = "organizations:ListAccountsForParent"
)

// The Organizations calls discovery makes, each granted by the action of
// the same name (iam-policy.json).
const (
	opListAccounts          = "ListAccounts"
	opListAccountsForParent = "ListAccountsForParent"
	opListChildren          = "ListChildren"
)

var orgOps = []string{opListAccounts, opListAccountsForParent, opListChildren}

// organizationAccounts lists the organisation's ACTIVE member accounts,
// from the whole organisation or under the configured OUs (recursively),
// less exclude_accounts. It is called with the base credentials, which
// belong to the management account or a delegated administrator.
// Suspended and closing members are skipped and counted.
func (p *Provider) organizationAccounts(ctx context.Context) ([]string, providers.Discovery, error) {
	client := organizations.NewFromConfig(p.base, func(o *organizations.Options) {
		o.Region = orgRegion(p.region)
		if p.endpoint.orgs != "" {
			o.BaseEndpoint = aws.String(p.endpoint.orgs)
		}
	})
	d := providers.Discovery{Source: sourceOrganization, Skipped: map[string]int{}}
	var members []orgtypes.Account
	if len(p.cfg.OUs) == 0 {
		accts, err := p.listAccounts(ctx, client)
		if err != nil {
			return nil, d, err
		}
		members = accts
	} else {
		d.Source = sourceOUs
		seen := map[string]bool{}
		for _, ou := range p.cfg.OUs {
			accts, err := p.accountsUnder(ctx, client, ou, seen)
			if err != nil {
				return nil, d, err
			}
			members = append(members, accts...)
		}
	}
	ids := map[string]bool{}
	for _, a := range members {
		id := aws.ToString(a.Id)
		switch {
		case a.Status != orgtypes.AccountStatusActive:
			d.Skipped[string(a.Status)]++
		case slices.Contains(p.cfg.ExcludeAccounts, id):
			d.Skipped["excluded"]++
		default:
			ids[id] = true
		}
	}
	for _, id := range p.cfg.Accounts {
		ids[id] = true
	}
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, d, nil
}

func (p *Provider) listAccounts(ctx context.Context, client *organizations.Client) ([]orgtypes.Account, error) {
	var out []orgtypes.Account
	err := providers.Paginate(ctx, "organizations:"+opListAccounts, func(ctx context.Context, token string) (string, error) {
		page, err := call(ctx, p, opListAccounts, func(ctx context.Context) (*organizations.ListAccountsOutput, error) {
			return client.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: optional(token)})
		})
		if err != nil {
			return "", shortError(err)
		}
		out = append(out, page.Accounts...)
		return aws.ToString(page.NextToken), nil
	})
	if err != nil {
		return nil, orgError(opListAccounts, err)
	}
	return out, nil
}

// accountsUnder lists the accounts of an OU and of every OU below it.
func (p *Provider) accountsUnder(ctx context.Context, client *organizations.Client, parent string, seen map[string]bool) ([]orgtypes.Account, error) {
	if seen[parent] {
		return nil, nil // reached twice: it lies under another configured OU
	}
	seen[parent] = true
	var out []orgtypes.Account
	err := providers.Paginate(ctx, "organizations:"+opListAccountsForParent, func(ctx context.Context, token string) (string, error) {
		page, err := call(ctx, p, opListAccountsForParent, func(ctx context.Context) (*organizations.ListAccountsForParentOutput, error) {
			return client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent), NextToken: optional(token)})
		})
		if err != nil {
			return "", shortError(err)
		}
		out = append(out, page.Accounts...)
		return aws.ToString(page.NextToken), nil
	})
	if err != nil {
		return nil, orgError(opListAccountsForParent, err)
	}
	var ous []string
	err = providers.Paginate(ctx, "organizations:"+opListChildren, func(ctx context.Context, token string) (string, error) {
		page, err := call(ctx, p, opListChildren, func(ctx context.Context) (*organizations.ListChildrenOutput, error) {
			return client.ListChildren(ctx, &organizations.ListChildrenInput{
				ParentId: aws.String(parent), ChildType: orgtypes.ChildTypeOrganizationalUnit, NextToken: optional(token)})
		})
		if err != nil {
			return "", shortError(err)
		}
		for _, c := range page.Children {
			ous = append(ous, aws.ToString(c.Id))
		}
		return aws.ToString(page.NextToken), nil
	})
	if err != nil {
		return nil, orgError(opListChildren, err)
	}
	for _, ou := range ous {
		below, err := p.accountsUnder(ctx, client, ou, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, below...)
	}
	return out, nil
}

// optional is a page token as the SDK's inputs take it: nil for the first.
func optional(token string) *string {
	if token == "" {
		return nil
	}
	return aws.String(token)
}

func orgError(op string, err error) error {
	return &providers.APIError{API: "organizations:" + op, Permission: "organizations:" + op,
		Err: fmt.Errorf("aws: list the organization's accounts: %s: %w", op, shortError(err))}
}

// orgRegion is where Organizations answers for a partition: it is a
// global service with one endpoint per partition.
func orgRegion(region string) string {
	switch partitionOf(region) {
	case partitionCN:
		return "cn-northwest-1"
	case partitionGov:
		return "us-gov-west-1"
	}
	return defaultRegion
}
