// Package gcp is the Google Cloud Storage plugin: it lists the buckets of
// the configured projects with the storage client library, reads each
// bucket's place, encryption key (through Cloud KMS), resilience and
// exposure, probes the data plane, and records what it finds in
// providers.Bucket. It also owns the GCS location table (regions,
// dual-regions and multi-regions with their countries and operators).
//
// It only reads: no call here may create, change or delete anything in a
// project. No SDK type leaves this package.
package gcp
