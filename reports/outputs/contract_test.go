package outputs_test

import (
	"github.com/reachaudit/reachaudit/agent/schedule"
	"github.com/reachaudit/reachaudit/reports/outputs"
)

// The scheduled agent drives a Set through its Deliverer interface.
var _ schedule.Deliverer = (*outputs.Set)(nil)
