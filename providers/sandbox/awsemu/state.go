package awsemu

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// world is the estate compiled for serving. Everything but the temporary
// credentials and the on-demand AWS-managed keys is fixed at Start, so the
// hot path reads it without locks.
type world struct {
	now      time.Time
	accounts map[string]*account
	buckets  map[string]*bucket
	keys     map[string]*key // by key ARN
	// org is the organisation's key pair in the aws partition; it may
	// only assume roles. orgs holds one per partition, aws's included:
	// each partition has its own IAM, and a key of one is unknown in
	// another.
	org      *principal
	orgs     map[string]*principal
	longTerm map[string]*principal // by access key id
	temp     sync.Map              // access key id → *principal
	managed  sync.Map              // account/region → *key (aws/s3)
	// managedDeny holds, by account/region, the accounts denied
	// DescribeKey on that AWS-managed key, from buckets' deny lists.
	managedDeny map[string]map[string]bool
	// orgAccounts are the estate's accounts that hold buckets, in order.
	orgAccounts []string
	// organization is the estate's AWS Organization, if it has one.
	organization *Organization
	// budgets are the accounts' request rates (estate `throttle:`).
	budgets sandbox.Budgets
}

type account struct {
	id        string
	partition string
	org       bool   // holds buckets of its own: part of the audited organisation
	canonical string // the S3 canonical user id
	name      string // the S3 owner display name
	buckets   []*bucket
	keys      map[string]*key // by key id
	user      *principal
	// metricsDenied makes GetMetricData answer AccessDenied to the account.
	metricsDenied bool
}

type bucket struct {
	name, region string
	owner        *account
	created      time.Time
	algorithm    string // "" when the bucket has no default encryption
	keyRef       string // KMSMasterKeyID as configured
	versioning   string
	objectLock   bool
	pab          bool
	public       bool
	replication  []Replica
	tags         [][2]string
	reachable    bool
	deny         map[string]bool
	objects      []object
	// storage is BucketSizeBytes by StorageType, nil without a datapoint;
	// count is NumberOfObjects, nil without one.
	storage map[string]int64
	count   *int64
}

type object struct {
	key      string
	size     int64
	modified time.Time
	etag     string
}

type key struct {
	id, account, region, arn string
	manager, origin, state   string
	created                  time.Time
	deletion, validTo        time.Time
	// deniedTo are accounts that get AccessDenied describing this key.
	deniedTo map[string]bool
}

type principal struct {
	akid, secret, token string
	account             string
	arn, userID         string
	org                 bool
	partition           string // "" is aws
	expires             time.Time
}

