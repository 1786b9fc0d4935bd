package azureemu

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
)

// serveBlob answers the Blob service's container list, blob list and blob
// HEAD with bearer tokens for storage.azure.com, as Azure does for Entra ID
// callers.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, acctName, cloudName string) {
	a := s.accounts[acctName]
	if a == nil || a.sub.cloud() != cloudName {
		// Real Azure has no such host; the closest answer is a refusal.
		blobError(w, http.StatusNotFound, "ResourceNotFound", "The specified resource does not exist.")
		return
	}
	if _, ok := s.bearer(r, "storage.azure.com"); !ok {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri=https://`+cloudHosts[cloudName].login+`/`+TenantID+`/oauth2/authorize resource_id=https://storage.azure.com`)
		blobError(w, http.StatusUnauthorized, "NoAuthenticationInformation", "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")
		return
	}
	if r.Header.Get("x-ms-version") == "" {
		blobError(w, http.StatusBadRequest, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified.")
		return
	}
	q := r.URL.Query()
	path := strings.Trim(r.URL.Path, "/")
	ctrName, blobName, _ := strings.Cut(path, "/")
	const action = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
	if path == "" && q.Get("comp") == "list" {
		if slices.Contains(a.Deny, action) {
			blobError(w, http.StatusForbidden, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.")
			return
		}
		if s.fault(w, r, "ListContainers", a.Name, func(st int, code, msg string) { blobError(w, st, code, msg) }) {
			return
		}
		s.listContainers(w, a)
		return
	}
	var c *Container
	for i := range a.Containers {
		if a.Containers[i].Name == ctrName {
			c = &a.Containers[i]
		}
	}
	if c == nil {
		blobError(w, http.StatusNotFound, "ContainerNotFound", "The specified container does not exist.")
		return
	}
	bucket := a.Name + "/" + c.Name
	switch {
	case slices.Contains(c.Deny, action) || slices.Contains(a.Deny, action):
		blobError(w, http.StatusForbidden, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.")
		return
	case !c.reachable():
		blobError(w, http.StatusForbidden, "AuthorizationFailure", "This request is not authorized to perform this operation.")
		return
	}
	if s.fault(w, r, action, bucket, func(st int, code, msg string) { blobError(w, st, code, msg) }) {
		return
	}
	switch {
	case blobName == "" && q.Get("restype") == "container" && q.Get("comp") == "list":
		type blob struct {
			Name string `xml:"Name"`
		}
		var blobs []blob
		for _, n := range c.Blobs {
			blobs = append(blobs, blob{n})
			if len(blobs) == 1 && q.Get("maxresults") == "1" {
				break
			}
		}
		writeXML(w, struct {
			XMLName       xml.Name `xml:"EnumerationResults"`
			ServiceEP     string   `xml:"ServiceEndpoint,attr"`
			ContainerName string   `xml:"ContainerName,attr"`
			MaxResults    string   `xml:"MaxResults,omitempty"`
			Blobs         []blob   `xml:"Blobs>Blob"`
			NextMarker    string   `xml:"NextMarker"`
		}{ServiceEP: "https://" + r.Host + "/", ContainerName: c.Name, MaxResults: q.Get("maxresults"), Blobs: blobs})
	case blobName != "" && (r.Method == http.MethodHead || r.Method == http.MethodGet):
		if !slices.Contains(c.Blobs, blobName) {
			w.Header().Set("x-ms-error-code", "BlobNotFound")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", "0")
		w.Header().Set("x-ms-blob-type", "BlockBlob")
		w.WriteHeader(http.StatusOK)
	default:
		blobError(w, http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.")
	}
}

func (s *Server) listContainers(w http.ResponseWriter, a *acctState) {
	type props struct {
		LastModified       string `xml:"Last-Modified"`
		Etag               string `xml:"Etag"`
		LeaseStatus        string `xml:"LeaseStatus"`
		LeaseState         string `xml:"LeaseState"`
		PublicAccess       string `xml:"PublicAccess,omitempty"`
		DefaultScope       string `xml:"DefaultEncryptionScope"`
		DenyScopeOverride  bool   `xml:"DenyEncryptionScopeOverride"`
		HasImmutability    bool   `xml:"HasImmutabilityPolicy"`
		HasLegalHold       bool   `xml:"HasLegalHold"`
		ImmutableVersioned bool   `xml:"ImmutableStorageWithVersioningEnabled"`
	}
	type ctr struct {
		Name  string `xml:"Name"`
		Props props  `xml:"Properties"`
	}
	var out []ctr
	for _, c := range a.Containers {
		p := props{LastModified: s.opts.Now.Format(http.TimeFormat), Etag: `"0x8DC0000000000000"`, LeaseStatus: "unlocked", LeaseState: "available",
			DefaultScope: "$account-encryption-key", HasImmutability: c.Immutable}
		if c.PublicAccess == "blob" || c.PublicAccess == "container" {
			p.PublicAccess = c.PublicAccess
		}
		if c.EncryptionScope != nil {
			p.DefaultScope = c.EncryptionScope.Name
		}
		out = append(out, ctr{c.Name, p})
	}
	writeXML(w, struct {
		XMLName    xml.Name `xml:"EnumerationResults"`
		ServiceEP  string   `xml:"ServiceEndpoint,attr"`
		Containers []ctr    `xml:"Containers>Container"`
		NextMarker string   `xml:"NextMarker"`
	}{ServiceEP: "https://" + a.Name + ".blob/", Containers: out})
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-version", "2025-11-05")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

func blobError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("x-ms-error-code", code)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
	}{Code: code, Message: msg})
}
