package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Caps of an answer's body. An endless or oversized answer fails the call
// with a TooLargeError at the cap rather than growing the process.
const (
	// ListingBody caps a page of a listing: a thousand buckets with their
	// full metadata (GCS answers every bucket's configuration) come to a
	// few MiB.
	ListingBody int64 = 64 << 20
	// AnswerBody caps any other answer, the default.
	AnswerBody int64 = 16 << 20
	// ErrorBody caps the body of an error answer (status 300 and above):
	// a code and a message, a few KiB at most (S3's signature mismatch,
	// which quotes the string to sign, is the longest).
	ErrorBody int64 = 64 << 10
	// MaxRedirects is how many redirects a GET or HEAD may follow.
	MaxRedirects = 5
)

// ErrRedirects is the error of a request stopped at MaxRedirects.
var ErrRedirects = errors.New("too many redirects")

// TooLargeError is what reading an answer past its cap fails with.
type TooLargeError struct {
	Limit  int64
	Status int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the answer (HTTP %d) is longer than %s: refused", e.Status, size(e.Limit))
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

type limitKey struct{}

// WithBodyLimit sets the cap on the answers of the calls made with ctx;
// an error answer keeps the smaller ErrorBody cap.
func WithBodyLimit(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, limitKey{}, n)
}

func limitOf(ctx context.Context) int64 {
	if n, ok := ctx.Value(limitKey{}).(int64); ok && n > 0 {
		return n
	}
	return AnswerBody
}

// Options are what a caller sets of a client.
type Options struct {
	// Base is the transport to start from, for an SDK that resolves
	// settings of its own into one (a CA bundle from its shared config);
	// nil starts from a clone of Go's default transport. It is cloned,
	// never changed.
	Base *http.Transport
	// TLS is the client's TLS configuration; nil keeps Base's, or Go's
	// defaults with TLS 1.2 at least.
	TLS *tls.Config
	// Timeout bounds one exchange, the answer's body included; 0 leaves
	// it to the request's context. It is a backstop behind the callers'
	// per-call timeouts, which ride on the context.
	Timeout time.Duration
	// FollowRedirects lets a GET or HEAD follow up to MaxRedirects
	// redirects. Without it (and always for any other method) a redirect
	// is the answer, for the caller to judge: a POST re-sent elsewhere, or
	// turned into a GET, would read as delivered.
	FollowRedirects bool
	// MaxIdleConnsPerHost is the idle pool per host; 0 keeps Go's 2.
	MaxIdleConnsPerHost int
	// IdleConnTimeout drops idle connections after it; 0 keeps Go's 90s.
	IdleConnTimeout time.Duration
	// DialContext, when set, replaces the dialer (a fixed address to
	// connect to, whatever the URL's host).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a client with the options.
func New(o Options) *http.Client {
	return &http.Client{Transport: NewTransport(o), Timeout: o.Timeout, CheckRedirect: redirectPolicy(o.FollowRedirects)}
}

// NewTransport returns the capped transport alone, for SDKs that wrap a
// transport of their own around it (authentication) before making the
// client. Such a client must take its redirect policy from Redirects.
func NewTransport(o Options) http.RoundTripper {
	base := o.Base
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	tr := base.Clone()
	if o.TLS != nil {
		tr.TLSClientConfig = o.TLS
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if o.MaxIdleConnsPerHost > 0 {
		tr.MaxIdleConnsPerHost = o.MaxIdleConnsPerHost
	}
	if o.IdleConnTimeout > 0 {
		tr.IdleConnTimeout = o.IdleConnTimeout
	}
	if o.DialContext != nil {
		tr.DialContext = o.DialContext
		tr.Proxy = nil
	}
	// Headers are small; a server that sends megabytes of them is not one
	// to listen to.
	tr.MaxResponseHeaderBytes = 1 << 20
	return &capped{base: tr}
}

// Redirects is the client redirect policy of the options, for a client
// made around NewTransport.
func Redirects(follow bool) func(*http.Request, []*http.Request) error {
	return redirectPolicy(follow)
}

func redirectPolicy(follow bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		// via[0] is the request as sent: Go turns a POST met by a 302
		// into a GET, which must not pass for a GET.
		if m := via[0].Method; !follow || (m != http.MethodGet && m != http.MethodHead) {
			return http.ErrUseLastResponse
		}
		if len(via) > MaxRedirects {
			return fmt.Errorf("%w: stopped after %d (last to %s)", ErrRedirects, MaxRedirects, req.URL.Redacted())
		}
		return nil
	}
}

// capped caps the body of every answer it carries.
type capped struct{ base *http.Transport }

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// pool.
func (c *capped) CloseIdleConnections() { c.base.CloseIdleConnections() }

func (c *capped) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	limit := limitOf(req.Context())
	if resp.StatusCode >= 300 {
		limit = min(limit, ErrorBody)
	}
	resp.Body = &cappedBody{rc: resp.Body, left: limit, err: &TooLargeError{Limit: limit, Status: resp.StatusCode}}
	return resp, nil
}

// cappedBody reads at most left bytes, and fails with err when the body
// holds more.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the cap: one byte more means the answer is longer.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, b.err
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
