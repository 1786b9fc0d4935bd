package gcpemu

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The emulator authenticates as Google does for a service account: the
// client signs a JWT with the account's private key and trades it at the
// token endpoint (the OAuth 2.0 JWT-bearer grant, RFC 7523) for an access
// token, which every API call then carries as a bearer token. The sandbox
// makes a fresh key pair per run and hands out the key file; only the
// public half stays here.

// Service accounts of the sandbox. The scanner has the key; the auditor
// has none and is reached by impersonation (generateAccessToken), which
// the scanner is allowed.
const (
	ScannerAccount = "reachaudit-scan@reachaudit-sandbox.iam.gserviceaccount.com"
	AuditorAccount = "reachaudit-audit@reachaudit-sandbox.iam.gserviceaccount.com"
)

const (
	jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	cloudPlatform  = "https://www.googleapis.com/auth/cloud-platform"
	tokenLifetime  = time.Hour
	// jwtLeeway is how far a JWT's iat may be ahead of the server's clock.
	jwtLeeway = 5 * time.Minute
	// maxAuthBody caps a token request's body.
	maxAuthBody = 64 << 10
)

// apiScopes are the scopes that admit a call to each API: its read-only
// scope, its full scope, or cloud-platform.
var apiScopes = map[string][]string{
	"storage": {"https://www.googleapis.com/auth/devstorage.read_only", "https://www.googleapis.com/auth/devstorage.read_write",
		"https://www.googleapis.com/auth/devstorage.full_control", cloudPlatform, "https://www.googleapis.com/auth/cloud-platform.read-only"},
	"cloudkms":   {"https://www.googleapis.com/auth/cloudkms.readonly", "https://www.googleapis.com/auth/cloudkms", cloudPlatform},
	"monitoring": {"https://www.googleapis.com/auth/monitoring.read", "https://www.googleapis.com/auth/monitoring", cloudPlatform},
	"iam":        {cloudPlatform, "https://www.googleapis.com/auth/iam"},
	// Resource Manager has no narrower scope than these.
	"cloudresourcemanager": {cloudPlatform, "https://www.googleapis.com/auth/cloud-platform.read-only"},
}

// grpcAPIs name the API of a gRPC method by its service's prefix.
var grpcAPIs = []struct{ prefix, api string }{
	{"/google.cloud.kms.", "cloudkms"},
	{"/google.monitoring.", "monitoring"},
	{"/google.cloud.resourcemanager.", "cloudresourcemanager"},
}

// authority holds the sandbox's service-account key and the access tokens
// it has issued.
type authority struct {
	key     *rsa.PrivateKey // the scanner's; its private half only leaves in the key file
	keyID   string
	keyFile string

	mu     sync.Mutex
	tokens map[string]grant
	issued map[string]int // access tokens issued, by account
}

// grant is what an access token stands for.
type grant struct {
	account string
	scopes  map[string]bool
	expires time.Time
}

func newAuthority() (*authority, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("gcpemu: make service account key: %w", err)
	}
	id := make([]byte, 20)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return &authority{key: key, keyID: hex.EncodeToString(id), tokens: map[string]grant{}, issued: map[string]int{}}, nil
}

// writeKeyFile writes the scanner's key in Google's service-account key
// format, its token_uri pointing at tokenURL, to a file only this user can
// read; it goes with the server.
func (a *authority) writeKeyFile(tokenURL string) error {
	der, err := x509.MarshalPKCS8PrivateKey(a.key)
	if err != nil {
		return err
	}
	doc, err := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "reachaudit-sandbox",
		"private_key_id":              a.keyID,
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                ScannerAccount,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURL,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "reachaudit-gcp-key-*.json")
	if err != nil {
		return fmt.Errorf("gcpemu: write the key file: %w", err)
	}
	a.keyFile = f.Name()
	_, err = f.Write(doc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(a.keyFile)
		return fmt.Errorf("gcpemu: write the key file: %w", err)
	}
	return nil
}

func (a *authority) close() {
	if a.keyFile != "" {
		os.Remove(a.keyFile)
	}
}

