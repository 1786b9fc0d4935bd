package gcp

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Config is the `providers.gcp` section of the config file.
type Config struct {
	// Projects are the project ids whose buckets are scanned.
	Projects []string `yaml:"projects"`
	// Organization lists the ACTIVE projects of this organisation (its
	// number, or organizations/N) and of every folder below it, with
	// Projects added.
	Organization string `yaml:"organization"`
	// Folders lists the ACTIVE projects under these folders (numbers, or
	// folders/N) and their subfolders, with Projects added.
	Folders []string `yaml:"folders"`
	// ResourceManagerEndpoint overrides the Resource Manager gRPC
	// endpoint (host:port), where the projects are discovered.
	ResourceManagerEndpoint string `yaml:"resourcemanager_endpoint"`
	// CredentialsFile is a credentials JSON file (service account key,
	// workload identity federation, authorized user). Empty: Application
	// Default Credentials.
	CredentialsFile string `yaml:"credentials_file"`
	// CredentialsType is the type the credentials file must have; a file
	// of another type is refused rather than followed (an external_account
	// file can make the library run a command or fetch a URL). Default
	// service_account.
	CredentialsType string `yaml:"credentials_type"`
	// ImpersonateServiceAccount is a service account e-mail whose
	// short-lived token is used for every call, minted with the base
	// credentials.
	ImpersonateServiceAccount string `yaml:"impersonate_service_account"`
	// Endpoint overrides the Cloud Storage JSON API endpoint, for example
	// a Private Service Connect endpoint or a sandbox
	// ("http://127.0.0.1:4443/storage/v1/").
	Endpoint string `yaml:"endpoint"`
	// KMSEndpoint overrides the Cloud KMS gRPC endpoint (host:port).
	KMSEndpoint string `yaml:"kms_endpoint"`
	// MonitoringEndpoint overrides the Cloud Monitoring gRPC endpoint
	// (host:port), where the buckets' sizes are read.
	MonitoringEndpoint string `yaml:"monitoring_endpoint"`
	// UniverseDomain selects a cloud other than Google's own public one,
	// such as S3NS's (s3nsapis.fr) for u-france-east1 projects.
	UniverseDomain string `yaml:"universe_domain"`
	// WithoutAuthentication sends no credentials at all, for emulators.
	WithoutAuthentication bool `yaml:"without_authentication"`
	// Insecure allows plain-text HTTP and gRPC to the endpoints above, for
	// local emulators; it must be asked for by name.
	Insecure bool `yaml:"insecure"`
	// Canary, if set, is an object name whose metadata GET is the
	// reachability probe instead of a one-object list.
	Canary string `yaml:"canary"`
	// Timeout bounds each API call, retries included; default 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// The credentials file types accepted, as the Google auth library names
// them.
const (
	CredentialsServiceAccount      = "service_account"
	CredentialsAuthorizedUser      = "authorized_user"
	CredentialsExternalAccount     = "external_account"
	CredentialsImpersonatedAccount = "impersonated_service_account"
)

var credentialsTypes = []string{CredentialsServiceAccount, CredentialsAuthorizedUser,
	CredentialsExternalAccount, CredentialsImpersonatedAccount}

var (
	projectID    = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	orgNumber    = regexp.MustCompile(`^(organizations/)?[0-9]{1,20}$`)
	folderNumber = regexp.MustCompile(`^(folders/)?[0-9]{1,20}$`)
	serviceEmail = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$`)
)

// ListedAccounts implements providers.AccountLister: none when the
// projects are discovered, since any may then be found.
func (c *Config) ListedAccounts() []string {
	if c.discovers() {
		return nil
	}
	return c.Projects
}

// Validate checks the section's values.
func (c *Config) Validate(ch *yamlfile.Check) {
	if len(c.Projects) == 0 && !c.discovers() {
		ch.Errorf("projects", "is required: the ids of the projects to scan (or organization: or folders: to discover them)")
	}
	if c.Organization != "" && !orgNumber.MatchString(c.Organization) {
		ch.Errorf("organization", "%q is not an organization number such as 123456789012 (or organizations/123456789012)", c.Organization)
	}
	for i, f := range c.Folders {
		if !folderNumber.MatchString(f) {
			ch.Errorf("folders["+strconv.Itoa(i)+"]", "%q is not a folder number such as 345678901234 (or folders/345678901234)", f)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Projects {
		path := "projects[" + strconv.Itoa(i) + "]"
		switch {
		case !projectID.MatchString(p):
			ch.Errorf(path, "%q is not a GCP project id (6-30 lower-case letters, digits and hyphens)", p)
		case seen[p]:
			ch.Errorf(path, "%q is listed twice", p)
		}
		seen[p] = true
	}
	if c.ImpersonateServiceAccount != "" && !serviceEmail.MatchString(c.ImpersonateServiceAccount) {
		ch.Errorf("impersonate_service_account", "%q is not a service account e-mail (NAME@PROJECT.iam.gserviceaccount.com)", c.ImpersonateServiceAccount)
	}
	if c.WithoutAuthentication && (c.CredentialsFile != "" || c.ImpersonateServiceAccount != "") {
		ch.Errorf("without_authentication", "cannot be combined with credentials_file or impersonate_service_account")
	}
	if c.CredentialsType != "" {
		ch.OneOf("credentials_type", c.CredentialsType, credentialsTypes...)
		if c.CredentialsFile == "" {
			ch.Errorf("credentials_type", "names the type of credentials_file, which is not given")
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			ch.Errorf("endpoint", "%q is not an http(s) URL such as https://storage.example.com/storage/v1/", c.Endpoint)
		case u.Scheme == "http" && !c.Insecure:
			ch.Errorf("endpoint", "%q is plain HTTP; set insecure: true to allow it", c.Endpoint)
		}
	}
	for _, e := range []struct{ path, v string }{{"kms_endpoint", c.KMSEndpoint}, {"monitoring_endpoint", c.MonitoringEndpoint},
		{"resourcemanager_endpoint", c.ResourceManagerEndpoint}} {
		if e.v == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(e.v); err != nil || port == "" {
			ch.Errorf(e.path, "%q is not host:port", e.v)
		}
	}
	if c.Timeout < 0 {
		ch.Errorf("timeout", "must not be negative")
	}
}

// credentialsType is the type the credentials file must have.
func (c *Config) credentialsType() string {
	if c.CredentialsType != "" {
		return c.CredentialsType
	}
	return CredentialsServiceAccount
}

// discovers reports whether the projects are found in the resource
// hierarchy rather than only listed.
func (c *Config) discovers() bool { return c.Organization != "" || len(c.Folders) > 0 }

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 30 * time.Second
}
