package history

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
)

// migration is one step of the schema, in each dialect's words.
type migration struct{ sqlite, postgres string }

// dialect is what differs between the databases a Store keeps its runs
// in. The queries are written once, in SQLite's words with ?N
// placeholders and explicit CASTs that both databases read alike.
type dialect struct {
	// rebind turns the ?N placeholders into the driver's.
	rebind func(q string) string
	// version reads the schema version (0: no schema yet).
	version func(ctx context.Context, db *sql.DB) (int, error)
	// migrate brings the schema up to date.
	migrate func(ctx context.Context, db *sql.DB) error
	// write runs fn in one transaction that no other writer interleaves.
	write func(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error
	// reclaim gives the space of pruned runs back.
	reclaim func(ctx context.Context, db *sql.DB) error
}

var sqliteDialect = &dialect{
	rebind:  func(q string) string { return q },
	version: sqliteVersion,
	migrate: migrateSQLite,
	// _txlock=immediate takes the file's write lock as the transaction
	// begins: one writer at a time.
	write: inTx,
	reclaim: func(ctx context.Context, db *sql.DB) error {
		_, err := db.ExecContext(ctx, `PRAGMA incremental_vacuum`)
		return err
	},
}

func sqliteVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

func migrateSQLite(ctx context.Context, db *sql.DB) error {
	v, err := sqliteVersion(ctx, db)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d)", v, len(migrations))
	}
	if v == 0 {
		// Only takes effect before the first table exists: lets pruning
		// give pages back to the file system.
		if _, err := db.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
			return err
		}
	}
	for i := v; i < len(migrations); i++ {
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[i].sqlite); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

var placeholder = regexp.MustCompile(`\?(\d+)`)

// pgLock is the advisory lock key under which agents sharing a PostgreSQL
// history migrate its schema and record runs, one at a time: a run's seq
// then follows the order runs are committed in, which Baseline relies on.
const pgLock = 0x72656163686175 // "reachau"

var postgresDialect = &dialect{
	rebind: func(q string) string { return placeholder.ReplaceAllString(q, "$$$1") },
	version: func(ctx context.Context, db *sql.DB) (int, error) {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass('reachaudit_schema') IS NOT NULL`).Scan(&exists); err != nil || !exists {
			return 0, err
		}
		var v int
		err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM reachaudit_schema`).Scan(&v)
		return v, err
	},
	migrate: func(ctx context.Context, db *sql.DB) error {
		// PostgreSQL's DDL is transactional: every step and the version
		// commit together, under the lock, so two agents starting at once
		// migrate once.
		return pgWrite(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS reachaudit_schema (version INTEGER NOT NULL)`); err != nil {
				return err
			}
			var v int
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM reachaudit_schema`).Scan(&v); err != nil {
				return err
			}
			if v > len(migrations) {
				return fmt.Errorf("schema version %d is newer than this program knows (%d)", v, len(migrations))
			}
			for i := v; i < len(migrations); i++ {
				if _, err := tx.ExecContext(ctx, migrations[i].postgres); err != nil {
					return fmt.Errorf("migration %d: %w", i+1, err)
				}
			}
			if v == len(migrations) {
				return nil
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM reachaudit_schema`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO reachaudit_schema (version) VALUES ($1)`, len(migrations))
			return err
		})
	},
	write: pgWrite,
	// Autovacuum reclaims deleted rows.
	reclaim: func(context.Context, *sql.DB) error { return nil },
}

func pgWrite(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	return inTx(ctx, db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgLock)); err != nil {
			return err
		}
		return fn(tx)
	})
}
