// Package httpclient builds every HTTP client the program uses to talk to
// the outside: the cloud SDKs' clients and the sinks that deliver
// findings. Each one caps what an answer may send (per API: listings
// more than single answers, error bodies little), follows few redirects
// and never one for a POST, and bounds each exchange in time, so that a
// hostile or broken endpoint costs a bounded time and memory.
//
// It must not know any cloud or sink: callers pass their TLS settings and
// name the cap of their calls through the context.
package httpclient
