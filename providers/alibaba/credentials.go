package alibaba

import (
	"fmt"
	"os"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aliyun/credentials-go/credentials"
	credproviders "github.com/aliyun/credentials-go/credentials/providers"

	"github.com/reachaudit/reachaudit/internal/redact"
)

// credentialsFor builds one account's credential provider from the config:
// static keys from the sandbox, else the account's entry, else the default
// chain. One provider per account, shared by its OSS and KMS clients, so a
// role is assumed once and refreshed by the provider itself.
func credentialsFor(cfg *Config, account string) (credproviders.CredentialsProvider, error) {
	var static *StaticCredentials
	if s, ok := cfg.Static[account]; ok {
		static = &s
	}
	return credentialsFrom(cfg, "account "+account, static, cfg.Credentials[account])
}

// credentialsFrom builds a credential provider from static keys or a
// credentials entry; what names the credentials in errors (an account,
// the directory).
func credentialsFrom(cfg *Config, what string, static *StaticCredentials, entry AccountCredentials) (credproviders.CredentialsProvider, error) {
	if s := static; s != nil {
		redact.Default.Add(s.AccessKeySecret, s.SecurityToken)
		if s.SecurityToken != "" {
			return credproviders.NewStaticSTSCredentialsProviderBuilder().
				WithAccessKeyId(s.AccessKeyID).WithAccessKeySecret(s.AccessKeySecret).
				WithSecurityToken(s.SecurityToken).Build()
		}
		return credproviders.NewStaticAKCredentialsProviderBuilder().
			WithAccessKeyId(s.AccessKeyID).WithAccessKeySecret(s.AccessKeySecret).Build()
	}
	var base credproviders.CredentialsProvider
	var err error
	switch {
	case entry.Profile != "":
		base, err = credproviders.NewCLIProfileCredentialsProviderBuilder().WithProfileName(entry.Profile).Build()
	case entry.AccessKeyIDEnv != "":
		id, secret := os.Getenv(entry.AccessKeyIDEnv), os.Getenv(entry.AccessKeySecretEnv)
		redact.Default.Add(secret)
		redact.Default.AddEnv(entry.SecurityTokenEnv)
		if id == "" || secret == "" {
			return nil, fmt.Errorf("%s: environment variables %s and %s must both be set",
				what, entry.AccessKeyIDEnv, entry.AccessKeySecretEnv)
		}
		if entry.SecurityTokenEnv != "" {
			base, err = credproviders.NewStaticSTSCredentialsProviderBuilder().
				WithAccessKeyId(id).WithAccessKeySecret(secret).
				WithSecurityToken(os.Getenv(entry.SecurityTokenEnv)).Build()
		} else {
			base, err = credproviders.NewStaticAKCredentialsProviderBuilder().
				WithAccessKeyId(id).WithAccessKeySecret(secret).Build()
		}
	default:
		// The default chain reads these itself.
		redact.Default.AddEnv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")
		base = credproviders.NewDefaultCredentialsProvider()
	}
	if err != nil {
		return nil, fmt.Errorf("%s credentials: %w", what, err)
	}
	if entry.RoleARN == "" {
		return base, nil
	}
	return assumeRole(cfg, what, base, entry.RoleARN, entry.ExternalID)
}

// assumeRole is a provider of the role's STS credentials, assumed with base
// and refreshed by the provider itself.
func assumeRole(cfg *Config, what string, base credproviders.CredentialsProvider, arn, externalID string) (credproviders.CredentialsProvider, error) {
	b := credproviders.NewRAMRoleARNCredentialsProviderBuilder().
		WithCredentialsProvider(base).
		WithRoleArn(arn).
		WithRoleSessionName("reachaudit").
		WithExternalId(externalID)
	if cfg.STSEndpoint != "" {
		host, err := stsHost(cfg.STSEndpoint)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		b = b.WithStsEndpoint(host)
	}
	role, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("%s role %s: %w", what, arn, err)
	}
	return role, nil
}

// ossCredentials adapts a credentials-go provider to the OSS SDK. It
// implements CredentialsProviderE so that a failure to get credentials
// fails the request instead of signing it with empty keys.
type ossCredentials struct {
	p credproviders.CredentialsProvider
}

type ossCreds struct{ id, secret, token string }

func (c ossCreds) GetAccessKeyID() string     { return c.id }
func (c ossCreds) GetAccessKeySecret() string { return c.secret }
func (c ossCreds) GetSecurityToken() string   { return c.token }

func (o ossCredentials) GetCredentials() oss.Credentials {
	c, _ := o.GetCredentialsE()
	return c
}

func (o ossCredentials) GetCredentialsE() (oss.Credentials, error) {
	c, err := o.p.GetCredentials()
	if err != nil {
		return ossCreds{}, fmt.Errorf("get credentials: %w", err)
	}
	return ossCreds{id: c.AccessKeyId, secret: c.AccessKeySecret, token: c.SecurityToken}, nil
}

// kmsCredential adapts the same provider to the KMS SDK.
func kmsCredential(p credproviders.CredentialsProvider) credentials.Credential {
	return credentials.FromCredentialsProvider(p.GetProviderName(), p)
}
