package gcpemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	raw "google.golang.org/api/storage/v1"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

const apiPrefix = "/storage/v1/"

// ServeHTTP answers the Cloud Storage JSON API calls the plugin makes:
//
//	GET /storage/v1/b?project=P            storage.buckets.list
//	GET /storage/v1/b/B                    storage.buckets.get
//	GET /storage/v1/b/B/iam                storage.buckets.getIamPolicy
//	GET /storage/v1/b/B/acl                storage.bucketAccessControls.list
//	GET /storage/v1/b/B/o                  storage.objects.list
//	GET /storage/v1/b/B/o/O                storage.objects.get
//
// and, for credentials, the token endpoint (POST /token) and the IAM
// Credentials API's generateAccessToken. Every API call must carry an
// access token the token endpoint issued.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == tokenPath {
		s.serveToken(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, impersonationPrefix); ok {
		if target, ok := strings.CutSuffix(rest, impersonationSuffix); ok {
			s.serveImpersonation(w, r, target)
			return
		}
	}
	s.requests.Add(1)
	if err := s.wait(r.Context()); err != nil {
		return
	}
	if _, aerr := s.auth.check(r.Header.Get("Authorization"), "storage", time.Now()); aerr != nil {
		writeError(w, aerr.status, aerr.reason, aerr.msg)
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "methodNotAllowed", "This sandbox serves reads only.")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), apiPrefix)
	if !ok {
		writeError(w, http.StatusNotFound, "notFound", "Not Found")
		return
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "Invalid path.")
			return
		}
		parts[i] = u
	}
	switch {
	case len(parts) == 1 && parts[0] == "b":
		s.listBuckets(w, r)
	case len(parts) == 2 && parts[0] == "b":
		s.bucketCall(w, r, "storage.buckets.get", "storage.buckets.get", parts[1], s.getBucket)
	case len(parts) == 3 && parts[0] == "b" && parts[2] == "iam":
		s.bucketCall(w, r, "storage.buckets.getIamPolicy", "storage.buckets.getIamPolicy", parts[1], s.getIAM)
	case len(parts) == 3 && parts[0] == "b" && parts[2] == "acl":
		s.bucketCall(w, r, "storage.bucketAccessControls.list", "storage.buckets.getIamPolicy", parts[1], s.listACL)
	case len(parts) == 3 && parts[0] == "b" && parts[2] == "o":
		s.bucketCall(w, r, "storage.objects.list", "storage.objects.list", parts[1], s.listObjects)
	case len(parts) >= 4 && parts[0] == "b" && parts[2] == "o":
		name := strings.Join(parts[3:], "/")
		s.bucketCall(w, r, "storage.objects.get", "storage.objects.get", parts[1], func(w http.ResponseWriter, r *http.Request, b *bucketState) {
			s.getObject(w, b, name)
		})
	default:
		writeError(w, http.StatusNotFound, "notFound", "Not Found")
	}
}

