package outputs

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/reports"
)

// Output types.
const (
	TypeFile      = "file"
	TypeStdout    = "stdout"
	TypeSyslog    = "syslog"
	TypeSplunkHEC = "splunk-hec"
	TypeWebhook   = "webhook"
)

var types = []string{TypeFile, TypeStdout, TypeSyslog, TypeSplunkHEC, TypeWebhook}

// formatsByType lists the formats each type accepts; the first is the default.
var formatsByType = map[string][]string{
	TypeSyslog:    {"cef", "json", "ocsf"},
	TypeSplunkHEC: {"json", "ocsf"},
	TypeWebhook:   {"json", "ocsf"},
}

// Defaults.
const (
	DefaultBatchSize     = 100
	DefaultTimeout       = 30 * time.Second
	DefaultSpoolMaxBytes = 64 << 20
)

// Output is one entry of the config's outputs list.
type Output struct {
	Type   string `yaml:"type" json:"type"`
	Path   string `yaml:"path" json:"path,omitempty"`
	Format string `yaml:"format" json:"format,omitempty"`

	// Syslog: udp://host:port, tcp://host:port or tls://host:port.
	Address  string `yaml:"address" json:"address,omitempty"`
	Facility string `yaml:"facility" json:"facility,omitempty"`

	// TLS for syslog over tls:// and for https URLs.
	CAFile             string `yaml:"ca_file" json:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file" json:"key_file,omitempty"`
	ServerName         string `yaml:"server_name" json:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" json:"insecure_skip_verify,omitempty"`

	// HTTP destinations (splunk-hec, webhook).
	URL        string `yaml:"url" json:"url,omitempty"`
	TokenEnv   string `yaml:"token_env" json:"token_env,omitempty"`
	TokenFile  string `yaml:"token_file" json:"token_file,omitempty"`
	SecretEnv  string `yaml:"secret_env" json:"secret_env,omitempty"`
	SecretFile string `yaml:"secret_file" json:"secret_file,omitempty"`
	// InsecureHTTP allows an http:// URL for splunk-hec, whose token would
	// cross the network in clear text.
	InsecureHTTP bool `yaml:"insecure_http" json:"insecure_http,omitempty"`

	BatchSize int `yaml:"batch_size" json:"batch_size,omitempty"`
	// Ack waits for Splunk indexer acknowledgement of every batch.
	Ack        bool   `yaml:"ack" json:"ack,omitempty"`
	Index      string `yaml:"index" json:"index,omitempty"`
	Sourcetype string `yaml:"sourcetype" json:"sourcetype,omitempty"`
	Source     string `yaml:"source" json:"source,omitempty"`

	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
	Spool   SpoolConfig   `yaml:"spool" json:"spool,omitempty"`
}

// SpoolConfig places and bounds an output's spool.
type SpoolConfig struct {
	Dir      string `yaml:"dir" json:"dir,omitempty"`
	MaxBytes int64  `yaml:"max_bytes" json:"max_bytes,omitempty"`
}

// Outputs is the config's outputs list.
type Outputs []Output

// Validate checks every output; paths are like "[2].address".
func (os Outputs) Validate(c *yamlfile.Check) {
	for i := range os {
		os[i].validate(c, fmt.Sprintf("[%d].", i))
	}
}

// Validate checks one output; paths are relative to it ("address").
func (o *Output) Validate(c *yamlfile.Check) { o.validate(c, "") }