func build(e *Estate, now time.Time) (*world, error) {
	w := &world{
		now:         now,
		accounts:    map[string]*account{},
		buckets:     map[string]*bucket{},
		keys:        map[string]*key{},
		longTerm:    map[string]*principal{},
		managedDeny: map[string]map[string]bool{},
	}
	w.organization = organizationOf(e)
	for _, a := range e.Accounts {
		acct := w.account(a.ID)
		acct.partition = a.partition()
		acct.org = len(a.Buckets) > 0 || w.organization.active(a.ID)
		if acct.org {
			w.orgAccounts = append(w.orgAccounts, a.ID)
		}
		acct.user = w.newUser(a.ID, "reachaudit-sandbox")
		acct.user.partition = acct.partition
		acct.user.arn = "arn:" + acct.partition + ":iam::" + a.ID + ":user/reachaudit-sandbox"
		w.budgets.Set(a.ID, a.Throttle)
		w.longTerm[acct.user.akid] = acct.user
		for _, k := range a.Keys {
			kk := &key{
				id: k.ID, account: a.ID, region: k.Region,
				arn:     keyARN(k.Region, a.ID, k.ID),
				manager: orDefault(k.Manager, "CUSTOMER"),
				origin:  orDefault(k.Origin, "AWS_KMS"),
				state:   orDefault(k.State, "Enabled"),
				created: past(now, "key/"+a.ID+"/"+k.ID, 60, 900),
			}
			if t, ok := k.DeletionDate.At(now); ok {
				kk.deletion = t
			} else if kk.state == "PendingDeletion" {
				kk.deletion = now.Add(30 * 24 * time.Hour).Truncate(time.Second)
			}
			if t, ok := k.ValidTo.At(now); ok {
				kk.validTo = t
			}
			acct.keys[k.ID] = kk
			w.keys[kk.arn] = kk
		}
	}
	for _, a := range e.Accounts {
		acct := w.accounts[a.ID]
		for _, b := range a.Buckets {
			bk := &bucket{
				name: b.Name, region: b.Region, owner: acct,
				created:     past(now, "bucket/"+b.Name, 30, 1500),
				algorithm:   "AES256",
				versioning:  b.Versioning.Status(),
				objectLock:  b.ObjectLock,
				pab:         b.PublicAccessBlock,
				public:      b.Public,
				replication: b.Replication,
				reachable:   b.Reachable == nil || *b.Reachable,
				deny:        map[string]bool{},
			}
			if enc := b.Encryption; enc != nil {
				bk.algorithm, bk.keyRef = enc.Algorithm, enc.Key
				if enc.Algorithm == "none" {
					bk.algorithm = ""
				}
			}
			for k, v := range b.Tags {
				bk.tags = append(bk.tags, [2]string{k, v})
			}
			sort.Slice(bk.tags, func(i, j int) bool { return bk.tags[i][0] < bk.tags[j][0] })
			for _, op := range b.Deny {
				bk.deny[op] = true
			}
			switch {
			case len(b.StorageTypes) > 0:
				bk.storage = maps.Clone(b.StorageTypes)
			case b.Bytes != nil:
				bk.storage = map[string]int64{"StandardStorage": *b.Bytes}
			}
			bk.count = b.Objects
			if bk.deny[opGetMetricData] {
				acct.metricsDenied = true
			}
			if bk.deny[opDescribeKey] {
				w.denyKey(bk)
			}
			w.addBucket(bk)
		}
	}
	// Replica destinations that the estate does not declare exist too, so
	// that HeadBucket can tell their region as S3 does.
	for _, a := range e.Accounts {
		for _, b := range a.Buckets {
			for _, r := range b.Replication {
				if _, ok := w.buckets[r.Bucket]; ok {
					continue
				}
				owner := w.account(orDefault(r.Account, a.ID))
				w.addBucket(&bucket{
					name: r.Bucket, region: r.Region, owner: owner,
					created:    past(now, "bucket/"+r.Bucket, 30, 1500),
					algorithm:  "AES256",
					versioning: "Enabled",
					reachable:  true,
					deny:       map[string]bool{},
				})
			}
		}
	}
	for _, a := range w.accounts {
		sort.Slice(a.buckets, func(i, j int) bool { return a.buckets[i].name < a.buckets[j].name })
	}
	w.org = w.newUser(w.managementAccount(), "reachaudit-organisation")
	w.org.org, w.org.partition = true, "aws"
	w.orgs = map[string]*principal{"aws": w.org}
	for _, id := range w.orgAccounts {
		part := w.accounts[id].partition
		if w.orgs[part] == nil {
			o := w.newUser(w.managementAccount(), "reachaudit-organisation")
			o.org, o.partition = true, part
			o.arn = "arn:" + part + ":iam::" + o.account + ":user/reachaudit-organisation"
			w.orgs[part] = o
		}
	}
	return w, nil
}

func (w *world) account(id string) *account {
	if a, ok := w.accounts[id]; ok {
		return a
	}
	sum := sha256.Sum256([]byte("canonical/" + id))
	a := &account{id: id, partition: "aws", canonical: hex.EncodeToString(sum[:]), name: "aws+" + id, keys: map[string]*key{}}
	w.accounts[id] = a
	return a
}

func (w *world) addBucket(b *bucket) {
	b.objects = syntheticObjects(b)
	w.buckets[b.name] = b
	b.owner.buckets = append(b.owner.buckets, b)
}

// denyKey records that the bucket's account may not describe its key.
func (w *world) denyKey(b *bucket) {
	ref := b.keyRef
	switch {
	case ref == "" || ref == managedAlias:
		k := b.owner.id + "/" + b.region
		if w.managedDeny[k] == nil {
			w.managedDeny[k] = map[string]bool{}
		}
		w.managedDeny[k][b.owner.id] = true
		return
	case strings.HasPrefix(ref, "arn:"):
		if k := w.keys[ref]; k != nil {
			k.deny(b.owner.id)
		}
		if m := keyARNRe.FindStringSubmatch(ref); m != nil && m[4] == managedAlias {
			k := m[3] + "/" + m[2]
			if w.managedDeny[k] == nil {
				w.managedDeny[k] = map[string]bool{}
			}
			w.managedDeny[k][b.owner.id] = true
		}
	default:
		if k := b.owner.keys[ref]; k != nil {
			k.deny(b.owner.id)
		}
	}
}

