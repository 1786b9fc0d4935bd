package azureemu

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// serveLogin is Entra ID for the client-credential flow: the tenant's
// OpenID configuration and its token endpoint, which checks the client id
// and secret.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request, host string) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || !strings.EqualFold(parts[0], TenantID) {
		loginError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant '"+parts[0]+"' not found.")
		return
	}
	base := "https://" + host + "/" + TenantID
	switch rest := strings.Join(parts[1:], "/"); rest {
	case "v2.0/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"issuer":                                base + "/v2.0",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"tenant_region_scope":                   "EU",
		})
	case "oauth2/v2.0/token":
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			loginError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain grant_type.")
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" {
			loginError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
			return
		}
		if r.PostForm.Get("client_id") != ClientID {
			loginError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application not found in the directory.")
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(s.secret)) != 1 {
			loginError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
		scope := r.PostForm.Get("scope")
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": s.issue(scope),
		})
	default:
		loginError(w, http.StatusNotFound, "invalid_request", "AADSTS90027: unknown endpoint")
	}
}

func loginError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{status}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// armError renders an error as ARM and Key Vault do.
func armError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("x-ms-failure-cause", "gateway")
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}
