package awsemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func init() {
	sandbox.Register(sandbox.Emulator{
		Name:       "aws",
		NewSection: func() sandbox.Section { return &Estate{} },
		Start: func(ctx context.Context, s sandbox.Section, opts sandbox.Options) (sandbox.Server, error) {
			e, ok := s.(*Estate)
			if !ok {
				return nil, fmt.Errorf("awsemu: section is %T, not *awsemu.Estate", s)
			}
			return Start(ctx, e, opts)
		},
	})
}

const (
	// maxBody bounds what a request may send; every call the emulator
	// answers has a small body or none.
	maxBody = 1 << 20
	// maxHold bounds how long a timeout fault holds a request whose client
	// never gives up.
	maxHold = 60 * time.Second
)

// Server is a running AWS emulator.
type Server struct {
	w        *world
	opts     sandbox.Options
	url      string
	srv      *http.Server
	requests atomic.Int64
	seq      atomic.Uint64
	idPrefix string
	done     chan struct{}
	once     sync.Once
	served   chan struct{}
}

// Start serves the estate on a random port of 127.0.0.1 until ctx ends or
// Close is called.
func Start(ctx context.Context, e *Estate, opts sandbox.Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	w, err := build(e, opts.Now)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("awsemu: listen: %w", err)
	}
	s := &Server{
		w: w, opts: opts,
		url:      "http://" + ln.Addr().String(),
		idPrefix: randomID(6),
		done:     make(chan struct{}),
		served:   make(chan struct{}),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Logger.Error("aws emulator stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	opts.Logger.Debug("aws emulator listening", "url", s.url, "accounts", len(e.Accounts))
	return s, nil
}

// URL is the emulator's endpoint for S3, KMS and STS alike.
func (s *Server) URL() string { return s.url }

// Endpoints names the listening URL of each service.
func (s *Server) Endpoints() map[string]string {
	return map[string]string{"s3": s.url, "kms": s.url, "sts": s.url, "cloudwatch": s.url}
}

// Requests is the number of requests received so far, answered or not.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Throttled is the number of requests answered with a throttling error
// because their account was over its estate `throttle:` rate.
func (s *Server) Throttled() int64 { return s.w.budgets.Refused() }

// Close stops the server and releases requests held by timeout faults.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.srv.Close()
		<-s.served
	})
	return err
}

// Credentials is an access key pair the emulator accepts.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// AccountCredentials returns the key pair of an estate account, which sees
// that account's buckets and keys only.
func (s *Server) AccountCredentials(account string) (Credentials, bool) {
	a, ok := s.w.accounts[account]
	if !ok || a.user == nil {
		return Credentials{}, false
	}
	return Credentials{a.user.akid, a.user.secret}, true
}

// OrganisationCredentials returns the organisation's key pair, which may
// assume any role in the organisation's accounts and do nothing else.
func (s *Server) OrganisationCredentials() Credentials {
	return Credentials{s.w.org.akid, s.w.org.secret}
}

// Organisation returns the organisation's accounts: those of the estate
// that hold buckets, in estate order.
func (s *Server) Organisation() []string { return append([]string(nil), s.w.orgAccounts...) }

// reply is an answer before it is written, so that faults can change it.
type reply struct {
	status int
	header [][2]string
	ctype  string
	body   []byte
}

func (r *reply) set(name, value string) { r.header = append(r.header, [2]string{name, value}) }

// call is one request on its way through.
type call struct {
	r      *http.Request
	body   []byte
	op     string
	bucket string
	object string
	auth   authResult
	reqID  string
	// fault is a listing fault the handler renders (sandbox.ListingFault).
	fault string
}

// service is one AWS API the server speaks.
type service interface {
	name() string
	// identify names the operation and bucket before authentication, for
	// faults and errors.
	identify(c *call)
	authError(c *call) reply
	fault(c *call, kind string) reply
	handle(c *call) reply
}

