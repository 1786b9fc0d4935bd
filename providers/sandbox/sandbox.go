package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
)

// Section is one emulator's part of an estate file (the `aws:` key, …).
type Section interface {
	Validate(c *yamlfile.Check)
}

// Emulator is one cloud's emulator.
type Emulator struct {
	// Name is the estate section key and the plugin it serves: "aws".
	Name string
	// NewSection returns a pointer to an empty section, for decoding.
	NewSection func() Section
	// Start serves the section on 127.0.0.1 until the context ends or the
	// returned Server is closed.
	Start func(ctx context.Context, s Section, opts Options) (Server, error)
}

// Server is a running emulator.
type Server interface {
	// Config returns the plugin configuration that scans this emulator
	// through the real SDK: endpoints and credentials of the estate's
	// accounts.
	Config() providers.Config
	// Endpoints names the emulator's listening URLs, for people and for
	// clients written by others (the aws CLI, …): "s3" → "http://127.0.0.1:…".
	Endpoints() map[string]string
	// Requests is the number of API requests served so far.
	Requests() int64
	Close() error
}

// Options change how every emulator answers.
type Options struct {
	Logger *slog.Logger
	// Latency is added to every request (benchmarks).
	Latency time.Duration
	// Faults injects failures into matching requests (tests).
	Faults *Faults
	// Now is the reference time for relative times in the estate
	// ("+20d"); zero means the time Start is called.
	Now time.Time
	// ClockSkew sets the emulators' clocks this far ahead of the machine's
	// (behind when negative), as a service's clock stands to a client's
	// that is off: the signature checks that judge a request's time (OSS
	// V4 and V1, ACS3) judge it by the skewed clock.
	ClockSkew time.Duration
}

var (
	mu        sync.RWMutex
	emulators = map[string]Emulator{}
)

// Register makes an emulator available; called from its package's init.
func Register(e Emulator) {
	if e.Name == "" || e.NewSection == nil || e.Start == nil {
		panic(fmt.Sprintf("sandbox: incomplete registration of %q", e.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := emulators[e.Name]; dup {
		panic("sandbox: Register called twice for " + e.Name)
	}
	emulators[e.Name] = e
}

func lookup(name string) (Emulator, bool) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := emulators[name]
	return e, ok
}

func names() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for n := range emulators {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Sandbox is a set of running emulators.
type Sandbox struct {
	servers map[string]Server
}

// Start serves every section of the estate.
func Start(ctx context.Context, e *Estate, opts Options) (*Sandbox, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	sb := &Sandbox{servers: map[string]Server{}}
	for _, name := range e.order {
		em, _ := lookup(name)
		srv, err := em.Start(ctx, e.sections[name], opts)
		if err != nil {
			sb.Close()
			return nil, fmt.Errorf("start %s emulator: %w", name, err)
		}
		sb.servers[name] = srv
	}
	return sb, nil
}

// Configs returns the plugin configuration for each served provider.
func (s *Sandbox) Configs() map[string]providers.Config {
	out := make(map[string]providers.Config, len(s.servers))
	for name, srv := range s.servers {
		out[name] = srv.Config()
	}
	return out
}

// Servers returns the running emulators by provider name.
func (s *Sandbox) Servers() map[string]Server { return s.servers }

// Requests is the total number of API requests served.
func (s *Sandbox) Requests() int64 {
	var n int64
	for _, srv := range s.servers {
		n += srv.Requests()
	}
	return n
}

// Close stops every emulator.
func (s *Sandbox) Close() error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Close())
	}
	return errors.Join(errs...)
}
