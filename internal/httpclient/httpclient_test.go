package httpclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// An answer is read up to its cap and fails past it; an error answer has
// the small cap whatever the call's; a listing's context raises the cap.
func TestBodyCaps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		if r.URL.Query().Get("error") != "" {
			status = http.StatusInternalServerError
		}
		w.WriteHeader(status)
		chunk := []byte(strings.Repeat("x", 64<<10))
		n := int64(0)
		want := int64(0)
		switch r.URL.Query().Get("size") {
		case "answer":
			want = AnswerBody
		case "over-answer":
			want = AnswerBody + 1
		case "listing":
			want = ListingBody
		case "endless":
			want = 1 << 40
		}
		for n < want {
			c := chunk[:min(int64(len(chunk)), want-n)]
			if _, err := w.Write(c); err != nil {
				return
			}
			n += int64(len(c))
		}
	}))
	defer srv.Close()
	c := New(Options{})
	cases := []struct {
		name, query string
		ctx         context.Context
		wantLen     int64
		wantLimit   int64 // 0: the body reads whole
	}{
		{"an answer at its cap", "size=answer", context.Background(), AnswerBody, 0},
		{"an answer one byte past", "size=over-answer", context.Background(), AnswerBody, AnswerBody},
		{"an endless answer", "size=endless", context.Background(), AnswerBody, AnswerBody},
		{"a listing page at the listing cap", "size=listing", WithBodyLimit(context.Background(), ListingBody), ListingBody, 0},
		{"an endless listing", "size=endless", WithBodyLimit(context.Background(), ListingBody), ListingBody, ListingBody},
		{"an endless error", "size=endless&error=1", WithBodyLimit(context.Background(), ListingBody), ErrorBody, ErrorBody},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(tc.ctx, http.MethodGet, srv.URL+"/?"+tc.query, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			if n != tc.wantLen {
				t.Errorf("read %d bytes, want %d", n, tc.wantLen)
			}
			var tl *TooLargeError
			switch {
			case tc.wantLimit == 0 && err != nil:
				t.Errorf("err = %v", err)
			case tc.wantLimit != 0 && (!errors.As(err, &tl) || tl.Limit != tc.wantLimit):
				t.Errorf("err = %v, want a TooLargeError at %d", err, tc.wantLimit)
			}
		})
	}
}

// A GET follows at most MaxRedirects redirects of a loop; a POST follows
// none, nor does a client that does not follow.
func TestRedirects(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	cases := []struct {
		name     string
		follow   bool
		method   string
		wantHits int64
		wantErr  bool // else the 307 is the answer
	}{
		{"a GET in a loop", true, http.MethodGet, MaxRedirects + 1, true},
		{"a HEAD in a loop", true, http.MethodHead, MaxRedirects + 1, true},
		{"a POST", true, http.MethodPost, 1, false},
		{"a client that does not follow", false, http.MethodGet, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			req, _ := http.NewRequest(tc.method, srv.URL+"/loop", strings.NewReader("batch"))
			resp, err := New(Options{FollowRedirects: tc.follow}).Do(req)
			if got := hits.Load(); got != tc.wantHits {
				t.Errorf("requests %d, want %d", got, tc.wantHits)
			}
			if tc.wantErr {
				if !errors.Is(err, ErrRedirects) {
					t.Errorf("err = %v, want ErrRedirects", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTemporaryRedirect {
				t.Errorf("status %d, want the 307 itself", resp.StatusCode)
			}
		})
	}
}
