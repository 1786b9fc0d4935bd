package aws

// A cross-check of DescribeKey against local-kms, a KMS emulator written by
// others, served in-process. S3 answers come from the wire server; the KMS
// endpoint is configured apart (kms_endpoint), as with a KMS VPC endpoint.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	localkms "github.com/nsmithuk/local-kms/src"
	lkconfig "github.com/nsmithuk/local-kms/src/config"
	lkdata "github.com/nsmithuk/local-kms/src/data"

	"github.com/reachaudit/reachaudit/providers"
)

func startLocalKMS(t *testing.T) string {
	lkconfig.AWSRegion, lkconfig.AWSAccountId = "eu-central-1", "444455556666"
	lkconfig.DatabasePath = t.TempDir()
	db := lkdata.NewDatabase(lkconfig.DatabasePath)
	t.Cleanup(db.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { localkms.HandleRequest(w, r, db) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestLocalKMSDescribeKey(t *testing.T) {
	url := startLocalKMS(t)
	ctx := context.Background()
	admin := kms.New(kms.Options{
		Region: "eu-central-1", BaseEndpoint: awssdk.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCALKMS", "local-kms-secret", ""),
	})
	create := func(origin kmstypes.OriginType) string {
		out, err := admin.CreateKey(ctx, &kms.CreateKeyInput{Origin: origin})
		if err != nil {
			t.Fatal(err)
		}
		return awssdk.ToString(out.KeyMetadata.Arn)
	}
	cmk, imported, off, gone := create(kmstypes.OriginTypeAwsKms), create(kmstypes.OriginTypeExternal), create(""), create("")
	if _, err := admin.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: &gone, PendingWindowInDays: awssdk.Int32(7)}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		key     string
		custody providers.Custody
		state   providers.KeyState
		origin  string
	}{
		{"customer key", cmk, providers.CustodyProviderKMS, providers.KeyEnabled, "AWS_KMS"},
		{"imported key awaiting its material", imported, providers.CustodyImportedKey, providers.KeyPendingImport, "EXTERNAL"},
		{"disabled key", off, providers.CustodyProviderKMS, providers.KeyDisabled, "AWS_KMS"},
		{"key pending deletion", gone, providers.CustodyProviderKMS, providers.KeyPendingDeletion, "AWS_KMS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t)
			w.on("GetBucketEncryption", sseKMS("aws:kms", tc.key))
			p, _ := w.open(t, func(c *Config) { c.KMSEndpoint = url })
			b := describe(t, p, "keyed", "eu-central-1")
			k := b.Key
			if b.Custody != tc.custody || k == nil || k.State != tc.state || k.Origin != tc.origin ||
				k.ID != tc.key || k.Account != "444455556666" || k.Region != "eu-central-1" || k.Manager != "CUSTOMER" {
				t.Fatalf("custody %q key %+v unknowns %+v", b.Custody, k, b.Unknowns)
			}
			if tc.state == providers.KeyPendingDeletion {
				if k.DeletionDate == nil || k.DeletionDate.Before(time.Now().Add(6*24*time.Hour)) {
					t.Errorf("deletion date %v, want about 7 days on", k.DeletionDate)
				}
			} else if k.DeletionDate != nil {
				t.Errorf("deletion date %v on a key not pending deletion", k.DeletionDate)
			}
			if w.count("DescribeKey", "") != 0 {
				t.Errorf("DescribeKey went to the S3 endpoint, not kms_endpoint")
			}
		})
	}
}
