package gcp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/reachaudit/reachaudit/providers"
)

// Cloud Storage reports each bucket's bytes and object count to Cloud
// Monitoring about once a day; one ListTimeSeries per project and metric
// reads every bucket of the project.
const (
	sizeAPI        = "monitoring:ListTimeSeries"
	sizePermission = "monitoring.timeSeries.list"
	sizeLookback   = 3 * 24 * time.Hour
	seriesPage     = 1000
)

// sizeMetrics are the metric pairs, newest first: the v2 metrics, and the
// v1 ones for projects that do not report v2 yet.
var sizeMetrics = []struct{ bytes, count string }{
	{"storage.googleapis.com/storage/v2/total_bytes", "storage.googleapis.com/storage/v2/total_count"},
	{"storage.googleapis.com/storage/total_bytes", "storage.googleapis.com/storage/object_count"},
}

// Sizes reads the sizes of a project's buckets: the latest point of each
// series in the last three days, summed over a bucket's series (one per
// storage class).
func (p *provider) Sizes(ctx context.Context, project string, buckets []*providers.Bucket) {
	now := p.env.Clock().UTC()
	var bytes, counts map[string]point
	var err error
	source := ""
	for _, m := range sizeMetrics {
		bytes, err = p.series(ctx, project, m.bytes, now)
		if err != nil || len(bytes) > 0 {
			source = "monitoring:" + m.bytes
			if err == nil {
				counts, err = p.series(ctx, project, m.count, now)
			}
			break
		}
	}
	for _, b := range buckets {
		switch pt, ok := bytes[b.Name]; {
		case err != nil:
			b.SetUnknown(providers.FieldSize, sizeAPI, explain(err, sizePermission), grantFor(err, sizePermission))
		case !ok:
			b.SetUnknown(providers.FieldSize, sizeAPI, errors.New("no total_bytes point in the last 3 days (Cloud Storage reports once a day; a new bucket has none yet)"), "")
		default:
			sz := &providers.Size{Bytes: int64(pt.v), AsOf: pt.at, Source: source}
			if c, ok := counts[b.Name]; ok {
				n := int64(c.v)
				sz.Objects = &n
			}
			b.Size = sz
		}
	}
}

type point struct {
	v  float64
	at time.Time
}

// series reads one metric for every bucket of a project, paged; it
// refuses a page token it has already seen.
func (p *provider) series(ctx context.Context, project, metric string, now time.Time) (map[string]point, error) {
	req := &monitoringpb.ListTimeSeriesRequest{
		Name:     "projects/" + project,
		Filter:   fmt.Sprintf(`metric.type="%s" AND resource.type="gcs_bucket"`, metric),
		Interval: &monitoringpb.TimeInterval{StartTime: timestamppb.New(now.Add(-sizeLookback)), EndTime: timestamppb.New(now)},
		View:     monitoringpb.ListTimeSeriesRequest_FULL,
		PageSize: seriesPage,
	}
	it := p.metrics.ListTimeSeries(ctx, req, kmsRetry)
	out := map[string]point{}
	// The iterator carries the page token; Paginate watches it. One
	// counted call per answer: the first Next fetches a page, the rest
	// drain it.
	return out, providers.Paginate(ctx, sizeAPI, func(ctx context.Context, _ string) (string, error) {
		var next string
		page, err := providers.CallTimeout(ctx, p.env.Calls, "monitoring.timeSeries.list", p.cfg.timeout(),
			func(context.Context) ([]*monitoringpb.TimeSeries, error) {
				var page []*monitoringpb.TimeSeries
				for {
					ts, err := it.Next()
					if errors.Is(err, iterator.Done) {
						return page, nil
					}
					if err != nil {
						return nil, err
					}
					page = append(page, ts)
					if it.PageInfo().Remaining() == 0 {
						next = it.PageInfo().Token
						return page, nil
					}
				}
			})
		if err != nil {
			return "", err
		}
		for _, ts := range page {
			name := ts.GetResource().GetLabels()["bucket_name"]
			var latest *monitoringpb.Point
			for _, pt := range ts.GetPoints() {
				if latest == nil || pt.GetInterval().GetEndTime().AsTime().After(latest.GetInterval().GetEndTime().AsTime()) {
					latest = pt
				}
			}
			if name == "" || latest == nil {
				continue
			}
			v := latest.GetValue().GetDoubleValue() + float64(latest.GetValue().GetInt64Value())
			cur := out[name]
			at := latest.GetInterval().GetEndTime().AsTime().UTC()
			if at.After(cur.at) {
				cur.at = at
			}
			cur.v += v
			out[name] = cur
		}
		return next, nil
	})
}

var _ providers.Sizer = (*provider)(nil)
