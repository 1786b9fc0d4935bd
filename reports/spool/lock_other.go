//go:build !unix

package spool

import (
	"os"
	"path/filepath"
)

// lockDir opens the lock file; platforms without flock get no exclusion.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
}
