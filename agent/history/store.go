package history

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/internal/redact"
)

// Status of a run.
type Status string

const (
	// StatusOK: the scan covered everything it was asked to.
	StatusOK Status = "ok"
	// StatusPartial: the scan was cut short (timeout, shutdown) or some
	// provider or account could not be listed; what it holds is true but
	// not complete.
	StatusPartial Status = "partial"
	// StatusFailed: the scan produced no result.
	StatusFailed Status = "failed"
)

// ErrNotFound is returned when no run matches.
var ErrNotFound = errors.New("no such run")

// Run is one stored run. Result is nil for failed runs and in what List
// returns; Get, Latest and Baseline load it.
type Run struct {
	ID         string    `json:"run_id"`
	Schedule   string    `json:"schedule"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Status     Status    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Buckets    int       `json:"buckets"`
	Findings   int       `json:"findings"`
	Open       int       `json:"open"`
	Critical   int       `json:"critical"`
	High       int       `json:"high"`
	// New, Changed and Resolved count the drift from the run's baseline.
	New      int           `json:"new"`
	Changed  int           `json:"changed"`
	Resolved int           `json:"resolved"`
	Result   *agent.Result `json:"result,omitempty"`
}

// Cause says why a run is partial or failed when the scan itself returned no
// error: the run errors it recorded (the first, and how many more), so that
// the log and `history list` never show a partial run without a reason.
func Cause(res *agent.Result) string {
	if res == nil || len(res.Errors) == 0 {
		if res != nil && res.Partial {
			return "cut short"
		}
		return ""
	}
	e := res.Errors[0]
	where := strings.TrimSpace(e.Provider + " " + e.Account)
	s := fmt.Sprintf("%s %s: %s", where, e.Op, e.Error)
	if n := len(res.Errors) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more error(s))", n)
	}
	return s
}

// StatusOf classifies a scan's outcome: failed without a result or with
// nothing covered, partial
// when the result was cut short, carries run errors or came with an error.
func StatusOf(res *agent.Result, err error) Status {
	switch {
	case res == nil, res.Summary.CoverageState == agent.CoverageNone:
		// A run that could list nothing it was asked to cover audited
		// nothing, whatever its (empty) findings say.
		return StatusFailed
	case err != nil || res.Partial || len(res.Errors) > 0:
		return StatusPartial
	}
	return StatusOK
}

// Store is a history database: an SQLite file for one agent, or a
// PostgreSQL database that a fleet of agents shares. It is safe for
// concurrent use. An SQLite file takes one writing process at a time and
// any number of readers; PostgreSQL takes any number of both.
type Store struct {
	db *sql.DB
	d  *dialect
	// where names the database in messages: the file, or the DSN (which
	// never holds the password).
	where string
}

// migrations[i] brings the schema from version i to i+1, in each
// dialect's words. Append only.
var migrations = []migration{{
	sqlite: `CREATE TABLE runs (
		seq         INTEGER PRIMARY KEY AUTOINCREMENT,
		id          TEXT    NOT NULL UNIQUE,
		schedule    TEXT    NOT NULL,
		started_at  INTEGER NOT NULL, -- unix milliseconds, UTC
		finished_at INTEGER NOT NULL,
		status      TEXT    NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
		error       TEXT    NOT NULL DEFAULT '',
		buckets     INTEGER NOT NULL DEFAULT 0,
		findings    INTEGER NOT NULL DEFAULT 0,
		open        INTEGER NOT NULL DEFAULT 0,
		critical    INTEGER NOT NULL DEFAULT 0,
		high        INTEGER NOT NULL DEFAULT 0,
		new         INTEGER NOT NULL DEFAULT 0,
		changed     INTEGER NOT NULL DEFAULT 0,
		resolved    INTEGER NOT NULL DEFAULT 0,
		-- the whole Result document as gzip-compressed JSON: drift and
		-- "history show" need the full records, never a query inside them
		result      BLOB
	);
	CREATE INDEX runs_by_schedule ON runs (schedule, status, seq);
	CREATE INDEX runs_by_start ON runs (started_at);`,
	postgres: `CREATE TABLE runs (
		seq         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		id          TEXT    NOT NULL UNIQUE,
		schedule    TEXT    NOT NULL,
		started_at  BIGINT  NOT NULL, -- unix milliseconds, UTC
		finished_at BIGINT  NOT NULL,
		status      TEXT    NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
		error       TEXT    NOT NULL DEFAULT '',
		buckets     INTEGER NOT NULL DEFAULT 0,
		findings    INTEGER NOT NULL DEFAULT 0,
		open        INTEGER NOT NULL DEFAULT 0,
		critical    INTEGER NOT NULL DEFAULT 0,
		high        INTEGER NOT NULL DEFAULT 0,
		new         INTEGER NOT NULL DEFAULT 0,
		changed     INTEGER NOT NULL DEFAULT 0,
		resolved    INTEGER NOT NULL DEFAULT 0,
		result      BYTEA
	);
	CREATE INDEX runs_by_schedule ON runs (schedule, status, seq);
	CREATE INDEX runs_by_start ON runs (started_at);`,
}}

// Open opens the SQLite history database at path, creating it and bringing
// its schema up to date. The directory must exist.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if fi, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("history %s: %w", path, err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("history %s: %s is not a directory", path, dir)
		}
	}
	// The history names every bucket and its weaknesses: readable by the
	// agent's user only. SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	f.Close()
	s, err := openSQLite(ctx, path, "")
	if err != nil {
		return nil, err
	}
	return s, s.upgrade(ctx)
}

// OpenReadOnly opens an existing SQLite history database for reading, for
// the history commands that may run while an agent writes to it.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	s, err := openSQLite(ctx, path, "mode=ro&")
	if err != nil {
		return nil, err
	}
	return s, s.checkVersion(ctx)
}

var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

func openSQLite(ctx context.Context, path, mode string) (*Store, error) {
	// WAL lets readers work while the agent writes; the busy timeout makes
	// a second writer wait instead of failing; immediate transactions take
	// the write lock up front so two writers never deadlock on upgrade.
	dsn := "file:" + uriEscaper.Replace(path) + "?" + mode +
		"_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	if mode == "" {
		dsn += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	return &Store{db: db, d: sqliteDialect, where: path}, nil
}

// Where names the database: its file, or its DSN without a password.
func (s *Store) Where() string { return s.where }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// upgrade brings the schema up to date, closing the store on failure.
func (s *Store) upgrade(ctx context.Context) error {
	if err := s.d.migrate(ctx, s.db); err != nil {
		s.db.Close()
		return fmt.Errorf("history %s: %w", s.where, err)
	}
	return nil
}

// checkVersion refuses, for a reader, a schema other than this program's;
// it closes the store on failure.
func (s *Store) checkVersion(ctx context.Context) error {
	v, err := s.d.version(ctx, s.db)
	if err == nil && v > len(migrations) {
		err = fmt.Errorf("schema version %d is newer than this program knows (%d)", v, len(migrations))
	}
	if err == nil && v < len(migrations) {
		err = fmt.Errorf("schema version %d is older than this program needs (%d); run the agent once to upgrade it", v, len(migrations))
	}
	if err != nil {
		s.db.Close()
		return fmt.Errorf("history %s: %w", s.where, err)
	}
	return nil
}

// exec and query run a statement written with SQLite's ?N placeholders in
// the store's dialect.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.d.rebind(q), args...)
}

// Record stores run. Its ID defaults to the result's run ID, or a new one
// for a run without a result; its counts are taken from the result.
func (s *Store) Record(ctx context.Context, run *Run) error {
	// A row outlives the process: no secret or signed URL goes into one.
	redact.Default.Value(run)
	var blob []byte
	if r := run.Result; r != nil {
		if run.ID == "" {
			run.ID = r.RunID
		}
		if run.StartedAt.IsZero() {
			run.StartedAt = r.StartedAt
		}
		if run.FinishedAt.IsZero() {
			run.FinishedAt = r.FinishedAt
		}
		run.Buckets = len(r.Buckets)
		run.Findings = len(r.Findings)
		run.Open, run.Critical, run.High = 0, 0, 0
		for _, f := range r.Findings {
			if f.Status != risk.StatusOpen {
				continue
			}
			run.Open++
			switch f.Severity {
			case risk.Critical:
				run.Critical++
			case risk.High:
				run.High++
			}
		}
		var err error
		if blob, err = compress(r); err != nil {
			return fmt.Errorf("history: run %s: %w", run.ID, err)
		}
	}
	if run.ID == "" {
		run.ID = agent.NewRunID(cmp.Or(run.StartedAt, time.Now()))
	}
	if run.Status == "" {
		run.Status = StatusOf(run.Result, nil)
	}
	err := s.d.write(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO runs
		(id, schedule, started_at, finished_at, status, error, buckets, findings, open, critical, high, new, changed, resolved, result)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`),
			run.ID, run.Schedule, run.StartedAt.UnixMilli(), run.FinishedAt.UnixMilli(), string(run.Status), run.Error,
			run.Buckets, run.Findings, run.Open, run.Critical, run.High, run.New, run.Changed, run.Resolved, blob)
		return err
	})
	if err != nil {
		return fmt.Errorf("history: record run %s: %w", run.ID, err)
	}
	return nil
}

