package outputs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/reachaudit/reachaudit/internal/httpclient"
	"github.com/reachaudit/reachaudit/internal/redact"
)

// newHTTPClient builds the client of an HTTP destination with the
// output's TLS settings, from the shared factory: answers capped, and a
// redirect never followed. Go's client would re-send a POST that meets a
// 301 or 302 as a GET without its body, and the GET's 200 would read as
// delivery of a batch nobody received.
func newHTTPClient(o *Output) (*http.Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	opts := httpclient.Options{Timeout: o.timeout()}
	if u.Scheme == "https" {
		if opts.TLS, err = tlsConfig(o, u.Hostname()); err != nil {
			return nil, err
		}
	}
	return httpclient.New(opts), nil
}

// retryable reports whether an HTTP status is worth retrying at once. A
// redirect is not: the URL in the config is wrong for this destination
// until someone changes it.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// certificateError reports whether err is a failed verification of the
// server's certificate: retrying cannot change it.
func certificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// postWithRetry POSTs body (rebuilt per attempt by req) and retries
// transport errors and retryable statuses with exponential backoff until
// ctx ends. ok judges a response; its body is passed along read. A
// redirect is a failure (logged with where it pointed), never followed.
func postWithRetry(ctx context.Context, client *http.Client, log *slog.Logger, newReq func() (*http.Request, error),
	ok func(status int, body []byte) error) error {
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return err
		}
		resp, err := client.Do(req.WithContext(ctx))
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode >= 300 && resp.StatusCode < 400 {
				loc := redact.Default.String(resp.Header.Get("Location"))
				log.Warn("destination answered a redirect; not followed (point url at the final address)",
					"status", resp.StatusCode, "location", loc)
				return fmt.Errorf("answered %d redirect to %q: a POST is never re-sent to another address; fix url", resp.StatusCode, loc)
			}
			err = ok(resp.StatusCode, body)
			if err == nil {
				return nil
			}
			// A refusal that retrying now will not change (a bad token, a
			// refused payload): the batch waits in the spool for a later run.
			if !retryable(resp.StatusCode) {
				return err
			}
		} else if certificateError(err) {
			return err
		}
		if attempt >= 3 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// readerOf is a fresh reader over b for each attempt.
func readerOf(b []byte) io.Reader { return bytes.NewReader(b) }
