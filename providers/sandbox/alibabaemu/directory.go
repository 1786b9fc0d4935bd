package alibabaemu

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// ResourceDirectory is the alibaba section's `resource_directory:` block:
// the member accounts Resource Directory lists to its management account.
// With it, the configuration the emulator hands out discovers the accounts
// (resource_directory: true) instead of naming them.
type ResourceDirectory struct {
	// ID is the directory's id; default rd-sandbox.
	ID string `yaml:"id"`
	// Management is the management account; default the first member.
	Management string `yaml:"management"`
	// Members are the member accounts. A member that is not an estate
	// account has no credentials in the configuration handed out, as a
	// member whose role could not be assumed. Absent: every estate
	// account, CreateSuccess.
	Members []Member `yaml:"members"`
	// Deny lists the Resource Directory calls that answer NoPermission
	// (ListAccounts).
	Deny []string `yaml:"deny"`
}

// Member is one member account of the directory.
type Member struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`   // display name; default the id
	Status string `yaml:"status"` // default CreateSuccess
	Folder string `yaml:"folder"` // folder id; default the root folder
}

// memberStatuses are the statuses Resource Directory gives a member.
var memberStatuses = []string{"CreateSuccess", "CreateVerifying", "CreateFailed", "CreateExpired", "CreateCancelled",
	"InviteSuccess", "PromoteVerifying", "PromoteFailed", "PromoteExpired", "PromoteCancelled", "PromoteSuccess"}

var (
	rdIDRe     = regexp.MustCompile(`^rd-[0-9A-Za-z]{2,32}$`)
	folderIDRe = regexp.MustCompile(`^(r|fd)-[0-9A-Za-z]{2,32}$`)
)

const (
	rdVersion = "2020-03-31"
	// rdMaxPage is ListAccounts' largest page; rdDefaultPage the page
	// when none is asked for.
	rdMaxPage     = 100
	rdDefaultPage = 10
)

func (d *ResourceDirectory) id() string { return or(d.ID, "rd-sandbox") }

func (d *ResourceDirectory) rootFolder() string { return "r-" + strings.TrimPrefix(d.id(), "rd-") }

func (d *ResourceDirectory) validate(c *yamlfile.Check, p string) {
	if d.ID != "" && !rdIDRe.MatchString(d.ID) {
		c.Errorf(p+".id", "%q is not a resource directory id such as rd-k3****", d.ID)
	}
	if d.Management != "" && !accountIDRe.MatchString(d.Management) {
		c.Errorf(p+".management", "%q is not a 16-digit Alibaba Cloud account id", d.Management)
	}
	seen := map[string]bool{}
	for i, m := range d.Members {
		mp := fmt.Sprintf("%s.members[%d]", p, i)
		c.Required(mp+".id", m.ID)
		if m.ID != "" && !accountIDRe.MatchString(m.ID) {
			c.Errorf(mp+".id", "%q is not a 16-digit Alibaba Cloud account id", m.ID)
		}
		if seen[m.ID] {
			c.Errorf(mp+".id", "account %s is listed twice", m.ID)
		}
		seen[m.ID] = true
		c.OneOf(mp+".status", m.Status, memberStatuses...)
		if m.Folder != "" && !folderIDRe.MatchString(m.Folder) {
			c.Errorf(mp+".folder", "%q is not a folder id such as fd-bVaRIG****", m.Folder)
		}
	}
	for i, op := range d.Deny {
		c.OneOf(fmt.Sprintf("%s.deny[%d]", p, i), op, "ListAccounts")
	}
}

// directoryOf returns the estate's directory with its defaults filled in,
// or nil.
func directoryOf(e *Estate) *ResourceDirectory {
	if e.ResourceDirectory == nil {
		return nil
	}
	d := *e.ResourceDirectory
	if len(d.Members) == 0 {
		for _, a := range e.Accounts {
			d.Members = append(d.Members, Member{ID: a.ID})
		}
	}
	if d.Management == "" && len(d.Members) > 0 {
		d.Management = d.Members[0].ID
	}
	return &d
}

// rdAccount is one member as ListAccounts answers it.
type rdAccount struct {
	AccountID           string `json:"AccountId"`
	AccountName         string `json:"AccountName"`
	DisplayName         string `json:"DisplayName"`
	Type                string `json:"Type"`
	Status              string `json:"Status"`
	FolderID            string `json:"FolderId"`
	ResourceDirectoryID string `json:"ResourceDirectoryId"`
	JoinMethod          string `json:"JoinMethod"`
	JoinTime            string `json:"JoinTime"`
	ModifyTime          string `json:"ModifyTime"`
}

// serveRD answers Resource Directory's ListAccounts (product
// ResourceManager, version 2020-03-31), signed with ACS3-HMAC-SHA256, to
// the directory's management account.
func (s *Server) serveRD(w http.ResponseWriter, r *http.Request) {
	acctID, params, ok := s.acs3Request(w, r)
	if !ok {
		return
	}
	action, version := r.Header.Get("X-Acs-Action"), r.Header.Get("X-Acs-Version")
	if action != "ListAccounts" || version != rdVersion {
		kmsFail(w, r, 404, "InvalidAction.NotFound", fmt.Sprintf("Specified api %q of version %q is not found; the sandbox serves ListAccounts of %s.", action, version, rdVersion))
		return
	}
	switch s.opts.Faults.Match("ListAccounts", "") {
	case sandbox.FaultThrottle:
		kmsFail(w, r, 400, "Throttling.User", "Request was denied due to user flow control.")
		return
	case sandbox.FaultServer:
		kmsFail(w, r, 500, "InternalError", "The request processing has failed due to some unknown error.")
		return
	case sandbox.FaultTimeout:
		s.hang(r)
		return
	case sandbox.FaultMalformed:
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"Accounts": {"Account": [`))
		return
	}
	d := s.directory
	switch {
	case d == nil:
		kmsFail(w, r, 404, "EntityNotExists.ResourceDirectory", "The resource directory does not exist.")
		return
	case acctID != d.Management || slices.Contains(d.Deny, "ListAccounts"):
		kmsFail(w, r, 403, "NoPermission", "You are not authorized to perform this action: resourcemanager:ListAccounts.")
		return
	}
	number, size := 1, rdDefaultPage
	var err error
	if v := params.Get("PageNumber"); v != "" {
		if number, err = strconv.Atoi(v); err != nil || number < 1 {
			kmsFail(w, r, 400, "InvalidParameter.PageNumber", "The PageNumber is invalid.")
			return
		}
	}
	if v := params.Get("PageSize"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > rdMaxPage {
			kmsFail(w, r, 400, "InvalidParameter.PageSize", "The PageSize is invalid; it must be 1 to 100.")
			return
		}
	}
	joined := s.opts.Now.Add(-300 * 24 * time.Hour).UTC().Format(time.RFC3339)
	page := []rdAccount{}
	for i := (number - 1) * size; i < len(d.Members) && len(page) < size; i++ {
		m := d.Members[i]
		join := "created"
		if strings.HasPrefix(or(m.Status, "CreateSuccess"), "Invite") {
			join = "invited"
		}
		page = append(page, rdAccount{AccountID: m.ID, AccountName: m.ID + "@rd.example.com", DisplayName: or(m.Name, m.ID),
			Type: "ResourceAccount", Status: or(m.Status, "CreateSuccess"), FolderID: or(m.Folder, d.rootFolder()),
			ResourceDirectoryID: d.id(), JoinMethod: join, JoinTime: joined, ModifyTime: joined})
	}
	var res rdPage
	res.RequestID, res.PageNumber, res.PageSize, res.TotalCount = requestID(), number, size, len(d.Members)
	res.Accounts.Account = page
	kmsJSON(w, 200, res)
}

// rdPage is ListAccounts' answer.
type rdPage struct {
	RequestID  string `json:"RequestId"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	TotalCount int    `json:"TotalCount"`
	Accounts   struct {
		Account []rdAccount `json:"Account"`
	} `json:"Accounts"`
}
