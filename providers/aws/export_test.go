package aws

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// SetCallTimeout shortens the per-call timeout for tests outside the
// package that make an endpoint hang.
func (p *Provider) SetCallTimeout(d time.Duration) { p.timeout = d }

// UseCloudWatchQuery makes the CloudWatch client speak AWS Query, which
// CloudWatch still serves, for an emulator that does not speak the SDK's
// default RPC v2 CBOR.
func (p *Provider) UseCloudWatchQuery() {
	p.cwProtocol = awsquery.New(schemas.GraniteServiceVersion20100801)
}