// fault renders an injected fault the way Cloud Storage fails; it reports
// whether the request was answered. A listing fault is left to the
// listing, which listing then names.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, op, bucket string) (answered bool, listing string) {
	kind := s.opts.Faults.Match(op, bucket)
	if kind == "" && !s.budgets.Allow(s.projectOf(r, bucket)) {
		kind = sandbox.FaultThrottle // the project's rate is spent
	}
	switch kind {
	case sandbox.FaultThrottle:
		writeError(w, http.StatusTooManyRequests, "rateLimitExceeded",
			"The project exceeded the rate limit for Cloud Storage requests.")
	case sandbox.FaultServer:
		writeServerError(w)
	case sandbox.FaultTimeout:
		s.hang(r.Context())
	case sandbox.FaultMalformed:
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"kind": "storage#bucket", "name": "` + bucket + `", "location": `))
	case sandbox.FaultEndlessBody:
		sandbox.Endless(w, r, http.StatusOK, "application/json; charset=UTF-8",
			[]byte(`{"kind": "storage#buckets", "items": [`),
			[]byte(`{"kind": "storage#bucket", "id": "endless", "name": "endless", "location": "US"}, `), s.done)
	case sandbox.FaultHugeError:
		sandbox.Endless(w, r, http.StatusInternalServerError, "application/json; charset=UTF-8",
			[]byte(`{"error": {"code": 500, "message": "Backend Error`), []byte(" again"), s.done)
	case sandbox.FaultRedirectLoop:
		sandbox.RedirectLoop(w, r)
	default:
		if sandbox.ListingFault(kind) {
			return false, kind
		}
		return false, ""
	}
	return true, ""
}

func writeServerError(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, "backendError", "Backend Error")
}

func (s *Server) bucketCall(w http.ResponseWriter, r *http.Request, op, perm, name string,
	fn func(http.ResponseWriter, *http.Request, *bucketState)) {
	if answered, _ := s.fault(w, r, op, name); answered {
		return
	}
	b := s.buckets[name]
	if b == nil {
		writeError(w, http.StatusNotFound, "notFound", "The specified bucket does not exist.")
		return
	}
	if b.denies(perm) {
		writeDenied(w, perm, "bucket")
		return
	}
	fn(w, r, b)
}

func (s *Server) listBuckets(w http.ResponseWriter, r *http.Request) {
	answered, hostile := s.fault(w, r, "storage.buckets.list", "")
	if answered {
		return
	}
	q := r.URL.Query()
	project := q.Get("project")
	if project == "" {
		writeError(w, http.StatusBadRequest, "required", "Required parameter: project")
		return
	}
	all, ok := s.byProj[project]
	if !ok {
		writeError(w, http.StatusNotFound, "notFound", "The requested project was not found.")
		return
	}
	if s.listDeny[project] {
		writeDenied(w, "storage.buckets.list", "project")
		return
	}
	var in []*bucketState
	for _, b := range all {
		if strings.HasPrefix(b.Name, q.Get("prefix")) {
			in = append(in, b)
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Name < in[j].Name })
	out := &raw.Buckets{Kind: "storage#buckets", Items: []*raw.Bucket{}}
	if hostile != "" {
		pg, next, fail := sandbox.HostilePage(hostile, q.Get("pageToken"), in)
		if fail {
			writeServerError(w)
			return
		}
		for _, b := range pg {
			out.Items = append(out.Items, s.resource(b))
		}
		out.NextPageToken = next
		writeJSON(w, out)
		return
	}
	start, max, ok := page(q)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid", "Invalid page token or maxResults.")
		return
	}
	for i := start; i < len(in) && len(out.Items) < max; i++ {
		out.Items = append(out.Items, s.resource(in[i]))
	}
	if end := start + len(out.Items); end < len(in) {
		out.NextPageToken = strconv.Itoa(end)
	}
	writeJSON(w, out)
}

// page reads pageToken (an offset) and maxResults (at most 1000).
func page(q url.Values) (start, max int, ok bool) {
	max = 1000
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, false
		}
		max = min(n, 1000)
	}
	if t := q.Get("pageToken"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		start = n
	}
	return start, max, true
}

func (s *Server) getBucket(w http.ResponseWriter, _ *http.Request, b *bucketState) {
	writeJSON(w, s.resource(b))
}

