package awsemu

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func TestKMSDescribeKey(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	prod := kmsClient(srv, creds(t, srv, acctProd), "us-east-1")
	arn := func(id string) string { return "arn:aws:kms:us-east-1:111111111111:key/" + id }
	day := 24 * time.Hour

	tests := []struct {
		name    string
		client  *kms.Client
		keyID   string
		check   func(t *testing.T, m *types.KeyMetadata)
		errCode string
	}{
		{name: "customer key by id", client: prod, keyID: keyCMK, check: func(t *testing.T, m *types.KeyMetadata) {
			if *m.Arn != arn(keyCMK) || *m.AWSAccountId != acctProd || *m.KeyId != keyCMK || m.KeyManager != types.KeyManagerTypeCustomer ||
				m.Origin != types.OriginTypeAwsKms || m.KeyState != types.KeyStateEnabled || !m.Enabled || m.KeySpec != types.KeySpecSymmetricDefault ||
				m.CreationDate == nil || m.DeletionDate != nil || m.ValidTo != nil {
				t.Errorf("%+v", m)
			}
		}},
		{name: "customer key by ARN", client: prod, keyID: arn(keyCMK), check: func(t *testing.T, m *types.KeyMetadata) {
			if *m.KeyId != keyCMK {
				t.Errorf("%+v", m)
			}
		}},
		{name: "aws/s3 alias is an AWS-managed key", client: prod, keyID: "alias/aws/s3", check: func(t *testing.T, m *types.KeyMetadata) {
			if m.KeyManager != types.KeyManagerTypeAws || m.Origin != types.OriginTypeAwsKms || *m.AWSAccountId != acctProd {
				t.Errorf("%+v", m)
			}
		}},
		{name: "imported material with expiry", client: prod, keyID: "0b9a1c8e-1111-4a1e-9f00-000000000002", check: func(t *testing.T, m *types.KeyMetadata) {
			if m.Origin != types.OriginTypeExternal || m.ValidTo == nil || m.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires ||
				m.ValidTo.Sub(testNow) != 20*day {
				t.Errorf("%+v valid to %v", m, m.ValidTo)
			}
		}},
		{name: "pending deletion with its date", client: prod, keyID: "0b9a1c8e-1111-4a1e-9f00-000000000003", check: func(t *testing.T, m *types.KeyMetadata) {
			if m.KeyState != types.KeyStatePendingDeletion || m.Enabled || m.DeletionDate == nil || m.DeletionDate.Sub(testNow) != 7*day ||
				aws.ToInt32(m.PendingDeletionWindowInDays) != 7 {
				t.Errorf("%+v", m)
			}
		}},
		{name: "disabled", client: prod, keyID: "0b9a1c8e-1111-4a1e-9f00-000000000004", check: func(t *testing.T, m *types.KeyMetadata) {
			if m.KeyState != types.KeyStateDisabled || m.Enabled {
				t.Errorf("%+v", m)
			}
		}},
		{name: "CloudHSM key store", client: prod, keyID: "0b9a1c8e-1111-4a1e-9f00-000000000005", check: func(t *testing.T, m *types.KeyMetadata) {
			if m.Origin != types.OriginTypeAwsCloudhsm || m.CustomKeyStoreId == nil || m.CloudHsmClusterId == nil {
				t.Errorf("%+v", m)
			}
		}},
		{name: "external key store, unavailable", client: kmsClient(srv, creds(t, srv, acctProd), "us-west-2"), keyID: "0b9a1c8e-1111-4a1e-9f00-000000000006",
			check: func(t *testing.T, m *types.KeyMetadata) {
				if m.Origin != types.OriginTypeExternalKeyStore || m.KeyState != types.KeyStateUnavailable || m.CustomKeyStoreId == nil ||
					m.XksKeyConfiguration == nil || m.XksKeyConfiguration.Id == nil {
					t.Errorf("%+v", m)
				}
			}},
		{name: "China key has an aws-cn ARN", client: kmsClient(srv, creds(t, srv, acctProd), "cn-north-1"), keyID: "0b9a1c8e-1111-4a1e-9f00-000000000008",
			check: func(t *testing.T, m *types.KeyMetadata) {
				if *m.Arn != "arn:aws-cn:kms:cn-north-1:111111111111:key/0b9a1c8e-1111-4a1e-9f00-000000000008" {
					t.Errorf("%s", *m.Arn)
				}
			}},
		{name: "partner key by ARN across accounts", client: prod, keyID: partnerARN, check: func(t *testing.T, m *types.KeyMetadata) {
			if *m.AWSAccountId != acctPartner {
				t.Errorf("%+v", m)
			}
		}},
		{name: "partner key by bare id is not ours", client: prod, keyID: "5e5e5e5e-3333-4333-8333-000000000001", errCode: "NotFoundException"},
		{name: "key of another region by id", client: kmsClient(srv, creds(t, srv, acctProd), "us-west-2"), keyID: keyCMK, errCode: "NotFoundException"},
		{name: "key of another region by ARN", client: kmsClient(srv, creds(t, srv, acctProd), "us-west-2"), keyID: arn(keyCMK), errCode: "NotFoundException"},
		{name: "unknown key", client: prod, keyID: "00000000-0000-0000-0000-000000000000", errCode: "NotFoundException"},
		{name: "unknown alias", client: prod, keyID: "alias/payroll", errCode: "NotFoundException"},
		{name: "key of an account outside the estate", client: prod, keyID: "arn:aws:kms:us-east-1:444444444444:key/x", errCode: "AccessDeniedException"},
		{name: "deny DescribeKey on the bucket's key", client: prod, keyID: "0b9a1c8e-1111-4a1e-9f00-000000000007", errCode: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.client.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(tt.keyID)})
			if tt.errCode != "" {
				wantError(t, err, tt.errCode, 400)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, out.KeyMetadata)
		})
	}
}

func TestKMSManagedKeyIsPerAccountAndRegion(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	ids := map[string]bool{}
	for _, acct := range []string{acctProd, acctData} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			c := kmsClient(srv, creds(t, srv, acct), region)
			a, err := c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: a.KeyMetadata.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			if *a.KeyMetadata.Arn != *b.KeyMetadata.Arn {
				t.Errorf("alias and id disagree: %s %s", *a.KeyMetadata.Arn, *b.KeyMetadata.Arn)
			}
			ids[*a.KeyMetadata.KeyId] = true
		}
	}
	if len(ids) != 4 {
		t.Fatalf("%d distinct managed keys; want 4", len(ids))
	}
}

func TestKMSListKeysAndAliases(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	c := kmsClient(srv, creds(t, srv, acctProd), "us-east-1")
	var ids []string
	p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{Limit: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.Keys {
			ids = append(ids, *k.KeyId)
		}
	}
	// Six customer keys in us-east-1 and the AWS-managed one.
	if len(ids) != 7 {
		t.Fatalf("keys %v", ids)
	}
	al, err := c.ListAliases(ctx(t), &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(al.Aliases) != 1 || *al.Aliases[0].AliasName != "alias/aws/s3" || al.Aliases[0].TargetKeyId == nil {
		t.Fatalf("%+v", al.Aliases)
	}
}