func (o *Output) validate(c *yamlfile.Check, p string) {
	c.Required(p+"type", o.Type)
	c.OneOf(p+"type", o.Type, types...)
	switch o.Type {
	case TypeFile:
		c.Required(p+"path", o.Path)
		c.OneOf(p+"format", o.Format, reports.Formats()...)
	case TypeStdout:
		c.OneOf(p+"format", o.Format, reports.Formats()...)
	case TypeSyslog:
		c.Required(p+"address", o.Address)
		if o.Address != "" {
			if _, _, err := parseSyslogAddress(o.Address); err != nil {
				c.Errorf(p+"address", "%v", err)
			}
		}
		if o.Facility != "" {
			if _, ok := facilities[o.Facility]; !ok {
				c.Errorf(p+"facility", "%q is not a syslog facility (kern, user, …, local0 … local7)", o.Facility)
			}
		}
	case TypeSplunkHEC:
		o.validateURL(c, p)
		o.validateSecret(c, p, "token", o.TokenEnv, o.TokenFile)
		if err := o.checkClearText(); err != nil {
			c.Errorf(p+"url", "%v", err)
		}
	case TypeWebhook:
		o.validateURL(c, p)
		o.validateSecret(c, p, "secret", o.SecretEnv, o.SecretFile)
	}
	if allowed, ok := formatsByType[o.Type]; ok {
		c.OneOf(p+"format", o.Format, allowed...)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		c.Errorf(p+"cert_file", "cert_file and key_file go together")
	}
	if o.BatchSize < 0 {
		c.Errorf(p+"batch_size", "must not be negative")
	}
	if o.Timeout < 0 {
		c.Errorf(p+"timeout", "must not be negative")
	}
	if o.Spool.MaxBytes < 0 {
		c.Errorf(p+"spool.max_bytes", "must not be negative")
	}
	if o.InsecureHTTP && o.Type != TypeSplunkHEC {
		c.Errorf(p+"insecure_http", "only splunk-hec sends a token it would expose over http://")
	}
	if o.Ack && o.Type != TypeSplunkHEC {
		c.Errorf(p+"ack", "only splunk-hec has indexer acknowledgement")
	}
}

func (o *Output) validateURL(c *yamlfile.Check, p string) {
	c.Required(p+"url", o.URL)
	if o.URL == "" {
		return
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.Errorf(p+"url", "want an http:// or https:// URL")
		return
	}
	if u.User != nil {
		c.Errorf(p+"url", "must not carry credentials; use token_env/token_file or secret_env/secret_file")
	}
}

// checkClearText refuses a token-bearing http:// URL unless insecure_http
// is set by name.
func (o *Output) checkClearText() error {
	if u, err := url.Parse(o.URL); err == nil && u.Scheme == "http" && !o.InsecureHTTP {
		return fmt.Errorf("http:// would send the HEC token in clear text: use https://, or set insecure_http: true to accept that")
	}
	return nil
}

func (o *Output) validateSecret(c *yamlfile.Check, p, what, env, file string) {
	switch {
	case env == "" && file == "":
		c.Errorf(p+what+"_env", "give %s_env or %s_file (the %s is never read from the config itself)", what, what, what)
	case env != "" && file != "":
		c.Errorf(p+what+"_env", "give %s_env or %s_file, not both", what, what)
	}
}

func (o *Output) format() string {
	if o.Format != "" {
		return o.Format
	}
	if allowed, ok := formatsByType[o.Type]; ok {
		return allowed[0]
	}
	return "json"
}

func (o *Output) batchSize() int {
	if o.BatchSize > 0 {
		return o.BatchSize
	}
	return DefaultBatchSize
}

func (o *Output) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// Name identifies the output in logs and in agent.Delivery, without
// anything secret (URL credentials and query strings are left out).
func (o *Output) Name() string {
	target := ""
	switch o.Type {
	case TypeFile:
		target = o.Path
	case TypeSyslog:
		target = o.Address
	case TypeSplunkHEC, TypeWebhook:
		if u, err := url.Parse(o.URL); err == nil {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			target = u.String()
		}
	}
	return strings.TrimSpace(o.Type + " " + target)
}

// perFinding reports whether the output delivers finding by finding
// through a spool (as opposed to writing one document).
func (o *Output) perFinding() bool {
	return slices.Contains([]string{TypeSyslog, TypeSplunkHEC, TypeWebhook}, o.Type)
}
