package azure

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	blobcontainer "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// Azurite's well-known development account.
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// The containers both emulators hold, and their public access level as
// the data plane spells it.
var crossContainers = []struct{ name, public, blob string }{
	{"open-blobs", "blob", "index.html"},
	{"open-all", "container", "a.txt"},
	{"private", "", "secret.txt"},
	{"empty", "", ""},
}

// The plugin's data-plane calls (the container list with public access
// levels, and the probe) agree between Azurite, Microsoft's own Blob
// emulator, and the sandbox's, for the same containers.
func TestAzuriteCrossCheck(t *testing.T) {
	bin := sandboxtest.RequireTool(t, "azurite-blob")
	port := freePort(t)
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", t.TempDir(),
		"--silent", "--skipApiVersionCheck", "--loose")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitPort(t, port)
	ctx := context.Background()

	base := fmt.Sprintf("http://127.0.0.1:%d/%s/", port, devAccount)
	cred, err := azblob.NewSharedKeyCredential(devAccount, devKey)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := azblob.NewClientWithSharedKeyCredential(base, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	var estate strings.Builder
	estate.WriteString(`azure:
  subscriptions:
    - id: "44444444-0000-4000-8000-000000000004"
      storage_accounts:
        - name: ` + devAccount + `
          location: eastus
          allow_blob_public_access: true
          containers:
`)
	for _, c := range crossContainers {
		opts := &blobcontainer.CreateOptions{}
		if c.public != "" {
			opts.Access = to.Ptr(blobcontainer.PublicAccessType(c.public))
		}
		if _, err := seed.ServiceClient().NewContainerClient(c.name).Create(ctx, opts); err != nil {
			t.Fatalf("create %s in Azurite: %v", c.name, err)
		}
		blobs := "[]"
		if c.blob != "" {
			if _, err := seed.UploadBuffer(ctx, c.name, c.blob, []byte("x"), nil); err != nil {
				t.Fatal(err)
			}
			blobs = "[" + c.blob + "]"
		}
		fmt.Fprintf(&estate, "            - {name: %s, public_access: %s, blobs: %s}\n", c.name, orNone(c.public), blobs)
	}

	// The plugin against Azurite, with the account's shared key.
	t.Setenv("REACHAUDIT_TEST_AZURITE_KEY", devKey)
	azr := openForTest(t, &Config{AccountKeys: map[string]string{devAccount: "REACHAUDIT_TEST_AZURITE_KEY"}})
	azAcct := &account{name: devAccount, cloud: CloudPublic, blobURL: base}

	// The plugin against the sandbox, with a bearer token.
	est, err := sandbox.ParseEstate("estate.yaml", []byte(estate.String()))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(ctx, est, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	emu := openForTest(t, sb.Configs()["azure"].(*Config))
	emuAcct := &account{name: devAccount, cloud: CloudPublic, blobURL: "https://" + devAccount + ".blob.core.windows.net/"}

	got := map[string][]ctrFacts{}
	for side, pa := range map[string]struct {
		p *provider
		a *account
	}{"azurite": {azr, azAcct}, "sandbox": {emu, emuAcct}} {
		cs, err := pa.p.dataPlaneContainers(ctx, pa.a)
		if err != nil {
			t.Fatalf("%s: list containers: %v", side, err)
		}
		got[side] = cs
	}
	if len(got["azurite"]) != len(crossContainers) || len(got["sandbox"]) != len(crossContainers) {
		t.Fatalf("containers: azurite %d, sandbox %d, want %d", len(got["azurite"]), len(got["sandbox"]), len(crossContainers))
	}
	byName := func(cs []ctrFacts) map[string]ctrFacts {
		m := map[string]ctrFacts{}
		for _, c := range cs {
			m[c.name] = c
		}
		return m
	}
	az, em := byName(got["azurite"]), byName(got["sandbox"])
	for _, c := range crossContainers {
		a, e := az[c.name], em[c.name]
		want := publicLevel[c.public]
		if a.public != want || e.public != want || a.immutable != e.immutable {
			t.Errorf("%s: public azurite %q sandbox %q, want %q; immutable %v/%v", c.name, a.public, e.public, want, a.immutable, e.immutable)
		}
		ra, re := azr.probe(ctx, azAcct, c.name), emu.probe(ctx, emuAcct, c.name)
		if !ra.Reachable || !re.Reachable || ra.Probe != re.Probe {
			t.Errorf("%s: probe azurite %+v sandbox %+v", c.name, ra, re)
		}
	}
	// A container neither has: both answer 404 the same way.
	ra, re := azr.probe(ctx, azAcct, "missing"), emu.probe(ctx, emuAcct, "missing")
	if ra.Failure != providers.FailHTTP404 || re.Failure != providers.FailHTTP404 {
		t.Errorf("missing container: azurite %+v sandbox %+v", ra, re)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func openForTest(t *testing.T, cfg *Config) *provider {
	t.Helper()
	p, err := Open(context.Background(), cfg, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*provider)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("azurite-blob did not listen on %d", port)
}
