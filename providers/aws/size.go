package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/reachaudit/reachaudit/providers"
)

// S3 publishes its storage metrics to CloudWatch once a day, per bucket
// and storage class, in the bucket's region.
const (
	// maxQueries is GetMetricData's limit per call; each bucket takes two
	// (its size summed over every storage type, and its object count), so
	// one call covers 250 buckets.
	maxQueries = 500
	sizePeriod = 86400
	// sizeLookback is how far back a datapoint still counts: S3 reports
	// daily, and a metric older than this says nothing about today.
	sizeLookback = 3 * 24 * time.Hour
	sizeSource   = "cloudwatch:AWS/S3/BucketSizeBytes"
	sizeAPI      = "cloudwatch:GetMetricData"
)

// Sizes reads the sizes of an account's buckets with GetMetricData, one
// call per region and 250 buckets. BucketSizeBytes is summed over every
// StorageType the bucket reports (a SEARCH finds them, whatever classes
// the bucket uses); NumberOfObjects is the AllStorageTypes count.
func (p *Provider) Sizes(ctx context.Context, account string, buckets []*providers.Bucket) {
	byRegion := map[string][]*providers.Bucket{}
	for _, b := range buckets {
		if b.Region == "" || b.IsUnknown(providers.FieldRegion) {
			b.SetUnknown(providers.FieldSize, sizeAPI, errors.New("the bucket's region is unknown, and its metrics live there"), "")
			continue
		}
		byRegion[b.Region] = append(byRegion[b.Region], b)
	}
	regions := make([]string, 0, len(byRegion))
	for r := range byRegion {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	now := p.clock().UTC()
	for _, r := range regions {
		bs := byRegion[r]
		for len(bs) > 0 {
			n := min(len(bs), maxQueries/2)
			p.sizeBatch(ctx, account, r, bs[:n], now)
			bs = bs[n:]
		}
	}
}

func (p *Provider) sizeBatch(ctx context.Context, account, region string, bs []*providers.Bucket, now time.Time) {
	client := p.cloudWatchClient(account, region)
	queries := make([]cwtypes.MetricDataQuery, 0, 2*len(bs))
	for i, b := range bs {
		queries = append(queries,
			cwtypes.MetricDataQuery{
				Id: aws.String("s" + strconv.Itoa(i)),
				Expression: aws.String(fmt.Sprintf(`SUM(SEARCH('{AWS/S3,BucketName,StorageType} MetricName="BucketSizeBytes" BucketName="%s"', 'Average', %d))`,
					searchQuote(b.Name), sizePeriod)),
				ReturnData: aws.Bool(true),
			},
			cwtypes.MetricDataQuery{
				Id: aws.String("n" + strconv.Itoa(i)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/S3"), MetricName: aws.String("NumberOfObjects"),
						Dimensions: []cwtypes.Dimension{
							{Name: aws.String("BucketName"), Value: aws.String(b.Name)},
							{Name: aws.String("StorageType"), Value: aws.String("AllStorageTypes")},
						}},
					Period: aws.Int32(sizePeriod), Stat: aws.String("Average"),
				},
				ReturnData: aws.Bool(true),
			})
	}
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-sizeLookback)), EndTime: aws.Time(now),
		MetricDataQueries: queries, ScanBy: cwtypes.ScanByTimestampDescending,
	}
	type point struct {
		v  float64
		at time.Time
	}
	latest := map[string]point{}
	err := providers.Paginate(ctx, sizeAPI, func(ctx context.Context, token string) (string, error) {
		in.NextToken = optional(token)
		out, err := call(ctx, p, "GetMetricData", func(ctx context.Context) (*cloudwatch.GetMetricDataOutput, error) {
			return client.GetMetricData(ctx, in)
		})
		if err != nil {
			status, code := apiFacts(err)
			perm := ""
			if apiCodes.IsDenied(status, code) {
				perm = "cloudwatch:GetMetricData"
			}
			return "", &providers.APIError{API: sizeAPI, Permission: perm, Err: shortError(err)}
		}
		for _, r := range out.MetricDataResults {
			id := aws.ToString(r.Id)
			for k := range min(len(r.Values), len(r.Timestamps)) {
				if cur, ok := latest[id]; !ok || r.Timestamps[k].After(cur.at) {
					latest[id] = point{r.Values[k], r.Timestamps[k]}
				}
			}
		}
		return aws.ToString(out.NextToken), nil
	})
	if err != nil {
		// A size read from some pages only could be short: none is kept.
		_, perm := providers.APIOf(err)
		for _, b := range bs {
			b.SetUnknown(providers.FieldSize, sizeAPI, err, perm)
		}
		return
	}
	for i, b := range bs {
		sz, ok := latest["s"+strconv.Itoa(i)]
		if !ok {
			b.SetUnknown(providers.FieldSize, sizeAPI, fmt.Errorf("no BucketSizeBytes datapoint in the last %d days (S3 reports once a day; a new bucket has none yet)", int(sizeLookback.Hours()/24)), "")
			continue
		}
		size := &providers.Size{Bytes: int64(sz.v), AsOf: sz.at.UTC(), Source: sizeSource}
		if n, ok := latest["n"+strconv.Itoa(i)]; ok {
			objects := int64(n.v)
			size.Objects = &objects
		}
		b.Size = size
	}
}

// searchQuote escapes a bucket name for a SEARCH expression's quoted
// string (bucket names cannot hold quotes, but a listing is not trusted).
func searchQuote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `'`, `\'`).Replace(s)
}

var _ providers.Sizer = (*Provider)(nil)
