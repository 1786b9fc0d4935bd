// Package gcpemu emulates the parts of Google Cloud the gcp plugin reads: a
// Cloud Storage JSON API server over HTTP and a Cloud KMS server over gRPC,
// both on 127.0.0.1 and seeded from the estate file's `gcp:` section. The
// plugin reaches them through the client libraries' ordinary endpoint
// options and must not be able to tell them from the cloud: same paths,
// same JSON and protobuf shapes, same errors.
//
// It serves reads only and must not depend on anything but the estate to
// decide an answer (plus the sandbox's latency and fault injection).
package gcpemu
