package providers

// Country groups (ISO 3166-1 alpha-2) that the providers' contracting
// tables and the policy profiles name. Each group is written once here.

// EUMembers are the 27 EU member states (Greece is GR).
var EUMembers = []string{
	"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
	"IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
}

// EEA is the European Economic Area: the EU and Iceland, Liechtenstein and
// Norway.
var EEA = join(EUMembers, []string{"IS", "LI", "NO"})

// Europe is every European country and territory, the EEA included.
var Europe = join(EEA, []string{
	"AD", "AL", "AX", "BA", "BY", "CH", "FO", "GB", "GG", "GI", "IM", "JE", "MC", "MD",
	"ME", "MK", "RS", "RU", "SJ", "SM", "UA", "VA",
})

// MiddleEast is the Middle East and the southern Caucasus, as the
// providers' "EMEA" reaches them.
var MiddleEast = []string{
	"AE", "AM", "AZ", "BH", "GE", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "PS", "QA",
	"SA", "SY", "TR", "YE",
}

// Africa is every African country and territory.
var Africa = []string{
	"AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ", "DZ", "EG",
	"EH", "ER", "ET", "GA", "GH", "GM", "GN", "GQ", "GW", "KE", "KM", "LR", "LS", "LY",
	"MA", "MG", "ML", "MR", "MU", "MW", "MZ", "NA", "NE", "NG", "RE", "RW", "SC", "SD",
	"SH", "SL", "SN", "SO", "SS", "ST", "SZ", "TD", "TG", "TN", "TZ", "UG", "YT", "ZA",
	"ZM", "ZW",
}

// EMEA is Europe, the Middle East and Africa.
var EMEA = join(Europe, MiddleEast, Africa)

func join(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
