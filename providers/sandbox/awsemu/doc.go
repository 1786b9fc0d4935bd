// Package awsemu is the sandbox's AWS emulator: one HTTP server on
// 127.0.0.1 that answers S3 (REST-XML, path-style and bucket.localhost
// virtual-host style), KMS (JSON 1.1) and STS (query protocol) the way AWS
// does, seeded from the estate file's `aws:` section.
//
// Every request must carry a valid AWS Signature Version 4 made with one of
// the keys generated at Start: one key pair per estate account, which sees
// only that account's buckets and keys, and an organisation key pair that
// may only assume a role in the organisation's accounts (those that hold
// buckets; an account that only holds keys is an outside party, such as a
// partner whose key a bucket uses). Answers use the XML and JSON shapes and
// the error codes AWS documents, so that a plugin cannot tell the emulator
// from the cloud.
//
// It must not accept unsigned or wrongly signed requests, must not answer
// with empty data where AWS answers an error, and must not change its
// estate: it is read-only, and write operations are refused.
package awsemu
