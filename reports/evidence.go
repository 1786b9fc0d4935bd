package reports

import (
	"encoding/json"
	"fmt"
	"strings"
)

// evidenceValue renders one evidence value compactly for the text formats:
// strings as they are, lists joined with commas, the rest as JSON.
func evidenceValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, ",")
	case fmt.Stringer:
		return x.String()
	case nil:
		return "-"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
