package providers

// Party is a legal entity and the jurisdiction (ISO 3166-1 alpha-2) it
// answers to.
type Party struct {
	Jurisdiction string `json:"jurisdiction"`
	Entity       string `json:"entity"`
}

// Place is one entry of a plugin's region table: where a region's data sits
// and who runs the region.
type Place struct {
	Region       string
	LocationType string // LocationRegion, LocationDualRegion or LocationMultiRegion
	Countries    []string
	// Regions are the regions a dual-region stores its data in; empty
	// for a single region and for a multi-region, which names none.
	Regions []string
	// Candidates is set for multi-regions whose data may sit in any of
	// Countries.
	Candidates bool
	// Operator runs the region; empty means the controller does.
	Operator Party
	// Partition, where the provider has them (aws, aws-cn, aws-us-gov, aws-eusc).
	Partition string
}
