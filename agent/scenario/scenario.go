package scenario

import (
	"math"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/reachaudit/reachaudit/providers"
)

// Effects of a scenario on a bucket it hits.
const (
	// Lost: blocked, and no copy survives.
	Lost = "lost"
	// Survives: blocked, but a copy the event does not reach remains.
	Survives = "survives"
	// Exposed: the provider could be made to hand the data over.
	Exposed = "exposed"
)

// DefaultBandwidthGbps is the exit bandwidth when none is configured.
const DefaultBandwidthGbps = 1

// Exit holds what an exit estimate needs: the bandwidth the data can move
// at and, per provider, the user's own egress price. There are no built-in
// prices: without them no cost is shown.
type Exit struct {
	BandwidthGbps float64            `yaml:"bandwidth_gbps" json:"bandwidth_gbps"`
	EgressPerGB   map[string]float64 `yaml:"egress_per_gb" json:"egress_per_gb,omitempty"`
}

// Scenario is one evaluated spec: DESIGN's scenarios[] entry.
type Scenario struct {
	Spec    string   `json:"spec"`
	Title   string   `json:"title"`
	Totals  Totals   `json:"totals"`
	Buckets []Bucket `json:"buckets"`
}

// Totals sum a scenario. Bytes count only buckets whose size is known;
// UnknownSizeBuckets says how many hit buckets are not in the sums.
type Totals struct {
	BucketsHit         int     `json:"buckets_hit"`
	LostBuckets        int     `json:"lost_buckets"`
	LostBytes          int64   `json:"lost_bytes"`
	SurvivesBuckets    int     `json:"survives_buckets"`
	ExposedBuckets     int     `json:"exposed_buckets"`
	ExposedBytes       int64   `json:"exposed_bytes"`
	UnknownSizeBuckets int     `json:"unknown_size_buckets"`
	ExitBytes          int64   `json:"exit_bytes"`
	ExitHours          float64 `json:"exit_hours"`
	// ExitCost is set only when every provider the exit leaves has a
	// price in exit.egress_per_gb.
	ExitCost *float64 `json:"exit_cost,omitempty"`
}

// Bucket is what a scenario does to one bucket it hits.
type Bucket struct {
	Provider string `json:"provider"`
	Account  string `json:"account"`
	Bucket   string `json:"bucket"`
	Effect   string `json:"effect"`
	// Bytes is nil when the bucket's size is unknown.
	Bytes *int64 `json:"bytes"`
	// Copy names the copy that saves a surviving bucket.
	Copy string `json:"copy,omitempty"`
}

// Evaluate runs every spec over the records of a finished scan, whose
// copies the agent has resolved (place and control filled in).
func Evaluate(specs []Spec, bs []providers.Bucket, exit Exit) []Scenario {
	idx := newIndex(bs)
	out := make([]Scenario, 0, len(specs))
	for _, s := range specs {
		out = append(out, evaluate(s, bs, idx, exit))
	}
	return out
}

// Surviving sums the known bytes of the buckets a scenario leaves
// standing on a copy (the totals count them, the chart shows their bytes).
func (s Scenario) Surviving() int64 {
	var n int64
	for _, b := range s.Buckets {
		if b.Effect == Survives && b.Bytes != nil {
			n += *b.Bytes
		}
	}
	return n
}

func evaluate(s Spec, bs []providers.Bucket, idx index, exit Exit) Scenario {
	sc := Scenario{Spec: s.String(), Title: s.Title(), Buckets: []Bucket{}}
	for i := range bs {
		b := &bs[i]
		p := idx.placeOf(b)
		h := s.hit(p)
		if h == miss {
			continue
		}
		e := Bucket{Provider: b.Provider, Account: b.Account, Bucket: b.Name}
		if b.Size != nil {
			n := b.Size.Bytes
			e.Bytes = &n
		}
		switch {
		case s.Kind == Compel:
			e.Effect = Exposed
		case h == partly:
			// A dual-region keeps serving from the region the event spares.
			e.Effect = Survives
			e.Copy = b.URI + " (" + strings.Join(otherRegions(p.dataRegions, s.Region), ", ") + ")"
		default:
			e.Effect = Lost
			if c, ok := idx.survivor(s, b); ok {
				e.Effect, e.Copy = Survives, c
			}
		}
		sc.Buckets = append(sc.Buckets, e)
	}
	sc.Totals = totals(s.Kind, sc.Buckets, exit)
	sortBuckets(sc.Buckets)
	return sc
}

