package scenario

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/reachaudit/reachaudit/providers/alibaba"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/gcp"

	"github.com/reachaudit/reachaudit/providers"
)

const (
	TB = int64(1e12)
	GB = int64(1e9)
)

type site struct{ provider, region, controller, operator, country string }

var (
	aliHangzhou = site{"alibaba", "cn-hangzhou", "CN", "CN", "CN"}
	aliUSWest1  = site{"alibaba", "us-west-1", "CN", "CN", "US"}
	awsUSEast1  = site{"aws", "us-east-1", "US", "US", "US"}
	awsUSWest2  = site{"aws", "us-west-2", "US", "US", "US"}
	awsCNNorth1 = site{"aws", "cn-north-1", "US", "CN", "CN"}
	gcsUS       = site{"gcp", "us-central1", "US", "US", "US"}
)

var schemes = map[string]string{"aws": "s3", "gcp": "gs", "alibaba": "oss"}

// bucket is a scanned record at p, encrypted under an enabled key in the
// provider's KMS, holding bytes (-1: size unknown).
func bucket(name string, p site, bytes int64, opts ...func(*providers.Bucket)) providers.Bucket {
	b := providers.NewBucket(p.provider, "acct-"+p.provider, name, schemes[p.provider]+"://"+name)
	b.Region, b.Countries = p.region, []string{p.country}
	b.Controller, b.Operator = p.controller, p.operator
	b.Custody = providers.CustodyProviderKMS
	b.Key = &providers.Key{ID: "key-" + name, State: providers.KeyEnabled}
	if bytes >= 0 {
		objects := bytes / 1e6
		b.Size = &providers.Size{Bytes: bytes, Objects: &objects, Source: "test"}
	}
	for _, o := range opts {
		o(&b)
	}
	return b
}

// copyTo adds a copy of the bucket at dst, filled as the agent fills it.
func copyTo(dst string, p site, source string) func(*providers.Bucket) {
	return func(b *providers.Bucket) {
		b.Copies = append(b.Copies, providers.Copy{Provider: p.provider, Bucket: dst, Region: p.region,
			Countries: []string{p.country}, Controller: p.controller, Operator: p.operator, Source: source})
	}
}

func custody(c providers.Custody) func(*providers.Bucket) {
	return func(b *providers.Bucket) {
		b.Custody = c
		if !c.ProviderCanDecrypt() || c == providers.CustodyProviderManaged || c == providers.CustodyUnknown {
			b.Key = nil
		}
	}
}

func keyed(id string, st providers.KeyState) func(*providers.Bucket) {
	return func(b *providers.Bucket) { b.Key = &providers.Key{ID: id, State: st} }
}

func dualRegion(code string, regions ...string) func(*providers.Bucket) {
	return func(b *providers.Bucket) {
		b.Region, b.LocationType, b.DataRegions = code, providers.LocationDualRegion, regions
	}
}

// estate holds one bucket per case the engine must tell apart.
func estate() []providers.Bucket {
	return []providers.Bucket{
		// Saved by a declared copy at another provider.
		bucket("ali-orders", aliHangzhou, 3*TB, copyTo("aws-orders-archive", awsUSEast1, providers.CopyDeclared)),
		// Its only copy is at the banned provider itself: no help.
		bucket("ali-us-web", aliUSWest1, 500*GB, copyTo("ali-cn-web-dr", aliHangzhou, providers.CopyReplication)),
		// Its copy's own key is disabled: no help.
		bucket("ali-us-vault", aliUSWest1, 200*GB, copyTo("aws-vault", awsUSEast1, providers.CopyDeclared)),
		// A size nobody could read: counted, never summed as zero.
		bucket("ali-us-young", aliUSWest1, -1),
		// Keys the provider never holds: not exposed by compulsion.
		bucket("ali-ekm", aliUSWest1, 10*GB, custody(providers.CustodyCustomerSupplied)),
		bucket("aws-orders-archive", awsUSEast1, 3*TB, custody(providers.CustodyProviderManaged)),
		bucket("aws-vault", awsUSEast1, 200*GB, keyed("arn:aws:kms:us-east-1:111122223333:key/vault-1", providers.KeyDisabled)),
		// Operated in China by a local partner.
		bucket("aws-cn-marketing", awsCNNorth1, 40*GB),
		// A ledger under a globbed key, replicated to another region under
		// another key; and one that is not.
		bucket("aws-ledger", awsUSEast1, 2*TB, keyed("arn:aws:kms:us-east-1:111122223333:key/ledger-2026", providers.KeyEnabled),
			copyTo("aws-ledger-dr", awsUSWest2, providers.CopyReplication)),
		bucket("aws-ledger-dr", awsUSWest2, 2*TB, keyed("arn:aws:kms:us-west-2:111122223333:key/dr-1", providers.KeyEnabled)),
		bucket("aws-ledger-old", awsUSEast1, 1*TB, keyed("arn:aws:kms:us-east-1:111122223333:key/ledger-2019", providers.KeyEnabled)),
		// A dual-region, and a custody nobody could read.
		bucket("gcs-dual", gcsUS, 800*GB, dualRegion("NAM4", "us-central1", "us-east1"), custody(providers.CustodyExternalKeyManager)),
		bucket("gcs-unread", gcsUS, 1*GB, custody(providers.CustodyUnknown)),
	}
}

