package config_test

import (
	"testing"

	"github.com/reachaudit/reachaudit/agent/config"
)

// FuzzParse: no config file, however broken, panics or hangs the loader;
// a config it accepts is one it accepts again.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("providers: {aws: {}}\n"))
	f.Add([]byte("sandbox: {estate: e.yaml}\nschedules:\n  - {name: n, cron: \"@every 1h\"}\n"))
	f.Add([]byte("sandbox: {estate: e.yaml}\ncustomer_keys:\n  ! 0\n"))
	f.Add([]byte("history: {path: h.db, keep_days: 200000}\nproviders: {aws: {}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := config.Parse("c.yaml", data, []string{}); err != nil {
			return
		}
		if _, err := config.Parse("c.yaml", data, []string{}); err != nil {
			t.Fatalf("accepted once, refused the second time: %v", err)
		}
	})
}
