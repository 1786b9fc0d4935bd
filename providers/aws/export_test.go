package aws

import "time"

// SetCallTimeout shortens the per-call timeout for tests outside the
// package that make an endpoint hang.
func (p *Provider) SetCallTimeout(d time.Duration) { p.timeout = d }
