package sandbox

import "net/http"

// Hostile fault kinds: an endpoint that misbehaves in ways no cloud means
// to but a broken proxy, a compromised endpoint or a buggy S3-compatible
// store may. Each emulator renders them after it has verified the
// request's signature, in its own API's shapes, so that the plugins meet
// them through the real SDKs. The listing kinds change the pages of the
// emulator's bucket listing; the others replace any answer.
const (
	// FaultRepeatToken: every page of the listing names the same
	// next-page token.
	FaultRepeatToken = "repeat-token"
	// FaultCycleToken: the pages' next-page tokens cycle m1 → m2 → m1.
	FaultCycleToken = "cycle-token"
	// FaultPage2: the first page names a next page; asking for it fails
	// with the emulator's server error.
	FaultPage2 = "page2-fail"
	// FaultDuplicates: the listing names every bucket twice.
	FaultDuplicates = "duplicate-names"
	// FaultEndlessBody: a 200 whose body never ends.
	FaultEndlessBody = "endless-body"
	// FaultHugeError: a 500 whose body never ends.
	FaultHugeError = "huge-error"
	// FaultRedirectLoop: a 307 back to the same URL, every time.
	FaultRedirectLoop = "redirect-loop"
)

// ListingFault reports whether kind changes a listing's pages, which the
// emulator's own listing renders with HostilePage.
func ListingFault(kind string) bool {
	switch kind {
	case FaultRepeatToken, FaultCycleToken, FaultPage2, FaultDuplicates:
		return true
	}
	return false
}

// cycle is the next token of FaultCycleToken after each token.
var cycle = map[string]string{"": "m1", "m1": "m2", "m2": "m1"}

// HostilePage is one page of a listing under a listing fault. all is every
// item the honest listing gives, token the page token the request named.
// It returns the page's items, its next-page token ("" for none) and
// whether the request must fail with the emulator's server error. The
// token-looping kinds answer the first half of the items on every page;
// FaultPage2 answers it on the first page only.
func HostilePage[T any](kind, token string, all []T) (page []T, next string, fail bool) {
	half := all[:min(len(all), max(1, (len(all)+1)/2))]
	switch kind {
	case FaultRepeatToken:
		return half, "again", false
	case FaultCycleToken:
		next, ok := cycle[token]
		if !ok {
			next = "m1"
		}
		return half, next, false
	case FaultPage2:
		if token != "" {
			return nil, "", true
		}
		return half, "page-2", false
	case FaultDuplicates:
		page = make([]T, 0, 2*len(all))
		for _, it := range all {
			page = append(page, it, it)
		}
		return page, "", false
	}
	return all, "", false
}

// maxEndless bounds what one endless answer sends, so that a client
// without any cap still sees the answer end rather than hold the test
// forever: 4 GiB.
const maxEndless = 4 << 30

// Endless answers with status and a body that does not end: head, then
// unit again and again, until the client stops reading, done closes or
// maxEndless bytes have gone. A listing's unit is one more entry, so a
// client that keeps what it decodes grows with what it reads.
func Endless(w http.ResponseWriter, r *http.Request, status int, ctype string, head, unit []byte, done <-chan struct{}) {
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	if _, err := w.Write(head); err != nil {
		return
	}
	chunk := make([]byte, 0, 64<<10)
	for len(chunk)+len(unit) <= cap(chunk) {
		chunk = append(chunk, unit...)
	}
	for sent := len(head); sent < maxEndless; sent += len(chunk) {
		select {
		case <-r.Context().Done():
			return
		case <-done:
			return
		default:
		}
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// RedirectLoop answers a 307 Temporary Redirect back to the request's own
// URL, which a client that follows redirects without a bound follows
// forever. The Location is absolute, as every cloud's is.
func RedirectLoop(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", "http://"+r.Host+r.URL.RequestURI())
	w.WriteHeader(http.StatusTemporaryRedirect)
}
