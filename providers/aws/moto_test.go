package aws

// A cross-check against moto, an AWS emulator written by others: buckets,
// keys and settings are made with boto3, then the plugin scans them through
// the real SDK. Where moto departs from AWS, the test asserts what moto
// says and the comment says why; the plugin is not bent to it.

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// motoSeed makes the estate in moto and prints the key ids it created.
const motoSeed = `
import boto3, json, os
ep = os.environ["MOTO_URL"]
s3 = boto3.client("s3", endpoint_url=ep)
s3eu = boto3.client("s3", endpoint_url=ep, region_name="eu-west-1")
kms = boto3.client("kms", endpoint_url=ep)
ids = {}
ids["cmk"] = kms.create_key(Description="orders")["KeyMetadata"]["Arn"]
ids["ext"] = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
off = kms.create_key()["KeyMetadata"]
kms.disable_key(KeyId=off["KeyId"])
ids["off"] = off["Arn"]
gone = kms.create_key()["KeyMetadata"]
kms.schedule_key_deletion(KeyId=gone["KeyId"], PendingWindowInDays=7)
ids["gone"] = gone["Arn"]
ids["managed"] = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]

def sse(bucket, alg, key=None):
    d = {"SSEAlgorithm": alg}
    if key:
        d["KMSMasterKeyID"] = key
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": d}]})

for b in ["m-plain", "m-sse-s3", "m-cmk", "m-ext", "m-off", "m-gone", "m-managed", "m-public-acl", "m-public-policy", "m-blocked", "m-repl", "m-dr"]:
    s3.create_bucket(Bucket=b)
s3eu.create_bucket(Bucket="m-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
s3.create_bucket(Bucket="m-locked", ObjectLockEnabledForBucket=True)

sse("m-sse-s3", "AES256")
s3.put_bucket_versioning(Bucket="m-sse-s3", VersioningConfiguration={"Status": "Enabled"})
s3.put_bucket_tagging(Bucket="m-sse-s3", Tagging={"TagSet": [{"Key": "data-class", "Value": "restricted"}]})
sse("m-cmk", "aws:kms", ids["cmk"])
sse("m-ext", "aws:kms", ids["ext"])
sse("m-off", "aws:kms", ids["off"])
sse("m-gone", "aws:kms", ids["gone"])
sse("m-managed", "aws:kms", ids["managed"])
sse("m-eu", "aws:kms")
s3.put_bucket_acl(Bucket="m-public-acl", ACL="public-read")
s3.put_bucket_policy(Bucket="m-public-policy", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::m-public-policy/*"}]}))
s3.put_public_access_block(Bucket="m-blocked", PublicAccessBlockConfiguration={
    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
s3.put_bucket_versioning(Bucket="m-off", VersioningConfiguration={"Status": "Suspended"})
for b in ["m-repl", "m-dr"]:
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
s3.put_bucket_replication(Bucket="m-repl", ReplicationConfiguration={
    "Role": "arn:aws:iam::123456789012:role/replication",
    "Rules": [{"ID": "dr", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
               "DeleteMarkerReplication": {"Status": "Disabled"},
               "Destination": {"Bucket": "arn:aws:s3:::m-dr"}}]})
print(json.dumps(ids))
`

