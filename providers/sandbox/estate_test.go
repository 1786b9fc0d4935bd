package sandbox_test

import (
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
)

// Inputs that once crashed every command that read an estate.
func TestEstateHostileInputsRefused(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"customer_keys:\n  ! 0\n", "e.yaml:2: YAML tags"},
		{"copies: " + strings.Repeat("[", 40000) + "\n", "e.yaml:1: nested too deeply"},
	} {
		if _, err := sandbox.ParseEstate("e.yaml", []byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.40q: got %v, want %q", tt.in, err, tt.want)
		}
	}
}
