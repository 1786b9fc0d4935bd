package awsemu

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// testNow is the reference time of the test estates.
var testNow = time.Now().UTC().Truncate(time.Second)

func loadEstate(t *testing.T, file string) *Estate {
	t.Helper()
	data, err := readFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseEstate(t, file, data)
}

func parseEstate(t *testing.T, name string, data []byte) *Estate {
	t.Helper()
	e, err := sandbox.ParseEstate(name, data)
	if err != nil {
		t.Fatal(err)
	}
	sec, ok := e.Section("aws")
	if !ok {
		t.Fatalf("%s has no aws section", name)
	}
	return sec.(*Estate)
}

func startServer(t *testing.T, e *Estate, opts sandbox.Options) *Server {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	srv, err := Start(context.Background(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func startTestEstate(t *testing.T, opts sandbox.Options) *Server {
	t.Helper()
	return startServer(t, loadEstate(t, "testdata/estate.yaml"), opts)
}

func creds(t *testing.T, srv *Server, account string) aws.CredentialsProvider {
	t.Helper()
	c, ok := srv.AccountCredentials(account)
	if !ok {
		t.Fatalf("no credentials for %s", account)
	}
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")
}

func staticCreds(id, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, "")
}

func s3Client(srv *Server, cp aws.CredentialsProvider, region string, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           region,
		Credentials:      cp,
		BaseEndpoint:     aws.String(srv.URL()),
		UsePathStyle:     true,
		RetryMaxAttempts: 1,
	}, opts...)
}

func kmsClient(srv *Server, cp aws.CredentialsProvider, region string) *kms.Client {
	return kms.New(kms.Options{
		Region:           region,
		Credentials:      cp,
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
	})
}

func stsClient(srv *Server, cp aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region:           "us-east-1",
		Credentials:      cp,
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func newPooledClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: tr}
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }
