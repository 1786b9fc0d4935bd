package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/agent/schedule"
	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/reports/outputs"
)

// Config is a decoded config file.
type Config struct {
	// File is the path the config was read from.
	File string
	// Policy is the effective policy (profile plus overrides).
	Policy risk.Policy
	// Providers maps plugin names to their decoded sections.
	Providers map[string]providers.Config
	Sandbox   Sandbox
	Copies    []agent.DeclaredCopy
	// CustomerKeys are bucket URIs (globs) encrypted with keys the
	// customer holds: SSE-C, CSEK or client-side encryption.
	CustomerKeys []string
	// Contracts are the contracting entities and terms per provider and
	// account glob.
	Contracts providers.Contracts
	Limits    agent.Limits
	Listen    string
	History   History
	Emit      string
	Log       Log
	Schedules schedule.List
	Outputs   outputs.Outputs
	// Exit overrides the policy's exit parameters key by key.
	Exit *risk.ExitFile
	// Shard ("K/N") makes every scan of this config shard K of N.
	Shard string
	// Shards is N for an agent of a Kubernetes Indexed Job, which takes
	// its K from JOB_COMPLETION_INDEX.
	Shards int
}

// Sandbox makes scan and agent audit an in-process sandbox estate.
type Sandbox struct {
	Estate string `yaml:"estate"`
	// Latency is added to every emulator request, to rehearse a scan at a
	// cloud's round-trip times.
	Latency time.Duration `yaml:"latency"`
}

