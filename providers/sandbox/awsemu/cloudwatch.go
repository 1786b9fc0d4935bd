package awsemu

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CloudWatch answers GetMetricData in the Smithy RPC v2 CBOR protocol,
// which the SDK speaks to CloudWatch (with awsQuery-compatible error
// codes in X-Amzn-Query-Error), for the AWS/S3 storage metrics of the
// estate's buckets.
const (
	cwPathPrefix = "/service/GraniteServiceVersion20100801/operation/"
	cwMaxQueries = 500
	// cwMaxDatapoints is how many datapoints one answer carries before it
	// pages, unless the request sets MaxDatapoints: CloudWatch's default.
	cwMaxDatapoints = 100800
)

type cloudWatchService struct{ s *Server }

func (cloudWatchService) name() string { return "monitoring" }

func (cloudWatchService) identify(c *call) {
	c.op = strings.TrimPrefix(c.r.URL.Path, cwPathPrefix)
}

func (cloudWatchService) errorReply(status int, code, msg string) reply {
	body := cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + code), "message": cbor.String(msg)})
	rep := reply{status: status, ctype: "application/cbor", body: body}
	rep.set("Smithy-Protocol", "rpc-v2-cbor")
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	rep.set("X-Amzn-Query-Error", code+";"+fault)
	return rep
}

