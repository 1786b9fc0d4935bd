package redact

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
)

func TestStringMasksSecretsAndSignedQueries(t *testing.T) {
	r := &Redactor{}
	r.Add("canary-0123456789", "", "abc") // the empty and short ones are ignored
	cases := []struct{ in, want string }{
		{"HEC answered 403: Authorization: Splunk canary-0123456789", "HEC answered 403: Authorization: Splunk " + Mask},
		{`Post "https://sts.aliyuncs.com/?AccessKeyId=LTAI5t&Action=AssumeRole&Signature=Zm9v" failed`,
			`Post "https://sts.aliyuncs.com/?` + Mask + `" failed`},
		{"GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA&X-Amz-Signature=ff", "GET https://b.s3.amazonaws.com/k?" + Mask},
		{"https://example.com/search?q=abc&page=2", "https://example.com/search?q=abc&page=2"},
		{"abc stays", "abc stays"},
	}
	for _, tc := range cases {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestErrorKeepsTheChain(t *testing.T) {
	r := &Redactor{}
	r.Add("hunter2-password")
	err := r.Error(errors.Join(fs.ErrPermission, errors.New("login hunter2-password refused")))
	if strings.Contains(err.Error(), "hunter2") || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("%v (is ErrPermission: %v)", err, errors.Is(err, fs.ErrPermission))
	}
}

func TestValueAndHandler(t *testing.T) {
	r := &Redactor{}
	r.Add("tok-secret-42")
	type row struct {
		Error    string
		Evidence map[string]any
		List     []string
		Ptr      *string
	}
	s := "x tok-secret-42"
	v := row{Error: "tok-secret-42", Evidence: map[string]any{"error": "a tok-secret-42", "n": 3,
		"nested": map[string]any{"e": "tok-secret-42"}}, List: []string{"tok-secret-42"}, Ptr: &s}
	r.Value(&v)
	var buf bytes.Buffer
	log := slog.New(r.Handler(slog.NewJSONHandler(&buf, nil))).With("token", "tok-secret-42")
	log.Info("sent tok-secret-42", "err", errors.New("echo tok-secret-42"), "v", v, "g", slog.Group("x", "y", "tok-secret-42"),
		"any", struct{ S string }{"tok-secret-42"})
	all := buf.String() + v.Error + v.Evidence["error"].(string) + v.Evidence["nested"].(map[string]any)["e"].(string) + v.List[0] + *v.Ptr
	if strings.Contains(all, "tok-secret-42") {
		t.Errorf("a secret survived: %s", all)
	}
	if v.Evidence["n"] != 3 {
		t.Errorf("a number changed: %v", v.Evidence["n"])
	}
}
