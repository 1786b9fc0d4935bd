package awsemu

import "sort"

// S3 and KMS operations, as AWS names them; these are the names `deny` and
// fault injection use.
const (
	opListBuckets          = "ListBuckets"
	opGetBucketLocation    = "GetBucketLocation"
	opGetBucketEncryption  = "GetBucketEncryption"
	opGetBucketReplication = "GetBucketReplication"
	opGetBucketVersioning  = "GetBucketVersioning"
	opGetObjectLock        = "GetObjectLockConfiguration"
	opGetPublicAccessBlock = "GetPublicAccessBlock"
	opGetBucketPolicyStat  = "GetBucketPolicyStatus"
	opGetBucketPolicy      = "GetBucketPolicy"
	opGetBucketAcl         = "GetBucketAcl"
	opGetBucketTagging     = "GetBucketTagging"
	opHeadBucket           = "HeadBucket"
	opListObjectsV2        = "ListObjectsV2"
	opHeadObject           = "HeadObject"
	opDescribeKey          = "DescribeKey"
	opListKeys             = "ListKeys"
	opListAliases          = "ListAliases"
	opAssumeRole           = "AssumeRole"
	opGetCallerIdentity    = "GetCallerIdentity"
	opGetMetricData        = "GetMetricData"
)

// bucketSubresources maps a GET on a bucket with this query key to its
// operation.
var bucketSubresources = map[string]string{
	"location":          opGetBucketLocation,
	"encryption":        opGetBucketEncryption,
	"replication":       opGetBucketReplication,
	"versioning":        opGetBucketVersioning,
	"object-lock":       opGetObjectLock,
	"publicAccessBlock": opGetPublicAccessBlock,
	"policyStatus":      opGetBucketPolicyStat,
	"policy":            opGetBucketPolicy,
	"acl":               opGetBucketAcl,
	"tagging":           opGetBucketTagging,
}

// dataPlane operations are the ones `reachable: false` refuses.
var dataPlane = map[string]bool{opHeadBucket: true, opListObjectsV2: true, opHeadObject: true}

// deniable are the operations a bucket's `deny` may name.
var deniable = map[string]bool{opHeadBucket: true, opListObjectsV2: true, opHeadObject: true, opDescribeKey: true,
	opGetMetricData: true}

var deniableOps []string

func init() {
	for _, op := range bucketSubresources {
		deniable[op] = true
	}
	for op := range deniable {
		deniableOps = append(deniableOps, op)
	}
	sort.Strings(deniableOps)
}
