package history

import (
	"context"
	"fmt"
	"time"
)

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
	res, err := s.exec(ctx, `DELETE FROM runs
		WHERE ((CAST(?1 AS BIGINT) > 0 AND seq NOT IN (SELECT seq FROM runs ORDER BY seq DESC LIMIT ?1))
		    OR (CAST(?2 AS BIGINT) >= 0 AND started_at < CAST(?2 AS BIGINT)))
		  AND seq NOT IN (SELECT max(seq) FROM runs WHERE status = 'ok' GROUP BY schedule)
		  AND seq NOT IN (SELECT max(seq) FROM runs WHERE status != 'failed' GROUP BY schedule)`,
		max(keepRuns, 0), cutoff)
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	if n > 0 {
		if err := s.d.reclaim(ctx, s.db); err != nil {
			return int(n), fmt.Errorf("history: vacuum: %w", err)
		}
	}
	return int(n), nil
}
