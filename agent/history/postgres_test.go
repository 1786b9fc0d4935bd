package history

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// pgServer is a PostgreSQL server of the test's own, with a fresh
// database per store.
type pgServer struct {
	*sandboxtest.Postgres
	admin *sql.DB
	n     int
}

func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	pg := sandboxtest.StartPostgres(t)
	cfg, err := pgx.ParseConfig(pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = pg.Password
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	return &pgServer{Postgres: pg, admin: admin}
}

// database makes a new, empty database and returns its DSN.
func (s *pgServer) database(t *testing.T) string {
	t.Helper()
	s.n++
	name := fmt.Sprintf("history_%d", s.n)
	if _, err := s.admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	return s.DSN(name)
}

// The history's tests run on PostgreSQL as on SQLite: the same migrations,
// drift, baselines, retention and reach loss.
func TestPostgresHistory(t *testing.T) {
	pg := startPostgres(t)
	sqlite := openStore
	t.Cleanup(func() { openStore = sqlite })
	openStore = func(t *testing.T) *Store {
		t.Helper()
		s, err := OpenPostgres(context.Background(), pg.database(t), pg.Password)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	for _, tt := range []struct {
		name string
		test func(*testing.T)
	}{
		{"DriftThroughDatabase", TestDriftThroughDatabase},
		{"Retention", TestRetention},
		{"GetAndBaseline", TestGetAndBaseline},
		{"ReachLoss", TestReachLoss},
		{"ReachLossPersistsUntilReachReturns", TestReachLossPersistsUntilReachReturns},
	} {
		t.Run(tt.name, tt.test)
	}

	t.Run("TwoAgentsWritingAtOnce", func(t *testing.T) { testTwoAgents(t, pg) })
	t.Run("ReadOnlyAndRefusals", func(t *testing.T) { testPostgresRefusals(t, pg) })
}

// Two agents open one history at the same moment (both migrate) and write
// runs from several goroutines each while a reader lists and reads: every
// run is there once, whole, its row and its document agree, and each
// writer's runs keep the order it wrote them in.
func testTwoAgents(t *testing.T, pg *pgServer) {
	ctx := context.Background()
	dsn := pg.database(t)
	const writers, perWriter, bucketsPerRun = 4, 12, 40
	stores := make([]*Store, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers+2)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenPostgres(ctx, dsn, pg.Password)
			if err != nil {
				errs <- err
				return
			}
			stores[i] = s
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("opening at once: %v", err)
	}
	for _, s := range stores {
		t.Cleanup(func() { s.Close() })
	}
	reader, err := OpenPostgresReadOnly(ctx, dsn, pg.Password)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	runOf := func(agentName string, w, i int) *agent.Result {
		var bs []providers.Bucket
		for b := range bucketsPerRun {
			bs = append(bs, bucket("aws", fmt.Sprintf("%s%d", agentName, w), fmt.Sprintf("%s-%d-%d-b%d", agentName, w, i, b), "us-east-1"))
		}
		return result(fmt.Sprintf("%s-%d-%02d", agentName, w, i), t0.Add(time.Duration(i)*time.Hour), bs)
	}
	errs = make(chan error, 2*writers+1)
	done := make(chan struct{})
	var rw sync.WaitGroup
	rw.Add(1)
	go func() {
		defer rw.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			runs, err := reader.List(ctx, 10)
			if err != nil {
				errs <- err
				return
			}
			if len(runs) > 0 {
				if _, err := reader.Get(ctx, runs[0].ID); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for a, name := range []string{"a", "b"} {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					if err := stores[a].Record(ctx, &Run{Schedule: "nightly-" + name, Status: StatusOK, Result: runOf(name, w, i)}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(done)
	rw.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	runs, err := reader.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*writers*perWriter {
		t.Fatalf("%d runs recorded, want %d", len(runs), 2*writers*perWriter)
	}
	// Newest first: each writer's runs appear in reverse of its order.
	last := map[string]int{}
	for _, r := range runs {
		var name string
		var w, i int
		if _, err := fmt.Sscanf(strings.ReplaceAll(r.ID, "-", " "), "%s %d %d", &name, &w, &i); err != nil {
			t.Fatalf("run id %s: %v", r.ID, err)
		}
		k := fmt.Sprintf("%s-%d", name, w)
		if prev, seen := last[k]; seen && i >= prev {
			t.Errorf("writer %s: run %d listed after run %d (newest first)", k, i, prev)
		}
		last[k] = i
		got, err := reader.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := runOf(name, w, i)
		if got.Result == nil || got.Buckets != bucketsPerRun || got.Schedule != "nightly-"+name {
			t.Fatalf("run %s: schedule %s, %d buckets, result %v", r.ID, got.Schedule, got.Buckets, got.Result != nil)
		}
		if diff := cmp.Diff(want.Buckets, got.Result.Buckets); diff != "" || got.Result.RunID != r.ID {
			t.Fatalf("run %s holds another run's document (%s):\n%s", r.ID, got.Result.RunID, diff)
		}
	}
	// Each schedule's baseline is its own newest run.
	for _, name := range []string{"a", "b"} {
		base, err := reader.Baseline(ctx, "nightly-"+name)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(runs, func(r Run) bool { return r.Schedule == "nightly-"+name })
		if base.ID != runs[i].ID {
			t.Errorf("baseline of nightly-%s is %s, want its newest run %s", name, base.ID, runs[i].ID)
		}
	}
	if err := reader.Record(ctx, &Run{Schedule: "s", Status: StatusFailed}); err == nil {
		t.Error("a read-only store accepted a write")
	}
}

func testPostgresRefusals(t *testing.T, pg *pgServer) {
	ctx := context.Background()
	dsn := pg.database(t)
	s, err := OpenPostgres(ctx, dsn, pg.Password)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, c := range []struct {
		name, dsn, password, want string
	}{
		{"wrong password", dsn, "not-the-password", "password authentication failed"},
		{"password in the DSN", strings.Replace(dsn, "@", ":secret@", 1), pg.Password, "password_env or password_file"},
		{"not a postgres URL", "mysql://h/db", "", "postgres://user@host"},
		// The test server has no certificate: with no sslmode, TLS is
		// required and verified, never skipped in silence.
		{"TLS by default", strings.TrimSuffix(dsn, "?sslmode=disable"), pg.Password, "TLS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := OpenPostgres(ctx, c.dsn, c.password)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q; want it to say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "secret") || (c.password != "" && strings.Contains(err.Error(), c.password)) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	// A reader refuses a schema newer than it knows, and an empty database.
	if _, err := pg.admin.Exec(`CREATE DATABASE history_empty`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPostgresReadOnly(ctx, pg.DSN("history_empty"), pg.Password); err == nil || !strings.Contains(err.Error(), "older") {
		t.Errorf("reader on an empty database: %v", err)
	}
	w, err := OpenPostgres(ctx, dsn, pg.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(`UPDATE reachaudit_schema SET version = 99`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := OpenPostgresReadOnly(ctx, dsn, pg.Password); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("reader on a newer schema: %v", err)
	}
	if _, err := OpenPostgres(ctx, dsn, pg.Password); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("writer on a newer schema: %v", err)
	}
}
