package awsemu

import "github.com/reachaudit/reachaudit/providers/aws"

// The region table is the plugin's; the emulator only asks it whether a
// region exists and which partition its ARNs use.

func knownRegion(r string) bool {
	_, ok := aws.Place(r)
	return ok
}

func partitionOf(region string) string {
	if p, ok := aws.Place(region); ok && p.Partition != "" {
		return p.Partition
	}
	return "aws"
}