// issue makes an access token for account with scopes.
func (a *authority) issue(account string, scopes []string, now time.Time) (string, time.Time) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "ya29.sandbox-" + base64.RawURLEncoding.EncodeToString(b)
	g := grant{account: account, scopes: map[string]bool{}, expires: now.Add(tokenLifetime)}
	for _, s := range scopes {
		g.scopes[s] = true
	}
	a.mu.Lock()
	a.tokens[tok] = g
	a.issued[account]++
	a.mu.Unlock()
	return tok, g.expires
}

// TokensIssued counts the access tokens the token endpoint and
// generateAccessToken have issued, by service account.
func (s *Server) TokensIssued() map[string]int {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	out := make(map[string]int, len(s.auth.issued))
	for k, v := range s.auth.issued {
		out[k] = v
	}
	return out
}

// authError is a refused credential: the HTTP status, gRPC code and
// message Google answers with.
type authError struct {
	status int
	code   codes.Code
	reason string
	msg    string
}

func (e *authError) Error() string { return e.msg }

var (
	errNoCredentials = &authError{http.StatusUnauthorized, codes.Unauthenticated, "required",
		"Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential."}
	errBadCredentials = &authError{http.StatusUnauthorized, codes.Unauthenticated, "authError",
		"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."}
	errScope = &authError{http.StatusForbidden, codes.PermissionDenied, "insufficientPermissions",
		"Request had insufficient authentication scopes."}
)

// check admits a bearer token (the whole Authorization value) for api and
// returns the account it was issued to.
func (a *authority) check(authz, api string, now time.Time) (string, *authError) {
	if authz == "" {
		return "", errNoCredentials
	}
	scheme, tok, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", errBadCredentials
	}
	if strings.Count(tok, ".") == 2 {
		return a.selfSigned(tok, api, now)
	}
	a.mu.Lock()
	g, ok := a.tokens[tok]
	a.mu.Unlock()
	if !ok || !now.Before(g.expires) {
		return "", errBadCredentials
	}
	for _, s := range apiScopes[api] {
		if g.scopes[s] {
			return g.account, nil
		}
	}
	return "", errScope
}

// oauthError answers the token endpoint's refusals as Google's does.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// serveToken is the OAuth 2.0 token endpoint for the JWT-bearer grant.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint takes POST.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthBody)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	if g := r.PostForm.Get("grant_type"); g != jwtBearerGrant {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("Invalid grant_type: %s", g))
		return
	}
	now := time.Now()
	claims, err := s.auth.verifyAssertion(r.PostForm.Get("assertion"), s.tokenURL(), now)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	tok, _ := s.auth.issue(claims.Iss, strings.Fields(claims.Scope), now)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": int(tokenLifetime.Seconds()) - 1, "token_type": "Bearer"})
}

