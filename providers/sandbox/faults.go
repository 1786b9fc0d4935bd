package sandbox

import (
	"path"
	"sync"
)

// Fault kinds an emulator renders in its own cloud's way.
const (
	FaultThrottle  = "throttle"  // the cloud's throttling answer (503 SlowDown, 429, …)
	FaultServer    = "5xx"       // an internal error
	FaultTimeout   = "timeout"   // no answer until the client gives up
	FaultMalformed = "malformed" // a 200 whose body does not parse
)

// Fault injects one kind of failure into matching requests.
type Fault struct {
	// Op is the operation as the emulator names it (GetBucketEncryption,
	// storage.buckets.get, DescribeKey); a glob; empty matches every one.
	Op string
	// Bucket is a glob of bucket names; empty matches every one.
	Bucket string
	Kind   string
	// Times is how many matching requests fail before the fault heals;
	// 0 means every one.
	Times int
}

// Faults is a set of faults, safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	faults []Fault
	used   []int
}

// NewFaults returns a fault set.
func NewFaults(fs ...Fault) *Faults {
	return &Faults{faults: fs, used: make([]int, len(fs))}
}

// Match returns the kind of fault to inject into a request for op on
// bucket, or "" for none. A nil Faults injects nothing.
func (f *Faults) Match(op, bucket string) string {
	if f == nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if !glob(ft.Op, op) || !glob(ft.Bucket, bucket) {
			continue
		}
		if ft.Times > 0 && f.used[i] >= ft.Times {
			continue
		}
		f.used[i]++
		return ft.Kind
	}
	return ""
}

func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}
