package reports

// The encoders ask each record's plugin how to name its provider (OCSF's
// cloud.provider and account type, the partition of a region), as the
// command does; the tests link the same plugins.
import (
	_ "github.com/reachaudit/reachaudit/providers/alibaba"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/azure"
	_ "github.com/reachaudit/reachaudit/providers/gcp"
)
