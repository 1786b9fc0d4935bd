package reports

// Test helpers for the external benchmark package (which imports
// reports/outputs, which imports reports).
var (
	BigResult   = bigResult
	FixtureOpts = fixtureOpts
)
