package alibaba_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/alibaba"
)

// The STS error of a role that cannot be assumed quotes the whole signed
// AssumeRole request (AccessKeyId, Signature); none of it, nor the secret,
// may reach the run document.
func TestSTSErrorDoesNotLeakTheSignedRequest(t *testing.T) {
	const secret = "ali-secret-canary-9c41"
	t.Setenv("TEST_ALI_ID", "LTAI5tCanaryKeyId")
	t.Setenv("TEST_ALI_SECRET", secret)
	var sawSignature bool
	sts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawSignature = sawSignature || r.URL.Query().Get("Signature") != ""
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"Code": "NoPermission", "Message": "request " + r.URL.String() + " denied"})
	}))
	defer sts.Close()
	cfg := &alibaba.Config{
		Accounts:    []string{"1111222233334444"},
		Regions:     []string{"cn-hangzhou"},
		STSEndpoint: strings.TrimPrefix(sts.URL, "https://"),
		Endpoint:    "http://127.0.0.1:1",
		Credentials: map[string]alibaba.AccountCredentials{"1111222233334444": {AccessKeyIDEnv: "TEST_ALI_ID",
			AccessKeySecretEnv: "TEST_ALI_SECRET", RoleARN: "acs:ram::1111222233334444:role/ReachAuditReadOnly"}},
	}
	res, err := agent.Scan(context.Background(), agent.ScanConfig{Providers: map[string]providers.Config{"alibaba": cfg}, Policy: risk.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(res)
	if len(res.Errors) == 0 {
		t.Fatalf("no run error for a role that cannot be assumed: %s", doc)
	}
	for _, leak := range []string{"Signature=", "AccessKeyId=", secret} {
		if strings.Contains(string(doc), leak) {
			t.Errorf("the run document holds %q:\n%s", leak, doc)
		}
	}
	t.Logf("errors[0]: %s (the STS endpoint saw a signed request: %v)", res.Errors[0].Error, sawSignature)
}
