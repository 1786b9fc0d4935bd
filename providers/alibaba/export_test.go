package alibaba

import "time"

// Tests wait less between retries; the backoff's shape is unchanged.
func init() { retryBase = 5 * time.Millisecond }
