package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/reachaudit/reachaudit/providers/yamlfile"
)

// Config is the `history:` section of the config file.
type Config struct {
	Path string `yaml:"path" json:"path"`
	// KeepRuns keeps at most this many runs; 0: no limit by count.
	KeepRuns int `yaml:"keep_runs" json:"keep_runs"`
	// KeepDays drops runs that started more than this many days ago; 0: no
	// limit by age.
	KeepDays int `yaml:"keep_days" json:"keep_days"`
}

// Validate checks the section; paths are relative to it. The database's
// directory must exist, so that a wrong path is refused before the agent
// starts rather than at its first run.
func (c *Config) Validate(ck *yamlfile.Check) {
	ck.Required("path", c.Path)
	if c.Path != "" {
		dir := filepath.Dir(c.Path)
		if fi, err := os.Stat(dir); err != nil {
			ck.Errorf("path", "directory %s: %v", dir, err)
		} else if !fi.IsDir() {
			ck.Errorf("path", "%s is not a directory", dir)
		}
	}
	if c.KeepRuns < 0 {
		ck.Errorf("keep_runs", "must not be negative")
	}
	if c.KeepDays < 0 {
		ck.Errorf("keep_days", "must not be negative")
	}
}

// Prune deletes runs beyond the newest keepRuns (when > 0) and runs that
// started before now minus keepDays (when > 0). It never deletes a
// schedule's baseline (its newest ok run and its newest run with a result),
// so drift keeps working however tight the retention. It returns the
// number of runs deleted.
func (s *Store) Prune(ctx context.Context, keepRuns, keepDays int, now time.Time) (int, error) {
	if keepRuns <= 0 && keepDays <= 0 {
		return 0, nil
	}
	cutoff := int64(-1)
	if keepDays > 0 {
		cutoff = now.Add(-time.Duration(keepDays) * 24 * time.Hour).UnixMilli()
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM runs
		WHERE ((?1 > 0 AND seq NOT IN (SELECT seq FROM runs ORDER BY seq DESC LIMIT ?1))
		    OR (?2 >= 0 AND started_at < ?2))
		  AND seq NOT IN (SELECT max(seq) FROM runs WHERE status = 'ok' GROUP BY schedule)
		  AND seq NOT IN (SELECT max(seq) FROM runs WHERE status != 'failed' GROUP BY schedule)`,
		keepRuns, cutoff)
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	if n > 0 {
		// Give the freed pages back so the file shrinks with the history.
		if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return int(n), fmt.Errorf("history: vacuum: %w", err)
		}
	}
	return int(n), nil
}
