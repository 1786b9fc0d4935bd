package risk

import "github.com/reachaudit/reachaudit/providers"

// inputs are, per rule, the record fields whose value decides whether it
// fires. When one of them could not be read, a rule that no longer fires
// has not been shown not to: the finding is unverified, not resolved.
// (The place and control of a bucket come with its region.)
var inputs = map[string][]string{
	"EXP-001": {providers.FieldRegion, providers.FieldCustody},
	"EXP-002": {providers.FieldRegion, providers.FieldCustody},
	"EXP-003": {providers.FieldRegion, providers.FieldCustody},
	"EXP-004": {providers.FieldRegion, providers.FieldCustody, providers.FieldKey},
	"EXP-005": {providers.FieldCustody},
	"EXP-006": {providers.FieldPublic, providers.FieldPublicAccessBlock},
	"EXP-007": {providers.FieldCopies, providers.FieldCustody},
	"EXP-008": {providers.FieldKey, providers.FieldCustody},
	"BLK-001": {providers.FieldRegion, providers.FieldCopies},
	"BLK-002": {providers.FieldRegion, providers.FieldCopies},
	"BLK-003": {providers.FieldKey, providers.FieldCustody},
	"BLK-004": {providers.FieldKey, providers.FieldCustody},
	"BLK-005": {},
	"RES-001": {providers.FieldRegion},
	"HYG-001": {providers.FieldVersioning, providers.FieldObjectLock},
	"HYG-002": {providers.FieldRedundancy, providers.FieldCopies},
	// UNK-001 fires on the unknown itself; it resolves when the field is read.
	"UNK-001": {},
	// UNK-002 fires on an account that could not be listed; it resolves
	// when the account is listed again.
	"UNK-002": {},
}

// Undecided returns the fields among rule's inputs that b could not read:
// with any, the rule not firing on b says nothing.
func Undecided(rule string, b *providers.Bucket) []string {
	var out []string
	for _, f := range inputs[rule] {
		if b.IsUnknown(f) {
			out = append(out, f)
		}
	}
	return out
}
