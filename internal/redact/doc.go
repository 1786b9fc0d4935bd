// Package redact is the process's one redactor: it knows every secret
// value the configuration made the process read (HEC tokens, webhook HMAC
// secrets, cloud access keys and session tokens, passwords) and strips
// them, and the query strings of signed URLs, from any text before it is
// logged, reported, delivered or recorded in the history.
//
// Secrets are registered where they are read (Add), so nothing else needs
// to know which configuration fields are secret. It must not read secrets
// itself or decide what is secret beyond what it is told and the signed-URL
// parameters it knows.
package redact
