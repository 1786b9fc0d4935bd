package sandboxtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// PostgresBinDirs are where Debian's postgresql packages put the server.
var PostgresBinDirs = []string{"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"}

// Postgres is a PostgreSQL server a test started for itself.
type Postgres struct {
	// Host and Port reach it over TCP (password authentication).
	Host string
	Port int
	// User and Password are its superuser's.
	User, Password string
	// Socket is the directory of its unix socket.
	Socket string
}

// DSN is a postgres:// URL of database db, without the password and with
// TLS off by name (the test server has no certificate).
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", p.User, p.Host, p.Port, db)
}

// StartPostgres runs a PostgreSQL server of Debian's postgresql package on a
// temporary data directory, a free port on 127.0.0.1 and a unix socket in
// the temporary directory, for tb alone; it is stopped when tb ends. As root
// (tests in containers) the server runs as the postgres user, which
// PostgreSQL requires. Without the package it skips tb, or fails it under
// REACHAUDIT_REQUIRE_EXTERNAL=1.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	bin := ""
	for _, d := range PostgresBinDirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			bin = d
			break
		}
	}
	Require(tb, "PostgreSQL (Debian's postgresql package)", bin != "")
	var cred *syscall.Credential
	var uid, gid = -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		Require(tb, "the postgres user", err == nil)
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// A directory of our own: t.TempDir's parent is root's and closed.
	dir, err := os.MkdirTemp("", "reachaudit-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	p := &Postgres{Host: "127.0.0.1", User: "reachaudit_admin", Password: "pw-" + strconv.Itoa(os.Getpid()), Socket: dir}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	if cred != nil {
		os.Chown(pwfile, uid, gid)
	}
	run := func(name string, args ...string) {
		tb.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = []string{"LC_ALL=C", "PATH=" + bin + ":/usr/bin:/bin"}
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-U", p.User, "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=50", p.Port, dir)
	run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "120", "start")
	tb.Cleanup(func() { run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop") })
	return p
}
