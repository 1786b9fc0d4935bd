// Package sandbox runs in-process emulators of the cloud APIs the plugins
// call, seeded from an estate file, on 127.0.0.1. The demo and the tests scan
// it through the real SDKs, exactly as they scan the clouds.
//
// Each cloud's emulator lives in its own package and joins with Register
// from its init, like the plugins do in package providers. This package
// owns the estate file (one section per emulator), the shared fault and
// latency injection, and nothing cloud-specific.
package sandbox
