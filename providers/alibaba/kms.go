package alibaba

import (
	"context"
	"fmt"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// describeKey asks KMS about a key of account in region, once per key: the
// answer, an error included, is cached, so a key shared by many buckets is
// asked about once per scan.
func (p *provider) describeKey(ctx context.Context, account, region, keyID string) (keyMeta, error) {
	return p.keys.Get(ctx, account+"/"+region+"/"+keyID, func(ctx context.Context) (keyMeta, error) {
		return p.describeKeyOnce(ctx, account, region, keyID)
	})
}

func (p *provider) describeKeyOnce(ctx context.Context, account, region, keyID string) (keyMeta, error) {
	return call(ctx, p, "DescribeKey", func(ctx context.Context) (keyMeta, error) {
		var lane int
		select {
		case lane = <-p.kmsLanes:
		case <-ctx.Done():
			return keyMeta{}, ctx.Err()
		}
		defer func() { p.kmsLanes <- lane }()
		// The KMS SDK's client is not safe for concurrent use (it hands
		// its headers over by clearing a field), and the tea runtime under
		// it keeps one http.Client per endpoint and timeouts whose Timeout
		// it sets on every request while others read it. So each lane has
		// its own SDK client and its own pooled http.Client (its read
		// timeout differs by lane milliseconds), and carries one request
		// at a time.
		c, err := p.kmsClient(account, region, lane)
		if err != nil {
			return keyMeta{}, err
		}
		ms := int(p.timeout.Milliseconds())
		runtime := &util.RuntimeOptions{
			ReadTimeout:    tea.Int(ms + lane),
			ConnectTimeout: tea.Int(ms),
			IgnoreSSL:      tea.Bool(p.cfg.InsecureSkipVerify),
			Autoretry:      tea.Bool(false), // call retries, and counts each attempt
		}
		// The KMS SDK takes no context; its own timeouts bound the call.
		out, err := c.DescribeKeyWithOptions(&kms.DescribeKeyRequest{KeyId: tea.String(keyID)}, runtime)
		if err != nil {
			return keyMeta{}, err
		}
		if out == nil || out.Body == nil || out.Body.KeyMetadata == nil {
			return keyMeta{}, fmt.Errorf("DescribeKey answered without KeyMetadata")
		}
		return metaOf(out.Body.KeyMetadata), nil
	})
}

// metaOf takes what the record needs out of the SDK's answer.
func metaOf(m *kms.DescribeKeyResponseBodyKeyMetadata) keyMeta {
	return keyMeta{
		KeyID:              tea.StringValue(m.KeyId),
		Arn:                tea.StringValue(m.Arn),
		Creator:            tea.StringValue(m.Creator),
		Origin:             tea.StringValue(m.Origin),
		ProtectionLevel:    tea.StringValue(m.ProtectionLevel),
		KeyState:           tea.StringValue(m.KeyState),
		DeleteDate:         tea.StringValue(m.DeleteDate),
		MaterialExpireTime: tea.StringValue(m.MaterialExpireTime),
		DKMSInstanceID:     tea.StringValue(m.DKMSInstanceId),
	}
}