func (k *key) deny(account string) {
	if k.deniedTo == nil {
		k.deniedTo = map[string]bool{}
	}
	k.deniedTo[account] = true
}

// managedKey returns the AWS-managed aws/s3 key of an account in a region,
// created on first use as AWS does.
func (w *world) managedKey(account, region string) *key {
	id := account + "/" + region
	if k, ok := w.managed.Load(id); ok {
		return k.(*key)
	}
	sum := sha256.Sum256([]byte("aws/s3/" + id))
	kid := uuidFrom(sum[:])
	k := &key{
		id: kid, account: account, region: region,
		arn:     keyARN(region, account, kid),
		manager: "AWS", origin: "AWS_KMS", state: "Enabled",
		created:  past(w.now, "key/"+id, 60, 900),
		deniedTo: w.managedDeny[id],
	}
	actual, _ := w.managed.LoadOrStore(id, k)
	return actual.(*key)
}

// managementAccount picks an account id for the organisation's own key
// pair that no estate account uses; it holds no buckets.
func (w *world) managementAccount() string {
	for n := uint64(999999999999); ; n-- {
		id := strconv.FormatUint(n, 10)
		if _, used := w.accounts[id]; !used {
			return id
		}
	}
}

func (w *world) newUser(account, name string) *principal {
	return &principal{
		akid: "AKIA" + randomID(16), secret: randomSecret(),
		account: account,
		arn:     "arn:aws:iam::" + account + ":user/" + name,
		userID:  "AIDA" + randomID(17),
	}
}

func (w *world) principal(akid string) *principal {
	for _, o := range w.orgs {
		if akid == o.akid {
			return o
		}
	}
	if p, ok := w.longTerm[akid]; ok {
		return p
	}
	if p, ok := w.temp.Load(akid); ok {
		return p.(*principal)
	}
	return nil
}

func keyARN(region, account, id string) string {
	return "arn:" + partitionOf(region) + ":kms:" + region + ":" + account + ":key/" + id
}

func bucketARN(b *bucket) string {
	return "arn:" + partitionOf(b.region) + ":s3:::" + b.name
}

// past is a stable time between min and max days before now, so that
// creation dates look real and stay the same between runs of one estate.
func past(now time.Time, seed string, minDays, maxDays int) time.Time {
	sum := sha256.Sum256([]byte(seed))
	n := binary.BigEndian.Uint64(sum[:8])
	days := minDays + int(n%uint64(maxDays-minDays))
	secs := int(n>>32) % 86400
	return now.Add(-time.Duration(days)*24*time.Hour - time.Duration(secs)*time.Second).Truncate(time.Second).UTC()
}

func syntheticObjects(b *bucket) []object {
	names := []string{"README.txt", "data/part-00000.csv.gz", "data/part-00001.csv.gz"}
	out := make([]object, len(names))
	for i, n := range names {
		sum := sha256.Sum256([]byte(b.name + "/" + n))
		out[i] = object{
			key:      n,
			size:     int64(binary.BigEndian.Uint32(sum[:4])%(1<<20)) + 64,
			modified: b.created.Add(time.Duration(i+1) * 24 * time.Hour),
			etag:     `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
	}
	return out
}

func uuidFrom(b []byte) string {
	h := hex.EncodeToString(b[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("awsemu: no randomness: %v", err))
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func randomSecret() string {
	return rand.Text() + rand.Text()[:14]
}

// objectKeyARN is the key ARN S3 names on an object of a KMS-encrypted
// bucket.
func (w *world) objectKeyARN(b *bucket) string {
	ref := b.keyRef
	switch {
	case ref == "" || ref == managedAlias:
		return w.managedKey(b.owner.id, b.region).arn
	case strings.HasPrefix(ref, "arn:"):
		if m := keyARNRe.FindStringSubmatch(ref); m != nil && m[4] == managedAlias {
			return w.managedKey(m[3], m[2]).arn
		}
		return ref
	}
	return keyARN(b.region, b.owner.id, ref)
}
