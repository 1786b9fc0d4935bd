package providers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
	_ "github.com/reachaudit/reachaudit/providers/alibaba"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/gcp"
)

func TestContractingEntityResolution(t *testing.T) {
	ninety := 90
	tests := []struct {
		name     string
		provider string
		region   string
		terms    providers.ContractTerms
		entity   string
		jur      string
		source   string
	}{
		{"alibaba US billing", "alibaba", "us-west-1", providers.ContractTerms{BillingCountry: "US"}, "Alibaba Cloud US LLC", "US", providers.ContractFromTable},
		{"alibaba US billing, mainland region", "alibaba", "cn-hangzhou", providers.ContractTerms{BillingCountry: "US"}, "Alibaba Cloud US LLC", "US", providers.ContractFromTable},
		{"alibaba EEA billing", "alibaba", "eu-central-1", providers.ContractTerms{BillingCountry: "DE"}, "Alibaba (Netherlands) B.V.", "NL", providers.ContractFromTable},
		{"alibaba Norway is EEA", "alibaba", "eu-central-1", providers.ContractTerms{BillingCountry: "NO"}, "Alibaba (Netherlands) B.V.", "NL", providers.ContractFromTable},
		{"alibaba Japan billing", "alibaba", "ap-northeast-1", providers.ContractTerms{BillingCountry: "JP"}, "Alibaba Cloud (Singapore) Private Limited", "SG", providers.ContractFromTable},
		{"alibaba Brazil billing", "alibaba", "us-east-1", providers.ContractTerms{BillingCountry: "BR"}, "Alibaba Cloud (Singapore) Private Limited", "SG", providers.ContractFromTable},
		{"alibaba China site", "alibaba", "cn-shanghai", providers.ContractTerms{BillingCountry: "CN"}, "Alibaba Cloud Computing Co., Ltd.", "CN", providers.ContractFromTable},
		{"alibaba explicit entity wins", "alibaba", "us-west-1", providers.ContractTerms{BillingCountry: "US", Entity: "alibaba (netherlands) b.v."}, "Alibaba (Netherlands) B.V.", "NL", providers.ContractDeclared},
		{"alibaba entity the table lacks", "alibaba", "eu-west-1", providers.ContractTerms{BillingCountry: "GB", Entity: "Alibaba Cloud (UK) Ltd", EntityCountry: "GB"}, "Alibaba Cloud (UK) Ltd", "GB", providers.ContractDeclared},
		{"aws US billing", "aws", "us-east-1", providers.ContractTerms{BillingCountry: "US"}, "Amazon Web Services, Inc.", "US", providers.ContractFromTable},
		{"aws German billing", "aws", "eu-central-1", providers.ContractTerms{BillingCountry: "DE"}, "Amazon Web Services EMEA SARL", "LU", providers.ContractFromTable},
		{"aws UK billing is EMEA", "aws", "eu-west-2", providers.ContractTerms{BillingCountry: "GB"}, "Amazon Web Services EMEA SARL", "LU", providers.ContractFromTable},
		{"aws South Africa has its own", "aws", "af-south-1", providers.ContractTerms{BillingCountry: "ZA"}, "Amazon Web Services South Africa (Pty) Ltd", "ZA", providers.ContractFromTable},
		{"aws Japan billing", "aws", "ap-northeast-1", providers.ContractTerms{BillingCountry: "JP"}, "Amazon Web Services Japan G.K.", "JP", providers.ContractFromTable},
		{"aws Beijing is Sinnet", "aws", "cn-north-1", providers.ContractTerms{BillingCountry: "US"}, "Beijing Sinnet Technology Co., Ltd.", "CN", providers.ContractFromTable},
		{"aws Ningxia is NWCD", "aws", "cn-northwest-1", providers.ContractTerms{BillingCountry: "DE"}, "Ningxia Western Cloud Data Technology Co., Ltd.", "CN", providers.ContractFromTable},
		{"aws European Sovereign Cloud", "aws", "eusc-de-east-1", providers.ContractTerms{BillingCountry: "US"}, "AWS European Sovereign Cloud GmbH", "DE", providers.ContractFromTable},
		{"aws GovCloud", "aws", "us-gov-west-1", providers.ContractTerms{BillingCountry: "GB"}, "Amazon Web Services, Inc.", "US", providers.ContractFromTable},
		{"aws explicit EMEA entity", "aws", "us-east-1", providers.ContractTerms{Entity: "Amazon Web Services EMEA SARL"}, "Amazon Web Services EMEA SARL", "LU", providers.ContractDeclared},
		{"gcp US billing", "gcp", "us-east1", providers.ContractTerms{BillingCountry: "US"}, "Google LLC", "US", providers.ContractFromTable},
		{"gcp French billing", "gcp", "europe-west9", providers.ContractTerms{BillingCountry: "FR"}, "Google Cloud EMEA Limited", "IE", providers.ContractFromTable},
		{"gcp Kenyan billing is EMEA", "gcp", "africa-south1", providers.ContractTerms{BillingCountry: "KE"}, "Google Cloud EMEA Limited", "IE", providers.ContractFromTable},
		{"gcp S3NS region", "gcp", "u-france-east1", providers.ContractTerms{BillingCountry: "US"}, "S3NS (Thales)", "FR", providers.ContractFromTable},
		{"gcp explicit entity", "gcp", "us-east1", providers.ContractTerms{Entity: "Google Cloud EMEA Limited", NoticeDays: &ninety}, "Google Cloud EMEA Limited", "IE", providers.ContractDeclared},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := providers.Contracts{tt.provider: {tt.terms}}
			validate(t, cs)
			b := providers.NewBucket(tt.provider, "111122223333", "b", "x://b")
			b.Region = tt.region
			got := cs.For(&b)
			if got == nil {
				t.Fatal("no contract")
			}
			if got.Entity != tt.entity || got.Jurisdiction != tt.jur || got.Source != tt.source {
				t.Fatalf("got %q (%s, %s), want %q (%s, %s)", got.Entity, got.Jurisdiction, got.Source, tt.entity, tt.jur, tt.source)
			}
			if tt.terms.NoticeDays != nil && (got.NoticeDays == nil || *got.NoticeDays != *tt.terms.NoticeDays) {
				t.Fatalf("notice days %v not carried", got.NoticeDays)
			}
		})
	}
}

