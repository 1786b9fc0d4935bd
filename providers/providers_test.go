package providers

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestCallCountsFailuresNotAbsentConfigurations(t *testing.T) {
	var seen []error
	calls := NewCalls("aws", 0, 0, func(_, _ string, _ time.Duration, err error) { seen = append(seen, err) })
	ctx := context.Background()
	notFound := errors.New("ReplicationConfigurationNotFoundError")
	for _, err := range []error{nil, &AbsentError{Err: notFound}, errors.New("InternalError")} {
		_, _ = Call(ctx, calls, "GetBucketReplication", func(context.Context) (int, error) { return 0, err })
	}
	got := calls.Snapshot()
	if len(got) != 1 || got[0].Calls != 3 || got[0].Errors != 1 || calls.Total() != 3 {
		t.Fatalf("snapshot %+v total %d, want 3 calls and 1 error", got, calls.Total())
	}
	if seen[1] != nil || seen[2] == nil {
		t.Fatalf("observer saw %v; an absent configuration is no error", seen)
	}
	if !IsAbsent(fmt.Errorf("wrapped: %w", &AbsentError{Err: notFound})) || IsAbsent(notFound) {
		t.Fatal("IsAbsent does not see through wrapping, or sees absence where there is none")
	}
}

func TestCallRateLimit(t *testing.T) {
	calls := NewCalls("gcp", 50, 1, nil)
	start := time.Now()
	for range 6 {
		if _, err := Call(context.Background(), calls, "op", func(context.Context) (int, error) { return 0, nil }); err != nil {
			t.Fatal(err)
		}
	}
	// 6 calls at 50/s with a burst of 1 take at least 5 intervals of 20ms.
	if took := time.Since(start); took < 90*time.Millisecond {
		t.Fatalf("6 calls at 50/s took %v", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = NewCalls("gcp", 0.001, 1, nil)
	_, _ = Call(ctx, calls, "op", func(context.Context) (int, error) { return 0, nil })
	if _, err := Call(ctx, calls, "op", func(context.Context) (int, error) { return 0, nil }); err == nil {
		t.Fatal("a cancelled context waited for the limiter without error")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		want   string
	}{
		{"http 403", errors.New("AccessDenied"), 403, "AccessDenied", FailHTTP403},
		{"http 404", errors.New("NoSuchBucket"), 404, "NoSuchBucket", FailHTTP404},
		{"http 500", errors.New("InternalError"), 500, "", FailHTTP5xx},
		{"503 SlowDown is throttling", errors.New("SlowDown"), 503, "SlowDown", FailThrottled},
		{"429", errors.New("Too Many Requests"), 429, "", FailThrottled},
		{"gRPC exhausted", errors.New("quota"), 0, "RESOURCE_EXHAUSTED", FailThrottled},
		{"a code of another provider is no throttling", errors.New("Throttling"), 400, "Throttling", FailOther},
		{"denial code without a status", errors.New("denied"), 0, "AuthorizationFailed", FailHTTP403},
		{"dns", &net.DNSError{Err: "no such host", Name: "x.invalid"}, 0, "", FailDNS},
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, 0, "", FailConnect},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), 0, "", FailTimeout},
		{"tls", x509.UnknownAuthorityError{}, 0, "", FailTLS},
		{"other", errors.New("something else"), 0, "", FailOther},
		{"no error", nil, 0, "", ""},
	}
	codes := ErrorCodes{
		Throttling: map[string]bool{"SlowDown": true, "RESOURCE_EXHAUSTED": true},
		Denied:     map[string]bool{"AuthorizationFailed": true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codes.Classify(tt.err, tt.status, tt.code); got != tt.want {
				t.Fatalf("Classify = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewBucketStartsUnknown(t *testing.T) {
	b := NewBucket("aws", "111122223333", "b", "s3://b")
	if b.Custody != CustodyUnknown || b.Versioning != VersioningUnknown || b.Public != TriUnknown ||
		b.ObjectLock != TriUnknown || b.PublicAccessBlock != TriUnknown {
		t.Fatalf("a new record claims facts it has not read: %+v", b)
	}
	b.SetUnknown(FieldCustody, "s3:GetBucketEncryption", errors.New("AccessDenied"), "s3:GetEncryptionConfiguration")
	if !b.IsUnknown(FieldCustody) || b.IsUnknown(FieldCopies) {
		t.Fatal("IsUnknown does not follow SetUnknown")
	}
}

func TestCustodyDecryption(t *testing.T) {
	can := map[Custody]bool{CustodyNone: true, CustodyProviderManaged: true, CustodyProviderKMS: true,
		CustodyImportedKey: true, CustodyDedicatedHSM: true}
	for _, c := range Custodies {
		if c.ProviderCanDecrypt() != can[c] {
			t.Errorf("%s: ProviderCanDecrypt = %v", c, c.ProviderCanDecrypt())
		}
	}
}

func TestRecordProbe(t *testing.T) {
	seq := func(rs ...Reachability) (func() Reachability, *int) {
		n := 0
		return func() Reachability { r := rs[min(n, len(rs)-1)]; n++; return r }, &n
	}
	dropped := Reachability{Probe: "HeadBucket", Failure: FailConnect, Error: "connection reset"}
	ok := Reachability{Probe: "HeadBucket", Reachable: true}
	throttled := Reachability{Probe: "HeadBucket", Failure: FailThrottled, Error: "SlowDown"}

	// A network failure is tried once more; a passing one is not a block.
	b := NewBucket("aws", "1", "b", "s3://b")
	probe, n := seq(dropped, ok)
	RecordProbe(&b, probe)
	if *n != 2 || !b.Reachability.Reachable {
		t.Fatalf("%d probes, %+v", *n, b.Reachability)
	}
	// One that persists stays, after exactly one retry.
	b = NewBucket("aws", "1", "b", "s3://b")
	probe, n = seq(dropped, dropped, ok)
	RecordProbe(&b, probe)
	if *n != 2 || b.Reachability.Failure != FailConnect {
		t.Fatalf("%d probes, %+v", *n, b.Reachability)
	}
	// Throttling is not retried here (the SDK retries it) and makes the
	// reachability unknown.
	b = NewBucket("aws", "1", "b", "s3://b")
	probe, n = seq(throttled, ok)
	RecordProbe(&b, probe)
	if *n != 1 || b.Reachability.Failure != FailThrottled {
		t.Fatalf("%d probes, %+v", *n, b.Reachability)
	}
	found := false
	for _, u := range b.Unknowns {
		if u.Field == FieldReachability && u.API == "HeadBucket" && u.Error == "SlowDown" {
			found = true
		}
	}
	if !found {
		t.Fatalf("reachability not recorded unknown: %+v", b.Unknowns)
	}
}
