package alibaba

import "testing"

// FuzzParseAnswers: no OSS answer body panics a decoder the plugin owns.
func FuzzParseAnswers(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><BucketInfo><Bucket><Name>b</Name><Location>oss-cn-hangzhou</Location><BlockPublicAccess>true</BlockPublicAccess></Bucket></BucketInfo>`))
	f.Add([]byte(`<ListAllMyBucketsResult><IsTruncated>true</IsTruncated><NextMarker>m1</NextMarker><Buckets><Bucket><Name>a</Name><Region>cn-hangzhou</Region></Bucket></Buckets></ListAllMyBucketsResult>`))
	f.Add([]byte(`<PolicyStatus><IsPublic>TRUE</IsPublic></PolicyStatus>`))
	f.Add([]byte(`<PublicAccessBlockConfiguration><BlockPublicAccess>false</BlockPublicAccess></PublicAccessBlockConfiguration>`))
	f.Add([]byte(`<ReplicationConfiguration><Rule><Destination><Bucket>x</Bucket><Location>oss-cn-beijing</Location></Destination></Rule></ReplicationConfiguration>`))
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`))
	f.Add([]byte(`<WormConfiguration><WormId>1</WormId><State>Locked</State><RetentionPeriodInDays>1</RetentionPeriodInDays></WormConfiguration>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if info, err := parseBucketInfo(body); err == nil {
			_ = sseOf(info.BucketInfo)
		}
		_, _ = parseListBuckets(body)
		_, _ = parseReplication(body)
		_, _ = parseTagging(body)
		_, _ = parsePolicyStatus(body)
		_, _ = parsePublicAccessBlock(body)
		_, _ = parseWorm(body)
		_, _, _ = parseKeyARN(string(body))
		_ = parseTime(string(body))
	})
}
