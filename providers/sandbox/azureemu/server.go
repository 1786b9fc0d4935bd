package azureemu

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/azure"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func init() {
	sandbox.Register(sandbox.Emulator{
		Name:       "azure",
		NewSection: func() sandbox.Section { return &Section{} },
		Start: func(ctx context.Context, s sandbox.Section, opts sandbox.Options) (sandbox.Server, error) {
			sec, ok := s.(*Section)
			if !ok {
				return nil, fmt.Errorf("azureemu: section of type %T", s)
			}
			return Start(ctx, sec, opts)
		},
	})
}

// The sandbox's one tenant and the client it lets sign in.
const (
	TenantID = "72f988bf-0000-4000-8000-00000000a2e1"
	ClientID = "0b5e7c1d-0000-4000-8000-0000000c11e7"
)

// cloudHosts are each cloud's host names, as the SDK's cloud
// configurations and the storage and vault suffixes give them.
var cloudHosts = map[string]struct{ login, arm, vault, hsm, blob string }{
	azure.CloudPublic: {"login.microsoftonline.com", "management.azure.com", "vault.azure.net", "managedhsm.azure.net", "blob.core.windows.net"},
	azure.CloudChina:  {"login.chinacloudapi.cn", "management.chinacloudapi.cn", "vault.azure.cn", "managedhsm.azure.cn", "blob.core.chinacloudapi.cn"},
	azure.CloudUSGov:  {"login.microsoftonline.us", "management.usgovcloudapi.net", "vault.usgovcloudapi.net", "managedhsm.usgovcloudapi.net", "blob.core.usgovcloudapi.net"},
}

// Server is a running Azure emulator: Entra ID's token endpoint, ARM,
// Key Vault and Managed HSM, and the Blob service, behind one TLS
// listener that tells them apart by host name.
type Server struct {
	opts   sandbox.Options
	sec    *Section
	secret string
	caPEM  []byte
	caFile string

	subs     map[string]*Subscription // by lower-case id
	accounts map[string]*acctState    // by account name
	keys     map[string]*keyState     // by host/name

	mu     sync.Mutex
	tokens map[string]string // token → scope

	ln       net.Listener
	srv      *http.Server
	requests atomic.Int64
	once     sync.Once
}

type acctState struct {
	StorageAccount
	sub *Subscription
}

type keyState struct {
	Key
	sub     *Subscription
	host    string
	version string
	// deny holds the data actions denied for the key, from the deny lists
	// of the containers that use it.
	deny map[string]bool
}

// Start serves the section on 127.0.0.1 until ctx ends or Close is called.
func Start(ctx context.Context, sec *Section, opts sandbox.Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	caPEM, cert, err := newCertificates()
	if err != nil {
		return nil, err
	}
	var sb [16]byte
	_, _ = rand.Read(sb[:])
	s := &Server{opts: opts, sec: sec, secret: hex.EncodeToString(sb[:]), caPEM: caPEM,
		subs: map[string]*Subscription{}, accounts: map[string]*acctState{}, keys: map[string]*keyState{}, tokens: map[string]string{}}
	for i := range sec.Subscriptions {
		sub := &sec.Subscriptions[i]
		s.subs[strings.ToLower(sub.ID)] = sub
		for _, k := range sub.Keys {
			h := cloudHosts[sub.cloud()]
			host := k.Vault + "." + h.vault
			if k.ManagedHSM {
				host = k.Vault + "." + h.hsm
			}
			sum := sha256.Sum256([]byte(host + "/" + k.Name))
			s.keys[k.Vault+"/"+k.Name] = &keyState{Key: k, sub: sub, host: host, version: hex.EncodeToString(sum[:16]), deny: map[string]bool{}}
		}
	}
	for i := range sec.Subscriptions {
		sub := &sec.Subscriptions[i]
		for _, a := range sub.StorageAccounts {
			s.accounts[a.Name] = &acctState{StorageAccount: a, sub: sub}
			for _, c := range a.Containers {
				for _, k := range []string{a.Encryption.Key, scopeKey(c)} {
					if ks := s.keys[k]; ks != nil {
						for _, d := range c.Deny {
							if strings.HasPrefix(d, "Microsoft.KeyVault/") {
								ks.deny[d] = true
							}
						}
					}
				}
			}
		}
	}
	// A scan in another process (`sandbox serve`) reads the CA from a
	// file, as a user would give a private CA; it goes with the server.
	f, err := os.CreateTemp("", "reachaudit-azure-ca-*.pem")
	if err != nil {
		return nil, err
	}
	s.caFile = f.Name()
	if _, err := f.Write(caPEM); err != nil {
		f.Close()
		os.Remove(s.caFile)
		return nil, err
	}
	f.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Remove(s.caFile)
		return nil, err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug)}
	go func() { _ = s.srv.ServeTLS(ln, "", "") }()
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	return s, nil
}

