package awsemu

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// orgService speaks AWS Organizations (JSON 1.1, target prefix
// AWSOrganizationsV20161128): the listing calls an audit needs, answered
// from the estate's `organization:` block to the organisation's key pair.
type orgService struct{ s *Server }

const orgTarget = "AWSOrganizationsV20161128."

// orgPageSize is the most a page holds when the caller asks for no
// MaxResults, as the service does (it may also answer fewer).
const orgPageSize = 20

func (orgService) name() string { return "organizations" }

func (orgService) identify(c *call) {
	c.op = strings.TrimPrefix(c.r.Header.Get("X-Amz-Target"), orgTarget)
}

func (orgService) errorReply(status int, typ, msg string) reply {
	body, _ := json.Marshal(map[string]string{"__type": typ, "Message": msg})
	return reply{status: status, ctype: kmsJSON, body: body}
}

func (o orgService) authError(c *call) reply {
	return kmsService{o.s}.authError(c)
}

func (o orgService) fault(c *call, kind string) reply {
	switch kind {
	case "throttle":
		return o.errorReply(400, "TooManyRequestsException", "AWS Organizations can't complete your request because another request is already in progress. Try again later.")
	case "too-large":
		return o.errorReply(413, "InvalidInputException", "Request entity too large")
	}
	return o.errorReply(500, "ServiceException", "AWS Organizations can't complete your request because of an internal service error. Try again later.")
}

type orgAccount struct {
	ID              string  `json:"Id"`
	Arn             string  `json:"Arn"`
	Email           string  `json:"Email"`
	Name            string  `json:"Name"`
	Status          string  `json:"Status"`
	JoinedMethod    string  `json:"JoinedMethod"`
	JoinedTimestamp float64 `json:"JoinedTimestamp"`
}

func (o orgService) handle(c *call) reply {
	org := o.s.w.organization
	p := c.auth.principal
	if org == nil {
		return o.errorReply(400, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	if !p.org || org.denies(c.op) {
		return o.errorReply(400, "AccessDeniedException", "You don't have permissions to access this resource.")
	}
	var in struct {
		ParentID   string `json:"ParentId"`
		ChildType  string `json:"ChildType"`
		MaxResults int    `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &in); err != nil {
			return o.errorReply(400, "InvalidInputException", "The request is not valid JSON.")
		}
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = orgPageSize
	}
	if limit < 1 || limit > orgPageSize {
		return o.errorReply(400, "InvalidInputException", fmt.Sprintf("You provided a value that does not match the required pattern: MaxResults must be between 1 and %d.", orgPageSize))
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "page-"))
		if err != nil || n < 0 {
			return o.errorReply(400, "InvalidInputException", "The NextToken is not valid.")
		}
		start = n
	}
	switch c.op {
	case "ListAccounts":
		return o.accounts(c, org.Members, start, limit)
	case "ListAccountsForParent":
		if !org.hasParent(in.ParentID) {
			return o.errorReply(400, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
		}
		var in2 []Member
		for _, m := range org.Members {
			if org.parentOf(m) == in.ParentID {
				in2 = append(in2, m)
			}
		}
		return o.accounts(c, in2, start, limit)
	case "ListChildren":
		if !org.hasParent(in.ParentID) {
			return o.errorReply(400, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
		}
		type child struct {
			ID   string `json:"Id"`
			Type string `json:"Type"`
		}
		var all []child
		switch in.ChildType {
		case "ORGANIZATIONAL_UNIT":
			for _, u := range org.OUs {
				if org.parentOfOU(u) == in.ParentID {
					all = append(all, child{u.ID, in.ChildType})
				}
			}
		case "ACCOUNT":
			for _, m := range org.Members {
				if org.parentOf(m) == in.ParentID {
					all = append(all, child{m.ID, in.ChildType})
				}
			}
		default:
			return o.errorReply(400, "InvalidInputException", "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.")
		}
		page, next := pageOf(all, start, limit)
		return o.json(map[string]any{"Children": nonNilSlice(page), "NextToken": next})
	}
	return o.errorReply(400, "UnknownOperationException", "")
}

func (o orgService) accounts(c *call, ms []Member, start, limit int) reply {
	org := o.s.w.organization
	all := make([]orgAccount, 0, len(ms))
	for _, m := range ms {
		all = append(all, orgAccount{
			ID: m.ID, Arn: "arn:aws:organizations::" + org.Management + ":account/o-" + org.id() + "/" + m.ID,
			Email: "aws+" + m.ID + "@example.com", Name: orDefault(m.Name, "account-"+m.ID),
			Status: orDefault(m.Status, "ACTIVE"), JoinedMethod: "CREATED",
			JoinedTimestamp: float64(o.s.w.now.AddDate(-2, 0, 0).Unix()),
		})
	}
	page, next := pageOf(all, start, limit)
	return o.json(map[string]any{"Accounts": nonNilSlice(page), "NextToken": next})
}

func (orgService) json(v map[string]any) reply {
	if v["NextToken"] == "" {
		delete(v, "NextToken")
	}
	body, _ := json.Marshal(v)
	return reply{status: 200, ctype: kmsJSON, body: body}
}

func pageOf[T any](all []T, start, limit int) ([]T, string) {
	if start > len(all) {
		start = len(all)
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = "page-" + strconv.Itoa(end)
	}
	return all[start:end], next
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
