package providers

import (
	"fmt"
	"log/slog"
	"runtime/debug"
)

// FieldRecord names the whole record in Unknowns: what stopped a bucket's
// description before its fields could be told apart.
const FieldRecord = "record"

// RecoverDescribe turns a panic in a plugin's Describe into an unknown on
// the record, so that a bug in one bucket's parsing costs that bucket's
// unread fields and not the scan. It must be deferred directly:
//
//	defer providers.RecoverDescribe(&b, log)
func RecoverDescribe(b *Bucket, log *slog.Logger) {
	r := recover()
	if r == nil {
		return
	}
	MarkPanic(b, r, log)
}

// MarkPanic records a recovered panic value on b as an internal error of
// Describe, and logs it with the stack (which never reaches a report).
func MarkPanic(b *Bucket, r any, log *slog.Logger) {
	if log != nil {
		log.Error("describe bucket failed", "provider", b.Provider, "account", b.Account, "bucket", b.Name,
			"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
	b.SetUnknown(FieldRecord, "Describe", fmt.Errorf("internal error: %v", r), "")
}
