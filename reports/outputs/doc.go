// Package outputs delivers a run's findings to the destinations in the
// config's `outputs:` section: a file (written atomically), stdout, syslog
// (RFC 5424 over UDP, TCP or TLS), Splunk HEC and signed webhooks.
//
// Per-finding destinations are fed through a durable spool (reports/spool):
// what a destination cannot take now is kept on disk and delivered, in
// order, on the next Deliver or Flush, also after a restart. When a spool is
// full the loss is counted, logged and reported in agent.Delivery.
//
// Secrets (HEC tokens, webhook keys) are read from the environment or a
// file, never from the config text, and never reach logs or errors.
// It must not scan or judge: it renders what it is given through package
// reports.
package outputs
