package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/reachaudit/reachaudit/providers"
)

// custodyByOrigin maps a customer-managed key's origin to its custody.
// A key whose KeyManager is AWS is provider-managed whatever its origin.
var custodyByOrigin = map[kmstypes.OriginType]providers.Custody{
	kmstypes.OriginTypeAwsKms:           providers.CustodyProviderKMS,
	kmstypes.OriginTypeExternal:         providers.CustodyImportedKey,
	kmstypes.OriginTypeAwsCloudhsm:      providers.CustodyDedicatedHSM,
	kmstypes.OriginTypeExternalKeyStore: providers.CustodyExternalKeyManager,
}

var keyStates = map[kmstypes.KeyState]providers.KeyState{
	kmstypes.KeyStateEnabled:                providers.KeyEnabled,
	kmstypes.KeyStateDisabled:               providers.KeyDisabled,
	kmstypes.KeyStatePendingDeletion:        providers.KeyPendingDeletion,
	kmstypes.KeyStatePendingReplicaDeletion: providers.KeyPendingDeletion,
	kmstypes.KeyStatePendingImport:          providers.KeyPendingImport,
	kmstypes.KeyStateUnavailable:            providers.KeyUnavailable,
}

// awsManagedS3Key is the alias of the AWS-managed key S3 uses for aws:kms
// when the bucket names no key.
const awsManagedS3Key = "alias/aws/s3"

// keyResult is one DescribeKey outcome, shared by every bucket that uses
// the key.
type keyResult struct {
	key     providers.Key
	custody providers.Custody
	err     error
	denied  bool
}

// applyKey fills custody and key for an aws:kms bucket.
func (p *Provider) applyKey(ctx context.Context, b *providers.Bucket, keyID, bucketRegion string) {
	region, account := arnRegion(keyID), arnAccount(keyID)
	if region == "" {
		region = bucketRegion
	}
	if keyID == "" || keyID == awsManagedS3Key || strings.HasSuffix(keyID, ":"+awsManagedS3Key) {
		// The AWS-managed aws/s3 key: AWS holds it and no customer can
		// disable it or schedule its deletion, so there is nothing to
		// ask KMS that would change the record.
		if account == "" {
			account = b.Account
		}
		if keyID == "" {
			keyID = awsManagedS3Key
		}
		b.Custody = providers.CustodyProviderManaged
		b.Key = &providers.Key{ID: keyID, Account: account, Region: region, State: providers.KeyEnabled, Manager: string(kmstypes.KeyManagerTypeAws)}
		return
	}
	r := p.describeKey(ctx, b.Account, keyID, region)
	if r.err != nil {
		if account == "" {
			account = b.Account
		}
		b.Key = &providers.Key{ID: keyID, Account: account, Region: region, State: providers.KeyStateUnknown}
		perm := ""
		if r.denied {
			perm = "kms:DescribeKey"
		}
		b.SetUnknown(providers.FieldKey, "kms:DescribeKey", r.err, perm)
		b.SetUnknown(providers.FieldCustody, "kms:DescribeKey", r.err, perm)
		return
	}
	// A copy per bucket: records are handed out independently.
	k := r.key
	k.DeletionDate, k.MaterialExpires = utc(k.DeletionDate), utc(k.MaterialExpires)
	b.Key = &k
	b.Custody = r.custody
	if b.Custody == providers.CustodyUnknown {
		b.SetUnknown(providers.FieldCustody, "kms:DescribeKey", fmt.Errorf("key origin %q is not one this plugin knows", k.Origin), "")
	}
}

// describeKey describes a key once per scan for each account that uses it:
// buckets sharing a key wait for the one call in flight instead of making
// their own.
func (p *Provider) describeKey(ctx context.Context, account, keyID, region string) keyResult {
	r, _ := p.keys.Get(ctx, account+"|"+region+"|"+keyID, func(ctx context.Context) (keyResult, error) {
		return p.fetchKey(ctx, account, keyID, region), nil
	})
	return r
}

func (p *Provider) fetchKey(ctx context.Context, account, keyID, region string) keyResult {
	c := p.kmsClient(account, region)
	out, err := call(ctx, p, "DescribeKey", func(ctx context.Context) (*kms.DescribeKeyOutput, error) {
		return c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	})
	if err != nil {
		status, code := apiFacts(err)
		return keyResult{err: shortError(err), denied: apiCodes.IsDenied(status, code)}
	}
	m := out.KeyMetadata
	if m == nil {
		return keyResult{err: errors.New("DescribeKey answered without key metadata")}
	}
	k := providers.Key{
		ID:            aws.ToString(m.Arn),
		Account:       aws.ToString(m.AWSAccountId),
		Region:        arnRegion(aws.ToString(m.Arn)),
		ProviderState: string(m.KeyState),
		Manager:       string(m.KeyManager),
		Origin:        string(m.Origin),
		Instance:      aws.ToString(m.CustomKeyStoreId),
	}
	if k.ID == "" {
		k.ID = aws.ToString(m.KeyId)
	}
	if k.Region == "" {
		k.Region = region
	}
	if s, ok := keyStates[m.KeyState]; ok {
		k.State = s
	} else {
		k.State = providers.KeyStateUnknown
	}
	k.DeletionDate = utc(m.DeletionDate)
	k.MaterialExpires = utc(m.ValidTo)
	custody := providers.CustodyProviderManaged
	if m.KeyManager != kmstypes.KeyManagerTypeAws {
		c, ok := custodyByOrigin[m.Origin]
		if !ok {
			c = providers.CustodyUnknown
		}
		custody = c
	}
	return keyResult{key: k, custody: custody}
}

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// arnRegion and arnAccount read arn:partition:kms:region:account:key/id;
// both answer "" for a bare key id or alias.
func arnRegion(arn string) string  { return arnField(arn, 3) }
func arnAccount(arn string) string { return arnField(arn, 4) }

func arnField(arn string, i int) string {
	if !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[i]
}
