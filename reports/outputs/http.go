package outputs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// newHTTPClient builds the client of an HTTP destination with the
// output's TLS settings.
func newHTTPClient(o *Output) (*http.Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if u.Scheme == "https" {
		if tr.TLSClientConfig, err = tlsConfig(o, u.Hostname()); err != nil {
			return nil, err
		}
	}
	return &http.Client{Transport: tr, Timeout: o.timeout()}, nil
}

// retryable reports whether an HTTP status is worth retrying at once.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// postWithRetry POSTs body (rebuilt per attempt by req) and retries
// transport errors and retryable statuses with exponential backoff until
// ctx ends. ok judges a response; its body is passed along read.
func postWithRetry(ctx context.Context, client *http.Client, newReq func() (*http.Request, error),
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
			err = ok(resp.StatusCode, body)
			if err == nil {
				return nil
			}
			// A refusal that retrying now will not change (a bad token, a
			// refused payload): the batch waits in the spool for a later run.
			if !retryable(resp.StatusCode) {
				return err
			}
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
