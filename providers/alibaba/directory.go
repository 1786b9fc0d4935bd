package alibaba

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
	credproviders "github.com/aliyun/credentials-go/credentials/providers"

	"github.com/reachaudit/reachaudit/providers"
)

// Resource Directory's ListAccounts: product ResourceManager, an RPC-style
// OpenAPI whose Go SDK module is not used here; it is called through the
// OpenAPI client's generic CallApi, which signs it with ACS3-HMAC-SHA256
// like the KMS SDK's calls.
const (
	opListAccounts  = "ListAccounts"
	rdAPI           = "resourcemanager:ListAccounts" // the API and the RAM action
	rdVersion       = "2020-03-31"
	rdDefaultHost   = "resourcemanager.aliyuncs.com"
	rdPageSize      = 100 // the largest page ListAccounts answers
	sourceConfig    = "config"
	sourceDirectory = rdAPI
)

// notMembers are the statuses of a member whose account was never made: a
// creation still being verified, failed, expired or cancelled. Every other
// status (CreateSuccess, InviteSuccess, PromoteSuccess, and a resource
// account whose upgrade is pending or failed, which still exists) is an
// account to audit; a status this table does not know is audited too,
// since skipping it could hide an account.
var notMembers = map[string]bool{
	"CreateVerifying": true, "CreateFailed": true, "CreateExpired": true, "CreateCancelled": true,
}

// rdMember is the part of ListAccounts' answer discovery reads.
type rdMember struct {
	AccountID string `json:"AccountId"`
	Status    string `json:"Status"`
}

type rdPage struct {
	PageNumber int `json:"PageNumber"`
	TotalCount int `json:"TotalCount"`
	Accounts   struct {
		Account []rdMember `json:"Account"`
	} `json:"Accounts"`
}

// directoryAccounts lists the directory's members with the directory
// credentials, page by page, and returns those to audit (sorted, with the
// configured accounts added).
func (p *provider) directoryAccounts(ctx context.Context) ([]string, providers.Discovery, error) {
	d := providers.Discovery{Source: sourceDirectory, Skipped: map[string]int{}}
	client, err := p.directoryClient()
	if err != nil {
		return nil, d, &providers.APIError{API: rdAPI, Err: fmt.Errorf("alibaba: list the resource directory's accounts: %w", err)}
	}
	found := map[string]bool{}
	seen := 0
	err = providers.Paginate(ctx, rdAPI, func(ctx context.Context, token string) (string, error) {
		number := 1
		if token != "" {
			number, _ = strconv.Atoi(token)
		}
		page, err := call(ctx, p, opListAccounts, func(context.Context) (rdPage, error) {
			return p.listAccountsPage(client, number)
		})
		if err != nil {
			return "", err
		}
		for _, m := range page.Accounts.Account {
			if notMembers[m.Status] {
				d.Skipped[m.Status]++
				continue
			}
			if accountID.MatchString(m.AccountID) {
				found[m.AccountID] = true
			}
		}
		seen += len(page.Accounts.Account)
		if len(page.Accounts.Account) == 0 || seen >= page.TotalCount {
			return "", nil
		}
		return strconv.Itoa(number + 1), nil
	})
	if err != nil {
		perm := ""
		if isDenied(err) {
			perm = rdAPI
		}
		return nil, d, &providers.APIError{API: rdAPI, Permission: perm,
			Err: fmt.Errorf("alibaba: list the resource directory's accounts: %w", err)}
	}
	for _, a := range p.cfg.Accounts {
		found[a] = true
	}
	out := make([]string, 0, len(found))
	for a := range found {
		out = append(out, a)
	}
	sort.Strings(out)
	p.mu.Lock()
	for _, a := range out {
		p.members[a] = true
	}
	p.mu.Unlock()
	return out, d, nil
}

