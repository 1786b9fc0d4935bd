package alibaba

import (
	"errors"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
)

func TestRegionTable(t *testing.T) {
	want := map[string]string{
		"cn-hangzhou": "CN", "cn-shanghai": "CN", "cn-qingdao": "CN", "cn-beijing": "CN", "cn-zhangjiakou": "CN",
		"cn-huhehaote": "CN", "cn-wulanchabu": "CN", "cn-shenzhen": "CN", "cn-heyuan": "CN", "cn-guangzhou": "CN",
		"cn-chengdu": "CN", "cn-nanjing": "CN", "cn-fuzhou": "CN", "cn-wuhan-lr": "CN", "cn-hongkong": "HK",
		"ap-southeast-1": "SG", "ap-southeast-3": "MY", "ap-southeast-5": "ID", "ap-southeast-6": "PH",
		"ap-southeast-7": "TH", "ap-northeast-1": "JP", "ap-northeast-2": "KR", "us-west-1": "US", "us-east-1": "US",
		"eu-central-1": "DE", "eu-west-1": "GB", "me-east-1": "AE", "me-central-1": "SA",
	}
	for id, country := range want {
		t.Run(id, func(t *testing.T) {
			for _, code := range []string{id, "oss-" + id} {
				p, ok := Place(code)
				if !ok {
					t.Fatalf("%s is not in the table", code)
				}
				if p.Region != id || len(p.Countries) != 1 || p.Countries[0] != country || p.LocationType != providers.LocationRegion {
					t.Errorf("%s: %+v", code, p)
				}
			}
		})
	}
	for _, r := range regions {
		p, _ := Place(r.id)
		if p.Operator.Jurisdiction != "CN" || p.Operator.Entity == "" {
			t.Errorf("%s: operator %+v; every Alibaba region is run from CN", r.id, p.Operator)
		}
		if len(r.country) != 2 || strings.ToUpper(r.country) != r.country {
			t.Errorf("%s: country %q is not ISO 3166-1 alpha-2", r.id, r.country)
		}
	}
	if len(regionIndex) != len(regions) {
		t.Errorf("the table lists a region twice")
	}
	if _, ok := Place("mars-north-1"); ok {
		t.Error("an unknown region was found")
	}
	if Controller.Jurisdiction != "CN" {
		t.Errorf("controller %+v", Controller)
	}
}

func TestUnknownRegionKeepsControl(t *testing.T) {
	b := providers.NewBucket("alibaba", "1", "x", "oss://x")
	applyPlace(&b, "oss-xx-new-1", "oss:GetBucketInfo")
	if b.Region != "xx-new-1" || b.Controller != "CN" || b.Operator != "CN" || !b.IsUnknown(providers.FieldRegion) {
		t.Errorf("%+v", b)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name, yaml, field string
	}{
		{"good", `
accounts: ["1234567890123456", "6543210987654321"]
regions: [cn-hangzhou, us-west-1]
credentials:
  "1234567890123456": {profile: audit}
  "6543210987654321": {access_key_id_env: ALI_ID, access_key_secret_env: ALI_SECRET, role_arn: "acs:ram::6543210987654321:role/ReachAuditReadOnly"}
endpoint: https://oss-cn-hangzhou-internal.aliyuncs.com
kms_endpoint: https://kms-vpc.cn-hangzhou.aliyuncs.com
auth_version: v4
timeout: 30s
canary: health/canary.txt
`, ""},
		{"good", "resource_directory: true\nrole_name: ReachAuditReadOnly\ndirectory_credentials: {profile: rd-admin}\nresourcemanager_endpoint: https://resourcemanager.aliyuncs.com", ""},
		{"good", "resource_directory: true\ncredentials:\n  \"1111111111111111\": {profile: x}", ""},
		{"role_name without the directory", "accounts: [\"1234567890123456\"]\nrole_name: Audit", "role_name"},
		{"bad role name", "resource_directory: true\nrole_name: \"a/b\"", "role_name"},
		{"half an env pair for the directory", "resource_directory: true\ndirectory_credentials: {access_key_id_env: A}", "directory_credentials"},
		{"no accounts", `regions: [cn-hangzhou]`, "accounts"},
		{"short account", `accounts: ["123"]`, "accounts[0]"},
		{"unknown region", "accounts: [\"1234567890123456\"]\nregions: [cn-hangzhou, moon-1]", "regions[1]"},
		{"bad auth version", "accounts: [\"1234567890123456\"]\nauth_version: v2", "auth_version"},
		{"bad endpoint", "accounts: [\"1234567890123456\"]\nendpoint: oss-cn-hangzhou.aliyuncs.com", "endpoint"},
		{"credentials for an unlisted account", "accounts: [\"1234567890123456\"]\ncredentials:\n  \"1111111111111111\": {profile: x}", "credentials.1111111111111111"},
		{"half an env pair", "accounts: [\"1234567890123456\"]\ncredentials:\n  \"1234567890123456\": {access_key_id_env: A}", "credentials.1234567890123456"},
		{"bad role", "accounts: [\"1234567890123456\"]\ncredentials:\n  \"1234567890123456\": {role_arn: \"arn:aws:iam::1:role/x\"}", "credentials.1234567890123456.role_arn"},
		{"bad timeout", "accounts: [\"1234567890123456\"]\ntimeout: soon", "timeout"},
		{"unknown field", "accounts: [\"1234567890123456\"]\nsecret: x", ""},
		{"http STS endpoint", "accounts: [\"1234567890123456\"]\nsts_endpoint: http://127.0.0.1:8080", "sts_endpoint"},
		{"STS endpoint with a path", "accounts: [\"1234567890123456\"]\nsts_endpoint: https://sts.aliyuncs.com/x", "sts_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			err := yamlfile.Decode("config.yaml", []byte(tt.yaml), &c)
			switch {
			case tt.name == "good" && err != nil:
				t.Fatal(err)
			case tt.name == "good":
				return
			case err == nil:
				t.Fatal("accepted")
			}
			var ye *yamlfile.Error
			if !errors.As(err, &ye) {
				t.Fatalf("error %T %v", err, err)
			}
			if tt.field != "" && ye.Field != tt.field {
				t.Errorf("field %q, want %q (%v)", ye.Field, tt.field, err)
			}
			if ye.Line == 0 && tt.name != "no accounts" {
				t.Errorf("no line in %v", err)
			}
		})
	}
}

func TestSTSHost(t *testing.T) {
	for in, want := range map[string]string{
		"sts.cn-hangzhou.aliyuncs.com":             "sts.cn-hangzhou.aliyuncs.com",
		"https://sts-vpc.cn-shanghai.aliyuncs.com": "sts-vpc.cn-shanghai.aliyuncs.com",
		"https://127.0.0.1:8443/":                  "127.0.0.1:8443",
	} {
		if got, err := stsHost(in); err != nil || got != want {
			t.Errorf("stsHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"http://127.0.0.1:8080", "ftp://x", "https://", "https://h/p", "https://u@h"} {
		if got, err := stsHost(in); err == nil {
			t.Errorf("stsHost(%q) = %q, accepted", in, got)
		}
	}
}

func TestStaticCredentialsHideTheSecret(t *testing.T) {
	s := StaticCredentials{AccessKeyID: "LTAIexample", AccessKeySecret: "very-secret"}
	if strings.Contains(s.String(), "very-secret") {
		t.Error(s.String())
	}
}
