package cefparse

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, line string
		wantErr    bool
		ext        map[string]string
		name6      string
	}{
		{name: "plain", line: `CEF:0|v|p|1|EXP-001|Title|10|cs1=aws cs1Label=provider msg=a b c`,
			ext: map[string]string{"cs1": "aws", "cs1Label": "provider", "msg": "a b c"}, name6: "Title"},
		{name: "escapes", line: `CEF:0|v|p|1|X|a\|b \\ c|5|msg=x\=y\\z\nnext k=v`,
			ext: map[string]string{"msg": "x=y\\z\nnext", "k": "v"}, name6: `a|b \ c`},
		{name: "value with trailing space", line: `CEF:0|v|p|1|X|n|5|a=1  b=2`,
			ext: map[string]string{"a": "1 ", "b": "2"}, name6: "n"},
		{name: "no extension", line: `CEF:0|v|p|1|X|n|5|`, ext: map[string]string{}, name6: "n"},
		{name: "short header", line: `CEF:0|v|p|1|X|n`, wantErr: true},
		{name: "not CEF", line: `LEEF:1.0|v|p|1|X|`, wantErr: true},
		{name: "bad header escape", line: `CEF:0|v|p|1|X|a\=b|5|`, wantErr: true},
		{name: "bad value escape", line: `CEF:0|v|p|1|X|n|5|a=\x`, wantErr: true},
		{name: "raw line break", line: "CEF:0|v|p|1|X|n|5|a=1\nb=2", wantErr: true},
		{name: "duplicate key", line: `CEF:0|v|p|1|X|n|5|a=1 a=2`, wantErr: true},
		{name: "text before the first key", line: `CEF:0|v|p|1|X|n|5|junk a=1`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Parse(tc.line)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed %q without error: %+v", tc.line, ev)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.ext, ev.Ext); diff != "" || ev.Name != tc.name6 {
				t.Errorf("name %q; extension (-want +got):\n%s", ev.Name, diff)
			}
		})
	}
}
