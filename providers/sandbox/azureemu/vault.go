package azureemu

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
)

// serveVault answers Key Vault and Managed HSM key reads. A request without
// a token gets the challenge Azure sends, which names the tenant and the
// resource whose token the client must bring.
func (s *Server) serveVault(w http.ResponseWriter, r *http.Request, host, cloudName string) {
	h := cloudHosts[cloudName]
	resource, action, kind := "https://"+h.vault, "Microsoft.KeyVault/vaults/keys/read", "vault"
	if strings.HasSuffix(host, "."+h.hsm) {
		resource, action, kind = "https://"+h.hsm, "Microsoft.KeyVault/managedHsm/keys/read/action", "managed HSM"
	}
	if _, ok := s.bearer(r, strings.TrimPrefix(resource, "https://")); !ok {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="https://%s/%s", resource="%s"`, h.login, TenantID, resource))
		armError(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "BadParameter", "The request URI contains an invalid name: api-version is missing")
		return
	}
	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(p) < 2 || p[0] != "keys" {
		armError(w, http.StatusBadRequest, "BadParameter", "The request is not a key read.")
		return
	}
	var ks *keyState
	for _, k := range s.keys {
		if k.host == host && k.Name == p[1] {
			ks = k
		}
	}
	if ks == nil || (len(p) > 2 && p[2] != "" && p[2] != ks.version) {
		armError(w, http.StatusNotFound, "KeyNotFound", fmt.Sprintf("A key with (name/id) %s was not found in this key %s.", p[1], kind))
		return
	}
	if ks.deny[action] {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": map[string]any{"code": "Forbidden",
			"message":    fmt.Sprintf("Caller is not authorized to perform action on resource. Action: '%s'", action),
			"innererror": map[string]any{"code": "ForbiddenByRbac"}}})
		return
	}
	if s.fault(w, r, action, ks.Vault+"/"+ks.Name, func(status int, code, msg string) { armError(w, status, code, msg) }) {
		return
	}
	kty := "RSA"
	if ks.HSM || ks.ManagedHSM {
		kty = "RSA-HSM"
	}
	attrs := map[string]any{"enabled": ks.enabled(), "created": s.opts.Now.Add(-90 * 24 * 3600e9).Unix(),
		"updated": s.opts.Now.Add(-90 * 24 * 3600e9).Unix(), "recoveryLevel": "Recoverable", "recoverableDays": 90, "exportable": false}
	if t, ok := ks.Expires.At(s.opts.Now); ok {
		attrs["exp"] = t.Unix()
	}
	n, e := publicKey()
	writeJSON(w, http.StatusOK, map[string]any{
		"key": map[string]any{"kid": "https://" + host + "/keys/" + ks.Name + "/" + ks.version, "kty": kty,
			"key_ops": []string{"wrapKey", "unwrapKey"}, "n": n, "e": e},
		"attributes": attrs,
	})
}

var (
	pubOnce sync.Once
	pubN    string
	pubE    string
)

// publicKey is one RSA public key every emulated key shows: the plugin
// reads attributes, never key material.
func publicKey() (string, string) {
	pubOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return
		}
		pubN = base64.RawURLEncoding.EncodeToString(k.N.Bytes())
		pubE = base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	})
	return pubN, pubE
}
