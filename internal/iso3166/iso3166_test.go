package iso3166

import "testing"

func TestTable(t *testing.T) {
	if Len() != 249 {
		t.Fatalf("%d codes, want the 249 officially assigned", Len())
	}
	for _, c := range []string{"US", "CN", "DE", "HK", "TW", "FR"} {
		if !Valid(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"ZZ", "EU", "UK", "XX", "us", "", "USA"} {
		if Valid(c) {
			t.Errorf("%q accepted", c)
		}
	}
}
