package gcpemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"
	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

const estate = `
gcp:
  projects:
    - id: acme-prod
      keys:
        - name: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k
          protection_level: HSM
          state: DESTROY_SCHEDULED
        - name: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/locked
      buckets:
        - name: bkt1
          location: nam4
          turbo_replication: true
          default_kms_key: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k
          labels: {env: prod}
          object_names: [a.txt, dir/b.txt]
        - name: bkt2
          location: us-east1
          uniform_access: false
          public_acl: true
          reachable: false
          default_kms_key: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/locked
          deny: [storage.buckets.getIamPolicy, cloudkms.cryptoKeys.get]
        - name: bkt3
          location: EU
          data_locations: [europe-west1, europe-west4]
    - id: acme-other
`

func start(t *testing.T, src string, opts sandbox.Options) *gcpemu.Server {
	t.Helper()
	e, err := sandbox.ParseEstate("estate.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := e.Section("gcp")
	opts.Now = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	srv, err := gcpemu.Start(context.Background(), sec.(*gcpemu.Section), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// authed is an HTTP client that carries an access token of the sandbox's
// service account, got through its token endpoint by the Google auth
// library.
func authed(t *testing.T, srv *gcpemu.Server) *http.Client {
	t.Helper()
	creds, err := credentials.NewCredentialsFromFile(credentials.ServiceAccount, srv.KeyFile(),
		&credentials.DetectOptions{Scopes: []string{"https://www.googleapis.com/auth/devstorage.read_only"}})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := httptransport.NewClient(&httptransport.Options{Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// authOpt is the client option that authenticates a Google client library
// as the sandbox's service account.
func authOpt(srv *gcpemu.Server) option.ClientOption {
	return option.WithAuthCredentialsFile(option.ServiceAccount, srv.KeyFile())
}

func get(t *testing.T, hc *http.Client, url string) (int, map[string]any) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return resp.StatusCode, map[string]any{"raw": string(body)}
	}
	return resp.StatusCode, m
}

func reasonOf(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	errs, _ := e["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["reason"].(string)
}

func TestStorageAPI(t *testing.T) {
	srv := start(t, estate, sandbox.Options{})
	base := srv.StorageURL()
	hc := authed(t, srv)
	tests := []struct {
		name, path string
		status     int
		check      func(t *testing.T, m map[string]any)
	}{
		{"list pages", "b?project=acme-prod&maxResults=2", 200, func(t *testing.T, m map[string]any) {
			if len(m["items"].([]any)) != 2 || m["nextPageToken"] != "2" || m["kind"] != "storage#buckets" {
				t.Errorf("%v", m)
			}
		}},
		{"list last page", "b?project=acme-prod&maxResults=2&pageToken=2", 200, func(t *testing.T, m map[string]any) {
			if len(m["items"].([]any)) != 1 || m["nextPageToken"] != nil {
				t.Errorf("%v", m)
			}
		}},
		{"empty project lists nothing", "b?project=acme-other", 200, func(t *testing.T, m map[string]any) {
			if items, _ := m["items"].([]any); len(items) != 0 {
				t.Errorf("%v", m)
			}
		}},
		{"unknown project", "b?project=nobody-here", 404, nil},
		{"dual-region resource", "b/bkt1", 200, func(t *testing.T, m map[string]any) {
			if m["location"] != "NAM4" || m["locationType"] != "dual-region" || m["rpo"] != "ASYNC_TURBO" ||
				m["encryption"].(map[string]any)["defaultKmsKeyName"] != "projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k" ||
				m["iamConfiguration"].(map[string]any)["publicAccessPrevention"] != "inherited" || m["acl"] != nil {
				t.Errorf("%v", m)
			}
		}},
		{"configurable dual-region", "b/bkt3", 200, func(t *testing.T, m map[string]any) {
			if m["locationType"] != "dual-region" || fmt.Sprint(m["customPlacementConfig"]) != "map[dataLocations:[EUROPE-WEST1 EUROPE-WEST4]]" {
				t.Errorf("%v", m)
			}
		}},
		{"acl withheld from a caller denied getIamPolicy", "b/bkt2", 200, func(t *testing.T, m map[string]any) {
			if m["acl"] != nil {
				t.Errorf("acl shown: %v", m["acl"])
			}
		}},
		{"iam denied", "b/bkt2/iam", 403, func(t *testing.T, m map[string]any) {
			if reasonOf(m) != "forbidden" || !strings.Contains(fmt.Sprint(m), "storage.buckets.getIamPolicy") {
				t.Errorf("%v", m)
			}
		}},
		{"acl denied by getIamPolicy", "b/bkt2/acl", 403, nil},
		{"acl of a uniform bucket", "b/bkt1/acl", 400, func(t *testing.T, m map[string]any) {
			if reasonOf(m) != "invalid" || !strings.Contains(fmt.Sprint(m), "uniform bucket-level access") {
				t.Errorf("%v", m)
			}
		}},
		{"iam policy", "b/bkt1/iam", 200, func(t *testing.T, m map[string]any) {
			if m["kind"] != "storage#policy" || len(m["bindings"].([]any)) != 2 {
				t.Errorf("%v", m)
			}
		}},
		{"one-object list", "b/bkt1/o?maxResults=1", 200, func(t *testing.T, m map[string]any) {
			if len(m["items"].([]any)) != 1 || m["nextPageToken"] != "1" {
				t.Errorf("%v", m)
			}
		}},
		{"object with a slash", "b/bkt1/o/dir%2Fb.txt", 200, func(t *testing.T, m map[string]any) {
			if m["name"] != "dir/b.txt" || m["kind"] != "storage#object" {
				t.Errorf("%v", m)
			}
		}},
		{"missing object", "b/bkt1/o/nope", 404, nil},
		{"unreachable data plane", "b/bkt2/o?maxResults=1", 403, nil},
		{"unreachable object", "b/bkt2/o/a.txt", 403, nil},
		{"missing bucket", "b/nope", 404, func(t *testing.T, m map[string]any) {
			if reasonOf(m) != "notFound" {
				t.Errorf("%v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, m := get(t, hc, base+tt.path)
			if st != tt.status {
				t.Fatalf("status %d, want %d: %v", st, tt.status, m)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
	resp, err := hc.Post(base+"b?project=acme-prod", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST answered %d", resp.StatusCode)
	}
	if n := srv.Requests(); n != int64(len(tests)+1) {
		t.Errorf("counted %d requests, want %d", n, len(tests)+1)
	}
}

func TestStorageFaultsAndLatency(t *testing.T) {
	faults := sandbox.NewFaults(
		sandbox.Fault{Op: "storage.buckets.get", Bucket: "bkt1", Kind: sandbox.FaultThrottle, Times: 1},
		sandbox.Fault{Op: "storage.buckets.get", Bucket: "bkt3", Kind: sandbox.FaultServer},
		sandbox.Fault{Op: "storage.buckets.getIamPolicy", Kind: sandbox.FaultMalformed},
		sandbox.Fault{Op: "storage.objects.list", Kind: sandbox.FaultTimeout},
	)
	srv := start(t, estate, sandbox.Options{Faults: faults, Latency: 30 * time.Millisecond})
	base := srv.StorageURL()
	hc := authed(t, srv)
	if st, m := get(t, hc, base+"b/bkt1"); st != 429 || reasonOf(m) != "rateLimitExceeded" {
		t.Errorf("throttle: %d %v", st, m)
	}
	if st, _ := get(t, hc, base+"b/bkt1"); st != 200 {
		t.Errorf("throttle did not heal: %d", st)
	}
	if st, m := get(t, hc, base+"b/bkt3"); st != 503 || reasonOf(m) != "backendError" {
		t.Errorf("5xx: %d %v", st, m)
	}
	if st, m := get(t, hc, base+"b/bkt1/iam"); st != 200 || m["raw"] == nil {
		t.Errorf("malformed: %d %v", st, m)
	}
	start := time.Now()
	c := http.Client{Transport: hc.Transport, Timeout: 300 * time.Millisecond}
	if _, err := c.Get(base + "b/bkt1/o"); err == nil {
		t.Error("timeout fault answered")
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("gave up after %v", d)
	}
	start = time.Now()
	get(t, hc, base+"b/bkt2")
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("latency not applied: %v", d)
	}
}

func TestKMS(t *testing.T) {
	faults := sandbox.NewFaults(sandbox.Fault{Op: "cloudkms.cryptoKeyVersions.get", Kind: sandbox.FaultServer, Times: 1})
	srv := start(t, estate, sandbox.Options{Faults: faults})
	client, err := kms.NewKeyManagementClient(context.Background(),
		option.WithEndpoint(srv.Endpoints()["kms"]), authOpt(srv),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	const k = "projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k"
	ck, err := client.GetCryptoKey(ctx, &kmspb.GetCryptoKeyRequest{Name: k})
	if err != nil {
		t.Fatal(err)
	}
	p := ck.GetPrimary()
	if p.GetProtectionLevel() != kmspb.ProtectionLevel_HSM || p.GetState() != kmspb.CryptoKeyVersion_DESTROY_SCHEDULED ||
		!p.GetDestroyTime().AsTime().Equal(time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("primary = %v", p)
	}
	// The 5xx fault heals after one answer; the client's own retry
	// covers it.
	v, err := client.GetCryptoKeyVersion(ctx, &kmspb.GetCryptoKeyVersionRequest{Name: k + "/cryptoKeyVersions/1"})
	if err != nil || v.GetName() != k+"/cryptoKeyVersions/1" {
		t.Errorf("version = %v, %v", v, err)
	}
	_, err = client.GetCryptoKey(ctx, &kmspb.GetCryptoKeyRequest{Name: "projects/acme-prod/locations/us/keyRings/r/cryptoKeys/locked"})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "cloudkms.cryptoKeys.get") {
		t.Errorf("denied key: %v", err)
	}
	_, err = client.GetCryptoKey(ctx, &kmspb.GetCryptoKeyRequest{Name: "projects/acme-prod/locations/us/keyRings/r/cryptoKeys/none"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("missing key: %v", err)
	}
	if _, err := client.ListKeyRings(ctx, &kmspb.ListKeyRingsRequest{Parent: "projects/acme-prod/locations/us"}).Next(); status.Code(err) != codes.Unimplemented {
		t.Errorf("unserved method: %v", err)
	}
}

func TestConfigPointsAtTheServers(t *testing.T) {
	srv := start(t, estate, sandbox.Options{})
	cfg := srv.Config().(*gcp.Config)
	if !strings.HasPrefix(cfg.Endpoint, "http://127.0.0.1:") || !strings.HasSuffix(cfg.Endpoint, "/storage/v1/") ||
		!strings.HasPrefix(cfg.KMSEndpoint, "127.0.0.1:") || cfg.WithoutAuthentication || !cfg.Insecure ||
		cfg.CredentialsFile != srv.KeyFile() || cfg.CredentialsType != gcp.CredentialsServiceAccount ||
		fmt.Sprint(cfg.Projects) != "[acme-prod acme-other]" {
		t.Errorf("config %+v", cfg)
	}
}

func TestEstateValidation(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: us-east1\n          colour: red\n", ":7"},
		{"missing location", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n", "gcp.projects[0].buckets[0].location: is required"},
		{"unknown location", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: mars-1\n", "estate.yaml:6: gcp.projects[0].buckets[0].location"},
		{"bad protection level", "gcp:\n  projects:\n    - id: acme-prod\n      keys:\n        - name: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k\n          protection_level: QUANTUM\n", "keys[0].protection_level"},
		{"bad state", "gcp:\n  projects:\n    - id: acme-prod\n      keys:\n        - name: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k\n          state: Enabled\n", "keys[0].state"},
		{"bad key name", "gcp:\n  projects:\n    - id: acme-prod\n      keys:\n        - name: k1\n", "keys[0].name"},
		{"key not in estate", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: us-east1\n          default_kms_key: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k\n", "default_kms_key"},
		{"bad deny", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: us-east1\n          deny: [GetBucketEncryption]\n", "buckets[0].deny[0]"},
		{"turbo on a region", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: us-east1\n          turbo_replication: true\n", "turbo_replication"},
		{"data locations outside a multi-region", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: us-east1\n          data_locations: [us-east1, us-west1]\n", "data_locations"},
		{"acl on a uniform bucket", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: us-east1\n          public_acl: true\n", "public_acl"},
		{"public with prevention", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - name: bkt1\n          location: us-east1\n          public: true\n          public_access_prevention: true\n", "public_access_prevention"},
		{"duplicate bucket", "gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - {name: bkt1, location: us-east1}\n    - id: acme-two\n      buckets:\n        - {name: bkt1, location: us-east1}\n", "projects[1].buckets[0].name"},
		{"bad project id", "gcp:\n  projects:\n    - id: ACME\n", "projects[0].id"},
		{"organization id not a number", "gcp:\n  organization: {id: acme}\n", "gcp.organization.id"},
		{"folder under an unknown folder", "gcp:\n  organization:\n    folders: [{id: \"1\", parent: \"9\"}]\n", "gcp.organization.folders[0].parent"},
		{"folders in a cycle", "gcp:\n  organization:\n    folders: [{id: \"1\", parent: \"2\"}, {id: \"2\", parent: \"1\"}]\n", "its own ancestor"},
		{"project in an unknown folder", "gcp:\n  organization:\n    projects: [{id: acme-prod, parent: \"7\"}]\n", "gcp.organization.projects[0].parent"},
		{"bad project status", "gcp:\n  organization:\n    projects: [{id: acme-prod, status: SUSPENDED}]\n", "gcp.organization.projects[0].status"},
		{"bad hierarchy deny", "gcp:\n  organization:\n    deny: [storage.buckets.list]\n", "gcp.organization.deny[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sandbox.ParseEstate("estate.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