// totals sums what a scenario does to the buckets it hits.
func totals(kind string, bs []Bucket, exit Exit) Totals {
	var t Totals
	exitBy := map[string]int64{}
	for _, e := range bs {
		t.BucketsHit++
		known := int64(0)
		if e.Bytes == nil {
			t.UnknownSizeBuckets++
		} else {
			known = *e.Bytes
		}
		switch e.Effect {
		case Lost:
			t.LostBuckets++
			t.LostBytes += known
		case Survives:
			t.SurvivesBuckets++
		case Exposed:
			t.ExposedBuckets++
			t.ExposedBytes += known
		}
		// Leaving a banned or cut-off provider moves everything it holds,
		// copies or not: the copy is what remains, not what was served.
		if kind == Ban || kind == Cutoff {
			t.ExitBytes += known
			exitBy[e.Provider] += known
		}
	}
	t.ExitHours = exitHours(t.ExitBytes, exit.BandwidthGbps)
	t.ExitCost = exitCost(exitBy, exit.EgressPerGB)
	return t
}

// Scope narrows an evaluated scenario to the buckets keep accepts (one
// provider's accounts, for a renewal pack) and sums it again. The copies
// that save a bucket were judged over the whole estate, so a survivor
// stays a survivor even when its copy is outside the scope.
func (s Scenario) Scope(keep func(Bucket) bool, exit Exit) Scenario {
	spec, err := Parse(s.Spec)
	if err != nil {
		// A scenario comes from a parsed spec; one that no longer parses
		// is kept as it is rather than summed under the wrong kind.
		return s
	}
	out := Scenario{Spec: s.Spec, Title: s.Title, Buckets: []Bucket{}}
	for _, b := range s.Buckets {
		if keep(b) {
			out.Buckets = append(out.Buckets, b)
		}
	}
	out.Totals = totals(spec.Kind, out.Buckets, exit)
	return out
}

// exitHours is how long bytes take at gbps (decimal units, as links and
// storage bills count them), to a hundredth of an hour.
func exitHours(bytes int64, gbps float64) float64 {
	h := float64(bytes) * 8 / (Exit{BandwidthGbps: gbps}.Bandwidth() * 1e9) / 3600
	return math.Round(h*100) / 100
}

// exitCost prices the exit when every provider it leaves has a price; a
// partial sum would read as the whole bill.
func exitCost(bytesBy map[string]int64, prices map[string]float64) *float64 {
	if len(bytesBy) == 0 || len(prices) == 0 {
		return nil
	}
	var total float64
	for p, n := range bytesBy {
		price, ok := prices[p]
		if !ok {
			return nil
		}
		total += float64(n) / 1e9 * price
	}
	total = math.Round(total*100) / 100
	return &total
}

var effectOrder = map[string]int{Lost: 0, Survives: 1, Exposed: 2}

// sortBuckets puts the worst first: lost before surviving before exposed,
// the largest first within each, unknown sizes last.
func sortBuckets(bs []Bucket) {
	sort.SliceStable(bs, func(i, j int) bool {
		a, b := bs[i], bs[j]
		if effectOrder[a.Effect] != effectOrder[b.Effect] {
			return effectOrder[a.Effect] < effectOrder[b.Effect]
		}
		if (a.Bytes == nil) != (b.Bytes == nil) {
			return a.Bytes != nil
		}
		if a.Bytes != nil && *a.Bytes != *b.Bytes {
			return *a.Bytes > *b.Bytes
		}
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Bucket < b.Bucket
	})
}

func otherRegions(rs []string, lost string) []string {
	var out []string
	for _, r := range rs {
		if !strings.EqualFold(r, lost) {
			out = append(out, r)
		}
	}
	return out
}

// place is what an event is judged on, for a bucket or for a copy.
type place struct {
	provider    string
	region      string
	dataRegions []string
	countries   []string
	controller  string
	operator    string
	custody     providers.Custody
	custodyRead bool
	// keyID and keyState are empty when the place has no key of its own
	// (provider-managed encryption) or its key is not known.
	keyID    string
	keyState providers.KeyState
}