func scopeKey(c Container) string {
	if c.EncryptionScope == nil {
		return ""
	}
	return c.EncryptionScope.Key
}

// Config scans the emulator through the real SDK: every connection goes
// to the listener, the plugin trusts the emulator's CA, and signs in with
// the sandbox client's secret.
func (s *Server) Config() providers.Config {
	c := &azure.Config{TenantID: TenantID, ClientID: ClientID, ClientSecretEnv: SecretEnv, CAFile: s.caFile,
		ConnectTo: s.ln.Addr().String(), Timeout: 10 * time.Second}
	for _, sub := range s.sec.Subscriptions {
		if sub.cloud() == azure.CloudPublic {
			c.Subscriptions = append(c.Subscriptions, sub.ID)
			continue
		}
		if c.Clouds == nil {
			c.Clouds = map[string][]string{}
		}
		c.Clouds[sub.cloud()] = append(c.Clouds[sub.cloud()], sub.ID)
	}
	c.SandboxCredentials(s.caPEM, s.secret)
	return c
}

// Endpoints names the listener; every Azure host name is served there.
func (s *Server) Endpoints() map[string]string {
	return map[string]string{"azure (connect_to, all host names)": "https://" + s.ln.Addr().String()}
}

// CAPEM is the certificate of the emulator's CA, for clients written by
// others.
func (s *Server) CAPEM() []byte { return s.caPEM }

// SecretEnv names the variable a scan in another process reads the
// sandbox client's secret from.
const SecretEnv = "REACHAUDIT_SANDBOX_AZURE_CLIENT_SECRET"

// Env is what a scan in another process needs in its environment.
func (s *Server) Env() []string { return []string{SecretEnv + "=" + s.secret} }

// ClientSecret is the sandbox client's secret.
func (s *Server) ClientSecret() string { return s.secret }

// Requests is the number of requests served.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Close stops the server.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.srv.Close()
		}
		os.Remove(s.caFile)
	})
	return err
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.opts.Latency > 0 {
		select {
		case <-time.After(s.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	for cloudName, h := range cloudHosts {
		switch {
		case host == h.login:
			s.serveLogin(w, r, h.login)
			return
		case host == h.arm:
			s.serveARM(w, r, cloudName)
			return
		case strings.HasSuffix(host, "."+h.vault) || strings.HasSuffix(host, "."+h.hsm):
			s.serveVault(w, r, host, cloudName)
			return
		case strings.HasSuffix(host, "."+h.blob):
			s.serveBlob(w, r, strings.TrimSuffix(host, "."+h.blob), cloudName)
			return
		}
	}
	http.Error(w, "unknown host "+host, http.StatusMisdirectedRequest)
}

// issue makes a bearer token for scope.
func (s *Server) issue(scope string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	t := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[t] = scope
	s.mu.Unlock()
	return t
}

// bearer checks the request's token and that it was issued for a scope of
// the service (its audience); it answers the scope.
func (s *Server) bearer(r *http.Request, audience string) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return "", false
	}
	s.mu.Lock()
	scope, ok := s.tokens[tok]
	s.mu.Unlock()
	return scope, ok && strings.Contains(scope, audience)
}

// fault renders the fault the options inject into op on bucket, if any.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, op, bucket string, render func(status int, code, msg string)) bool {
	switch s.opts.Faults.Match(op, bucket) {
	case sandbox.FaultThrottle:
		w.Header().Set("Retry-After", "0")
		render(http.StatusTooManyRequests, "TooManyRequests", "The request is being throttled.")
	case sandbox.FaultServer:
		render(http.StatusInternalServerError, "InternalServerError", "Encountered internal server error.")
	case sandbox.FaultTimeout:
		<-r.Context().Done()
	case sandbox.FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value": [{"id": `))
	default:
		return false
	}
	return true
}
