// Package schedule runs audits on cron schedules as a long-lived agent: it
// fires each schedule's scan (skipping a tick while the previous run of that
// schedule still goes on, recovering a panic without disabling the
// schedule), records every run in the history with its drift, hands the
// result or its drift to the outputs, serves /healthz, /readyz and /metrics,
// reloads on SIGHUP and shuts down cleanly on SIGTERM or SIGINT.
//
// It must not know how a scan is done or how an output delivers: both are
// injected (a ScanFunc and a Deliverer), so it imports no provider plugin
// and no report encoder.
package schedule
