package agent

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/providers"
)

// brokenPlugin stands for a plugin with a bug its own guard does not
// catch: no real plugin can be made to panic on purpose, so the agent's
// last line of defence is tested with one that always does.
type brokenPlugin struct{}

func (brokenPlugin) Accounts(context.Context) ([]string, error) { return []string{"acct"}, nil }
func (brokenPlugin) List(_ context.Context, account string) ([]providers.BucketRef, error) {
	if account == "bad" {
		panic("list bug")
	}
	return []providers.BucketRef{{Account: account, Name: "b1", Region: "r1"}, {Account: account, Name: "b2"}}, nil
}
func (brokenPlugin) Describe(_ context.Context, ref providers.BucketRef) providers.Bucket {
	panic("describe bug in " + ref.Name)
}

// A panicking plugin costs the buckets' fields, not the scan: every listed
// bucket is still in the result, with the panic as an unknown (UNK-001).
func TestScanWorkersRecoverPluginPanics(t *testing.T) {
	o := &openProvider{name: "aws", p: brokenPlugin{}, calls: providers.NewCalls("aws", 0, 0, nil)}
	jobs := []job{{o, providers.BucketRef{Account: "acct", Name: "b1", Region: "r1"}}, {o, providers.BucketRef{Account: "acct", Name: "b2"}}}
	out, _ := describeAll(context.Background(), jobs, Limits{Concurrency: 2, PerAccount: 2}, nil, nil)
	if len(out) != 2 {
		t.Fatalf("%d records, want 2", len(out))
	}
	for i, b := range out {
		if b.Name != jobs[i].ref.Name || b.URI != "s3://"+b.Name || !b.IsUnknown(providers.FieldRecord) ||
			!strings.Contains(b.Unknowns[0].Error, "describe bug") {
			t.Errorf("record %d after a panic: %+v", i, b)
		}
	}
	if out[0].Region != "r1" {
		t.Errorf("the listed region is lost: %+v", out[0])
	}
	_, errs := listAll(context.Background(), []openProvider{*o}, Scope{}, 2, newCoverageBook(), slog.New(slog.DiscardHandler))
	if len(errs) != 0 {
		t.Fatalf("errors %+v", errs)
	}
	o2 := *o
	o2.p = badAccounts{brokenPlugin{}}
	jobs, errs = listAll(context.Background(), []openProvider{o2}, Scope{}, 2, newCoverageBook(), slog.New(slog.DiscardHandler))
	if len(jobs) != 2 || len(errs) != 1 || !strings.Contains(errs[0].Error, "list bug") {
		t.Fatalf("jobs %d errors %+v: a panic listing one account must be that account's error", len(jobs), errs)
	}
}

type badAccounts struct{ brokenPlugin }

func (badAccounts) Accounts(context.Context) ([]string, error) { return []string{"acct", "bad"}, nil }