func (cw cloudWatchService) authError(c *call) reply {
	switch c.auth.fault {
	case authMissing:
		return cw.errorReply(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case authUnknownKey, authBadToken:
		return cw.errorReply(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	case authExpiredToken:
		return cw.errorReply(403, "ExpiredToken", "The security token included in the request is expired")
	case authBadSignature, authSkewed:
		return cw.errorReply(403, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided.")
	}
	return cw.errorReply(400, "IncompleteSignature", capitalise(c.auth.detail))
}

func (cw cloudWatchService) fault(c *call, kind string) reply {
	switch kind {
	case "throttle":
		return cw.errorReply(400, "Throttling", "Rate exceeded")
	case "too-large":
		return cw.errorReply(413, "RequestEntityTooLarge", "Request entity too large")
	}
	return cw.errorReply(500, "InternalServiceError", "Internal service error")
}

// sizeSearch is the one expression the emulator evaluates: the sum over
// every storage type of a bucket's BucketSizeBytes.
var sizeSearch = regexp.MustCompile(`^SUM\(SEARCH\('\{AWS/S3,BucketName,StorageType\} MetricName="BucketSizeBytes" BucketName="([^"]+)"', '(Average|Maximum|Minimum|Sum)', (\d+)\)\)$`)

type cwQuery struct {
	id, bucket, metric, storageType string
	sumAll                          bool
}

func (cw cloudWatchService) handle(c *call) reply {
	if c.op != opGetMetricData {
		return cw.errorReply(400, "UnknownOperationException", "")
	}
	p := c.auth.principal
	acct := cw.s.w.accounts[p.account]
	if p.org || acct == nil || acct.metricsDenied {
		return cw.errorReply(403, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action", p.arn))
	}
	v, err := cbor.Decode(c.body)
	in, ok := v.(cbor.Map)
	if err != nil || !ok {
		return cw.errorReply(400, "SerializationException", "the request body is not a CBOR map")
	}
	qs, err := parseQueries(in)
	if err != nil {
		return cw.errorReply(400, "ValidationError", err.Error())
	}
	start, errS := cbor.AsTime(in["StartTime"])
	end, errE := cbor.AsTime(in["EndTime"])
	if errS != nil || errE != nil || !end.After(start) {
		return cw.errorReply(400, "ValidationError", "StartTime and EndTime are required, and EndTime must be after StartTime")
	}
	from := 0
	if tok, ok := in["NextToken"].(cbor.String); ok && tok != "" {
		from, err = strconv.Atoi(string(tok))
		if err != nil || from < 0 || from >= len(qs) {
			return cw.errorReply(400, "InvalidNextToken", "The service couldn't process the token")
		}
	}
	limit := cwMaxDatapoints
	if n, err := cbor.AsInt64(in["MaxDatapoints"]); err == nil && n > 0 {
		limit = int(n)
	}
	results := cbor.List{}
	to, points := from, 0
	for ; to < len(qs); to++ {
		r := cw.result(qs[to], acct, c.auth.region, start, end)
		n := len(r["Values"].(cbor.List))
		if points+n > limit && to > from {
			break
		}
		points += n
		results = append(results, r)
	}
	out := cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}
	if to < len(qs) {
		out["NextToken"] = cbor.String(strconv.Itoa(to))
	}
	rep := reply{status: 200, ctype: "application/cbor", body: cbor.Encode(out)}
	rep.set("Smithy-Protocol", "rpc-v2-cbor")
	return rep
}

func parseQueries(in cbor.Map) ([]cwQuery, error) {
	list, ok := in["MetricDataQueries"].(cbor.List)
	if !ok || len(list) == 0 {
		return nil, errors.New("MetricDataQueries is required")
	}
	if len(list) > cwMaxQueries {
		return nil, fmt.Errorf("The collection MetricDataQueries must not have a size greater than %d.", cwMaxQueries)
	}
	seen := map[string]bool{}
	var out []cwQuery
	for _, item := range list {
		m, ok := item.(cbor.Map)
		if !ok {
			return nil, errors.New("a MetricDataQuery is not a structure")
		}
		id, _ := m["Id"].(cbor.String)
		if id == "" || seen[string(id)] {
			return nil, fmt.Errorf("the Id %q is empty or repeated", id)
		}
		seen[string(id)] = true
		q := cwQuery{id: string(id)}
		if expr, ok := m["Expression"].(cbor.String); ok {
			sm := sizeSearch.FindStringSubmatch(string(expr))
			if sm == nil {
				return nil, fmt.Errorf("the expression of %s is not one this endpoint evaluates", id)
			}
			q.bucket, q.metric, q.sumAll = sm[1], "BucketSizeBytes", true
			out = append(out, q)
			continue
		}
		stat, _ := m["MetricStat"].(cbor.Map)
		metric, _ := stat["Metric"].(cbor.Map)
		if ns, _ := metric["Namespace"].(cbor.String); ns != "AWS/S3" {
			return nil, fmt.Errorf("%s: no metrics in namespace %q", id, ns)
		}
		name, _ := metric["MetricName"].(cbor.String)
		q.metric = string(name)
		dims, _ := metric["Dimensions"].(cbor.List)
		for _, d := range dims {
			dm, _ := d.(cbor.Map)
			k, _ := dm["Name"].(cbor.String)
			v, _ := dm["Value"].(cbor.String)
			switch k {
			case "BucketName":
				q.bucket = string(v)
			case "StorageType":
				q.storageType = string(v)
			}
		}
		out = append(out, q)
	}
	return out, nil
}

// result is one query's datapoints: the last two days' daily values,
// newest first, or none when the bucket has no datapoint.
func (cw cloudWatchService) result(q cwQuery, acct *account, region string, start, end time.Time) cbor.Map {
	var value *float64
	b := cw.s.w.buckets[q.bucket]
	if b != nil && b.owner == acct && b.region == region {
		switch {
		case q.metric == "BucketSizeBytes" && q.sumAll && b.storage != nil:
			var sum int64
			keys := make([]string, 0, len(b.storage))
			for k := range b.storage {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				sum += b.storage[k]
			}
			v := float64(sum)
			value = &v
		case q.metric == "BucketSizeBytes" && b.storage != nil:
			if n, ok := b.storage[q.storageType]; ok {
				v := float64(n)
				value = &v
			}
		case q.metric == "NumberOfObjects" && q.storageType == "AllStorageTypes" && b.count != nil:
			v := float64(*b.count)
			value = &v
		}
	}
	ts, vals := cbor.List{}, cbor.List{}
	if value != nil {
		day := cw.s.opts.Now.UTC().Truncate(24 * time.Hour)
		for _, t := range []time.Time{day.Add(-24 * time.Hour), day.Add(-48 * time.Hour)} {
			if !t.Before(start) && t.Before(end) {
				ts = append(ts, &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.Unix()))})
				vals = append(vals, cbor.Float64(*value))
			}
		}
	}
	return cbor.Map{"Id": cbor.String(q.id), "Label": cbor.String(q.metric), "Timestamps": ts, "Values": vals,
		"StatusCode": cbor.String("Complete")}
}
