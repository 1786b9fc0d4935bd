package agent

import (
	"strings"

	"github.com/reachaudit/reachaudit/providers"
)

// resolveCopies adds the declared copies to their source buckets and fills
// each copy's place and control from its provider's table, and its custody
// from the destination bucket's own record when the scan saw it.
func resolveCopies(bs []providers.Bucket, declared []DeclaredCopy) {
	byURI := make(map[string]int, len(bs))
	for i, b := range bs {
		byURI[b.URI] = i
	}
	for _, d := range declared {
		i, ok := byURI[canonicalURI(d.From)]
		if !ok {
			continue
		}
		c, err := copyFromURI(d.To)
		if err != nil {
			continue
		}
		bs[i].Copies = append(bs[i].Copies, c)
	}
	fillCopies(bs, byURI)
}

// fillCopies completes every copy from the records of its destination that
// the buckets hold and from its provider's table. It only fills what is
// still empty, so Merge can run it again once the shards' buckets are
// together and a copy's destination, scanned by another shard, is known.
func fillCopies(bs []providers.Bucket, byURI map[string]int) {
	for i := range bs {
		for k := range bs[i].Copies {
			c := &bs[i].Copies[k]
			// A replication rule that names no account replicates within
			// the bucket's own account.
			if c.Account == "" && c.Provider == bs[i].Provider && c.Source == providers.CopyReplication {
				c.Account = bs[i].Account
			}
			fillCopy(c, bs, byURI)
		}
	}
}

// canonicalURI is the URI a record of the bucket s names carries, so that
// a declared "s3://logs/" finds s3://logs.
func canonicalURI(s string) string {
	pl, name, err := providers.ParseBucketURI(s)
	if err != nil {
		return s
	}
	return pl.URI(name)
}

func copyFromURI(s string) (providers.Copy, error) {
	pl, name, err := providers.ParseBucketURI(s)
	if err != nil {
		return providers.Copy{}, err
	}
	return providers.Copy{Provider: pl.Name, Bucket: name, Source: providers.CopyDeclared}, nil
}

func fillCopy(c *providers.Copy, bs []providers.Bucket, byURI map[string]int) {
	pl, ok := providers.Lookup(c.Provider)
	if !ok {
		return
	}
	uri := pl.URI(c.Bucket)
	if j, seen := byURI[uri]; seen {
		dst := bs[j]
		if c.Account == "" {
			c.Account = dst.Account
		}
		if c.Region == "" {
			c.Region = dst.Region
		}
		if c.Custody == "" && !dst.IsUnknown(providers.FieldCustody) {
			c.Custody = dst.Custody
		}
	}
	if c.Controller == "" {
		c.Controller = pl.Controller.Jurisdiction
	}
	if place, ok := pl.Place(strings.TrimSpace(c.Region)); ok {
		if len(c.Countries) == 0 {
			c.Countries = append([]string(nil), place.Countries...)
		}
		if c.Operator == "" {
			c.Operator = place.Operator.Jurisdiction
			if c.Operator == "" {
				c.Operator = pl.Controller.Jurisdiction
			}
		}
	}
}
