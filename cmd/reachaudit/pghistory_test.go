package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// Two agents, as two processes, share one PostgreSQL history, each with its
// own schedule, the password from password_env; the history commands read
// their runs, show one and diff two through the same config.
func TestAgentsSharePostgresHistory(t *testing.T) {
	pg := sandboxtest.StartPostgres(t)
	cfg, err := pgx.ParseConfig(pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = pg.Password
	admin := stdlib.OpenDB(*cfg)
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE fleet_history`); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	estate := `aws:
  accounts:
    - id: "111122223333"
      buckets:
        - {name: alpha, region: us-east-1, versioning: Enabled}
        - {name: beta, region: eu-west-1, versioning: Off}
`
	if err := os.WriteFile(filepath.Join(dir, "estate.yaml"), []byte(estate), 0o644); err != nil {
		t.Fatal(err)
	}
	config := func(name string) string {
		p := filepath.Join(dir, name+".yaml")
		body := fmt.Sprintf(`sandbox: {estate: estate.yaml}
schedules:
  - {name: %s, cron: "@every 1s", timeout: 30s}
listen: %s
history: {dsn: "%s", password_env: TEST_PG_PASSWORD, keep_runs: 1000}
`, name, freePort(t), pg.DSN("fleet_history"))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := append(os.Environ(), "TEST_PG_PASSWORD="+pg.Password)
	var agents []*exec.Cmd
	var logs []*lockedBuffer
	for _, name := range []string{"agent-a", "agent-b"} {
		var stderr lockedBuffer
		cmd := exec.Command(bin, "agent", "--config", config(name))
		cmd.Env = env
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, cmd)
		logs = append(logs, &stderr)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			if t.Failed() {
				t.Logf("%s stderr:\n%s", name, stderr.String())
			}
		})
	}
	db, err := sql.Open("pgx", strings.Replace(pg.DSN("fleet_history"), "@", ":"+pg.Password+"@", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(schedule string) int {
		var n int
		_ = db.QueryRow(`SELECT count(*) FROM runs WHERE schedule = $1 AND status = 'ok'`, schedule).Scan(&n)
		return n
	}
	waitFor(t, "three runs of each agent", 120*time.Second, func() bool { return count("agent-a") >= 3 && count("agent-b") >= 3 })
	for i, cmd := range agents {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("agent %d exited with %v:\n%s", i, err, logs[i].String())
		}
	}

	t.Setenv("TEST_PG_PASSWORD", pg.Password)
	cfgA := filepath.Join(dir, "agent-a.yaml")
	code, listing := run(t, "history", "list", "--config", cfgA, "--limit", "0")
	if code != 0 || !strings.Contains(listing, "agent-a") || !strings.Contains(listing, "agent-b") {
		t.Fatalf("history list exited %d; want both agents' runs:\n%s", code, listing)
	}
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM runs`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	var newest string
	if err := db.QueryRow(`SELECT id FROM runs WHERE schedule = 'agent-b' AND status = 'ok' ORDER BY seq DESC LIMIT 1`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "show.json")
	if code, stderr := run(t, "history", "show", newest, "--config", cfgA, "--format", "json", "--out", out); code != 0 {
		t.Fatalf("history show exited %d: %s", code, stderr)
	}
	r := readJSONResult(t, out)
	if r.RunID != newest || len(r.Buckets) != 2 {
		t.Errorf("history show %s: run %s with %d buckets", newest, r.RunID, len(r.Buckets))
	}
	if code, stderr := run(t, "history", "diff", newest, "--config", cfgA); code != 0 {
		t.Errorf("history diff exited %d: %s", code, stderr)
	}
	// The reader's sessions are read-only, and a wrong password is refused.
	t.Setenv("TEST_PG_PASSWORD", "wrong")
	if code, stderr := run(t, "history", "list", "--config", cfgA); code == 0 || !strings.Contains(stderr, "password authentication failed") || strings.Contains(stderr, pg.Password) {
		t.Errorf("history list with a wrong password: exit %d, %s", code, stderr)
	}
	t.Logf("%d runs in the shared history", rows)
}
