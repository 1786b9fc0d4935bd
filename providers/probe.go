package providers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// ErrorCodes are the error codes of one provider's API that the audit must
// tell apart from other failures: throttling (retried, and a probe's
// "throttled") and permission denial (a grant would cure it). Each plugin
// owns its vocabulary; the classes it maps onto are shared.
type ErrorCodes struct {
	Throttling map[string]bool
	Denied     map[string]bool
	// Unauthenticated are the codes with which a service refuses the
	// request's credentials or signature (a wrong secret, a skewed clock):
	// the scanner's own fault, which no grant cures and which says nothing
	// of whether the data can be read, even when answered with a 403.
	Unauthenticated map[string]bool
}

// Throttled reports whether an answer is throttling: HTTP 429 or one of
// the provider's throttling codes (some answer 503 SlowDown).
func (c ErrorCodes) Throttled(status int, code string) bool {
	return status == 429 || c.Throttling[code]
}

// IsDenied reports whether an answer is a permission denial.
func (c ErrorCodes) IsDenied(status int, code string) bool {
	if c.Unauthenticated[code] {
		return false
	}
	return status == 403 || c.Denied[code]
}

// BlocksData reports whether a failed probe's class is evidence that the
// data cannot be read from here: a clear denial (403), a bucket gone (404),
// or the network refusing (DNS, connect, TLS, timeout). Throttling, a 5xx
// or an answer that does not parse say the provider answered, not whether
// the data can be read: they are unknown reachability, never a block.
func BlocksData(failure string) bool {
	switch failure {
	case FailDNS, FailConnect, FailTLS, FailTimeout, FailHTTP403, FailHTTP404:
		return true
	}
	return false
}

// RecordProbe runs a plugin's probe and records its outcome on b. A
// failure that would be evidence of a block is tried once more, so one
// dropped connection does not raise a critical finding; a failure that is
// no evidence either way is recorded as the reachability field unknown
// (UNK-001), with the probe's own error.
func RecordProbe(b *Bucket, probe func() Reachability) {
	r := probe()
	if !r.Reachable && BlocksData(r.Failure) {
		r = probe()
	}
	b.Reachability = r
	if !r.Reachable && r.Failure != "" && !BlocksData(r.Failure) {
		b.SetUnknown(FieldReachability, r.Probe, errors.New(r.Error), "")
	}
}

// Classify names the failure class of a failed probe call. status is the
// HTTP status the SDK reported (0 when none arrived) and code the
// provider's error code, if any. Plugins extract both from their SDK's error
// types; the classes are shared so that rules and reports see one vocabulary.
func (c ErrorCodes) Classify(err error, status int, code string) string {
	switch {
	case c.Throttled(status, code):
		return FailThrottled
	case c.Unauthenticated[code]:
		// Whatever status carries it, a refused credential says nothing
		// of the data.
		return FailOther
	case c.IsDenied(status, code):
		return FailHTTP403
	case status == 404:
		return FailHTTP404
	case status >= 500:
		return FailHTTP5xx
	}
	if err == nil {
		return ""
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var alertErr tls.AlertError
	switch {
	case errors.As(err, &dnsErr):
		return FailDNS
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &recErr), errors.As(err, &alertErr):
		return FailTLS
	case IsTimeout(err):
		return FailTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), isDial(err):
		return FailConnect
	}
	if strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") {
		return FailTLS
	}
	return FailOther
}

// IsTimeout reports whether err is a call that ran out of time: its
// context's deadline, or the network's.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue) && ue.Timeout()
}

func isDial(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}
