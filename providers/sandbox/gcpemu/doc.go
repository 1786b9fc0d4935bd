// Package gcpemu emulates the parts of Google Cloud the gcp plugin reads: a
// Cloud Storage JSON API server over HTTP, Cloud KMS, Cloud Monitoring and
// Resource Manager (projects and folders) servers over gRPC, and the
// credentials around them (an OAuth 2.0 token endpoint for the JWT-bearer
// grant of a service account key it makes per
// run, and the IAM Credentials API's generateAccessToken), all on 127.0.0.1
// and seeded from the estate file's `gcp:` section. The plugin reaches them
// through the client libraries' ordinary endpoint options and must not be
// able to tell them from the cloud: same paths, same JSON and protobuf
// shapes, same errors, and no call answered without a valid bearer token.
//
// It serves reads only and must not depend on anything but the estate to
// decide an answer (plus the sandbox's latency and fault injection).
package gcpemu
