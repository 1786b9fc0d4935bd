package reports

import (
	"io"
	"strconv"
	"strings"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
)

// cefSeverity maps our severities onto CEF's 0-10 scale (ArcSight reads
// 0-3 low, 4-6 medium, 7-8 high, 9-10 very high).
var cefSeverity = map[risk.Severity]int{
	risk.Info: 1, risk.Low: 3, risk.Medium: 5, risk.High: 8, risk.Critical: 10,
}

// cefLabels names the custom string fields, in the order cs1..cs6. The
// mapping is documented in CEF.md; changing it breaks SIEM parsers.
var cefLabels = [6]string{"provider", "account", "bucket", "region", "status", "jurisdictions"}

type cefEncoder struct {
	r       *agent.Result
	idx     bucketIndex
	version string
	rt      string
}

func newCEFEncoder(r *agent.Result, opts Options) *cefEncoder {
	return &cefEncoder{r: r, idx: indexBuckets(r), version: opts.version(),
		rt: strconv.FormatInt(r.FinishedAt.UnixMilli(), 10)}
}

// AppendFinding writes CEF:0|vendor|product|version|class id|name|severity|extension.
func (e *cefEncoder) AppendFinding(dst []byte, f *risk.Finding) ([]byte, error) {
	dst = append(dst, "CEF:0|"...)
	for _, h := range []string{Product, Product, e.version, f.Rule, f.Title} {
		dst = appendCEFHeader(dst, h)
		dst = append(dst, '|')
	}
	dst = strconv.AppendInt(dst, int64(cefSeverity[f.Severity]), 10)
	dst = append(dst, '|')

	ext := cefExt{dst: dst}
	ext.add("rt", e.rt)
	ext.add("externalId", f.ID)
	ext.add("cat", f.Risk)
	values := [6]string{f.Provider, f.Account, f.Bucket, f.Region, f.Status, strings.Join(f.Jurisdictions, ",")}
	for i, v := range values {
		n := strconv.Itoa(i + 1)
		ext.add("cs"+n, v)
		ext.add("cs"+n+"Label", cefLabels[i])
	}
	if b := e.idx.of(f); b != nil {
		ext.add("request", b.URI)
	}
	ext.add("msg", evidenceSummary(f, 1000))
	ext.add("reason", f.SuppressedReason)
	if len(f.LegalBasis) > 0 {
		ext.add("flexString1", strings.Join(f.LegalBasis, "; "))
		ext.add("flexString1Label", "legal_basis")
	}
	ext.add("flexString2", f.Remediation)
	ext.add("flexString2Label", "remediation")
	ext.add("deviceExternalId", e.r.RunID)
	if f.Unverified {
		ext.add("cn1", "1")
		ext.add("cn1Label", "unverified")
	}
	return ext.dst, nil
}

func encodeCEF(w io.Writer, r *agent.Result, opts Options) error {
	return encodeLines(w, newCEFEncoder(r, opts), r)
}

// cefExt appends key=value pairs separated by single spaces, skipping empty
// values (CEF has no null).
type cefExt struct {
	dst   []byte
	first bool
}

func (x *cefExt) add(key, value string) {
	if value == "" {
		return
	}
	if x.first {
		x.dst = append(x.dst, ' ')
	}
	x.first = true
	x.dst = append(x.dst, key...)
	x.dst = append(x.dst, '=')
	x.dst = appendCEFValue(x.dst, value)
}

// appendCEFHeader escapes a header field: backslash and pipe. A header
// cannot hold a line break, so CR and LF become spaces.
func appendCEFHeader(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '|':
			dst = append(dst, '\\', c)
		case '\r', '\n':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendCEFValue escapes an extension value: backslash, equals sign, and
// line breaks as \n and \r.
func appendCEFValue(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '=':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