func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	c := &call{r: r, reqID: s.requestID()}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	c.body = body
	svc := s.route(r)
	svc.identify(c)
	var rep reply
	switch {
	case len(body) > maxBody:
		rep = svc.fault(c, "too-large")
	default:
		c.auth = s.w.verify(r, body, svc.name())
		if c.auth.fault != authOK {
			rep = svc.authError(c)
			break
		}
		kind := s.opts.Faults.Match(c.op, c.bucket)
		if kind == "" && !s.w.budgets.Allow(c.auth.principal.account) {
			kind = sandbox.FaultThrottle
		}
		switch kind {
		case "":
			rep = svc.handle(c)
		case sandbox.FaultRepeatToken, sandbox.FaultCycleToken, sandbox.FaultPage2, sandbox.FaultDuplicates:
			c.fault = kind
			rep = svc.handle(c)
		case sandbox.FaultEndlessBody, sandbox.FaultHugeError:
			s.endless(rw, r, c, kind)
			return
		case sandbox.FaultRedirectLoop:
			sandbox.RedirectLoop(rw, r)
			return
		case sandbox.FaultTimeout:
			s.hold(r)
			// The client has given up or the bound is reached: drop the
			// connection without an answer.
			panic(http.ErrAbortHandler)
		case sandbox.FaultMalformed:
			rep = garble(svc.handle(c))
		default:
			rep = svc.fault(c, kind)
		}
	}
	s.write(rw, r, svc, c, rep)
}

// endless renders the endless-body faults: a ListBuckets answer that
// names bucket after bucket, or an error whose message never ends.
func (s *Server) endless(rw http.ResponseWriter, r *http.Request, c *call, kind string) {
	rw.Header().Set("X-Amz-Request-Id", c.reqID)
	if kind == sandbox.FaultHugeError {
		sandbox.Endless(rw, r, http.StatusInternalServerError, "application/xml",
			[]byte(xmlHeader+"<Error><Code>InternalError</Code><Message>We encountered an internal error"),
			[]byte(". Please try again"), s.done)
		return
	}
	sandbox.Endless(rw, r, http.StatusOK, "application/xml",
		[]byte(xmlHeader+`<ListAllMyBucketsResult xmlns="`+s3NS+`"><Buckets>`),
		[]byte("<Bucket><Name>endless</Name><CreationDate>2025-01-01T00:00:00.000Z</CreationDate></Bucket>"), s.done)
}

func (s *Server) hold(r *http.Request) {
	t := time.NewTimer(maxHold)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-s.done:
	case <-t.C:
	}
}

// route picks the API: KMS by its target header, STS by its form action,
// S3 for everything else.
func (s *Server) route(r *http.Request) service {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "TrentService.") {
		return kmsService{s}
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), orgTarget) {
		return orgService{s}
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, cwPathPrefix) && r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		return cloudWatchService{s}
	}
	if r.Method == http.MethodPost && r.URL.Path == "/" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return stsService{s}
	}
	if r.URL.Query().Has("Action") && r.URL.Path == "/" {
		return stsService{s}
	}
	return s3Service{s}
}

func (s *Server) write(rw http.ResponseWriter, r *http.Request, svc service, c *call, rep reply) {
	h := rw.Header()
	switch svc.name() {
	case "s3":
		h.Set("X-Amz-Request-Id", c.reqID)
		h.Set("X-Amz-Id-2", c.reqID+"/"+s.idPrefix)
		h.Set("Server", "AmazonS3")
	default:
		h.Set("X-Amzn-Requestid", c.reqID)
	}
	for _, kv := range rep.header {
		h.Set(kv[0], kv[1])
	}
	if rep.ctype != "" {
		h.Set("Content-Type", rep.ctype)
	}
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if r.Method != http.MethodHead {
		h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	}
	s.opts.Logger.Debug("aws request", "service", svc.name(), "op", c.op, "bucket", c.bucket, "status", rep.status, "request_id", c.reqID)
	rw.WriteHeader(rep.status)
	if r.Method != http.MethodHead {
		rw.Write(rep.body)
	}
}

// garble turns an answer into a 200 whose body does not parse: the first
// half of the real body, cut mid-element.
func garble(rep reply) reply {
	n := len(rep.body) / 2
	if n < 8 {
		rep.body = []byte(`<?xml version="1.0" encoding="UTF-8"?><Resp`)
		if rep.ctype != "" && strings.Contains(rep.ctype, "json") {
			rep.body = []byte(`{"KeyMetadata": {"Arn": `)
		}
	} else {
		rep.body = rep.body[:n]
	}
	rep.status = http.StatusOK
	var kept [][2]string
	for _, kv := range rep.header {
		// A HEAD answer has no body to spoil; losing its facts is the
		// malformed answer there.
		if !strings.HasPrefix(strings.ToLower(kv[0]), "x-amz-") {
			kept = append(kept, kv)
		}
	}
	rep.header = kept
	return rep
}

func (s *Server) requestID() string {
	n := s.seq.Add(1)
	return s.idPrefix + fmt.Sprintf("%010X", n)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