const runColumns = `id, schedule, started_at, finished_at, status, error, buckets, findings, open, critical, high, new, changed, resolved`

// List returns up to limit runs, newest first, without their results.
// limit <= 0 means all.
func (s *Store) List(ctx context.Context, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	rows, err := s.query(ctx, `SELECT `+runColumns+`, NULL FROM runs ORDER BY seq DESC LIMIT ?1`, limit)
	if err != nil {
		return nil, fmt.Errorf("history: list: %w", err)
	}
	runs, err := scanRuns(rows)
	return runs, err
}

// Get returns the run whose ID is runID, or starts with it when that
// prefix names exactly one run, with its result.
func (s *Store) Get(ctx context.Context, runID string) (*Run, error) {
	if runID == "" {
		return nil, fmt.Errorf("history: %w: empty run ID", ErrNotFound)
	}
	rows, err := s.query(ctx, `SELECT `+runColumns+`, result FROM runs
		WHERE id = CAST(?1 AS TEXT) OR substr(id, 1, length(CAST(?1 AS TEXT))) = CAST(?1 AS TEXT)
		ORDER BY id = CAST(?1 AS TEXT) DESC, seq DESC LIMIT 2`, runID)
	if err != nil {
		return nil, fmt.Errorf("history: get %s: %w", runID, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, err
	}
	switch {
	case len(runs) == 0:
		return nil, fmt.Errorf("history: %w: %s", ErrNotFound, runID)
	case len(runs) > 1 && runs[0].ID != runID:
		return nil, fmt.Errorf("history: run ID prefix %s is ambiguous (%s, %s, …)", runID, runs[0].ID, runs[1].ID)
	}
	return &runs[0], nil
}

// Latest returns the newest n runs that have a result (not failed), newest
// first, with their results; schedule, when not empty, restricts them to
// that schedule's runs.
func (s *Store) Latest(ctx context.Context, schedule string, n int) ([]Run, error) {
	rows, err := s.query(ctx, `SELECT `+runColumns+`, result FROM runs
		WHERE status != 'failed' AND (CAST(?1 AS TEXT) = '' OR schedule = CAST(?1 AS TEXT)) ORDER BY seq DESC LIMIT ?2`, schedule, n)
	if err != nil {
		return nil, fmt.Errorf("history: latest: %w", err)
	}
	runs, err := scanRuns(rows)
	return runs, err
}

// Baseline returns the run that the next run of schedule is compared
// with: its newest complete (ok) run, or, when it has none, its newest
// partial run. Partial runs are not preferred because a bucket missing from
// one would come back as "added" next time; a change first seen in a
// partial run is reported again by the next complete one (reported twice,
// never lost). ErrNotFound when the schedule has no usable run.
func (s *Store) Baseline(ctx context.Context, schedule string) (*Run, error) {
	return s.baseline(ctx, schedule, -1)
}

// Before returns the baseline that the run runID was compared with when it
// was recorded (see Baseline).
func (s *Store) Before(ctx context.Context, runID string) (*Run, error) {
	run, err := s.Get(ctx, runID)
	if err != nil {
		return nil, err
	}
	var seq int64
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT seq FROM runs WHERE id = ?1`), run.ID).Scan(&seq); err != nil {
		return nil, fmt.Errorf("history: %s: %w", run.ID, err)
	}
	return s.baseline(ctx, run.Schedule, seq)
}

func (s *Store) baseline(ctx context.Context, schedule string, before int64) (*Run, error) {
	rows, err := s.query(ctx, `SELECT `+runColumns+`, result FROM runs
		WHERE schedule = ?1 AND status != 'failed' AND (CAST(?2 AS BIGINT) < 0 OR seq < CAST(?2 AS BIGINT))
		ORDER BY status = 'ok' DESC, seq DESC LIMIT 1`, schedule, before)
	if err != nil {
		return nil, fmt.Errorf("history: baseline of %q: %w", schedule, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("history: %w: no earlier run of schedule %q", ErrNotFound, schedule)
	}
	return &runs[0], nil
}

// Pair resolves the two runs `history diff [A] [B]` compares: with both
// IDs given, those; with only a, that run and its baseline (a is then the
// newer run); with neither, the newest run that has a result and its
// baseline. The first run returned is the older.
func (s *Store) Pair(ctx context.Context, a, b string) (from, to *Run, err error) {
	switch {
	case a != "" && b != "":
		if from, err = s.Get(ctx, a); err != nil {
			return nil, nil, err
		}
		if to, err = s.Get(ctx, b); err != nil {
			return nil, nil, err
		}
	case a != "":
		if to, err = s.Get(ctx, a); err != nil {
			return nil, nil, err
		}
		if from, err = s.Before(ctx, to.ID); err != nil {
			return nil, nil, err
		}
	default:
		latest, err := s.Latest(ctx, "", 1)
		if err != nil {
			return nil, nil, err
		}
		if len(latest) == 0 {
			return nil, nil, fmt.Errorf("history: %w: the history holds no run with a result", ErrNotFound)
		}
		to = &latest[0]
		if from, err = s.Before(ctx, to.ID); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range []*Run{from, to} {
		if r.Result == nil {
			return nil, nil, fmt.Errorf("history: run %s failed and holds no result to compare", r.ID)
		}
	}
	return from, to, nil
}

func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		var (
			r               Run
			started, finish int64
			status          string
			blob            []byte
		)
		if err := rows.Scan(&r.ID, &r.Schedule, &started, &finish, &status, &r.Error,
			&r.Buckets, &r.Findings, &r.Open, &r.Critical, &r.High, &r.New, &r.Changed, &r.Resolved, &blob); err != nil {
			return nil, fmt.Errorf("history: read run: %w", err)
		}
		r.StartedAt = time.UnixMilli(started).UTC()
		r.FinishedAt = time.UnixMilli(finish).UTC()
		r.Status = Status(status)
		if blob != nil {
			res, err := decompress(blob)
			if err != nil {
				return nil, fmt.Errorf("history: run %s: %w", r.ID, err)
			}
			r.Result = res
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: read runs: %w", err)
	}
	return runs, nil
}

func compress(r *agent.Result) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(r); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decompress(blob []byte) (*agent.Result, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var r agent.Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
