package gcp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"

	"github.com/reachaudit/reachaudit/providers"
)

// cryptoKey reads a key once per scan, however many buckets use it; the
// answer (an error included) is cached, and concurrent lookups of one key
// share a single call.
func (p *provider) cryptoKey(ctx context.Context, name string) (*kmspb.CryptoKey, error) {
	return p.keys.Get(ctx, name, func(ctx context.Context) (*kmspb.CryptoKey, error) {
		return providers.CallTimeout(ctx, p.env.Calls, "cloudkms.cryptoKeys.get", p.cfg.timeout(),
			func(ctx context.Context) (*kmspb.CryptoKey, error) {
				return p.kms.GetCryptoKey(ctx, &kmspb.GetCryptoKeyRequest{Name: name}, kmsRetry)
			})
	})
}

// kmsRetry retries throttling and unavailability a few times with backoff;
// the client's default would keep trying for a minute.
var kmsRetry = gax.WithRetry(func() gax.Retryer {
	return &boundedRetryer{left: 3, inner: gax.OnCodes(
		[]codes.Code{codes.Unavailable, codes.ResourceExhausted},
		gax.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2})}
})

type boundedRetryer struct {
	left  int
	inner gax.Retryer
}

func (r *boundedRetryer) Retry(err error) (time.Duration, bool) {
	if r.left <= 0 {
		return 0, false
	}
	r.left--
	return r.inner.Retry(err)
}

// custodyOf maps a Cloud KMS protection level to DESIGN's custody classes.
var custodyOf = map[kmspb.ProtectionLevel]providers.Custody{
	kmspb.ProtectionLevel_SOFTWARE:          providers.CustodyProviderKMS,
	kmspb.ProtectionLevel_HSM:               providers.CustodyProviderKMS,
	kmspb.ProtectionLevel_HSM_SINGLE_TENANT: providers.CustodyDedicatedHSM,
	kmspb.ProtectionLevel_EXTERNAL:          providers.CustodyExternalKeyManager,
	kmspb.ProtectionLevel_EXTERNAL_VPC:      providers.CustodyExternalKeyManager,
}

// stateOf maps a key version state to the provider-neutral key state.
var stateOf = map[kmspb.CryptoKeyVersion_CryptoKeyVersionState]providers.KeyState{
	kmspb.CryptoKeyVersion_ENABLED:                      providers.KeyEnabled,
	kmspb.CryptoKeyVersion_DISABLED:                     providers.KeyDisabled,
	kmspb.CryptoKeyVersion_DESTROY_SCHEDULED:            providers.KeyPendingDeletion,
	kmspb.CryptoKeyVersion_PENDING_EXTERNAL_DESTRUCTION: providers.KeyPendingDeletion,
	kmspb.CryptoKeyVersion_DESTROYED:                    providers.KeyUnavailable,
	kmspb.CryptoKeyVersion_EXTERNAL_DESTRUCTION_FAILED:  providers.KeyUnavailable,
	kmspb.CryptoKeyVersion_PENDING_IMPORT:               providers.KeyPendingImport,
	kmspb.CryptoKeyVersion_IMPORT_FAILED:                providers.KeyUnavailable,
	kmspb.CryptoKeyVersion_PENDING_GENERATION:           providers.KeyUnavailable,
	kmspb.CryptoKeyVersion_GENERATION_FAILED:            providers.KeyUnavailable,
}

// recordKey fills custody and key from the bucket's default KMS key.
func (p *provider) recordKey(ctx context.Context, b *providers.Bucket, keyName string) {
	if keyName == "" {
		b.Custody, b.Encryption, b.Key = providers.CustodyProviderManaged, "google-managed", nil
		return
	}
	b.Encryption = "cmek"
	k := &providers.Key{ID: keyName, State: providers.KeyStateUnknown}
	k.Account, k.Region = keyParts(keyName)
	b.Key = k
	ck, err := p.cryptoKey(ctx, keyName)
	if err != nil {
		b.SetUnknown(providers.FieldCustody, "cloudkms.cryptoKeys.get", err, grantFor(err, "cloudkms.cryptoKeys.get"))
		if isNotFound(err) {
			// A default key that does not exist cannot encrypt new
			// objects nor decrypt old ones.
			k.State, k.ProviderState = providers.KeyUnavailable, "NOT_FOUND"
			return
		}
		b.SetUnknown(providers.FieldKey, "cloudkms.cryptoKeys.get", err, grantFor(err, "cloudkms.cryptoKeys.get"))
		return
	}
	ver := ck.GetPrimary()
	level := ver.GetProtectionLevel()
	if ver == nil {
		level = ck.GetVersionTemplate().GetProtectionLevel()
	}
	k.ProtectionLevel = level.String()
	if c, ok := custodyOf[level]; ok {
		b.Custody = c
		if ver.GetImportJob() != "" && c == providers.CustodyProviderKMS {
			b.Custody, k.Origin = providers.CustodyImportedKey, "IMPORTED"
		}
	} else {
		b.SetUnknown(providers.FieldCustody, "cloudkms.cryptoKeys.get",
			fmt.Errorf("protection level %s is not one this plugin knows", level), "")
	}
	if ver == nil {
		// Without a primary version the key can neither encrypt nor
		// decrypt as a bucket default.
		k.State, k.ProviderState = providers.KeyUnavailable, "NO_PRIMARY_VERSION"
		return
	}
	k.ProviderState = ver.GetState().String()
	st, ok := stateOf[ver.GetState()]
	if !ok {
		b.SetUnknown(providers.FieldKey, "cloudkms.cryptoKeys.get",
			fmt.Errorf("key version state %s is not one this plugin knows", ver.GetState()), "")
		return
	}
	k.State = st
	if st == providers.KeyPendingDeletion && ver.GetDestroyTime() != nil {
		t := ver.GetDestroyTime().AsTime().UTC()
		k.DeletionDate = &t
	}
}

// keyParts returns the project and location of a key resource name
// (projects/P/locations/L/keyRings/R/cryptoKeys/K).
func keyParts(name string) (project, location string) {
	parts := strings.Split(name, "/")
	for i := 0; i+1 < len(parts); i += 2 {
		switch parts[i] {
		case "projects":
			project = parts[i+1]
		case "locations":
			location = parts[i+1]
		}
	}
	return project, location
}
