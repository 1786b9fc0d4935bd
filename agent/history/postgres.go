package history

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// CheckDSN checks a PostgreSQL history DSN as the config gives it: a
// postgres:// URL that holds no password (it comes from password_env or
// password_file, so that it stays out of the file).
func CheckDSN(dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("want a URL like postgres://user@host:5432/database")
	}
	if _, has := u.User.Password(); has {
		return fmt.Errorf("the DSN holds a password: give it with password_env or password_file instead")
	}
	return nil
}

// pgConfig reads the DSN with TLS verification on unless the DSN turns it
// off by name (sslmode=disable, allow, prefer or require); a DSN without
// sslmode gets verify-full, where the drivers' default would try TLS and
// then fall back to clear text without telling.
func pgConfig(dsn, password string) (*pgx.ConnConfig, string, error) {
	if err := CheckDSN(dsn); err != nil {
		return nil, "", err
	}
	u, _ := url.Parse(dsn)
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "verify-full")
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, "", err
	}
	if password != "" {
		cfg.Password = password
	}
	return cfg, u.Redacted(), nil
}

// OpenPostgres opens the PostgreSQL history database at dsn (password, when
// not empty, is the role's password) and brings its schema up to date.
// Any number of agents may write to it at once.
func OpenPostgres(ctx context.Context, dsn, password string) (*Store, error) {
	s, err := openPostgres(ctx, dsn, password, false)
	if err != nil {
		return nil, err
	}
	return s, s.upgrade(ctx)
}

// OpenPostgresReadOnly opens a PostgreSQL history database for reading: its
// sessions refuse writes.
func OpenPostgresReadOnly(ctx context.Context, dsn, password string) (*Store, error) {
	s, err := openPostgres(ctx, dsn, password, true)
	if err != nil {
		return nil, err
	}
	return s, s.checkVersion(ctx)
}

func openPostgres(ctx context.Context, dsn, password string, readOnly bool) (*Store, error) {
	cfg, where, err := pgConfig(dsn, password)
	if err != nil {
		return nil, fmt.Errorf("history dsn: %w", err)
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	cfg.RuntimeParams["application_name"] = "reachaudit"
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: %w", where, err)
	}
	return &Store{db: db, d: postgresDialect, where: where}, nil
}