// resource renders a bucket with projection=full, as the list and get do.
// The ACLs appear only on fine-grained buckets and only to callers allowed
// to read them.
func (s *Server) resource(b *bucketState) *raw.Bucket {
	created := b.created.Format(time.RFC3339Nano)
	pl := "inherited"
	if b.PublicAccessPrevention {
		pl = "enforced"
	}
	out := &raw.Bucket{
		Kind:           "storage#bucket",
		Id:             b.Name,
		Name:           b.Name,
		SelfLink:       s.StorageURL() + "b/" + b.Name,
		ProjectNumber:  b.number,
		Metageneration: 1,
		Etag:           "CAE=",
		Location:       strings.ToUpper(b.Location),
		LocationType:   locationType(&b.Bucket),
		StorageClass:   "STANDARD",
		TimeCreated:    created,
		Updated:        created,
		Versioning:     &raw.BucketVersioning{Enabled: b.Versioning.Enabled()},
		Labels:         b.Labels,
		Owner:          &raw.BucketOwner{Entity: "project-owners-" + strconv.FormatUint(b.number, 10)},
		IamConfiguration: &raw.BucketIamConfiguration{
			BucketPolicyOnly:         &raw.BucketIamConfigurationBucketPolicyOnly{Enabled: b.uniform()},
			UniformBucketLevelAccess: &raw.BucketIamConfigurationUniformBucketLevelAccess{Enabled: b.uniform()},
			PublicAccessPrevention:   pl,
		},
		SoftDeletePolicy: &raw.BucketSoftDeletePolicy{RetentionDurationSeconds: 604800, EffectiveTime: created},
	}
	if b.uniform() {
		out.IamConfiguration.UniformBucketLevelAccess.LockedTime = b.created.Add(90 * 24 * time.Hour).Format(time.RFC3339Nano)
	}
	if len(b.DataLocations) > 0 {
		dl := make([]string, len(b.DataLocations))
		for i, d := range b.DataLocations {
			dl[i] = strings.ToUpper(d)
		}
		out.CustomPlacementConfig = &raw.BucketCustomPlacementConfig{DataLocations: dl}
	}
	if out.LocationType == "dual-region" {
		out.Rpo = "DEFAULT"
		if b.TurboReplication {
			out.Rpo = "ASYNC_TURBO"
		}
	}
	if b.DefaultKMSKey != "" {
		out.Encryption = &raw.BucketEncryption{DefaultKmsKeyName: b.DefaultKMSKey}
	}
	if b.RetentionLocked {
		out.RetentionPolicy = &raw.BucketRetentionPolicy{RetentionPeriod: 30 * 24 * 3600, IsLocked: true, EffectiveTime: created}
	}
	if !b.uniform() && !b.denies("storage.buckets.getIamPolicy") {
		out.Acl = bucketACL(b)
		out.DefaultObjectAcl = objectACL(b)
	}
	return out
}

func locationType(b *Bucket) string {
	if len(b.DataLocations) > 0 {
		return providers.LocationDualRegion
	}
	pl, _ := gcp.Place(b.Location)
	return pl.LocationType
}

func (s *Server) getIAM(w http.ResponseWriter, _ *http.Request, b *bucketState) {
	p := b.project
	pol := &raw.Policy{
		Kind:       "storage#policy",
		ResourceId: "projects/_/buckets/" + b.Name,
		Version:    1,
		Etag:       "CAE=",
		Bindings: []*raw.PolicyBindings{
			{Role: "roles/storage.legacyBucketOwner", Members: []string{"projectEditor:" + p, "projectOwner:" + p}},
			{Role: "roles/storage.legacyBucketReader", Members: []string{"projectViewer:" + p}},
		},
	}
	if b.Public {
		pol.Bindings = append(pol.Bindings, &raw.PolicyBindings{Role: "roles/storage.objectViewer", Members: []string{"allUsers"}})
	}
	writeJSON(w, pol)
}

func (s *Server) listACL(w http.ResponseWriter, _ *http.Request, b *bucketState) {
	if b.uniform() {
		writeError(w, http.StatusBadRequest, "invalid",
			"Cannot get legacy ACL for a bucket that has uniform bucket-level access. Read more at https://cloud.google.com/storage/docs/uniform-bucket-level-access")
		return
	}
	writeJSON(w, &raw.BucketAccessControls{Kind: "storage#bucketAccessControls", Items: bucketACL(b)})
}

