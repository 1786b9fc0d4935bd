package azure

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Config is the `providers.azure` section.
type Config struct {
	// Subscriptions to scan in Cloud; empty: every subscription the
	// credential can list there.
	Subscriptions []string `yaml:"subscriptions"`
	// Cloud is the cloud of Subscriptions: AzureCloud (default),
	// AzureChinaCloud or AzureUSGovernment.
	Cloud string `yaml:"cloud"`
	// Clouds lists subscriptions in the other clouds, by cloud name; each
	// cloud is reached with its own authority and endpoints.
	Clouds map[string][]string `yaml:"clouds"`
	// TenantID and ClientID, with the secret in the variable
	// ClientSecretEnv, select the client-credential flow; absent, the
	// default chain (environment, workload identity, managed identity,
	// Azure CLI) is used.
	TenantID        string `yaml:"tenant_id"`
	ClientID        string `yaml:"client_id"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	// AccountKeys names, per storage account, an environment variable that
	// holds its shared key, for the data-plane calls only (an emulator, or
	// an account without Entra ID data access).
	AccountKeys map[string]string `yaml:"account_keys"`
	// ConnectTo sends every connection to this host:port whatever the
	// host name (a private endpoint proxy or a sandbox); TLS still checks
	// the cloud's host name.
	ConnectTo string `yaml:"connect_to"`
	// CAFile adds the PEM certificates in it to the trusted roots.
	CAFile string `yaml:"ca_file"`
	// Canary is a blob to HEAD in each container as the probe, instead of
	// listing one blob.
	Canary  string        `yaml:"canary"`
	Timeout time.Duration `yaml:"timeout"`

	// Set by the sandbox, never read from a file.
	caPEM        []byte
	clientSecret string
}

// clouds are the SDK's configurations of the clouds the plugin reaches.
var clouds = map[string]cloud.Configuration{
	CloudPublic: cloud.AzurePublic,
	CloudChina:  cloud.AzureChina,
	CloudUSGov:  cloud.AzureGovernment,
}

// blobSuffix and vaultSuffix are each cloud's data-plane domains.
var dataSuffix = map[string]struct{ blob, vault, hsm, storageScope, vaultScope string }{
	CloudPublic: {"blob.core.windows.net", "vault.azure.net", "managedhsm.azure.net", "https://storage.azure.com/.default", "https://vault.azure.net/.default"},
	CloudChina:  {"blob.core.chinacloudapi.cn", "vault.azure.cn", "managedhsm.azure.cn", "https://storage.azure.com/.default", "https://vault.azure.cn/.default"},
	CloudUSGov:  {"blob.core.usgovcloudapi.net", "vault.usgovcloudapi.net", "managedhsm.usgovcloudapi.net", "https://storage.azure.com/.default", "https://vault.usgovcloudapi.net/.default"},
}

var (
	subscriptionID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	accountName    = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
)

// Validate checks the section.
func (c *Config) Validate(ch *yamlfile.Check) {
	if c.Cloud != "" {
		if _, ok := clouds[c.Cloud]; !ok {
			ch.Errorf("cloud", "%q is not AzureCloud, AzureChinaCloud or AzureUSGovernment", c.Cloud)
		}
	}
	seen := map[string]bool{}
	check := func(path string, ids []string) {
		for i, id := range ids {
			p := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case !subscriptionID.MatchString(id):
				ch.Errorf(p, "%q is not a subscription id (a GUID)", id)
			case seen[id]:
				ch.Errorf(p, "%q is listed twice", id)
			}
			seen[id] = true
		}
	}
	check("subscriptions", c.Subscriptions)
	for name, ids := range c.Clouds {
		if _, ok := clouds[name]; !ok {
			ch.Errorf("clouds."+name, "is not AzureCloud, AzureChinaCloud or AzureUSGovernment")
			continue
		}
		if len(ids) == 0 {
			ch.Errorf("clouds."+name, "lists no subscription")
		}
		check("clouds."+name, ids)
	}
	if (c.TenantID == "") != (c.ClientID == "") || (c.ClientSecretEnv != "" && c.ClientID == "") {
		ch.Errorf("client_id", "tenant_id, client_id and client_secret_env go together")
	}
	for acct, env := range c.AccountKeys {
		if !accountName.MatchString(acct) {
			ch.Errorf("account_keys."+acct, "is not a storage account name (3-24 lower-case letters and digits)")
		}
		if env == "" {
			ch.Errorf("account_keys."+acct, "must name the environment variable holding the key")
		}
	}
	if c.ConnectTo != "" {
		if _, port, err := net.SplitHostPort(c.ConnectTo); err != nil || port == "" {
			ch.Errorf("connect_to", "%q is not host:port", c.ConnectTo)
		}
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			ch.Errorf("ca_file", "%v", err)
		}
	}
	if c.Timeout < 0 {
		ch.Errorf("timeout", "must not be negative")
	}
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 20 * time.Second
}

// subscriptionClouds maps each configured subscription to its cloud.
func (c *Config) subscriptionClouds() map[string]string {
	out := map[string]string{}
	def := c.Cloud
	if def == "" {
		def = CloudPublic
	}
	for _, id := range c.Subscriptions {
		out[id] = def
	}
	for name, ids := range c.Clouds {
		for _, id := range ids {
			out[id] = name
		}
	}
	return out
}

// SandboxCredentials is how the sandbox hands the plugin its CA and the
// client secret of its tenant without a file or an environment variable.
func (c *Config) SandboxCredentials(caPEM []byte, clientSecret string) {
	c.caPEM, c.clientSecret = caPEM, clientSecret
}

func (c *Config) secret() (string, error) {
	if c.clientSecret != "" {
		return c.clientSecret, nil
	}
	v := os.Getenv(c.ClientSecretEnv)
	if v == "" {
		return "", fmt.Errorf("azure: client_secret_env %s is empty", c.ClientSecretEnv)
	}
	return v, nil
}
