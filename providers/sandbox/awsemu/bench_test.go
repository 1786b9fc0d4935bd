package awsemu

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// BenchmarkSignedRequests measures signed S3 requests served with 32 or
// more in flight, each verified and answered, through the SDK.
func BenchmarkSignedRequests(b *testing.B) {
	data, err := readFile("testdata/estate.yaml")
	if err != nil {
		b.Fatal(err)
	}
	e, err := sandbox.ParseEstate("estate.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	sec, _ := e.Section("aws")
	srv, err := Start(context.Background(), sec.(*Estate), sandbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cr, _ := srv.AccountCredentials(acctProd)
	c := s3Client(srv, staticCreds(cr.AccessKeyID, cr.SecretAccessKey), "us-east-1", func(o *s3.Options) {
		o.HTTPClient = newPooledClient(64)
	})
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GetBucketEncryption(context.Background(), &s3.GetBucketEncryptionInput{Bucket: aws.String("alpha")}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
