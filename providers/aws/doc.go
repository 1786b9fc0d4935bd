// Package aws is the Amazon S3 plugin: it lists an account's buckets and
// records, for each, where the data sits, who runs that region, who holds
// the key (through KMS DescribeKey), where the replicas go, how exposed the
// bucket is and whether its data plane answers.
//
// It registers itself with package providers from its init; the agent and
// the reports never import it directly. It must not write to a bucket or
// change a setting (every call is a read), must not let an SDK type out of
// the package, and must not fail a whole bucket because one call failed:
// what it cannot read becomes an unknown naming the IAM action to grant.
package aws
