package redact

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask replaces a secret value.
const Mask = "[REDACTED]"

// minSecret is the shortest value treated as a secret: shorter ones would
// mask ordinary words and digits all over the output.
const minSecret = 6

// Redactor strips registered secrets and signed-URL query strings.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is masked whole
}

// Default is the process's redactor.
var Default = &Redactor{}

// Add registers secret values (empty and very short ones are ignored).
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) < minSecret || slices.Contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// AddEnv registers the values of the named environment variables (the
// SDKs' own credential variables, read by their default chains).
func (r *Redactor) AddEnv(names ...string) {
	for _, n := range names {
		r.Add(os.Getenv(n))
	}
}

// signedURL matches a URL with a query string; signingParams says whether
// the query signs or authorises the request.
var signedURL = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>?]+\?[^\s"'<>]+`)

// signingParams are the query parameters of signed or token-bearing URLs:
// AWS SigV4 presigned URLs, Alibaba RPC signatures (STS AssumeRole, KMS),
// OSS V1/V4 signed URLs, GCS signed URLs, Azure SAS, OAuth tokens.
var signingParams = []string{
	"signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
	"accesskeyid", "securitytoken", "ossaccesskeyid", "x-oss-signature", "x-oss-credential",
	"x-oss-security-token", "x-goog-signature", "x-goog-credential", "googleaccessid",
	"sig", "se", "sv", "access_token", "token", "key", "password", "secret", "client_secret",
}

// String returns s with every registered secret and every signed URL's
// query string masked.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	r.mu.RLock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	r.mu.RUnlock()
	if !strings.Contains(s, "?") {
		return s
	}
	return signedURL.ReplaceAllStringFunc(s, func(u string) string {
		base, query, _ := strings.Cut(u, "?")
		for _, kv := range strings.FieldsFunc(query, func(c rune) bool { return c == '&' || c == ';' }) {
			k, _, _ := strings.Cut(kv, "=")
			if slices.Contains(signingParams, strings.ToLower(k)) {
				return base + "?" + Mask
			}
		}
		return u
	})
}

// Error returns err with its text redacted; errors.Is and errors.As still
// see the original chain. Nil stays nil.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &redacted{msg: red, err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// Value redacts, in place, every string reachable from v (a pointer to a
// struct, slice or map): result documents, history rows. Values inside
// interfaces and maps are replaced by redacted copies.
func (r *Redactor) Value(v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return
	}
	r.walk(rv.Elem())
}

func (r *Redactor) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); s != "" {
				if red := r.String(s); red != s {
					v.SetString(red)
				}
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			r.walk(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				r.walk(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			r.walk(v.Index(i))
		}
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return
		}
		c := reflect.New(v.Elem().Type()).Elem()
		c.Set(v.Elem())
		r.walk(c)
		v.Set(c)
	case reflect.Map:
		if v.IsNil() {
			return
		}
		for _, k := range v.MapKeys() {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(v.MapIndex(k))
			r.walk(c)
			v.SetMapIndex(k, c)
		}
	}
}

// Handler wraps h so that every log record's message and attributes are
// redacted before h sees them.
func (r *Redactor) Handler(h slog.Handler) slog.Handler { return &handler{r: r, h: h} }

type handler struct {
	r *Redactor
	h slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.r.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.r.attr(a)
	}
	return &handler{r: h.r, h: h.h.WithAttrs(red)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{r: h.r, h: h.h.WithGroup(name)}
}

func (r *Redactor) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.String(v.String()))
	case slog.KindGroup:
		as := v.Group()
		red := make([]any, len(as))
		for i, g := range as {
			red[i] = r.attr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, r.String(x.Error()))
		case []string:
			out := make([]string, len(x))
			for i, s := range x {
				out[i] = r.String(s)
			}
			return slog.Any(a.Key, out)
		case fmt.Stringer:
			return slog.String(a.Key, r.String(x.String()))
		default:
			// A structured value keeps its shape unless its text holds a
			// secret.
			if txt := fmt.Sprint(x); r.String(txt) != txt {
				return slog.String(a.Key, r.String(txt))
			}
			return a
		}
	}
	return a
}
