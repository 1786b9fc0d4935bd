// Package providers defines what every cloud plugin fills in and how plugins
// join the program: the Bucket record, the Provider interface, and the
// registry that plugin packages join from their init functions, the way
// database/sql drivers do.
//
// It must not import any cloud SDK, the agent or the reports: records flow
// out of here, never SDK types.
package providers