// jwtClaims are the claims of a service account's token request.
type jwtClaims struct {
	Iss   string `json:"iss"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
	Sub   string `json:"sub"`
}

// verifyAssertion checks a JWT-bearer assertion at the token endpoint: a
// JWT of the key's account (see verifyJWT), for this token endpoint,
// asking for scopes. The messages are Google's.
func (a *authority) verifyAssertion(assertion, audience string, now time.Time) (*jwtClaims, error) {
	claims, err := a.verifyJWT(assertion, now)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(claims.Aud), []byte(audience)) != 1 {
		return nil, fmt.Errorf("Invalid JWT: audience %q is not this token endpoint.", claims.Aud)
	}
	if strings.TrimSpace(claims.Scope) == "" {
		return nil, fmt.Errorf("Invalid JWT: no scope was asked for.")
	}
	if claims.Sub != "" && claims.Sub != claims.Iss {
		// Domain-wide delegation: the sandbox has no users to act for.
		return nil, fmt.Errorf("Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
	}
	return claims, nil
}

// verifyJWT checks what every JWT of a service account must be: RS256
// signed by the key of the account it names as issuer, and current.
func (a *authority) verifyJWT(token string, now time.Time) (*jwtClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims jwtClaims
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("Invalid JWT header: %w", err)
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("Invalid JWT payload: %w", err)
	}
	if header.Alg != "RS256" {
		return nil, fmt.Errorf("Invalid JWT: algorithm %q (want RS256).", header.Alg)
	}
	if claims.Iss != ScannerAccount || (header.Kid != "" && header.Kid != a.keyID) {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&a.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	iat, exp := time.Unix(claims.Iat, 0), time.Unix(claims.Exp, 0)
	if !now.Before(exp) || iat.After(now.Add(jwtLeeway)) || exp.Sub(iat) > tokenLifetime {
		return nil, fmt.Errorf("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	return &claims, nil
}

// selfSigned admits a self-signed JWT as a bearer token, which Google's
// APIs take from a service account instead of an access token (the client
// libraries send one for gRPC APIs by default): a JWT of the key's account
// whose audience is the API's own URL or whose scopes cover it.
func (a *authority) selfSigned(tok, api string, now time.Time) (string, *authError) {
	claims, err := a.verifyJWT(tok, now)
	if err != nil || (claims.Sub != "" && claims.Sub != claims.Iss) {
		return "", errBadCredentials
	}
	if strings.TrimSuffix(claims.Aud, "/") == "https://"+api+".googleapis.com" {
		return claims.Iss, nil
	}
	scopes := map[string]bool{}
	for _, sc := range strings.Fields(claims.Scope) {
		scopes[sc] = true
	}
	for _, sc := range apiScopes[api] {
		if scopes[sc] {
			return claims.Iss, nil
		}
	}
	return "", errScope
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// impersonationPrefix and impersonationSuffix frame the IAM Credentials
// API's generateAccessToken path around the target account.
const (
	impersonationPrefix = "/v1/projects/-/serviceAccounts/"
	impersonationSuffix = ":generateAccessToken"
)

// ImpersonationURL is the generateAccessToken URL for the auditor account,
// as an impersonated_service_account credentials file names it.
func (s *Server) ImpersonationURL() string {
	return "http://" + s.httpLn.Addr().String() + impersonationPrefix + AuditorAccount + impersonationSuffix
}

// serveImpersonation answers generateAccessToken: the caller's own token
// (cloud-platform scope) buys a token of the auditor account.
func (s *Server) serveImpersonation(w http.ResponseWriter, r *http.Request, target string) {
	now := time.Now()
	caller, aerr := s.auth.check(r.Header.Get("Authorization"), "iam", now)
	if aerr != nil {
		writeError(w, aerr.status, aerr.reason, aerr.msg)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "methodNotAllowed", "generateAccessToken takes POST.")
		return
	}
	if target != AuditorAccount || caller != ScannerAccount {
		writeError(w, http.StatusForbidden, "forbidden",
			fmt.Sprintf("Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist): %s may not act as %s.", caller, target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAuthBody))
	var req struct {
		Scope     []string `json:"scope"`
		Delegates []string `json:"delegates"`
	}
	if err != nil || json.Unmarshal(body, &req) != nil || len(req.Scope) == 0 || len(req.Delegates) > 0 {
		writeError(w, http.StatusBadRequest, "invalid", "The request must name scopes and no delegates.")
		return
	}
	tok, exp := s.auth.issue(target, req.Scope, now)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]string{"accessToken": tok, "expireTime": exp.UTC().Format(time.RFC3339)})
}

// grpcAuth checks the bearer token of every Cloud KMS, Cloud Monitoring and
// Resource Manager call, as UNAUTHENTICATED or PERMISSION_DENIED (scope)
// when it fails; a method of no API above admits no token.
func (s *Server) grpcAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	api := ""
	for _, g := range grpcAPIs {
		if strings.HasPrefix(info.FullMethod, g.prefix) {
			api = g.api
		}
	}
	authz := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			authz = v[0]
		}
	}
	if _, aerr := s.auth.check(authz, api, time.Now()); aerr != nil {
		s.requests.Add(1)
		return nil, status.Error(aerr.code, aerr.msg)
	}
	return handler(ctx, req)
}
