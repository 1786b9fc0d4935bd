package reports

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// Product names this tool in the formats that carry a product name.
const Product = "reachaudit"

// Options tune an encoding.
type Options struct {
	// Color turns on ANSI colour in the table format; the caller sets it
	// when the output is a terminal.
	Color bool
	// Now is the time the report says it was generated; zero means the
	// time of the call. Tests set it for deterministic output.
	Now time.Time
	// Version is this tool's version, written where a format names the
	// product version (ocsf, cef, html).
	Version string
	// Width is the terminal width the table fits its lines to; zero means
	// DefaultWidth.
	Width int
	// Wide makes the table show every line whole, every evidence field and
	// every bucket, whatever the width.
	Wide bool
}

// DefaultWidth is the table's width when the output is not a terminal.
const DefaultWidth = 100

func (o Options) width() int {
	if o.Width <= 0 {
		return DefaultWidth
	}
	return o.Width
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now().UTC()
	}
	return o.Now.UTC()
}

func (o Options) version() string {
	if o.Version == "" {
		return "dev"
	}
	return o.Version
}

// DefaultFormat is the format used when none is named.
const DefaultFormat = "table"

// encoders maps a format name to the function that writes a whole Result.
var encoders = map[string]func(w io.Writer, r *agent.Result, opts Options) error{
	"table": encodeTable,
	"json":  encodeJSON,
	"jsonl": encodeJSONL,
	"csv":   encodeCSV,
	"ocsf":  encodeOCSF,
	"cef":   encodeCEF,
	"html":  encodeHTML,
	// The DORA register of information: a zip of CSV files, or a
	// directory of them (see DORARoI).
	"dora-roi": encodeDORA,
}

// Formats lists the format names Encode accepts, sorted.
func Formats() []string {
	out := make([]string, 0, len(encoders))
	for name := range encoders {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ErrUnknownFormat is returned for a format name Formats does not list.
var ErrUnknownFormat = errors.New("unknown format")

// Encode writes r to w in format ("" means DefaultFormat).
func Encode(w io.Writer, format string, r *agent.Result, opts Options) error {
	if format == "" {
		format = DefaultFormat
	}
	enc, ok := encoders[format]
	if !ok {
		return fmt.Errorf("%w %q (want one of %v)", ErrUnknownFormat, format, Formats())
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := enc(bw, r, opts); err != nil {
		return fmt.Errorf("encode %s: %w", format, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("encode %s: %w", format, err)
	}
	return nil
}

// FindingEncoder renders one finding as one self-contained message, for
// sinks that deliver finding by finding (syslog, HEC, webhook).
type FindingEncoder interface {
	// AppendFinding appends f's message to dst, without a trailing newline.
	AppendFinding(dst []byte, f *risk.Finding) ([]byte, error)
}

// findingEncoders maps the formats that have a per-finding form.
var findingEncoders = map[string]func(r *agent.Result, opts Options) FindingEncoder{
	"json":  func(r *agent.Result, opts Options) FindingEncoder { return newJSONLEncoder(r) },
	"jsonl": func(r *agent.Result, opts Options) FindingEncoder { return newJSONLEncoder(r) },
	"ocsf":  func(r *agent.Result, opts Options) FindingEncoder { return newOCSFEncoder(r, opts) },
	"cef":   func(r *agent.Result, opts Options) FindingEncoder { return newCEFEncoder(r, opts) },
}

// FindingFormats lists the formats NewFindingEncoder accepts, sorted.
// "json" and "jsonl" give the same message: one finding as a JSON object.
func FindingFormats() []string {
	out := make([]string, 0, len(findingEncoders))
	for name := range findingEncoders {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// NewFindingEncoder returns the per-finding encoder of format for the
// findings of r.
func NewFindingEncoder(format string, r *agent.Result, opts Options) (FindingEncoder, error) {
	mk, ok := findingEncoders[format]
	if !ok {
		return nil, fmt.Errorf("%w %q for per-finding delivery (want one of %v)", ErrUnknownFormat, format, FindingFormats())
	}
	return mk(r, opts), nil
}

// bucketIndex finds the record a finding is about. It is the buckets'
// positions sorted by identity (4 bytes a bucket, searched in O(log n)),
// rather than a map, so that it stays small beside the Result.
type bucketIndex struct {
	r     *agent.Result
	order []int32
}

type bucketKey struct{ provider, account, name string }

func keyOf(b *providers.Bucket) bucketKey { return bucketKey{b.Provider, b.Account, b.Name} }

func compareKeys(a, b bucketKey) int {
	if c := strings.Compare(a.provider, b.provider); c != 0 {
		return c
	}
	if c := strings.Compare(a.account, b.account); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

func indexBuckets(r *agent.Result) bucketIndex {
	order := make([]int32, len(r.Buckets))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return compareKeys(keyOf(&r.Buckets[a]), keyOf(&r.Buckets[b]))
	})
	return bucketIndex{r: r, order: order}
}

// pos returns the position in r.Buckets of the bucket with key k, or -1.
func (idx bucketIndex) pos(k bucketKey) int {
	i, found := slices.BinarySearchFunc(idx.order, k, func(p int32, k bucketKey) int {
		return compareKeys(keyOf(&idx.r.Buckets[p]), k)
	})
	if !found {
		return -1
	}
	return int(idx.order[i])
}

// of returns f's bucket record, or nil when the result does not hold it.
func (idx bucketIndex) of(f *risk.Finding) *providers.Bucket {
	if p := idx.pos(bucketKey{f.Provider, f.Account, f.Bucket}); p >= 0 {
		return &idx.r.Buckets[p]
	}
	return nil
}

// risks is the order the table and the html report group findings in.
var risks = []string{risk.RiskExpose, risk.RiskBlock, risk.RiskResidency, risk.RiskHygiene, risk.RiskUnknown}

// resourceName is the provider:account:bucket form the policy's exceptions use.
func resourceName(provider, account, bucket string) string {
	return provider + ":" + account + ":" + bucket
}

// UnverifiedNote says what an unverified finding is, in every format that
// carries it in words: kept open from an earlier run because this run
// could not read what decides it, so it is neither confirmed nor resolved.
const UnverifiedNote = "unverified: kept open from an earlier run; this run could not read what decides it"
