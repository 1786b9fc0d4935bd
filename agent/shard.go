package agent

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// MaxShards bounds N in a shard K/N: far beyond any fleet of agents, low
// enough that a typo (a count of 10000) is caught as one.
const MaxShards = 1024

// Shard is one part of a scan split across agents: shard Index (0 to
// Count-1, as a Kubernetes Indexed Job numbers its pods) of Count. The
// zero Shard is the whole scan.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard reads "K/N" (K from 0 to N-1).
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want K/N, e.g. 0/4 (K from 0 to N-1)", s)
	}
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want K/N with whole numbers, e.g. 0/4", s)
	}
	sh := Shard{Index: ki, Count: ni}
	return sh, sh.Check()
}

// Check says whether the shard is well formed.
func (s Shard) Check() error {
	if s.Count < 1 || s.Count > MaxShards {
		return fmt.Errorf("shard %s: N must be from 1 to %d", s, MaxShards)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %s: K must be from 0 to %d", s, s.Count-1)
	}
	return nil
}

// Whole reports whether the shard is the whole scan.
func (s Shard) Whole() bool { return s.Count <= 1 }

func (s Shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Holds reports whether the account of provider belongs to this shard.
func (s Shard) Holds(provider, account string) bool {
	return s.Whole() || ShardOf(provider, account, s.Count) == s.Index
}

// ShardOf is the shard, of n, that scans an account. It depends on the
// account and n alone, so an account stays in its shard however many
// accounts join the organisation; and it is a jump consistent hash
// (Lamping and Veach, 2014), so going from n to n+1 shards moves only the
// accounts that the new shard takes, about one in n+1.
func ShardOf(provider, account string, n int) int {
	if n <= 1 {
		return 0
	}
	sum := sha256.Sum256([]byte(provider + "\x00" + account))
	key := binary.BigEndian.Uint64(sum[:8])
	var b, j int64 = -1, 0
	for j < int64(n) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
