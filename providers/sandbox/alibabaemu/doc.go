// Package alibabaemu emulates the Alibaba Cloud APIs the alibaba plugin
// calls: OSS's bucket-level XML API and KMS's DescribeKey, seeded from the
// estate's `alibaba:` section and served on 127.0.0.1. It verifies the
// signatures the SDKs send (OSS V4 and V1, OpenAPI ACS3) with each
// account's own AccessKey pair, answers with OSS's and KMS's own shapes and
// error codes, and honours deny, reachable, latency and faults.
//
// It must not accept a request it cannot verify, must not write anything,
// and must not answer with empty data where the cloud would answer an
// error.
package alibabaemu