type hitKind int

const (
	miss hitKind = iota
	// partly: a dual-region loses one of its regions.
	partly
	full
)

// hit says whether the event reaches a place; the table of DESIGN's
// "Scenarios" section, one case per kind.
func (s Spec) hit(p place) hitKind {
	switch s.Kind {
	case Ban:
		return when(p.provider == s.Provider)
	case Cutoff:
		return when(p.in(s.Jurisdiction))
	case Compel:
		// An unread custody is not evidence that the provider cannot
		// decrypt: the bucket counts as exposed rather than as safe.
		return when(p.in(s.Jurisdiction) && (p.custody.ProviderCanDecrypt() || !p.custodyRead))
	case Region:
		if p.provider != s.Provider {
			return miss
		}
		if strings.EqualFold(p.region, s.Region) {
			return full
		}
		for _, r := range p.dataRegions {
			if strings.EqualFold(r, s.Region) {
				return partly
			}
		}
		return miss
	case Key:
		return when(p.keyID != "" && KeyMatches(s.Key, p.keyID))
	}
	return miss
}

func when(b bool) hitKind {
	if b {
		return full
	}
	return miss
}

func (p place) in(j string) bool {
	return p.controller == j || p.operator == j || slices.Contains(p.countries, j)
}

// usable reports whether the place's own key would let its data be read:
// no key of its own, or a key not known to be unusable. A key whose state
// could not be read does not condemn the copy; a disabled one does.
func (p place) usable() bool {
	switch p.keyState {
	case providers.KeyDisabled, providers.KeyPendingDeletion, providers.KeyPendingImport, providers.KeyUnavailable:
		return false
	}
	return true
}

// KeyMatches reports whether a key pattern (a glob) names the key id: the
// whole id, or its tail after any "/", so that key:ledger-* matches a Cloud
// KMS name and key:1234abcd-* a KMS key ARN.
func KeyMatches(pattern, id string) bool {
	if ok, _ := path.Match(pattern, id); ok {
		return true
	}
	for i := 0; i < len(id); i++ {
		if id[i] == '/' {
			if ok, _ := path.Match(pattern, id[i+1:]); ok {
				return true
			}
		}
	}
	return false
}

// index finds the scanned record of a copy, by provider and bucket name
// (bucket names are unique per provider, as their URIs are).
type index map[string]*providers.Bucket

func newIndex(bs []providers.Bucket) index {
	idx := make(index, len(bs))
	for i := range bs {
		idx[bs[i].Provider+"/"+bs[i].Name] = &bs[i]
	}
	return idx
}

func (idx index) placeOf(b *providers.Bucket) place {
	p := place{
		provider: b.Provider, region: b.Region, dataRegions: b.DataRegions, countries: b.Countries,
		controller: b.Controller, operator: b.Operator,
		custody: b.Custody, custodyRead: b.Custody != providers.CustodyUnknown,
	}
	if b.Key != nil {
		p.keyID, p.keyState = b.Key.ID, b.Key.State
	}
	return p
}

// copyPlace is the copy's own record where the scan saw it, and else what
// the replication rule or the declaration says about it.
func (idx index) copyPlace(c providers.Copy) place {
	if dst, ok := idx[c.Provider+"/"+c.Bucket]; ok {
		return idx.placeOf(dst)
	}
	return place{
		provider: c.Provider, region: c.Region, countries: c.Countries,
		controller: c.Controller, operator: c.Operator,
		custody: c.Custody, custodyRead: c.Custody != "" && c.Custody != providers.CustodyUnknown,
	}
}

// survivor returns the first copy of b that the event does not reach and
// whose own key is usable. A partly hit copy (a dual-region that keeps one
// region) still serves.
func (idx index) survivor(s Spec, b *providers.Bucket) (string, bool) {
	for _, c := range b.Copies {
		p := idx.copyPlace(c)
		if s.hit(p) == full || !p.usable() {
			continue
		}
		return copyURI(c), true
	}
	return "", false
}

func copyURI(c providers.Copy) string {
	if pl, ok := providers.Lookup(c.Provider); ok {
		return pl.URI(c.Bucket)
	}
	return c.Provider + ":" + c.Bucket
}
