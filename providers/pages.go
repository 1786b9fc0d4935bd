package providers

import (
	"context"
	"errors"
	"fmt"

	"github.com/reachaudit/reachaudit/internal/httpclient"
)

// MaxPages bounds how many pages one listing may take. It is a backstop
// behind the token check, far above any real estate: 10,000 pages of
// 1,000 buckets (or accounts, containers, time series).
const MaxPages = 10000

// ErrPaging is what a listing that cannot end fails with: an endpoint
// that answers a page token it answered before (the same one again, or a
// cycle m1→m2→m1), or more than MaxPages pages.
var ErrPaging = errors.New("the listing does not end")

// Paginate runs a paged listing: page is called with the token of the page
// to fetch ("" for the first) and returns the next page's token ("" after
// the last). It stops with an error naming api when a token comes back
// that an earlier page already answered, or after MaxPages pages, so that
// an endpoint cannot keep a scan listing forever. Each page's answer may
// be as long as httpclient.ListingBody. What the pages already
// read gave is the caller's to keep: page appends its items as it goes,
// and an error of page 2 leaves page 1's items in place.
//
// page may ignore the token when an SDK pager carries it; Paginate still
// watches the tokens the pager follows.
func Paginate(ctx context.Context, api string, page func(ctx context.Context, token string) (next string, err error)) error {
	ctx = httpclient.WithBodyLimit(ctx, httpclient.ListingBody)
	seen := map[string]bool{}
	token := ""
	for n := 1; ; n++ {
		next, err := page(ctx, token)
		if err != nil {
			if n > 1 {
				return fmt.Errorf("%s page %d: %w", api, n, err)
			}
			return err
		}
		switch {
		case next == "":
			return nil
		case seen[next] || next == token:
			return fmt.Errorf("%s: %w: page %d answered a next-page token an earlier page already gave (%.40q)", api, ErrPaging, n, next)
		case n >= MaxPages:
			return fmt.Errorf("%s: %w: stopped after %d pages", api, ErrPaging, n)
		}
		seen[next] = true
		token = next
	}
}