// History configures the run history database: an SQLite file (path) for
// one agent, or a PostgreSQL database (dsn) that a fleet of agents shares.
type History struct {
	Path string `yaml:"path"`
	// DSN is a postgres:// URL without the password, which comes from the
	// environment variable PasswordEnv names or the file PasswordFile.
	DSN          string `yaml:"dsn"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	KeepRuns     int    `yaml:"keep_runs"`
	KeepDays     int    `yaml:"keep_days"`
}

// Configured reports whether a history database is given.
func (h History) Configured() bool { return h.Path != "" || h.DSN != "" }

// Password reads the PostgreSQL password from password_env or
// password_file; empty when neither is given (the driver then looks in
// PGPASSWORD and ~/.pgpass as libpq does).
func (h History) Password() (string, error) {
	switch {
	case h.PasswordEnv != "":
		v, ok := os.LookupEnv(h.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("history.password_env: %s is not set", h.PasswordEnv)
		}
		return v, nil
	case h.PasswordFile != "":
		data, err := os.ReadFile(h.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("history.password_file: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	return "", nil
}

// maxKeepDays bounds keep_days to a century: more overflowed the age cut
// and pruned nearly every run.
const maxKeepDays = 36500

// maxLatency bounds the sandbox's added latency: it rehearses round trips,
// and a larger one only makes every call time out.
const maxLatency = time.Minute

// Validate checks the history section's ranges.
func (h *History) Validate(c *yamlfile.Check) {
	if h.KeepRuns < 0 {
		c.Errorf("keep_runs", "%d is negative (0 keeps every run)", h.KeepRuns)
	}
	if h.KeepDays < 0 || h.KeepDays > maxKeepDays {
		c.Errorf("keep_days", "%d is outside 0..%d (0 keeps runs of any age)", h.KeepDays, maxKeepDays)
	}
}

// Validate checks the sandbox section's ranges.
func (s *Sandbox) Validate(c *yamlfile.Check) {
	if s.Latency < 0 || s.Latency > maxLatency {
		c.Errorf("latency", "%v is outside 0s..%v", s.Latency, maxLatency)
	}
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// Emit modes.
const (
	EmitAll     = schedule.EmitAll
	EmitChanges = schedule.EmitChanges
)

// section decoders by top-level key. Each decodes the node into cfg.
type sectionFunc func(l *loader, s yamlfile.Section) error

var sections = map[string]sectionFunc{}

func init() {
	sections["policy"] = (*loader).policy
	sections["policy_file"] = (*loader).policyFile
	sections["providers"] = (*loader).providers
	sections["sandbox"] = decodeInto(func(c *Config) any { return &c.Sandbox })
	sections["copies"] = (*loader).copies
	sections["customer_keys"] = decodeInto(func(c *Config) any { return &c.CustomerKeys })
	sections["contracts"] = decodeInto(func(c *Config) any { return &c.Contracts })
	sections["limits"] = decodeInto(func(c *Config) any { return &c.Limits })
	sections["listen"] = decodeInto(func(c *Config) any { return &c.Listen })
	sections["history"] = decodeInto(func(c *Config) any { return &c.History })
	sections["emit"] = decodeInto(func(c *Config) any { return &c.Emit })
	sections["log"] = decodeInto(func(c *Config) any { return &c.Log })
	sections["schedules"] = decodeInto(func(c *Config) any { return &c.Schedules })
	sections["outputs"] = decodeInto(func(c *Config) any { return &c.Outputs })
	sections["exit"] = decodeInto(func(c *Config) any { c.Exit = &risk.ExitFile{}; return c.Exit })
	sections["shard"] = decodeInto(func(c *Config) any { return &c.Shard })
	sections["shards"] = decodeInto(func(c *Config) any { return &c.Shards })
}

type loader struct {
	name string
	data []byte
	cfg  *Config
}

func decodeInto(field func(*Config) any) sectionFunc {
	return func(l *loader, s yamlfile.Section) error {
		return yamlfile.DecodeNode(l.name, l.data, s.Node, s.Key, field(l.cfg))
	}
}

// Load reads the config file at path and applies environment overrides
// from env (os.Environ form; nil means the process environment).
func Load(path string, env []string) (*Config, error) {
	data, err := yamlfile.Read(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, env)
}

// Parse decodes config YAML from the file called name.
func Parse(name string, data []byte, env []string) (*Config, error) {
	if env == nil {
		env = os.Environ()
	}
	l := &loader{name: name, data: data, cfg: &Config{
		File:      name,
		Providers: map[string]providers.Config{},
		Emit:      EmitChanges,
		Listen:    "127.0.0.1:9464",
	}}
	secs, err := yamlfile.Sections(name, data)
	if err != nil {
		return nil, err
	}
	l.cfg.Policy = risk.DefaultPolicy()
	seen := map[string]bool{}
	for _, s := range secs {
		fn, ok := sections[s.Key]
		if !ok {
			return nil, &yamlfile.Error{File: name, Line: s.Line, Field: s.Key,
				Msg: "unknown key (want one of " + strings.Join(keys(), ", ") + ")"}
		}
		if seen["policy"] && s.Key == "policy_file" || seen["policy_file"] && s.Key == "policy" {
			return nil, &yamlfile.Error{File: name, Line: s.Line, Field: s.Key, Msg: "give policy or policy_file, not both"}
		}
		seen[s.Key] = true
		if err := fn(l, s); err != nil {
			return nil, err
		}
	}
	if err := l.cfg.applyEnv(env); err != nil {
		return nil, err
	}
	// The config's exit section is the operator's own figures for this
	// deployment: it wins over whatever policy is in force.
	l.cfg.Exit.Apply(&l.cfg.Policy.Exit)
	if err := l.crossCheck(); err != nil {
		return nil, err
	}
	if e := l.cfg.Sandbox.Estate; e != "" && !filepath.IsAbs(e) {
		l.cfg.Sandbox.Estate = filepath.Join(filepath.Dir(name), e)
	}
	return l.cfg, l.cfg.validate(data)
}

// crossCheck checks what depends on more than one section: globs against
// nothing (so a bad one is refused now, not matched as nothing later), the
// shortest schedule interval (the sandbox may go faster), and that each
// schedule's accounts can be scanned by a configured provider.
func (l *loader) crossCheck() error {
	fail := func(field, format string, args ...any) error {
		return &yamlfile.Error{File: l.name, Line: yamlfile.LineOf(l.data, field), Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	for i, k := range l.cfg.CustomerKeys {
		if _, err := path.Match(k, ""); err != nil {
			return fail(fmt.Sprintf("customer_keys[%d]", i), "%q is not a valid glob", k)
		}
	}
	sandboxed := l.cfg.Sandbox.Estate != ""
	for i, s := range l.cfg.Schedules {
		at := fmt.Sprintf("schedules[%d]", i)
		if d, ok := schedule.Interval(s.Cron); ok && d < schedule.MinInterval && !sandboxed {
			return fail(at+".cron", "@every %v is shorter than the %v minimum against real providers (only the sandbox may go faster)", d, schedule.MinInterval)
		}
		for j, a := range s.Accounts {
			if !l.scannable(s.Providers, a) {
				return fail(fmt.Sprintf("%s.accounts[%d]", at, j), "%q is not an account, project or subscription that a configured provider scans", a)
			}
		}
	}
	return nil
}

// scannable reports whether account can be one of the schedule's
// providers' (all configured ones when it names none): one that lists its
// accounts must list it; one that finds them itself, or the sandbox, can
// have any.
func (l *loader) scannable(names []string, account string) bool {
	if l.cfg.Sandbox.Estate != "" {
		return true
	}
	if len(names) == 0 {
		for n := range l.cfg.Providers {
			names = append(names, n)
		}
	}
	for _, n := range names {
		pc, ok := l.cfg.Providers[n]
		if !ok {
			continue
		}
		lister, ok := pc.(providers.AccountLister)
		if !ok {
			return true
		}
		listed := lister.ListedAccounts()
		if len(listed) == 0 || slices.Contains(listed, account) {
			return true
		}
	}
	return false
}

func keys() []string {
	out := make([]string, 0, len(sections))
	for k := range sections {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (l *loader) policy(s yamlfile.Section) error {
	p, err := risk.PolicyFromNode(l.name, l.data, s.Node, s.Key)
	if err != nil {
		return err
	}
	l.cfg.Policy = p
	return nil
}

func (l *loader) policyFile(s yamlfile.Section) error {
	var file string
	if err := yamlfile.DecodeNode(l.name, l.data, s.Node, s.Key, &file); err != nil {
		return err
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(l.name), file)
	}
	p, err := risk.PolicyFromFile(file)
	if err != nil {
		return err
	}
	l.cfg.Policy = p
	return nil
}

func (l *loader) providers(s yamlfile.Section) error {
	subs, err := yamlfile.MappingSections(l.name, s.Node)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		pl, ok := providers.Lookup(sub.Key)
		if !ok {
			return &yamlfile.Error{File: l.name, Line: sub.Line, Field: "providers." + sub.Key,
				Msg: "unknown provider (want one of " + strings.Join(providers.Names(), ", ") + ")"}
		}
		pc := pl.NewConfig()
		if err := yamlfile.DecodeNode(l.name, l.data, sub.Node, "providers."+sub.Key, pc); err != nil {
			return err
		}
		l.cfg.Providers[sub.Key] = pc
	}
	return nil
}

func (l *loader) copies(s yamlfile.Section) error {
	if err := yamlfile.DecodeNode(l.name, l.data, s.Node, s.Key, &l.cfg.Copies); err != nil {
		return err
	}
	for i, c := range l.cfg.Copies {
		for _, u := range []struct{ field, v string }{{"from", c.From}, {"to", c.To}} {
			if _, _, err := providers.ParseBucketURI(u.v); err != nil {
				f := fmt.Sprintf("copies[%d].%s", i, u.field)
				return &yamlfile.Error{File: l.name, Line: yamlfile.LineOf(l.data, f), Field: f, Msg: err.Error()}
			}
		}
	}
	return nil
}

func (c *Config) validate(data []byte) error {
	fail := func(field, msg string) error {
		return &yamlfile.Error{File: c.File, Line: yamlfile.LineOf(data, field), Field: field, Msg: msg}
	}
	if c.Listen != "" {
		if err := checkListen(c.Listen); err != nil {
			return fail("listen", err.Error())
		}
	}
	switch c.Emit {
	case EmitAll, EmitChanges:
	default:
		return fail("emit", fmt.Sprintf("%q is not all or changes", c.Emit))
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		return fail("log.level", fmt.Sprintf("%q is not debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		return fail("log.format", fmt.Sprintf("%q is not text or json", c.Log.Format))
	}
	if c.Limits.Concurrency < 0 || c.Limits.PerAccount < 0 {
		return fail("limits", "concurrency and per_account must not be negative")
	}
	if c.Shard != "" {
		if c.Shards != 0 {
			return fail("shard", "give shard (K/N) or shards (N, with JOB_COMPLETION_INDEX), not both")
		}
		if _, err := agent.ParseShard(c.Shard); err != nil {
			return fail("shard", err.Error())
		}
	}
	if c.Shards < 0 || c.Shards > agent.MaxShards {
		return fail("shards", fmt.Sprintf("%d: want from 1 to %d", c.Shards, agent.MaxShards))
	}
	if err := c.History.validate(c.File); err != nil {
		return err
	}
	if len(c.Providers) == 0 && c.Sandbox.Estate == "" {
		return fail("providers", "no provider is configured (and no sandbox estate)")
	}
	return nil
}

// ForAgent checks what only the agent needs: schedules and a history path.
func (c *Config) ForAgent() error {
	if len(c.Schedules) == 0 {
		return &yamlfile.Error{File: c.File, Field: "schedules", Msg: "the agent needs at least one schedule, e.g. {name: nightly, cron: \"0 2 * * *\"}"}
	}
	if c.Shard != "" || c.Shards != 0 {
		return &yamlfile.Error{File: c.File, Field: "shard", Msg: "shard and shards split one scan across agents ('reachaudit scan'); an agent's schedules scan the whole estate"}
	}
	if !c.History.Configured() {
		return &yamlfile.Error{File: c.File, Field: "history.path", Msg: "the agent needs a history database: path (SQLite), e.g. /var/lib/reachaudit/history.db, or dsn (PostgreSQL)"}
	}
	return nil
}

// JobIndexEnv is the variable in which a Kubernetes Indexed Job gives each
// pod its index.
const JobIndexEnv = "JOB_COMPLETION_INDEX"

// ScanShard is the shard the config's scans cover: flag (a --shard K/N,
// which wins), else shard:, else shards: N with K from JOB_COMPLETION_INDEX
// in env (os.Environ form; nil means the process environment). The zero
// Shard is the whole scan.
func (c *Config) ScanShard(flag string, env []string) (agent.Shard, error) {
	if flag != "" {
		return agent.ParseShard(flag)
	}
	if c.Shard != "" {
		sh, err := agent.ParseShard(c.Shard)
		if err != nil {
			return sh, &yamlfile.Error{File: c.File, Field: "shard", Msg: err.Error()}
		}
		return sh, nil
	}
	if c.Shards == 0 {
		return agent.Shard{}, nil
	}
	if env == nil {
		env = os.Environ()
	}
	idx, ok := "", false
	for _, kv := range env {
		if k, v, found := strings.Cut(kv, "="); found && k == JobIndexEnv {
			idx, ok = v, true
		}
	}
	if !ok {
		return agent.Shard{}, &yamlfile.Error{File: c.File, Field: "shards",
			Msg: fmt.Sprintf("shards: %d needs %s (set by a Kubernetes Indexed Job) or --shard K/N", c.Shards, JobIndexEnv)}
	}
	k, err := strconv.Atoi(idx)
	if err != nil {
		return agent.Shard{}, fmt.Errorf("%s=%q: want a whole number", JobIndexEnv, idx)
	}
	sh := agent.Shard{Index: k, Count: c.Shards}
	if err := sh.Check(); err != nil {
		return agent.Shard{}, fmt.Errorf("%s=%d with shards: %d: %w", JobIndexEnv, k, c.Shards, err)
	}
	return sh, nil
}

// env overrides: REACHAUDIT_<KEY> with the key path in upper case and dots
// as underscores.
var envKeys = map[string]func(c *Config, v string) error{
	"LISTEN":             func(c *Config, v string) error { c.Listen = v; return nil },
	"EMIT":               func(c *Config, v string) error { c.Emit = v; return nil },
	"HISTORY_PATH":       func(c *Config, v string) error { c.History.Path = v; return nil },
	"HISTORY_DSN":        func(c *Config, v string) error { c.History.DSN = v; return nil },
	"SANDBOX_ESTATE":     func(c *Config, v string) error { c.Sandbox.Estate = v; return nil },
	"LOG_LEVEL":          func(c *Config, v string) error { c.Log.Level = v; return nil },
	"LOG_FORMAT":         func(c *Config, v string) error { c.Log.Format = v; return nil },
	"SHARD":              func(c *Config, v string) error { c.Shard = v; return nil },
	"SHARDS":             intEnv(func(c *Config) *int { return &c.Shards }),
	"LIMITS_CONCURRENCY": intEnv(func(c *Config) *int { return &c.Limits.Concurrency }),
	"LIMITS_PER_ACCOUNT": intEnv(func(c *Config) *int { return &c.Limits.PerAccount }),
	"LIMITS_SCAN_TIMEOUT": func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 1h, got %q", v)
		}
		c.Limits.ScanTimeout = d
		return nil
	},
	"POLICY_FILE": func(c *Config, v string) error {
		p, err := risk.PolicyFromFile(v)
		if err != nil {
			return err
		}
		c.Policy = p
		return nil
	},
}

// checkListen refuses an address the agent could never bind, so that it is
// a config error at load time rather than a failure at start.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:9464)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

func intEnv(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", v)
		}
		*field(c) = n
		return nil
	}
}

// EnvKeys lists the supported environment overrides, for the README and help.
func EnvKeys() []string {
	out := make([]string, 0, len(envKeys))
	for k := range envKeys {
		out = append(out, "REACHAUDIT_"+k)
	}
	sort.Strings(out)
	return out
}

func (c *Config) applyEnv(env []string) error {
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "REACHAUDIT_") {
			continue
		}
		fn, known := envKeys[strings.TrimPrefix(k, "REACHAUDIT_")]
		if !known {
			continue // other REACHAUDIT_ variables (e.g. for tests) are not config
		}
		if err := fn(c, v); err != nil {
			// A bad override is bad configuration (exit 2), like the file.
			var ye *yamlfile.Error
			if errors.As(err, &ye) {
				return err
			}
			return &yamlfile.Error{File: c.File, Field: "environment " + k, Msg: err.Error()}
		}
	}
	return nil
}

func (h History) validate(file string) error {
	fail := func(field, msg string) error { return &yamlfile.Error{File: file, Field: "history." + field, Msg: msg} }
	switch {
	case h.Path != "" && h.DSN != "":
		return fail("dsn", "give path (SQLite) or dsn (PostgreSQL), not both")
	case h.DSN == "" && (h.PasswordEnv != "" || h.PasswordFile != ""):
		return fail("password_env", "a password is for a PostgreSQL history: give dsn too")
	case h.PasswordEnv != "" && h.PasswordFile != "":
		return fail("password_file", "give password_env or password_file, not both")
	case h.KeepRuns < 0 || h.KeepDays < 0:
		return fail("keep_runs", "keep_runs and keep_days must not be negative")
	}
	if h.DSN != "" {
		if err := history.CheckDSN(h.DSN); err != nil {
			return fail("dsn", err.Error())
		}
	}
	return nil
}
