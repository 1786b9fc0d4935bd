package gcpemu

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	metricpb "google.golang.org/genproto/googleapis/api/metric"
	monitoredrespb "google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// metricServer answers Cloud Monitoring's ListTimeSeries for the GCS
// storage metrics (v2 and v1 total_bytes and total_count) of a project's
// buckets, one series per bucket, paged.
type metricServer struct {
	monitoringpb.UnimplementedMetricServiceServer
	s *Server
}

// storageMetrics maps the metric types served to the estate field each
// reads: true for bytes, false for the object count.
var storageMetrics = map[string]bool{
	"storage.googleapis.com/storage/v2/total_bytes": true,
	"storage.googleapis.com/storage/v2/total_count": false,
	"storage.googleapis.com/storage/total_bytes":    true,
	"storage.googleapis.com/storage/object_count":   false,
}

var metricTypeRe = regexp.MustCompile(`metric\.type\s*=\s*"([^"]+)"`)

const defaultPageSize = 100

func (m *metricServer) ListTimeSeries(ctx context.Context, req *monitoringpb.ListTimeSeriesRequest) (*monitoringpb.ListTimeSeriesResponse, error) {
	k := &kmsServer{s: m.s}
	if err := k.gate(ctx, "monitoring.timeSeries.list", ""); err != nil {
		return nil, err
	}
	project, ok := strings.CutPrefix(req.GetName(), "projects/")
	if !ok || project == "" {
		return nil, status.Error(codes.InvalidArgument, "Field name had an invalid value: want projects/PROJECT_ID")
	}
	if _, known := m.s.byProj[project]; !known || m.s.metricsDeny[project] {
		return nil, status.Errorf(codes.PermissionDenied, "Permission monitoring.timeSeries.list denied (or the resource may not exist).")
	}
	mt := metricTypeRe.FindStringSubmatch(req.GetFilter())
	if mt == nil {
		return nil, status.Error(codes.InvalidArgument, "Field filter had an invalid value: it names no metric.type")
	}
	isBytes, served := storageMetrics[mt[1]]
	iv := req.GetInterval()
	if iv.GetEndTime() == nil {
		return nil, status.Error(codes.InvalidArgument, "Field interval.end_time had an invalid value: it is required")
	}
	var series []*monitoringpb.TimeSeries
	at := m.s.opts.Now.UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	inside := !at.After(iv.GetEndTime().AsTime()) && (iv.GetStartTime() == nil || !at.Before(iv.GetStartTime().AsTime()))
	for _, b := range m.s.byProj[project] {
		if !served || !inside {
			break
		}
		v := b.ObjectCount
		if isBytes {
			v = b.Bytes
		}
		if v == nil {
			continue
		}
		pt := &monitoringpb.Point{Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.New(at), StartTime: timestamppb.New(at)}}
		if isBytes {
			pt.Value = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: float64(*v)}}
		} else {
			pt.Value = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_Int64Value{Int64Value: *v}}
		}
		series = append(series, &monitoringpb.TimeSeries{
			Metric: &metricpb.Metric{Type: mt[1], Labels: map[string]string{"storage_class": "STANDARD"}},
			Resource: &monitoredrespb.MonitoredResource{Type: "gcs_bucket",
				Labels: map[string]string{"project_id": project, "bucket_name": b.Name, "location": strings.ToLower(b.Location)}},
			Points: []*monitoringpb.Point{pt},
		})
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > defaultPageSize {
		size = defaultPageSize
	}
	from := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n <= 0 || n >= len(series) {
			return nil, status.Error(codes.InvalidArgument, "Field page_token had an invalid value")
		}
		from = n
	}
	to := min(len(series), from+size)
	resp := &monitoringpb.ListTimeSeriesResponse{TimeSeries: series[from:to]}
	if to < len(series) {
		resp.NextPageToken = strconv.Itoa(to)
	}
	return resp, nil
}
