// Package cefparse reads CEF:0 lines back into their fields, the way a SIEM
// parser does, so that tests can check what the cef encoder writes against
// an independent reading rather than against the encoder's own strings.
// It must stay strict: anything a receiver would misread is an error.
package cefparse

import (
	"errors"
	"fmt"
	"strings"
)

// Event is one parsed CEF line.
type Event struct {
	Version, Vendor, Product, DeviceVersion, ClassID, Name, Severity string
	Ext                                                              map[string]string
	// Keys lists the extension keys in the order they appeared.
	Keys []string
}

// Label returns the value of the custom field labelled label (cs1..cs6,
// flexString1..2), or "" when no field carries that label.
func (e *Event) Label(label string) string {
	for _, k := range e.Keys {
		if strings.HasSuffix(k, "Label") && e.Ext[k] == label {
			return e.Ext[strings.TrimSuffix(k, "Label")]
		}
	}
	return ""
}

// Parse reads one CEF line (without a trailing newline).
func Parse(line string) (*Event, error) {
	if !strings.HasPrefix(line, "CEF:") {
		return nil, errors.New("no CEF: prefix")
	}
	var hdr []string
	var cur strings.Builder
	i := len("CEF:")
	for ; i < len(line) && len(hdr) < 7; i++ {
		c := line[i]
		switch {
		case c == '\\':
			if i+1 >= len(line) || (line[i+1] != '\\' && line[i+1] != '|') {
				return nil, fmt.Errorf("bad header escape at %d", i)
			}
			cur.WriteByte(line[i+1])
			i++
		case c == '|':
			hdr = append(hdr, cur.String())
			cur.Reset()
		case c == '\n' || c == '\r':
			return nil, fmt.Errorf("line break in header at %d", i)
		default:
			cur.WriteByte(c)
		}
	}
	if len(hdr) != 7 {
		return nil, fmt.Errorf("header has %d fields, want 7", len(hdr))
	}
	ev := &Event{Version: hdr[0], Vendor: hdr[1], Product: hdr[2], DeviceVersion: hdr[3],
		ClassID: hdr[4], Name: hdr[5], Severity: hdr[6], Ext: map[string]string{}}
	return ev, parseExt(line[i:], ev)
}

// parseExt splits "k=v k=v": a key is the word before an unescaped '=',
// a value runs to the space before the next key.
func parseExt(s string, ev *Event) error {
	if s == "" {
		return nil
	}
	// Positions of unescaped '='.
	var eqs []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '=':
			eqs = append(eqs, i)
		case '\n', '\r':
			return fmt.Errorf("raw line break in extension at %d", i)
		}
	}
	if len(eqs) == 0 {
		return errors.New("extension without key=value")
	}
	start := 0
	for n, eq := range eqs {
		key := s[start:eq]
		if key == "" || strings.ContainsAny(key, " \\") {
			return fmt.Errorf("bad extension key %q", key)
		}
		end := len(s)
		next := len(s)
		if n+1 < len(eqs) {
			sp := strings.LastIndexByte(s[:eqs[n+1]], ' ')
			if sp < eq {
				return fmt.Errorf("no space before the key after %q", key)
			}
			end, next = sp, sp+1
		}
		v, err := unescapeValue(s[eq+1 : end])
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if _, dup := ev.Ext[key]; dup {
			return fmt.Errorf("key %q twice", key)
		}
		ev.Ext[key] = v
		ev.Keys = append(ev.Keys, key)
		start = next
	}
	return nil
}

func unescapeValue(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("trailing backslash")
		}
		i++
		switch s[i] {
		case '\\', '=':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("bad escape \\%c", s[i])
		}
	}
	return b.String(), nil
}
