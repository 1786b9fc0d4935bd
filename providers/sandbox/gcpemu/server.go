package gcpemu

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"cloud.google.com/go/resourcemanager/apiv3/resourcemanagerpb"
	"google.golang.org/grpc"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func init() {
	sandbox.Register(sandbox.Emulator{
		Name:       "gcp",
		NewSection: func() sandbox.Section { return &Section{} },
		Start: func(ctx context.Context, s sandbox.Section, opts sandbox.Options) (sandbox.Server, error) {
			sec, ok := s.(*Section)
			if !ok {
				return nil, fmt.Errorf("gcpemu: section of type %T", s)
			}
			return Start(ctx, sec, opts)
		},
	})
}

// Server is a running emulator of Cloud Storage, Cloud KMS, Cloud
// Monitoring and Resource Manager.
type Server struct {
	opts     sandbox.Options
	projects []string
	buckets  map[string]*bucketState // by name
	byProj   map[string][]*bucketState
	keys     map[string]*Key
	// keyDeny holds the KMS permissions denied per key, gathered from the
	// deny lists of the buckets that use the key.
	keyDeny map[string]map[string]bool
	// listDeny holds the projects whose bucket list is denied.
	listDeny map[string]bool
	// metricsDeny holds the projects whose time series are denied.
	metricsDeny map[string]bool
	// org is the resource hierarchy Resource Manager serves; nil without
	// an organization block.
	org *Organization
	// budgets are the projects' Cloud Storage request rates (estate
	// `throttle:`).
	budgets sandbox.Budgets

	// auth holds the service-account key and the access tokens issued.
	auth *authority

	httpLn   net.Listener
	httpSrv  *http.Server
	grpcLn   net.Listener
	grpcSrv  *grpc.Server
	requests atomic.Int64
	done     chan struct{}
	once     sync.Once
}

type bucketState struct {
	Bucket
	project string
	number  uint64
	created time.Time
}

// Start serves the section on 127.0.0.1 until ctx ends or Close is called.
func Start(ctx context.Context, sec *Section, opts sandbox.Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	s := &Server{
		opts:        opts,
		buckets:     map[string]*bucketState{},
		byProj:      map[string][]*bucketState{},
		keys:        map[string]*Key{},
		keyDeny:     map[string]map[string]bool{},
		listDeny:    map[string]bool{},
		done:        make(chan struct{}),
		metricsDeny: map[string]bool{},
		org:         organizationOf(sec),
	}
	for _, p := range sec.Projects {
		s.projects = append(s.projects, p.ID)
		s.budgets.Set(p.ID, p.Throttle)
		s.byProj[p.ID] = []*bucketState{}
		for i := range p.Keys {
			s.keys[p.Keys[i].Name] = &p.Keys[i]
		}
		for _, b := range p.Buckets {
			bs := &bucketState{Bucket: b, project: p.ID, number: projectNumber(p.ID),
				created: opts.Now.Add(-400 * 24 * time.Hour).Truncate(time.Second)}
			s.buckets[b.Name] = bs
			s.byProj[p.ID] = append(s.byProj[p.ID], bs)
			if b.denies("storage.buckets.list") {
				s.listDeny[p.ID] = true
			}
			if b.denies("monitoring.timeSeries.list") {
				s.metricsDeny[p.ID] = true
			}
			if b.DefaultKMSKey != "" {
				for _, perm := range []string{"cloudkms.cryptoKeys.get", "cloudkms.cryptoKeyVersions.get"} {
					if b.denies(perm) {
						if s.keyDeny[b.DefaultKMSKey] == nil {
							s.keyDeny[b.DefaultKMSKey] = map[string]bool{}
						}
						s.keyDeny[b.DefaultKMSKey][perm] = true
					}
				}
			}
		}
	}

	var err error
	if s.auth, err = newAuthority(); err != nil {
		return nil, err
	}
	if s.httpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("gcpemu: listen for storage: %w", err)
	}
	if s.grpcLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		s.httpLn.Close()
		return nil, fmt.Errorf("gcpemu: listen for KMS: %w", err)
	}
	// A scan in another process (`sandbox serve`) reads the key from a
	// file, as a user gives a service account key.
	if err := s.auth.writeKeyFile(s.tokenURL()); err != nil {
		s.httpLn.Close()
		s.grpcLn.Close()
		return nil, err
	}
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.grpcSrv = grpc.NewServer(grpc.UnaryInterceptor(s.grpcAuth))
	kmspb.RegisterKeyManagementServiceServer(s.grpcSrv, &kmsServer{s: s})
	monitoringpb.RegisterMetricServiceServer(s.grpcSrv, &metricServer{s: s})
	resourcemanagerpb.RegisterProjectsServer(s.grpcSrv, &projectsServer{s: s})
	resourcemanagerpb.RegisterFoldersServer(s.grpcSrv, &foldersServer{s: s})
	go func() {
		if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Logger.Error("gcp storage emulator stopped", "err", err)
		}
	}()
	go func() {
		if err := s.grpcSrv.Serve(s.grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			opts.Logger.Error("gcp KMS emulator stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// Config returns the plugin configuration that scans this emulator through
// the client libraries' endpoint options, authenticated with the sandbox's
// service account key through its token endpoint.
func (s *Server) Config() providers.Config {
	c := &gcp.Config{
		Projects:                append([]string(nil), s.projects...),
		CredentialsFile:         s.auth.keyFile,
		CredentialsType:         gcp.CredentialsServiceAccount,
		Endpoint:                s.StorageURL(),
		KMSEndpoint:             s.grpcLn.Addr().String(),
		MonitoringEndpoint:      s.grpcLn.Addr().String(),
		ResourceManagerEndpoint: s.grpcLn.Addr().String(),
		Insecure:                true,
	}
	if s.org != nil {
		// An estate with an organization is scanned as one: its projects
		// are discovered, none is named.
		c.Projects, c.Organization = nil, s.org.id()
	}
	return c
}

// KeyFile is the path of the sandbox's service account key file (removed
// when the server closes).
func (s *Server) KeyFile() string { return s.auth.keyFile }

// tokenPath is where the OAuth 2.0 token endpoint is served.
const tokenPath = "/token"

// tokenURL is the token endpoint the key file names.
func (s *Server) tokenURL() string { return "http://" + s.httpLn.Addr().String() + tokenPath }

// StorageURL is the JSON API base URL, ending in /storage/v1/.
func (s *Server) StorageURL() string { return "http://" + s.httpLn.Addr().String() + "/storage/v1/" }

// Endpoints names the listening addresses.
func (s *Server) Endpoints() map[string]string {
	return map[string]string{"storage": s.StorageURL(), "kms": s.grpcLn.Addr().String(), "monitoring": s.grpcLn.Addr().String(),
		"token": s.tokenURL(), "resourcemanager": s.grpcLn.Addr().String()}
}

// Throttled is how many requests got the throttling answer of a
// project's `throttle:`.
func (s *Server) Throttled() int64 { return s.budgets.Refused() }

// Requests is the number of API requests served, both servers together;
// token requests are not API calls and are not counted.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Close stops both servers; requests held by a timeout fault are released.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = s.httpSrv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.httpSrv.Close()
		}
		s.grpcSrv.Stop()
		s.auth.close()
	})
	return err
}

// wait applies the injected latency, or returns early if the caller left.
func (s *Server) wait(ctx context.Context) error {
	if s.opts.Latency <= 0 {
		return nil
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errors.New("server closed")
	}
}

// hang holds a request until the client gives up or the server closes.
func (s *Server) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.done:
	}
}

func projectNumber(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return 100000000000 + h.Sum64()%900000000000
}
