package awsemu

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func TestFaults(t *testing.T) {
	getEnc := func(c *s3.Client, ctx context.Context) error {
		_, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("alpha")})
		return err
	}
	tests := []struct {
		name   string
		fault  sandbox.Fault
		code   string
		status int
	}{
		{"throttle is 503 SlowDown", sandbox.Fault{Op: "GetBucketEncryption", Kind: sandbox.FaultThrottle}, "SlowDown", 503},
		{"5xx is 500 InternalError", sandbox.Fault{Op: "GetBucket*", Bucket: "alpha", Kind: sandbox.FaultServer}, "InternalError", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(tt.fault)})
			c := s3Client(srv, creds(t, srv, acctProd), "us-east-1")
			wantError(t, getEnc(c, ctx(t)), tt.code, tt.status)
			// Other buckets and operations are untouched.
			if _, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: aws.String("eta")}); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("a throttle that heals is retried by the SDK", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(
			sandbox.Fault{Op: "GetBucketEncryption", Kind: sandbox.FaultThrottle, Times: 2})})
		c := s3Client(srv, creds(t, srv, acctProd), "us-east-1", func(o *s3.Options) {
			o.RetryMaxAttempts = 3
			o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 3 }), 20*time.Millisecond)
		})
		before := srv.Requests()
		if err := getEnc(c, ctx(t)); err != nil {
			t.Fatal(err)
		}
		if n := srv.Requests() - before; n != 3 {
			t.Fatalf("%d requests; want 3", n)
		}
	})

	t.Run("KMS throttling is ThrottlingException", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultThrottle})})
		_, err := kmsClient(srv, creds(t, srv, acctProd), "us-east-1").DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(keyCMK)})
		wantError(t, err, "ThrottlingException", 400)
	})

	t.Run("KMS 5xx is KMSInternalException", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultServer})})
		_, err := kmsClient(srv, creds(t, srv, acctProd), "us-east-1").DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(keyCMK)})
		wantError(t, err, "KMSInternalException", 500)
	})

	t.Run("STS throttling", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "GetCallerIdentity", Kind: sandbox.FaultThrottle})})
		_, err := stsClient(srv, creds(t, srv, acctProd)).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		wantError(t, err, "Throttling", 400)
	})

	t.Run("malformed XML fails to deserialise", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "GetBucketEncryption", Kind: sandbox.FaultMalformed})})
		err := getEnc(s3Client(srv, creds(t, srv, acctProd), "us-east-1"), ctx(t))
		var de *smithy.DeserializationError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v; want a deserialization error", err)
		}
	})

	t.Run("malformed JSON fails to deserialise", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultMalformed})})
		_, err := kmsClient(srv, creds(t, srv, acctProd), "us-east-1").DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(keyCMK)})
		var de *smithy.DeserializationError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v; want a deserialization error", err)
		}
	})

	t.Run("timeout holds the answer until the client gives up", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "HeadBucket", Kind: sandbox.FaultTimeout})})
		c := s3Client(srv, creds(t, srv, acctProd), "us-east-1")
		tctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.HeadBucket(tctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want the client's deadline", err)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
	})

	t.Run("Close releases held requests", func(t *testing.T) {
		srv := startTestEstate(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "HeadBucket", Kind: sandbox.FaultTimeout})})
		c := s3Client(srv, creds(t, srv, acctProd), "us-east-1")
		done := make(chan error, 1)
		go func() {
			_, err := c.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("alpha")})
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		srv.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("held request succeeded")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not release the held request")
		}
	})
}

// TestConcurrencyAndLatency checks that injected latency overlaps across
// requests in flight (no lock held while a request waits) and counts
// every request.
func TestConcurrencyAndLatency(t *testing.T) {
	const (
		latency  = 50 * time.Millisecond
		inFlight = 64
	)
	srv := startTestEstate(t, sandbox.Options{Latency: latency})
	c := s3Client(srv, creds(t, srv, acctProd), "us-east-1", func(o *s3.Options) {
		o.HTTPClient = newPooledClient(inFlight)
	})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, inFlight)
	for range inFlight {
		wg.Go(func() {
			_, err := c.GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String("alpha")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// One after another they would take inFlight × latency (3.2 s); a
	// third of that proves they overlapped, with room for a loaded
	// machine under the race detector.
	elapsed := time.Since(start)
	if elapsed > inFlight*latency/3 {
		t.Fatalf("%d requests with %v latency took %v: they did not overlap", inFlight, latency, elapsed)
	}
	if n := srv.Requests(); n != inFlight {
		t.Fatalf("Requests() = %d; want %d", n, inFlight)
	}
}