func TestContractAccountGlobs(t *testing.T) {
	cs := providers.Contracts{"aws": {
		{Account: "4027*", BillingCountry: "DE"},
		{BillingCountry: "US"},
	}}
	for acct, want := range map[string]string{"402761983150": "Amazon Web Services EMEA SARL", "518824630977": "Amazon Web Services, Inc."} {
		b := providers.NewBucket("aws", acct, "b", "s3://b")
		b.Region = "us-east-1"
		if got := cs.For(&b); got == nil || got.Entity != want {
			t.Errorf("account %s: got %+v, want %s (first matching entry)", acct, got, want)
		}
	}
	b := providers.NewBucket("gcp", "p", "b", "gs://b")
	if got := cs.For(&b); got != nil {
		t.Errorf("a provider without entries got %+v", got)
	}
}

func TestContractValidation(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		line  int
		field string
		msg   string
	}{
		{"unknown provider", "oracle:\n  - {billing_country: US}\n", 2, "oracle", "unknown provider"},
		{"nothing to resolve", "aws:\n  - {reference: x}\n", 2, "aws[0]", "give entity, or billing_country"},
		{"bad country", "aws:\n  - billing_country: usa\n", 2, "aws[0].billing_country", "ISO 3166-1 alpha-2"},
		{"bad governing law", "aws:\n  - billing_country: US\n    governing_law: Washington\n", 3, "aws[0].governing_law", "ISO 3166-1"},
		{"table has no entity", "alibaba:\n  - billing_country: GB\n", 2, "alibaba[0].billing_country", "names no contracting entity for billing country GB"},
		{"unknown entity without country", "gcp:\n  - entity: Google Cloud Japan G.K.\n", 2, "gcp[0].entity_country", "not in gcp's table"},
		{"bad date", "aws:\n  - billing_country: US\n    end: 31/12/2027\n", 3, "aws[0].end", "not a date"},
		{"end before start", "aws:\n  - billing_country: US\n    start: \"2027-01-01\"\n    end: \"2026-01-01\"\n", 4, "aws[0].end", "not after start"},
		{"negative notice", "aws:\n  - billing_country: US\n    notice_days: -1\n", 3, "aws[0].notice_days", "negative"},
		{"bad glob", "aws:\n  - account: \"[\"\n    billing_country: US\n", 2, "aws[0].account", "glob"},
		{"unknown field", "aws:\n  - billing_country: US\n    renewal: auto\n", 3, "aws[0].renewal", "unknown key (want one of account, billing_country, end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cs providers.Contracts
			err := yamlfile.Decode("contracts.yaml", []byte(tt.yaml), &cs)
			var ye *yamlfile.Error
			if !errors.As(err, &ye) {
				t.Fatalf("got %v, want a located error", err)
			}
			if ye.File != "contracts.yaml" || ye.Line != tt.line || (tt.field != "" && ye.Field != tt.field) || !strings.Contains(ye.Msg, tt.msg) {
				t.Fatalf("got %q (line %d, field %q), want line %d field %q with %q", err, ye.Line, ye.Field, tt.line, tt.field, tt.msg)
			}
		})
	}
}

// validate checks entries the way a config file's are checked.
func validate(t *testing.T, cs providers.Contracts) {
	t.Helper()
	data, err := yaml.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	var back providers.Contracts
	if err := yamlfile.Decode("contracts.yaml", data, &back); err != nil {
		t.Fatalf("valid entry refused: %v\n%s", err, data)
	}
}
