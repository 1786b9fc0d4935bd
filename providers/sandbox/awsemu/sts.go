package awsemu

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

var (
	roleARNRe     = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-eusc):iam::([0-9]{12}):role/([\w+=,.@/-]{1,512})$`)
	sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

type stsService struct{ s *Server }

func (stsService) name() string { return "sts" }

func (stsService) form(c *call) url.Values {
	if c.r.Method == http.MethodPost {
		v, err := url.ParseQuery(string(c.body))
		if err == nil {
			return v
		}
		return url.Values{}
	}
	return c.r.URL.Query()
}

func (s stsService) identify(c *call) { c.op = s.form(c).Get("Action") }

func (stsService) errorReply(c *call, status int, typ, code, msg string) reply {
	var b xmlBuilder
	b.WriteString(`<ErrorResponse xmlns="` + stsNS + `">`)
	b.open("Error")
	b.el("Type", typ)
	b.el("Code", code)
	b.el("Message", msg)
	b.close("Error")
	b.el("RequestId", c.reqID)
	b.close("ErrorResponse")
	return reply{status: status, ctype: "text/xml", body: []byte(b.String())}
}

func (s stsService) authError(c *call) reply {
	switch c.auth.fault {
	case authMissing:
		return s.errorReply(c, 403, "Sender", "MissingAuthenticationToken", "Request is missing Authentication Token")
	case authUnknownKey, authBadToken:
		return s.errorReply(c, 403, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid.")
	case authExpiredToken:
		return s.errorReply(c, 400, "Sender", "ExpiredToken", "The security token included in the request is expired")
	case authBadSignature:
		return s.errorReply(c, 403, "Sender", "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	case authSkewed:
		return s.errorReply(c, 403, "Sender", "SignatureDoesNotMatch", "Signature expired: the request time is too far from the current time.")
	}
	return s.errorReply(c, 400, "Sender", "IncompleteSignature", capitalise(c.auth.detail))
}

func (s stsService) fault(c *call, kind string) reply {
	switch kind {
	case "throttle":
		return s.errorReply(c, 400, "Sender", "Throttling", "Rate exceeded")
	case "too-large":
		return s.errorReply(c, 413, "Sender", "ValidationError", "Request entity too large")
	}
	return s.errorReply(c, 500, "Receiver", "InternalFailure", "An internal error occurred.")
}

func (s stsService) handle(c *call) reply {
	switch c.op {
	case opGetCallerIdentity:
		p := c.auth.principal
		var b xmlBuilder
		b.WriteString(`<GetCallerIdentityResponse xmlns="` + stsNS + `">`)
		b.open("GetCallerIdentityResult")
		b.el("Arn", p.arn)
		b.el("UserId", p.userID)
		b.el("Account", p.account)
		b.close("GetCallerIdentityResult")
		s.metadata(&b, c)
		b.close("GetCallerIdentityResponse")
		return reply{status: 200, ctype: "text/xml", body: []byte(b.String())}
	case opAssumeRole:
		return s.assumeRole(c)
	}
	return s.errorReply(c, 400, "Sender", "InvalidAction", "Could not find operation "+c.op+" for version 2011-06-15")
}

func (stsService) metadata(b *xmlBuilder, c *call) {
	b.open("ResponseMetadata")
	b.el("RequestId", c.reqID)
	b.close("ResponseMetadata")
}

// assumeRole lets the organisation's key pair into any role of the
// organisation's accounts, and an account's own principals into roles of
// their own account; everyone else is refused as IAM would refuse them.
func (s stsService) assumeRole(c *call) reply {
	f := s.form(c)
	p := c.auth.principal
	roleARN, session := f.Get("RoleArn"), f.Get("RoleSessionName")
	m := roleARNRe.FindStringSubmatch(roleARN)
	if m == nil {
		return s.errorReply(c, 400, "Sender", "ValidationError", "1 validation error detected: Value '"+roleARN+"' at 'roleArn' failed to satisfy constraint: Member must be a valid IAM role ARN")
	}
	if !sessionNameRe.MatchString(session) {
		return s.errorReply(c, 400, "Sender", "ValidationError", "1 validation error detected: Value '"+session+"' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	duration := 3600
	if v := f.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return s.errorReply(c, 400, "Sender", "ValidationError", "1 validation error detected: Value '"+v+"' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
		}
		duration = n
	}
	partition, target, role := m[1], m[2], m[3]
	acct := s.s.w.accounts[target]
	allowed := acct != nil && acct.partition == partition && orDefault(p.partition, "aws") == partition &&
		((p.org && acct.org) || (!p.org && p.account == target))
	if !allowed {
		return s.errorReply(c, 403, "Sender", "AccessDenied", "User: "+p.arn+" is not authorized to perform: sts:AssumeRole on resource: "+roleARN)
	}
	roleID := "AROA" + randomID(17)
	tok := make([]byte, 180)
	rand.Read(tok)
	temp := &principal{
		akid: "ASIA" + randomID(16), secret: randomSecret(),
		token:     base64.StdEncoding.EncodeToString(tok),
		account:   target,
		partition: partition,
		arn:       "arn:" + partition + ":sts::" + target + ":assumed-role/" + role + "/" + session,
		userID:    roleID + ":" + session,
		expires:   time.Now().Add(time.Duration(duration) * time.Second).UTC().Truncate(time.Second),
	}
	s.s.w.temp.Store(temp.akid, temp)

	var b xmlBuilder
	b.WriteString(`<AssumeRoleResponse xmlns="` + stsNS + `">`)
	b.open("AssumeRoleResult")
	b.open("AssumedRoleUser")
	b.el("AssumedRoleId", temp.userID)
	b.el("Arn", temp.arn)
	b.close("AssumedRoleUser")
	b.open("Credentials")
	b.el("AccessKeyId", temp.akid)
	b.el("SecretAccessKey", temp.secret)
	b.el("SessionToken", temp.token)
	b.el("Expiration", temp.expires.Format(time.RFC3339))
	b.close("Credentials")
	b.close("AssumeRoleResult")
	s.metadata(&b, c)
	b.close("AssumeRoleResponse")
	return reply{status: 200, ctype: "text/xml", body: []byte(b.String())}
}