func n(v int64) *int64 { return &v }

func TestEvaluate(t *testing.T) {
	tests := []struct {
		spec    string
		exit    Exit
		buckets []Bucket
		totals  Totals
	}{{
		spec: "ban:alibaba",
		buckets: []Bucket{
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-web", Effect: Lost, Bytes: n(500 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-vault", Effect: Lost, Bytes: n(200 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-ekm", Effect: Lost, Bytes: n(10 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-young", Effect: Lost},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-orders", Effect: Survives, Bytes: n(3 * TB), Copy: "s3://aws-orders-archive"},
		},
		totals: Totals{BucketsHit: 5, LostBuckets: 4, LostBytes: 710 * GB, SurvivesBuckets: 1,
			UnknownSizeBuckets: 1, ExitBytes: 3710 * GB, ExitHours: 8.24},
	}, {
		spec: "BAN:Alibaba",
		exit: Exit{BandwidthGbps: 10, EgressPerGB: map[string]float64{"alibaba": 0.07}},
		buckets: []Bucket{
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-web", Effect: Lost, Bytes: n(500 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-vault", Effect: Lost, Bytes: n(200 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-ekm", Effect: Lost, Bytes: n(10 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-young", Effect: Lost},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-orders", Effect: Survives, Bytes: n(3 * TB), Copy: "s3://aws-orders-archive"},
		},
		totals: Totals{BucketsHit: 5, LostBuckets: 4, LostBytes: 710 * GB, SurvivesBuckets: 1,
			UnknownSizeBuckets: 1, ExitBytes: 3710 * GB, ExitHours: 0.82, ExitCost: func() *float64 { v := 259.7; return &v }()},
	}, {
		// A price for one provider of two does not make a bill.
		spec: "cutoff:cn",
		exit: Exit{EgressPerGB: map[string]float64{"alibaba": 0.07}},
		buckets: []Bucket{
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-web", Effect: Lost, Bytes: n(500 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-vault", Effect: Lost, Bytes: n(200 * GB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-cn-marketing", Effect: Lost, Bytes: n(40 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-ekm", Effect: Lost, Bytes: n(10 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-young", Effect: Lost},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-orders", Effect: Survives, Bytes: n(3 * TB), Copy: "s3://aws-orders-archive"},
		},
		totals: Totals{BucketsHit: 6, LostBuckets: 5, LostBytes: 750 * GB, SurvivesBuckets: 1,
			UnknownSizeBuckets: 1, ExitBytes: 3750 * GB, ExitHours: 8.33},
	}, {
		spec: "compel:CN",
		buckets: []Bucket{
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-orders", Effect: Exposed, Bytes: n(3 * TB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-web", Effect: Exposed, Bytes: n(500 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-vault", Effect: Exposed, Bytes: n(200 * GB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-cn-marketing", Effect: Exposed, Bytes: n(40 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-young", Effect: Exposed},
		},
		totals: Totals{BucketsHit: 5, ExposedBuckets: 5, ExposedBytes: 3740 * GB, UnknownSizeBuckets: 1},
	}, {
		// An external key manager keeps the data out of reach; an unread
		// custody is not taken for one.
		spec: "compel:US",
		buckets: []Bucket{
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-orders-archive", Effect: Exposed, Bytes: n(3 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger", Effect: Exposed, Bytes: n(2 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger-dr", Effect: Exposed, Bytes: n(2 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger-old", Effect: Exposed, Bytes: n(1 * TB)},
			// Alibaba's US region: a data location in the US.
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-web", Effect: Exposed, Bytes: n(500 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-vault", Effect: Exposed, Bytes: n(200 * GB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-vault", Effect: Exposed, Bytes: n(200 * GB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-cn-marketing", Effect: Exposed, Bytes: n(40 * GB)},
			{Provider: "gcp", Account: "acct-gcp", Bucket: "gcs-unread", Effect: Exposed, Bytes: n(1 * GB)},
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-us-young", Effect: Exposed},
		},
		totals: Totals{BucketsHit: 10, ExposedBuckets: 10, ExposedBytes: 8941 * GB, UnknownSizeBuckets: 1},
	}, {
		// One region of a dual-region: the other keeps serving.
		spec: "region:gcp:us-central1",
		buckets: []Bucket{
			{Provider: "gcp", Account: "acct-gcp", Bucket: "gcs-unread", Effect: Lost, Bytes: n(1 * GB)},
			{Provider: "gcp", Account: "acct-gcp", Bucket: "gcs-dual", Effect: Survives, Bytes: n(800 * GB), Copy: "gs://gcs-dual (us-east1)"},
		},
		totals: Totals{BucketsHit: 2, LostBuckets: 1, LostBytes: 1 * GB, SurvivesBuckets: 1},
	}, {
		// The dual-region itself: both regions go.
		spec: "region:gcp:nam4",
		buckets: []Bucket{
			{Provider: "gcp", Account: "acct-gcp", Bucket: "gcs-dual", Effect: Lost, Bytes: n(800 * GB)},
		},
		totals: Totals{BucketsHit: 1, LostBuckets: 1, LostBytes: 800 * GB},
	}, {
		// A region's loss spares a copy at another provider, and the
		// same provider's copy in the same region is lost with it.
		spec: "region:alibaba:cn-hangzhou",
		buckets: []Bucket{
			{Provider: "alibaba", Account: "acct-alibaba", Bucket: "ali-orders", Effect: Survives, Bytes: n(3 * TB), Copy: "s3://aws-orders-archive"},
		},
		totals: Totals{BucketsHit: 1, SurvivesBuckets: 1},
	}, {
		spec: "region:aws:us-east-1",
		buckets: []Bucket{
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-orders-archive", Effect: Lost, Bytes: n(3 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger-old", Effect: Lost, Bytes: n(1 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-vault", Effect: Lost, Bytes: n(200 * GB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger", Effect: Survives, Bytes: n(2 * TB), Copy: "s3://aws-ledger-dr"},
		},
		totals: Totals{BucketsHit: 4, LostBuckets: 3, LostBytes: 4200 * GB, SurvivesBuckets: 1},
	}, {
		// A glob over the key's tail; the replica under another key saves
		// the ledger.
		spec: "key:ledger-*",
		buckets: []Bucket{
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger-old", Effect: Lost, Bytes: n(1 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger", Effect: Survives, Bytes: n(2 * TB), Copy: "s3://aws-ledger-dr"},
		},
		totals: Totals{BucketsHit: 2, LostBuckets: 1, LostBytes: 1 * TB, SurvivesBuckets: 1},
	}, {
		spec: "key:arn:aws:kms:*:111122223333:key/*",
		buckets: []Bucket{
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger", Effect: Lost, Bytes: n(2 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger-dr", Effect: Lost, Bytes: n(2 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-ledger-old", Effect: Lost, Bytes: n(1 * TB)},
			{Provider: "aws", Account: "acct-aws", Bucket: "aws-vault", Effect: Lost, Bytes: n(200 * GB)},
		},
		totals: Totals{BucketsHit: 4, LostBuckets: 4, LostBytes: 5200 * GB},
	}, {
		spec:    "ban:azure",
		buckets: []Bucket{},
		totals:  Totals{},
	}}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			sp, err := Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := Evaluate([]Spec{sp}, estate(), tc.exit)
			if len(got) != 1 {
				t.Fatalf("got %d scenarios, want 1", len(got))
			}
			if diff := cmp.Diff(tc.buckets, got[0].Buckets); diff != "" {
				t.Errorf("buckets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.totals, got[0].Totals); diff != "" {
				t.Errorf("totals (-want +got):\n%s", diff)
			}
			if got[0].Spec != sp.String() || got[0].Title == "" {
				t.Errorf("spec %q title %q", got[0].Spec, got[0].Title)
			}
		})
	}
}

func TestSurvivingBytes(t *testing.T) {
	sp, _ := Parse("ban:alibaba")
	if got := Evaluate([]Spec{sp}, estate(), Exit{})[0].Surviving(); got != 3*TB {
		t.Errorf("surviving = %d, want %d", got, 3*TB)
	}
}

func TestParse(t *testing.T) {
	good := map[string]string{
		"ban:alibaba":                   "ban:alibaba",
		" Ban:AWS ":                     "ban:aws",
		"cutoff:cn":                     "cutoff:CN",
		"compel:US":                     "compel:US",
		"region:alibaba:cn-hangzhou":    "region:alibaba:cn-hangzhou",
		"REGION:GCP:NAM4":               "region:gcp:nam4",
		"key:projects/p/*/ledger-*":     "key:projects/p/*/ledger-*",
		"key:arn:aws:kms:us-east-1:1:k": "key:arn:aws:kms:us-east-1:1:k",
	}
	for in, want := range good {
		sp, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if sp.String() != want {
			t.Errorf("Parse(%q) = %q, want %q", in, sp.String(), want)
		}
		if again, err := Parse(sp.String()); err != nil || again != sp {
			t.Errorf("Parse(%q) does not read back: %v", sp.String(), err)
		}
	}
	bad := map[string]string{
		"":                "want ban:PROVIDER, cutoff:JURISDICTION",
		"flood:aws":       "want ban:PROVIDER, cutoff:JURISDICTION",
		"ban":             "want ban:PROVIDER, cutoff:JURISDICTION",
		"ban:":            "want ban:PROVIDER (such as ban:alibaba)",
		"cutoff:China":    "want cutoff:JURISDICTION",
		"compel:":         "want compel:JURISDICTION",
		"region:alibaba":  "want region:PROVIDER:REGION",
		"region:alibaba:": "want region:PROVIDER:REGION",
		"key:":            "want key:KEY",
		"key:[ledger":     "not a valid glob",
	}
	for in, want := range bad {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("Parse(%q) = %v, want it to name the spec and %q", in, err, want)
		}
	}
}
