package yamlfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// bounded runs f and fails if it took longer than d or allocated more than
// maxAlloc bytes in total.
func bounded(t *testing.T, d time.Duration, maxAlloc uint64, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("took %v, allocated %d KiB", took, alloc>>10)
	if took > d {
		t.Errorf("took %v, want under %v", took, d)
	}
	if alloc > maxAlloc {
		t.Errorf("allocated %d MiB, want under %d MiB", alloc>>20, maxAlloc>>20)
	}
}

func TestHostileInputsRefused(t *testing.T) {
	aliasBomb := func() string {
		var b strings.Builder
		b.WriteString("items: &big [")
		for i := 0; i < 3000; i++ {
			b.WriteString("x, ")
		}
		b.WriteString("x]\nmore:\n")
		for i := 0; i < 10000; i++ {
			b.WriteString("  - *big\n")
		}
		return b.String()
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty tag on a block value", "name: x\nitems:\n  ! 0\n", `f.yaml:3: YAML tags such as "!" are not accepted here`},
		{"core tag", "name: !!str x\n", `f.yaml:1: YAML tags such as "!!str" are not accepted here`},
		{"custom tag", "items: !foo [a]\n", `f.yaml:1: YAML tags`},
		{"flow depth bomb", "name: " + strings.Repeat("[", 32000) + strings.Repeat("]", 32000) + "\n", "f.yaml:1: nested too deeply"},
		{"block depth bomb", "items:\n" + strings.Repeat("- ", 50000) + "x\n", "f.yaml:2: nested too deeply"},
		{"indent depth bomb", "items:\n" + indentBomb(400), "nested too deeply"},
		{"alias bomb", aliasBomb(), "aliases expand to more than 100000 values"},
		{"self alias", "a: &x [*x]\n", "f.yaml:1: an alias refers to the anchor it is inside"},
		{"too large", "name: x\n" + strings.Repeat("#", MaxSize), "larger than the 8 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			bounded(t, 3*time.Second, 256<<20, func() {
				var d doc
				err = Decode("f.yaml", []byte(tt.in), &d)
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode: got %v, want %q", err, tt.want)
			}
			bounded(t, 3*time.Second, 256<<20, func() { _, err = Sections("f.yaml", []byte(tt.in)) })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Sections: got %v, want %q", err, tt.want)
			}
		})
	}
}

func indentBomb(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", i+1))
		b.WriteString("k:\n")
	}
	return b.String()
}

// Deep but legal structures, quoted brackets and block scalars stay fine.
func TestLimitsLeaveRealFilesAlone(t *testing.T) {
	for _, in := range []string{
		"name: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['\n",
		"name: \"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\\\"\"\n",
		"name: |\n  " + strings.Repeat("[", 100) + "\n  don't\nitems: []\n",
		"# " + strings.Repeat("[", 100) + "\nname: x\n",
		"name: " + strings.Repeat("[", 20) + strings.Repeat("]", 20) + "\n",
		"items: &i [{id: a}]\nname: x\n",
	} {
		if line := scanDepth([]byte(in)); line != 0 {
			t.Errorf("%q: refused at line %d", in, line)
		}
	}
	var d doc
	if err := Decode("f.yaml", []byte("items: &i [{id: a, kind: a}]\nname: x\n"), &d); err != nil {
		t.Fatal(err)
	}
}

func TestBOMStripped(t *testing.T) {
	in := "\ufeffname: x\nitems:\n  - id: a\n"
	var d doc
	if err := Decode("f.yaml", []byte(in), &d); err != nil || d.Name != "x" {
		t.Fatalf("Decode: %v %+v", err, d)
	}
	secs, err := Sections("f.yaml", []byte(in))
	if err != nil || secs[0].Key != "name" {
		t.Fatalf("Sections: %v %+v", err, secs)
	}
	if line := LineOf([]byte(in), "items[0].id"); line != 3 {
		t.Fatalf("LineOf = %d", line)
	}
}

func TestControlBytesQuotedInMessages(t *testing.T) {
	var d doc
	err := Decode("f\x1b[2J.yaml", []byte("name: x\nco\x00lour\x1b[31m: red\n"), &d)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	t.Log(msg)
	for _, r := range msg {
		if r < 0x20 || r == 0x7f {
			t.Fatalf("raw control byte %q in %q", r, msg)
		}
	}
	if !strings.Contains(msg, `f\x1b[2J.yaml`) {
		t.Fatalf("file name not quoted: %q", msg)
	}
	if got := Printable("a\tb\x00\xffé\u2028"); got != `a\tb\x00\xffé\u2028` {
		t.Fatalf("Printable = %q", got)
	}
}

func TestReadCapsSize(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", MaxSize+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(big); err == nil || !strings.Contains(err.Error(), "8 MiB") {
		t.Fatalf("Read of a too-large file: %v", err)
	}
	// An endless file stops at the cap.
	if _, err := os.Stat("/dev/zero"); err == nil {
		var err error
		bounded(t, 5*time.Second, 64<<20, func() { _, err = Read("/dev/zero") })
		if err == nil || !strings.Contains(err.Error(), "8 MiB") {
			t.Fatalf("Read(/dev/zero): %v", err)
		}
	}
	ok := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(ok, []byte("name: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := ReadFile(ok, &d); err != nil || d.Name != "x" {
		t.Fatalf("ReadFile: %v", err)
	}
}

// A decoder panic becomes an error naming the file.
func TestRecovered(t *testing.T) {
	err := func() (err error) {
		defer recovered("f.yaml", &err)
		panic("boom")
	}()
	if err == nil || !strings.HasPrefix(err.Error(), "f.yaml: the YAML decoder failed") {
		t.Fatalf("got %v", err)
	}
}

func TestFractionForAnIntegerRefused(t *testing.T) {
	var v struct {
		Limits struct {
			Concurrency int            `yaml:"concurrency"`
			Rate        map[string]int `yaml:"rate"`
			Every       time.Duration  `yaml:"every"`
		} `yaml:"limits"`
		Share float64 `yaml:"share"`
	}
	err := Decode("f.yaml", []byte("share: 0.5\nlimits:\n  concurrency: 1.5\n"), &v)
	if err == nil || err.Error() != "f.yaml:3: limits.concurrency: 1.5 is not a whole number" {
		t.Fatalf("got %v", err)
	}
	err = Decode("f.yaml", []byte("limits: {rate: {aws: 2.25}}\n"), &v)
	if err == nil || !strings.Contains(err.Error(), "limits.rate.aws: 2.25 is not a whole number") {
		t.Fatalf("got %v", err)
	}
	if err := Decode("f.yaml", []byte("share: 0.5\nlimits: {concurrency: 2.0, rate: {aws: 3}}\n"), &v); err != nil || v.Limits.Concurrency != 2 {
		t.Fatalf("got %v %+v", err, v)
	}
	secs, err := Sections("f.yaml", []byte("limits:\n  concurrency: 1.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = DecodeNode("f.yaml", []byte("limits:\n  concurrency: 1.5\n"), secs[0].Node, "limits", &v.Limits)
	if err == nil || err.Error() != "f.yaml:2: limits.concurrency: 1.5 is not a whole number" {
		t.Fatalf("DecodeNode: got %v", err)
	}
}
