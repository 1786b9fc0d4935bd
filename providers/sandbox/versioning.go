package sandbox

import (
	"fmt"
	"strings"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Versioning is a bucket's (or storage account's) versioning in an estate,
// in one vocabulary for every provider: Enabled; Suspended (turned on once
// and off again: old versions are kept, no new ones made); or Off, never
// turned on, which is the default. YAML true and false stand for Enabled
// and Off. Each emulator answers in its own API's terms; GCS and Azure
// Blob know only on and off, so Suspended answers as off there.
type Versioning string

// The versioning words of an estate.
const (
	VersioningEnabled   Versioning = "Enabled"
	VersioningSuspended Versioning = "Suspended"
	VersioningOff       Versioning = "Off"
)

var versioningWords = []string{string(VersioningEnabled), string(VersioningSuspended), string(VersioningOff)}

// UnmarshalText reads a word of the vocabulary, or a YAML boolean.
// UnmarshalYAML decodes the scalar itself: the YAML decoder hands a
// TextUnmarshaler its value by formatting the node again, which costs time
// in proportion to the whole file, once per bucket.
func (v *Versioning) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	switch x := raw.(type) {
	case nil:
		*v = ""
		return nil
	case bool, string:
		return v.UnmarshalText([]byte(fmt.Sprint(x)))
	}
	return fmt.Errorf("versioning %v: want %s", raw, strings.Join(versioningWords, ", "))
}

func (v *Versioning) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch {
	case strings.EqualFold(s, "true"):
		*v = VersioningEnabled
	case strings.EqualFold(s, "false"):
		*v = VersioningOff
	default:
		*v = Versioning(s)
	}
	return nil
}

// Check refuses a word outside the vocabulary.
func (v Versioning) Check(c *yamlfile.Check, path string) {
	c.OneOf(path, string(v), versioningWords...)
}

// Enabled reports whether versioning is on now.
func (v Versioning) Enabled() bool { return v == VersioningEnabled }

// Status is what S3 and OSS answer GetBucketVersioning with: Enabled,
// Suspended, or nothing for a bucket that never had versioning.
func (v Versioning) Status() string {
	if v == VersioningOff {
		return ""
	}
	return string(v)
}