func bucketACL(b *bucketState) []*raw.BucketAccessControl {
	n := strconv.FormatUint(b.number, 10)
	team := func(entity, role, t string) *raw.BucketAccessControl {
		return &raw.BucketAccessControl{Kind: "storage#bucketAccessControl", Bucket: b.Name, Entity: entity + n, Role: role,
			Id: b.Name + "/" + entity + n, Etag: "CAE=", ProjectTeam: &raw.BucketAccessControlProjectTeam{ProjectNumber: n, Team: t}}
	}
	acl := []*raw.BucketAccessControl{
		team("project-owners-", "OWNER", "owners"),
		team("project-editors-", "OWNER", "editors"),
		team("project-viewers-", "READER", "viewers"),
	}
	if b.PublicACL {
		acl = append(acl, &raw.BucketAccessControl{Kind: "storage#bucketAccessControl", Bucket: b.Name,
			Entity: "allUsers", Role: "READER", Id: b.Name + "/allUsers", Etag: "CAE="})
	}
	return acl
}

func objectACL(b *bucketState) []*raw.ObjectAccessControl {
	n := strconv.FormatUint(b.number, 10)
	team := func(entity, role, t string) *raw.ObjectAccessControl {
		return &raw.ObjectAccessControl{Kind: "storage#objectAccessControl", Entity: entity + n, Role: role, Etag: "CAE=",
			ProjectTeam: &raw.ObjectAccessControlProjectTeam{ProjectNumber: n, Team: t}}
	}
	return []*raw.ObjectAccessControl{
		team("project-owners-", "OWNER", "owners"),
		team("project-editors-", "OWNER", "editors"),
		team("project-viewers-", "READER", "viewers"),
	}
}

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request, b *bucketState) {
	if !b.reachable() {
		writeDenied(w, "storage.objects.list", "bucket")
		return
	}
	q := r.URL.Query()
	var names []string
	for _, o := range b.Objects {
		if strings.HasPrefix(o, q.Get("prefix")) {
			names = append(names, o)
		}
	}
	sort.Strings(names)
	start, max, ok := page(q)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid", "Invalid page token or maxResults.")
		return
	}
	out := &raw.Objects{Kind: "storage#objects"}
	for i := start; i < len(names) && len(out.Items) < max; i++ {
		out.Items = append(out.Items, s.object(b, names[i]))
	}
	if end := start + len(out.Items); end < len(names) {
		out.NextPageToken = strconv.Itoa(end)
	}
	writeJSON(w, out)
}

func (s *Server) getObject(w http.ResponseWriter, b *bucketState, name string) {
	if !b.reachable() {
		writeDenied(w, "storage.objects.get", "object")
		return
	}
	for _, o := range b.Objects {
		if o == name {
			writeJSON(w, s.object(b, name))
			return
		}
	}
	writeError(w, http.StatusNotFound, "notFound", "No such object: "+b.Name+"/"+name)
}

func (s *Server) object(b *bucketState, name string) *raw.Object {
	t := b.created.Format(time.RFC3339Nano)
	o := &raw.Object{Kind: "storage#object", Id: b.Name + "/" + name + "/1", Name: name, Bucket: b.Name,
		Generation: 1, Metageneration: 1, ContentType: "application/octet-stream", Size: 0,
		StorageClass: "STANDARD", TimeCreated: t, Updated: t, Etag: "CAE=", Md5Hash: "1B2M2Y8AsgTpgAmY7PhCfg==", Crc32c: "AAAAAA=="}
	if b.DefaultKMSKey != "" {
		o.KmsKeyName = b.DefaultKMSKey + "/cryptoKeyVersions/1"
	}
	return o
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(v)
}

// writeDenied answers 403 the way Cloud Storage words a missing permission.
func writeDenied(w http.ResponseWriter, perm, resource string) {
	writeError(w, http.StatusForbidden, "forbidden",
		"The caller does not have "+perm+" access to the Google Cloud Storage "+resource+
			". Permission '"+perm+"' denied on resource (or it may not exist).")
}

// writeError writes a Google JSON API error body.
func writeError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}},
	}})
}

// projectOf is the project a request spends the rate of: the bucket's, or
// the listed project's.
func (s *Server) projectOf(r *http.Request, bucket string) string {
	if b := s.buckets[bucket]; b != nil {
		return b.project
	}
	return r.URL.Query().Get("project")
}
