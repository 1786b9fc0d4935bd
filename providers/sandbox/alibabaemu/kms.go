package alibabaemu

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// kmsError is the OpenAPI error document.
type kmsError struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func kmsJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("x-acs-request-id", requestID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func kmsFail(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	kmsJSON(w, status, kmsError{RequestID: requestID(), HostID: r.Host, Code: code, Message: message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(code)})
}

// keyMetadata is DescribeKey's answer, in the names KMS uses.
type keyMetadata struct {
	CreationDate       string `json:"CreationDate"`
	Description        string `json:"Description"`
	KeyID              string `json:"KeyId"`
	KeyState           string `json:"KeyState"`
	KeyUsage           string `json:"KeyUsage"`
	KeySpec            string `json:"KeySpec"`
	DeleteDate         string `json:"DeleteDate"`
	Creator            string `json:"Creator"`
	Arn                string `json:"Arn"`
	Origin             string `json:"Origin"`
	MaterialExpireTime string `json:"MaterialExpireTime"`
	ProtectionLevel    string `json:"ProtectionLevel"`
	PrimaryKeyVersion  string `json:"PrimaryKeyVersion"`
	LastRotationDate   string `json:"LastRotationDate"`
	AutomaticRotation  string `json:"AutomaticRotation"`
	DeletionProtection string `json:"DeletionProtection"`
}

// acs3Request admits an RPC-style request (KMS, Resource Directory),
// verifies its ACS3-HMAC-SHA256 signature and gathers its parameters from
// the query and a form body. It answers the error itself and reports
// false when the request goes no further.
func (s *Server) acs3Request(w http.ResponseWriter, r *http.Request) (acctID string, params url.Values, ok bool) {
	if !s.admit(r) {
		return "", nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		kmsFail(w, r, 400, "InvalidParameter", "The request body could not be read.")
		return "", nil, false
	}
	acctID, aerr := verifyACS3(r, body, s.secrets, s.now())
	if aerr != nil {
		kmsFail(w, r, aerr.status, aerr.code, aerr.message)
		return "", nil, false
	}
	params = r.URL.Query()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			kmsFail(w, r, 400, "InvalidParameter", "The form body is invalid.")
			return "", nil, false
		}
		for k, vs := range form {
			params[k] = vs
		}
	}
	return acctID, params, true
}

// serveKMS answers the RPC-style DescribeKey the KMS SDK sends (action in
// x-acs-action, parameters in the query or a form body), signed with
// ACS3-HMAC-SHA256.
func (s *Server) serveKMS(w http.ResponseWriter, r *http.Request) {
	acctID, params, ok := s.acs3Request(w, r)
	if !ok {
		return
	}
	action := r.Header.Get("X-Acs-Action")
	if action == "" {
		action = params.Get("Action")
	}
	if action != "DescribeKey" {
		kmsFail(w, r, 404, "InvalidAction.NotFound", fmt.Sprintf("Specified api %q is not found; the sandbox serves DescribeKey.", action))
		return
	}
	keyRef := params.Get("KeyId")
	// Faults are matched against the key id, KMS having no bucket.
	switch s.opts.Faults.Match("DescribeKey", keyRef) {
	case sandbox.FaultThrottle:
		kmsFail(w, r, 400, "Throttling.User", "Request was denied due to user flow control.")
		return
	case sandbox.FaultServer:
		kmsFail(w, r, 500, "InternalFailure", "The request processing has failed due to some unknown error.")
		return
	case sandbox.FaultTimeout:
		s.hang(r)
		return
	case sandbox.FaultMalformed:
		h := w.Header()
		h.Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"KeyMetadata": {"KeyId": "` + keyRef))
		return
	case sandbox.FaultEndlessBody:
		sandbox.Endless(w, r, 200, "application/json;charset=utf-8",
			[]byte(`{"KeyMetadata": {"KeyId": "`+keyRef+`", "Description": "`), []byte("endless "), s.closing)
		return
	case sandbox.FaultHugeError:
		sandbox.Endless(w, r, 500, "application/json;charset=utf-8",
			[]byte(`{"Code": "InternalFailure", "Message": "`), []byte("again "), s.closing)
		return
	}
	if keyRef == "" {
		kmsFail(w, r, 400, "MissingKeyId", "KeyId is mandatory for this action.")
		return
	}
	acct := s.accounts[acctID]
	k := acct.keys[keyRef]
	if k == nil {
		// An ARN names the key as well: acs:kms:<region>:<account>:key/<id>.
		parts := strings.SplitN(keyRef, ":", 5)
		if len(parts) == 5 && parts[0] == "acs" && parts[1] == "kms" && parts[3] == acct.id {
			if kk := acct.keys[strings.TrimPrefix(parts[4], "key/")]; kk != nil && kk.Region == parts[2] {
				k = kk
			}
		}
	}
	if k == nil {
		kmsFail(w, r, 404, "Forbidden.KeyNotFound", "The specified Key is not found.")
		return
	}
	if k.denied {
		kmsFail(w, r, 403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM.")
		return
	}
	sum := sha256.Sum256([]byte(k.ID))
	m := keyMetadata{
		CreationDate: k.created.Format(time.RFC3339), KeyID: k.ID, KeyState: k.state,
		KeyUsage: "ENCRYPT/DECRYPT", KeySpec: "Aliyun_AES_256", Creator: k.creator,
		Arn:    "acs:kms:" + k.Region + ":" + k.account + ":key/" + k.ID,
		Origin: k.origin, ProtectionLevel: k.level,
		PrimaryKeyVersion: fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]),
		AutomaticRotation: "Disabled", DeletionProtection: "Disabled",
	}
	if !k.deleteDate.IsZero() {
		m.DeleteDate = k.deleteDate.Format(time.RFC3339)
	}
	if !k.expires.IsZero() {
		m.MaterialExpireTime = k.expires.Format(time.RFC3339)
	}
	kmsJSON(w, 200, struct {
		KeyMetadata keyMetadata `json:"KeyMetadata"`
		RequestID   string      `json:"RequestId"`
	}{m, requestID()})
}
