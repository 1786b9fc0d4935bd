package alibabaemu

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/alibaba"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func init() {
	sandbox.Register(sandbox.Emulator{
		Name:       "alibaba",
		NewSection: func() sandbox.Section { return &Estate{} },
		Start: func(ctx context.Context, s sandbox.Section, opts sandbox.Options) (sandbox.Server, error) {
			e, ok := s.(*Estate)
			if !ok {
				return nil, fmt.Errorf("alibaba emulator: section of type %T", s)
			}
			return Start(ctx, e, opts)
		},
	})
}

// Server serves an estate's `alibaba:` section: OSS, KMS and Resource
// Directory each on a listener of its own on 127.0.0.1.
type Server struct {
	opts sandbox.Options

	accounts map[string]*account // by id
	byKey    map[string]*account // by AccessKey id
	buckets  map[string]*bucket  // by name; names are global
	order    []string            // account ids in estate order

	// directory is the estate's Resource Directory; nil without one.
	directory *ResourceDirectory
	// budgets are the accounts' OSS request rates (estate `throttle:`).
	budgets sandbox.Budgets

	oss, kms, rd *http.Server
	ossURL       string
	kmsURL       string
	rdURL        string
	requests     atomic.Int64
	closing      chan struct{}
	closeOnce    sync.Once
}

type account struct {
	id              string
	accessKeyID     string
	accessKeySecret string
	keys            map[string]*key
	buckets         []*bucket
}

type key struct {
	Key
	account    string
	state      string
	origin     string
	level      string
	creator    string
	created    time.Time
	deleteDate time.Time // for PendingDeletion
	expires    time.Time // imported material, when given
	// denied is set when a bucket using the key denies DescribeKey.
	denied bool
}

type bucket struct {
	Bucket
	account   *account
	created   time.Time
	reachable bool
	deny      map[string]bool
}

// Start serves the estate until ctx ends or Close is called.
func Start(ctx context.Context, e *Estate, opts sandbox.Options) (*Server, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	s := &Server{
		opts:     opts,
		accounts: map[string]*account{},
		byKey:    map[string]*account{},
		buckets:  map[string]*bucket{},
		closing:  make(chan struct{}),

		directory: directoryOf(e),
	}
	if err := s.load(e); err != nil {
		return nil, err
	}
	ossLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for OSS: %w", err)
	}
	kmsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ossLn.Close()
		return nil, fmt.Errorf("listen for KMS: %w", err)
	}
	rdLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ossLn.Close()
		kmsLn.Close()
		return nil, fmt.Errorf("listen for Resource Directory: %w", err)
	}
	s.ossURL = "http://" + ossLn.Addr().String()
	s.kmsURL = "http://" + kmsLn.Addr().String()
	s.rdURL = "http://" + rdLn.Addr().String()
	s.oss = &http.Server{Handler: http.HandlerFunc(s.serveOSS), ReadHeaderTimeout: 10 * time.Second}
	s.kms = &http.Server{Handler: http.HandlerFunc(s.serveKMS), ReadHeaderTimeout: 10 * time.Second}
	s.rd = &http.Server{Handler: http.HandlerFunc(s.serveRD), ReadHeaderTimeout: 10 * time.Second}
	go s.oss.Serve(ossLn) //nolint:errcheck // ends with Close
	go s.kms.Serve(kmsLn) //nolint:errcheck // ends with Close
	go s.rd.Serve(rdLn)   //nolint:errcheck // ends with Close
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.closing:
		}
	}()
	return s, nil
}

// load builds the server's state from the estate; each account gets its
// own AccessKey pair, with a secret made fresh for this run.
func (s *Server) load(e *Estate) error {
	now := s.opts.Now
	for _, a := range e.Accounts {
		secret := make([]byte, 20)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("make access key: %w", err)
		}
		sum := sha256.Sum256([]byte(a.ID))
		acct := &account{
			id:              a.ID,
			accessKeyID:     "LTAI5t" + hex.EncodeToString(sum[:9]),
			accessKeySecret: hex.EncodeToString(secret),
			keys:            map[string]*key{},
		}
		s.accounts[a.ID] = acct
		s.byKey[acct.accessKeyID] = acct
		s.budgets.Set(a.ID, a.Throttle)
		s.order = append(s.order, a.ID)
		for _, k := range a.Keys {
			kk := &key{Key: k, account: a.ID, state: or(k.State, "Enabled"), origin: or(k.Origin, "Aliyun_KMS"),
				level: or(k.ProtectionLevel, "SOFTWARE"), creator: or(k.Creator, a.ID), created: now.Add(-400 * 24 * time.Hour)}
			if kk.state == "PendingDeletion" {
				// The estate gives no date; KMS's shortest pending window.
				kk.deleteDate = now.Add(7 * 24 * time.Hour).Truncate(time.Second)
			}
			if t, ok := k.MaterialExpireTime.At(now); ok {
				kk.expires = t
			}
			acct.keys[k.ID] = kk
		}
		for _, b := range a.Buckets {
			bk := &bucket{Bucket: b, account: acct, created: now.Add(-200 * 24 * time.Hour),
				reachable: b.Reachable == nil || *b.Reachable, deny: map[string]bool{}}
			for _, op := range b.Deny {
				bk.deny[canonicalOp(op)] = true
			}
			if b.Encryption != nil && b.Encryption.Key != "" && bk.deny["DescribeKey"] {
				if k := acct.keys[b.Encryption.Key]; k != nil {
					k.denied = true
				}
			}
			s.buckets[b.Name] = bk
			acct.buckets = append(acct.buckets, bk)
		}
	}
	for _, acct := range s.accounts {
		sort.Slice(acct.buckets, func(i, j int) bool { return acct.buckets[i].Name < acct.buckets[j].Name })
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Server) secrets(akid string) (string, string, bool) {
	a, ok := s.byKey[akid]
	if !ok {
		return "", "", false
	}
	return a.accessKeySecret, a.id, true
}

