package risk_test

import (
	"testing"

	"github.com/reachaudit/reachaudit/agent/risk"
)

// FuzzLoadPolicy: no policy document panics or hangs the loader.
func FuzzLoadPolicy(f *testing.F) {
	f.Add([]byte("profile: eu-sovereignty\nresidency: {allowed: [DE, FR]}\n"))
	f.Add([]byte("home: [US]\nconcern: [CN]\n"))
	f.Add([]byte("home:\n  ! 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = risk.LoadPolicy("p.yaml", data)
	})
}
