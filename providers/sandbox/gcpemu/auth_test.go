package gcpemu_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

const storageRead = "https://www.googleapis.com/auth/devstorage.read_only"

// keyFile is the sandbox's service account key file, decoded.
type keyFile struct {
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

func readKey(t *testing.T, srv *gcpemu.Server) (keyFile, *rsa.PrivateKey) {
	t.Helper()
	raw, err := os.ReadFile(srv.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(srv.KeyFile()); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	var kf keyFile
	if err := json.Unmarshal(raw, &kf); err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(kf.PrivateKey))
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return kf, k.(*rsa.PrivateKey)
}

func signJWT(t *testing.T, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// The token endpoint verifies a JWT-bearer assertion: each case below
// breaks one thing it must check and is refused with invalid_grant; the
// untouched assertion gets a token.
func TestTokenEndpointVerifiesTheAssertion(t *testing.T) {
	srv := start(t, estate, sandbox.Options{})
	kf, key := readKey(t, srv)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	good := func() (map[string]any, map[string]any) {
		return map[string]any{"alg": "RS256", "typ": "JWT", "kid": kf.PrivateKeyID},
			map[string]any{"iss": kf.ClientEmail, "scope": storageRead, "aud": kf.TokenURI, "iat": now - 10, "exp": now + 3590}
	}
	for _, tt := range []struct {
		name   string
		key    *rsa.PrivateKey
		change func(h, c map[string]any)
		raw    func(string) string
		want   int
	}{
		{name: "good", want: 200},
		{name: "signed with another key", key: other, want: 400},
		{name: "another account", change: func(_, c map[string]any) { c["iss"] = gcpemu.AuditorAccount }, want: 400},
		{name: "another key id", change: func(h, _ map[string]any) { h["kid"] = "0000" }, want: 400},
		{name: "another audience", change: func(_, c map[string]any) { c["aud"] = "https://oauth2.googleapis.com/token" }, want: 400},
		{name: "expired", change: func(_, c map[string]any) { c["iat"], c["exp"] = now-7200, now-3600 }, want: 400},
		{name: "issued in the future", change: func(_, c map[string]any) { c["iat"], c["exp"] = now+3600, now+3700 }, want: 400},
		{name: "longer than an hour", change: func(_, c map[string]any) { c["exp"] = now + 7200 }, want: 400},
		{name: "no scope", change: func(_, c map[string]any) { delete(c, "scope") }, want: 400},
		{name: "a user to act for", change: func(_, c map[string]any) { c["sub"] = "someone@example.com" }, want: 400},
		{name: "alg none", change: func(h, _ map[string]any) { h["alg"] = "none" }, want: 400},
		{name: "claims changed after signing", raw: func(j string) string {
			p := strings.Split(j, ".")
			c, _ := json.Marshal(map[string]any{"iss": kf.ClientEmail, "scope": "https://www.googleapis.com/auth/cloud-platform", "aud": kf.TokenURI, "iat": now, "exp": now + 60})
			return p[0] + "." + base64.RawURLEncoding.EncodeToString(c) + "." + p[2]
		}, want: 400},
		{name: "not a JWT", raw: func(string) string { return "opaque" }, want: 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, c := good()
			if tt.change != nil {
				tt.change(h, c)
			}
			k := key
			if tt.key != nil {
				k = tt.key
			}
			a := signJWT(t, k, h, c)
			if tt.raw != nil {
				a = tt.raw(a)
			}
			resp, err := http.PostForm(kf.TokenURI, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.want, body)
			}
			if tt.want == 200 && (body["token_type"] != "Bearer" || body["access_token"] == "") {
				t.Errorf("answer %v", body)
			}
			if tt.want == 400 && body["error"] != "invalid_grant" {
				t.Errorf("error %v, want invalid_grant", body)
			}
		})
	}
	resp, err := http.PostForm(kf.TokenURI, url.Values{"grant_type": {"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("another grant type: %d", resp.StatusCode)
	}
}

// Every API checks the bearer token: none, a made-up one, one with too
// narrow a scope, or a JWT signed with another key is refused — 401 on the
// JSON API, UNAUTHENTICATED on gRPC (403/PERMISSION_DENIED for scope).
func TestEveryAPIChecksTheBearerToken(t *testing.T) {
	srv := start(t, estate, sandbox.Options{})
	ctx := context.Background()
	base := srv.StorageURL()
	_, key := readKey(t, srv)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now().Unix()
	selfSigned := func(k *rsa.PrivateKey, aud string) string {
		return signJWT(t, k, map[string]any{"alg": "RS256", "typ": "JWT"},
			map[string]any{"iss": gcpemu.ScannerAccount, "sub": gcpemu.ScannerAccount, "aud": aud, "iat": now, "exp": now + 600})
	}
	narrow := func() string {
		creds, err := credentials.NewCredentialsFromFile(credentials.ServiceAccount, srv.KeyFile(),
			&credentials.DetectOptions{Scopes: []string{"https://www.googleapis.com/auth/monitoring.read"}})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := creds.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Value
	}()

	for _, tt := range []struct {
		name, authz string
		status      int
		reason      string
	}{
		{"no token", "", 401, "required"},
		{"made-up token", "Bearer ya29.made-up", 401, "authError"},
		{"not a bearer", "Basic dXNlcjpwYXNz", 401, "authError"},
		{"monitoring scope only", "Bearer " + narrow, 403, "insufficientPermissions"},
		{"self-signed with another key", "Bearer " + selfSigned(other, "https://storage.googleapis.com/"), 401, "authError"},
		{"self-signed for another API", "Bearer " + selfSigned(key, "https://cloudkms.googleapis.com/"), 403, "insufficientPermissions"},
		{"self-signed for storage", "Bearer " + selfSigned(key, "https://storage.googleapis.com/"), 200, ""},
	} {
		t.Run("storage "+tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", base+"b?project=acme-prod", nil)
			if tt.authz != "" {
				req.Header.Set("Authorization", tt.authz)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != tt.status || (tt.reason != "" && reasonOf(m) != tt.reason) {
				t.Errorf("status %d %v, want %d %s", resp.StatusCode, m, tt.status, tt.reason)
			}
		})
	}

	dial := []option.ClientOption{option.WithEndpoint(srv.Endpoints()["kms"]),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
	const k = "projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k"
	for _, tt := range []struct {
		name      string
		auth      option.ClientOption
		want, mon codes.Code
	}{
		{"no token", option.WithoutAuthentication(), codes.Unauthenticated, codes.Unauthenticated},
		{"made-up token", option.WithAuthCredentials(auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken("ya29.made-up")})),
			codes.Unauthenticated, codes.Unauthenticated},
		{"monitoring scope only", option.WithAuthCredentials(auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken(narrow)})),
			codes.PermissionDenied, codes.OK},
		{"the sandbox key", authOpt(srv), codes.OK, codes.OK},
	} {
		t.Run("kms "+tt.name, func(t *testing.T) {
			c, err := kms.NewKeyManagementClient(ctx, append(dial, tt.auth)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.GetCryptoKey(ctx, &kmspb.GetCryptoKeyRequest{Name: k})
			if status.Code(err) != tt.want {
				t.Errorf("GetCryptoKey: %v, want %s", err, tt.want)
			}
		})
		t.Run("monitoring "+tt.name, func(t *testing.T) {
			c, err := monitoring.NewMetricClient(ctx, append(dial, tt.auth)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.ListTimeSeries(ctx, &monitoringpb.ListTimeSeriesRequest{Name: "projects/acme-prod",
				Filter: `metric.type = "storage.googleapis.com/storage/v2/total_bytes"`, View: monitoringpb.ListTimeSeriesRequest_HEADERS,
				Interval: &monitoringpb.TimeInterval{StartTime: timestamppb.New(time.Now().Add(-48 * time.Hour)), EndTime: timestamppb.Now()}}).Next()
			if errors.Is(err, iterator.Done) {
				err = nil
			}
			if status.Code(err) != tt.mon {
				t.Errorf("ListTimeSeries: %v, want %s", err, tt.mon)
			}
		})
	}
}

type staticToken string

func (s staticToken) Token(context.Context) (*auth.Token, error) {
	return &auth.Token{Value: string(s), Type: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
}

// An impersonated_service_account credentials file: the scanner's key buys
// a token at the token endpoint, which buys the auditor's at
// generateAccessToken; the auditor's token reads the bucket list.
func TestImpersonation(t *testing.T) {
	srv := start(t, estate, sandbox.Options{})
	ctx := context.Background()
	src, err := os.ReadFile(srv.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	write := func(target string) string {
		u := strings.Replace(srv.ImpersonationURL(), gcpemu.AuditorAccount, target, 1)
		doc, _ := json.Marshal(map[string]any{"type": "impersonated_service_account",
			"service_account_impersonation_url": u, "source_credentials": json.RawMessage(src)})
		name := filepath.Join(t.TempDir(), "impersonated.json")
		if err := os.WriteFile(name, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	creds, err := credentials.NewCredentialsFromFile(credentials.ImpersonatedServiceAccount, write(gcpemu.AuditorAccount),
		&credentials.DetectOptions{Scopes: []string{storageRead}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := creds.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.StorageURL()+"b?project=acme-prod", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the auditor's token: %d", resp.StatusCode)
	}
	if got := srv.TokensIssued(); got[gcpemu.ScannerAccount] != 1 || got[gcpemu.AuditorAccount] != 1 {
		t.Errorf("tokens issued %v, want one each", got)
	}

	// An account the scanner may not act as.
	creds, err = credentials.NewCredentialsFromFile(credentials.ImpersonatedServiceAccount,
		write("someone-else@reachaudit-sandbox.iam.gserviceaccount.com"), &credentials.DetectOptions{Scopes: []string{storageRead}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = creds.Token(ctx); err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "iam.serviceAccounts.getAccessToken") {
		t.Errorf("impersonating an account not granted: %v", err)
	}
}
