// Package alibaba is the Alibaba Cloud plugin: it lists the OSS buckets of
// the configured accounts and records, for each, where its data sits, who
// holds its key (through Alibaba KMS), where its replicas are, whether it is
// public and whether it is reachable now. Every Alibaba region, inside China
// or not, is run by a provider controlled from China; the records say so.
//
// It signs OSS requests with V4 through the OSS SDK and KMS requests through
// Alibaba's KMS SDK, and talks to the sandbox exactly as to the cloud.
//
// It must not write to a bucket or change a setting, must not let SDK types
// out of the package, and must not log or return credentials.
package alibaba