// Config returns a plugin configuration that scans this emulator through
// the real SDKs, with each account's own AccessKey pair.
func (s *Server) Config() providers.Config {
	cfg := &alibaba.Config{
		Endpoint:                s.ossURL,
		KMSEndpoint:             s.kmsURL,
		ResourceManagerEndpoint: s.rdURL,
		Static:                  map[string]alibaba.StaticCredentials{},
		Credentials:             map[string]alibaba.AccountCredentials{},
	}
	if d := s.directory; d != nil {
		// An estate with a directory is scanned as one: its members are
		// discovered with the management account's keys, none is named.
		// Each estate account's own keys stand for the role the audit
		// would assume in it.
		cfg.ResourceDirectory = true
		if m := s.accounts[d.Management]; m != nil {
			cfg.DirectoryStatic = &alibaba.StaticCredentials{AccessKeyID: m.accessKeyID, AccessKeySecret: m.accessKeySecret}
			idEnv, secretEnv := envNames(m.id)
			cfg.DirectoryCredentials = alibaba.AccountCredentials{AccessKeyIDEnv: idEnv, AccessKeySecretEnv: secretEnv}
		}
	}
	for _, id := range s.order {
		a := s.accounts[id]
		if s.directory == nil {
			cfg.Accounts = append(cfg.Accounts, id)
		}
		cfg.Static[id] = alibaba.StaticCredentials{AccessKeyID: a.accessKeyID, AccessKeySecret: a.accessKeySecret}
		// The same keys by environment variable, for a scan in another
		// process (`reachaudit sandbox serve`): see Env.
		idEnv, secretEnv := envNames(id)
		cfg.Credentials[id] = alibaba.AccountCredentials{AccessKeyIDEnv: idEnv, AccessKeySecretEnv: secretEnv}
	}
	return cfg
}

// Env returns the environment a scan in another process needs: each
// account's AccessKey pair under the names Config gives.
func (s *Server) Env() []string {
	var out []string
	for _, id := range s.order {
		a := s.accounts[id]
		idEnv, secretEnv := envNames(id)
		out = append(out, idEnv+"="+a.accessKeyID, secretEnv+"="+a.accessKeySecret)
	}
	return out
}

func envNames(account string) (id, secret string) {
	return "SANDBOX_ALIBABA_" + account + "_ACCESS_KEY_ID", "SANDBOX_ALIBABA_" + account + "_ACCESS_KEY_SECRET"
}

// Endpoints names the listening URLs.
func (s *Server) Endpoints() map[string]string {
	return map[string]string{"oss": s.ossURL, "kms": s.kmsURL, "resourcemanager": s.rdURL}
}

// Throttled is how many OSS requests got the throttling answer of an
// account's `throttle:`.
func (s *Server) Throttled() int64 { return s.budgets.Refused() }

// Requests is the number of requests received so far, answered or not.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Close stops both listeners; requests held by a timeout fault end too.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		// Requests held by a timeout fault end first; then the listeners
		// and connections close at once (Shutdown would wait for
		// connections that never sent a request).
		close(s.closing)
		err = errors.Join(s.oss.Close(), s.kms.Close(), s.rd.Close())
	})
	return err
}

// admit counts a request and adds the configured latency; false when the
// client went away meanwhile.
func (s *Server) admit(r *http.Request) bool {
	s.requests.Add(1)
	if s.opts.Latency <= 0 {
		return true
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}

// hang holds a request until the client gives up or the server closes:
// the timeout fault.
func (s *Server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
}

// now is the server's clock, skewed as the options ask.
func (s *Server) now() time.Time { return time.Now().UTC().Add(s.opts.ClockSkew) }

func requestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%X", b)
}
