package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// Sizes cross-checked against moto's CloudWatch: the datapoints are
// written with the aws CLI, as S3 would publish them, and read back with
// the aws CLI and through the plugin.
//
// Where moto departs from CloudWatch the test asserts what moto says:
//   - moto 5.2.1 does not speak RPC v2 CBOR, the SDK's default protocol
//     for CloudWatch, so the plugin's client is switched to AWS Query
//     (which CloudWatch also serves) for this test only;
//   - moto answers a SEARCH expression with an empty, Complete result: it
//     does not evaluate metric math. The plugin sums BucketSizeBytes over
//     every storage type with SEARCH, so against moto every size reads as
//     "no datapoint", which is what the plugin does with an empty answer
//     (the aws CLI reads the datapoints back with MetricStat queries,
//     which moto does answer).
//
// What the cross-check shows: moto, written by others, accepts the
// plugin's batched GetMetricData (one call for both buckets of the
// region, two queries a bucket) and the plugin reads its answer; a bucket
// with no datapoint is unknown, never zero.
func TestMotoCloudWatchSizes(t *testing.T) {
	moto := sandboxtest.StartMoto(t)
	url := moto.URL
	aws := func(args ...string) string { return moto.AWS(append([]string{"--region", "us-east-1"}, args...)...) }
	for _, b := range []string{"m-sized", "m-young"} {
		aws("s3api", "create-bucket", "--bucket", b)
	}
	at := time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339)
	point := func(metric, storage string, v int64) string {
		return fmt.Sprintf(`{"MetricName":%q,"Dimensions":[{"Name":"BucketName","Value":"m-sized"},{"Name":"StorageType","Value":%q}],"Value":%d,"Timestamp":%q,"Unit":"Bytes"}`,
			metric, storage, v, at)
	}
	aws("cloudwatch", "put-metric-data", "--namespace", "AWS/S3", "--metric-data",
		"["+point("BucketSizeBytes", "StandardStorage", 3_000_000)+","+point("BucketSizeBytes", "GlacierStorage", 1_000_000)+","+
			strings.Replace(point("NumberOfObjects", "AllStorageTypes", 42), `"Unit":"Bytes"`, `"Unit":"Count"`, 1)+"]")

	// moto holds what was written: read back by the aws CLI.
	start, end := time.Now().UTC().Add(-72*time.Hour).Format(time.RFC3339), time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	stat := `[{"Id":"std","MetricStat":{"Metric":{"Namespace":"AWS/S3","MetricName":"BucketSizeBytes","Dimensions":[{"Name":"BucketName","Value":"m-sized"},{"Name":"StorageType","Value":"StandardStorage"}]},"Period":86400,"Stat":"Average"},"ReturnData":true},` +
		`{"Id":"n","MetricStat":{"Metric":{"Namespace":"AWS/S3","MetricName":"NumberOfObjects","Dimensions":[{"Name":"BucketName","Value":"m-sized"},{"Name":"StorageType","Value":"AllStorageTypes"}]},"Period":86400,"Stat":"Average"},"ReturnData":true}]`
	if out := aws("cloudwatch", "get-metric-data", "--start-time", start, "--end-time", end, "--metric-data-queries", stat); !strings.Contains(out, "3000000.0") || !strings.Contains(out, "42.0") {
		t.Fatalf("moto does not hold the datapoints written: %s", out)
	}

	calls := providers.NewCalls(name, 0, 0, nil)
	p, err := Open(context.Background(), &Config{
		Endpoint:           url,
		CloudWatchEndpoint: url,
		Credentials:        &StaticCredentials{AccessKeyID: "testing", SecretAccessKey: "testing"},
	}, providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	p.UseCloudWatchQuery()
	ctx := context.Background()
	refs, err := p.List(ctx, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	var bs []*providers.Bucket
	for _, ref := range refs {
		b := p.Describe(ctx, ref)
		bs = append(bs, &b)
	}
	if len(bs) != 2 {
		t.Fatalf("%d buckets listed, want 2", len(bs))
	}
	before := opCalls(calls, "GetMetricData")
	p.Sizes(ctx, "123456789012", bs)
	if n := opCalls(calls, "GetMetricData") - before; n != 1 {
		t.Errorf("%d GetMetricData calls for two buckets in one region, want one batch", n)
	}
	for _, b := range bs {
		if b.Size != nil {
			t.Errorf("%s: size %+v read from moto, which does not evaluate SEARCH: the test no longer knows moto", b.Name, *b.Size)
			continue
		}
		var why string
		for _, u := range b.Unknowns {
			if u.Field == providers.FieldSize {
				why = u.Error
			}
		}
		// Not an API error: moto accepted the batch and answered it.
		if !strings.Contains(why, "no BucketSizeBytes datapoint") {
			t.Errorf("%s: size unknown because %q, want moto's empty answer", b.Name, why)
		}
	}
}
