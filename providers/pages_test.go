package providers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestPaginate(t *testing.T) {
	boom := errors.New("HTTP 500 InternalError")
	cases := []struct {
		name string
		// next answers the token after the one asked for; an error fails
		// that page.
		next      func(token string) (string, error)
		wantItems int
		wantErr   string
	}{
		{"three pages", func(tok string) (string, error) {
			return map[string]string{"": "a", "a": "b", "b": ""}[tok], nil
		}, 3, ""},
		{"repeated token", func(string) (string, error) { return "same", nil }, 2, "earlier page already gave"},
		{"cyclic markers", func(tok string) (string, error) {
			return map[string]string{"": "m1", "m1": "m2", "m2": "m1"}[tok], nil
		}, 3, "earlier page already gave"},
		{"page 2 fails", func(tok string) (string, error) {
			if tok != "" {
				return "", boom
			}
			return "p2", nil
		}, 1, "page 2: HTTP 500"},
		{"endless distinct tokens", func(tok string) (string, error) {
			n, _ := strconv.Atoi(strings.TrimPrefix(tok, "t"))
			return "t" + strconv.Itoa(n+1), nil
		}, MaxPages, "stopped after"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := 0
			err := Paginate(context.Background(), "s3:ListBuckets", func(_ context.Context, tok string) (string, error) {
				next, err := c.next(tok)
				if err == nil {
					items++ // what the page gave, kept by the caller
				}
				return next, err
			})
			if items != c.wantItems {
				t.Errorf("pages read = %d, want %d", items, c.wantItems)
			}
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "s3:ListBuckets") {
				t.Fatalf("err = %v, want one naming s3:ListBuckets and %q", err, c.wantErr)
			}
			if c.wantErr != "page 2: HTTP 500" && !errors.Is(err, ErrPaging) {
				t.Errorf("err = %v, want ErrPaging", err)
			}
			if c.wantErr == "page 2: HTTP 500" && !errors.Is(err, boom) {
				t.Errorf("err = %v, want the page's own error wrapped", err)
			}
		})
	}
}