func TestMotoCrossCheck(t *testing.T) {
	moto := sandboxtest.StartMoto(t)
	url := moto.URL
	env := append(moto.Env, "MOTO_URL="+url)
	seed := exec.Command("python3", "-c", motoSeed)
	seed.Env = env
	out, err := seed.CombinedOutput()
	if err != nil {
		t.Fatalf("seeding moto: %v\n%s", err, out)
	}
	var ids map[string]string
	if err := jsonUnmarshal(out, &ids); err != nil {
		t.Fatalf("seed output %q: %v", out, err)
	}

	calls := providers.NewCalls(name, 0, 0, nil)
	p, err := Open(context.Background(), &Config{
		Endpoint:    url,
		Credentials: &StaticCredentials{AccessKeyID: "testing", SecretAccessKey: "testing"},
	}, providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	accounts, err := p.Accounts(ctx)
	if err != nil || !slices.Equal(accounts, []string{"123456789012"}) {
		t.Fatalf("accounts %v %v, want moto's default account", accounts, err)
	}
	refs, err := p.List(ctx, accounts[0])
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]providers.Bucket{}
	for _, ref := range refs {
		records[ref.Name] = p.Describe(ctx, ref)
	}
	if len(records) != 14 {
		t.Fatalf("%d buckets listed, want 14", len(records))
	}

	type facts struct {
		Region     string
		Country    string
		Custody    providers.Custody
		Encryption string
		KeyState   providers.KeyState
		Versioning string
		ObjectLock providers.Tri
		Public     providers.Tri
		PAB        providers.Tri
		Copies     []string
	}
	want := map[string]facts{
		// moto answers "not found" for a bucket with no encryption
		// configuration, as S3 did before 2023; the plugin reports that.
		"m-plain":  {Custody: providers.CustodyNone, Encryption: "none"},
		"m-sse-s3": {Custody: providers.CustodyProviderManaged, Encryption: "AES256", Versioning: "enabled"},
		"m-cmk":    {Custody: providers.CustodyProviderKMS, Encryption: "aws:kms", KeyState: providers.KeyEnabled},
		"m-ext":    {Custody: providers.CustodyImportedKey, Encryption: "aws:kms", KeyState: providers.KeyEnabled},
		"m-off":    {Custody: providers.CustodyProviderKMS, Encryption: "aws:kms", KeyState: providers.KeyDisabled, Versioning: "suspended"},
		"m-gone":   {Custody: providers.CustodyProviderKMS, Encryption: "aws:kms", KeyState: providers.KeyPendingDeletion},
		// moto answers DescribeKey for the key behind alias/aws/s3 with
		// KeyManager CUSTOMER; AWS answers AWS. Named by its ARN, the
		// key is classified by what DescribeKey says, so here it reads
		// as a customer key.
		"m-managed": {Custody: providers.CustodyProviderKMS, Encryption: "aws:kms", KeyState: providers.KeyEnabled},
		// aws:kms without a key id is the aws/s3 key whatever moto would say of it.
		"m-eu":         {Region: "eu-west-1", Country: "IE", Custody: providers.CustodyProviderManaged, Encryption: "aws:kms", KeyState: providers.KeyEnabled},
		"m-public-acl": {Custody: providers.CustodyNone, Encryption: "none", Public: providers.Yes},
		// moto's GetBucketPolicyStatus answers an empty PolicyStatus even
		// for a policy granting "*" s3:GetObject (AWS answers IsPublic
		// true), so the policy reads as not public here.
		"m-public-policy": {Custody: providers.CustodyNone, Encryption: "none"},
		"m-blocked":       {Custody: providers.CustodyNone, Encryption: "none", PAB: providers.Yes},
		"m-locked":        {Custody: providers.CustodyNone, Encryption: "none", ObjectLock: providers.Yes, Versioning: "enabled"},
		// moto lists m-repl before m-dr and gives no BucketRegion, so when
		// m-repl is described the destination's region is not yet known:
		// it is left empty rather than guessed (S3's replication
		// configuration does not say it).
		"m-repl": {Custody: providers.CustodyNone, Encryption: "none", Versioning: "enabled", Copies: []string{"123456789012/m-dr@"}},
		"m-dr":   {Custody: providers.CustodyNone, Encryption: "none", Versioning: "enabled"},
	}
	for bucket, w := range want {
		b, ok := records[bucket]
		if !ok {
			t.Errorf("%s not listed", bucket)
			continue
		}
		if w.Region == "" {
			w.Region, w.Country = "us-east-1", "US"
		}
		if w.Versioning == "" {
			w.Versioning = "off"
		}
		if w.ObjectLock == "" {
			w.ObjectLock = providers.No
		}
		if w.Public == "" {
			w.Public = providers.No
		}
		if w.PAB == "" {
			w.PAB = providers.No
		}
		got := facts{Region: b.Region, Custody: b.Custody, Encryption: b.Encryption, Versioning: b.Versioning,
			ObjectLock: b.ObjectLock, Public: b.Public, PAB: b.PublicAccessBlock}
		if len(b.Countries) == 1 {
			got.Country = b.Countries[0]
		}
		if b.Key != nil {
			got.KeyState = b.Key.State
		}
		for _, c := range b.Copies {
			got.Copies = append(got.Copies, c.Account+"/"+c.Bucket+"@"+c.Region)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", bucket, diff)
		}
		if len(b.Unknowns) != 0 {
			t.Errorf("%s: unknowns %+v", bucket, b.Unknowns)
		}
		if !b.Reachability.Reachable {
			t.Errorf("%s: not reachable: %+v", bucket, b.Reachability)
		}
	}
	if k := records["m-ext"].Key; k == nil || k.ID != ids["ext"] || k.Origin != "EXTERNAL" || k.Account != "123456789012" || k.Region != "us-east-1" {
		t.Errorf("m-ext key %+v, want %s", k, ids["ext"])
	}
	if k := records["m-gone"].Key; k == nil || k.DeletionDate == nil || k.DeletionDate.Before(time.Now().Add(6*24*time.Hour)) {
		t.Errorf("m-gone key %+v, want a deletion date about 7 days on", k)
	}
	if via := records["m-public-acl"].PublicVia; !slices.Equal(via, []string{"acl:AllUsers"}) {
		t.Errorf("m-public-acl public via %v", via)
	}
	if tags := records["m-sse-s3"].Tags; tags["data-class"] != "restricted" {
		t.Errorf("m-sse-s3 tags %v", tags)
	}
	// moto's ListBuckets gives no BucketRegion, so every bucket costs a
	// GetBucketLocation on top of the reads.
	t.Logf("moto: %d buckets, %d calls: %s", len(records), calls.Total(), opSummary(calls))
}

func opSummary(c *providers.Calls) string {
	var parts []string
	for _, oc := range c.Snapshot() {
		parts = append(parts, fmt.Sprintf("%s=%d", oc.Op, oc.Calls))
	}
	return strings.Join(parts, " ")
}

// jsonUnmarshal reads the seed's output: one JSON line last, anything
// before it is noise.
func jsonUnmarshal(out []byte, v any) error {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return json.Unmarshal([]byte(lines[len(lines)-1]), v)
}
