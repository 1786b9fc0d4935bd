package alibaba

import (
	"testing"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// A refused signature, credential or clock, whether OSS answers it (403)
// or KMS (400, 404), names no permission to grant; a denial does.
func TestRefusedCredentialsAreNoDenial(t *testing.T) {
	for code := range apiCodes.Unauthenticated {
		for _, err := range []error{
			oss.ServiceError{StatusCode: 403, Code: code},
			&tea.SDKError{StatusCode: tea.Int(400), Code: tea.String(code)},
			&tea.SDKError{StatusCode: tea.Int(404), Code: tea.String(code)},
		} {
			if p := permission(err, "oss:GetBucketInfo"); p != "" {
				t.Errorf("%T %s names %q", err, code, p)
			}
			status, c := errorInfo(err)
			if f := apiCodes.Classify(err, status, c); f != "other" {
				t.Errorf("%T %s: probe class %q, want other", err, code, f)
			}
		}
	}
	for _, err := range []error{oss.ServiceError{StatusCode: 403, Code: "AccessDenied"},
		&tea.SDKError{StatusCode: tea.Int(403), Code: tea.String("Forbidden.KeyNotFound")}} {
		if p := permission(err, "oss:GetBucketInfo"); p != "oss:GetBucketInfo" {
			t.Errorf("%v names %q", err, p)
		}
	}
}