func (p *provider) listAccountsPage(client *openapi.Client, number int) (rdPage, error) {
	ms := int(p.timeout.Milliseconds())
	res, err := client.CallApi(&openapi.Params{
		Action: tea.String(opListAccounts), Version: tea.String(rdVersion),
		Protocol: client.Protocol, Pathname: tea.String("/"), Method: tea.String("POST"),
		AuthType: tea.String("AK"), Style: tea.String("RPC"), ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
	}, &openapi.OpenApiRequest{Query: map[string]*string{
		"PageNumber": tea.String(strconv.Itoa(number)), "PageSize": tea.String(strconv.Itoa(rdPageSize)),
	}}, &util.RuntimeOptions{
		ReadTimeout: tea.Int(ms), ConnectTimeout: tea.Int(ms),
		IgnoreSSL: tea.Bool(p.cfg.InsecureSkipVerify),
		Autoretry: tea.Bool(false), // call retries, and counts each attempt
	})
	if err != nil {
		return rdPage{}, err
	}
	// CallApi answers the decoded JSON body as a map; decode it again
	// into the fields read.
	raw, err := json.Marshal(res["body"])
	if err != nil {
		return rdPage{}, fmt.Errorf("ListAccounts answer: %w", err)
	}
	var page rdPage
	if err := json.Unmarshal(raw, &page); err != nil {
		return rdPage{}, fmt.Errorf("ListAccounts answer: %w", err)
	}
	return page, nil
}

// directoryClient is the OpenAPI client for Resource Directory, signed
// with the directory credentials.
func (p *provider) directoryClient() (*openapi.Client, error) {
	cp, err := p.directoryCredentials()
	if err != nil {
		return nil, err
	}
	host, protocol := rdDefaultHost, "https"
	if e := p.cfg.ResourceManagerEndpoint; e != "" {
		u, err := url.Parse(e)
		if err != nil {
			return nil, fmt.Errorf("resourcemanager_endpoint: %w", err)
		}
		host, protocol = u.Host, u.Scheme
	}
	ms := int(p.timeout.Milliseconds())
	return openapi.NewClient(&openapi.Config{
		Credential:     kmsCredential(cp),
		Endpoint:       tea.String(host),
		Protocol:       tea.String(protocol),
		RegionId:       tea.String("cn-hangzhou"), // a global service, answered in every region
		ReadTimeout:    tea.Int(ms),
		ConnectTimeout: tea.Int(ms),
		UserAgent:      tea.String("reachaudit"),
	})
}

// directoryCredentials are the credentials that list the directory and
// assume RoleName in its members, built once.
func (p *provider) directoryCredentials() (credproviders.CredentialsProvider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.directory != nil {
		return p.directory, nil
	}
	cp, err := credentialsFrom(p.cfg, "the resource directory", p.cfg.DirectoryStatic, p.cfg.DirectoryCredentials)
	if err != nil {
		return nil, err
	}
	p.directory = cp
	return cp, nil
}

// memberCredentials returns a member's credentials: its own entry, else
// RoleName assumed in it with the directory credentials. Called with p.mu
// held.
func (p *provider) memberCredentials(account string) (credproviders.CredentialsProvider, error) {
	if cp, ok := p.creds[account]; ok {
		return cp, nil
	}
	if !p.members[account] {
		return nil, fmt.Errorf("account %s is not configured", account)
	}
	var cp credproviders.CredentialsProvider
	var err error
	_, static := p.cfg.Static[account]
	_, entry := p.cfg.Credentials[account]
	switch {
	case static || entry:
		cp, err = credentialsFor(p.cfg, account)
	case p.cfg.RoleName != "":
		if p.directory == nil {
			return nil, fmt.Errorf("account %s: the directory credentials are not open", account)
		}
		cp, err = assumeRole(p.cfg, "account "+account, p.directory, "acs:ram::"+account+":role/"+p.cfg.RoleName, "")
	default:
		return nil, &providers.APIError{API: "sts:AssumeRole", Err: fmt.Errorf(
			"account %s is a member of the resource directory, but no credentials reach it: set role_name, or give it an entry in credentials", account)}
	}
	if err != nil {
		return nil, err
	}
	p.creds[account] = cp
	return cp, nil
}

// Discovery tells the run's coverage how the accounts were found.
func (p *provider) Discovery() providers.Discovery {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.discovery
	if d.Source == "" {
		d.Source = sourceConfig
	}
	return d
}
