package gcpemu

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Organization is the gcp section's `organization:` block: the resource
// hierarchy Resource Manager serves. With it, the configuration the
// emulator hands out discovers the projects (organization: ID) instead of
// naming them.
type Organization struct {
	// ID is the organisation's number; default 100000000001.
	ID string `yaml:"id"`
	// Folders are folders; a folder's parent is the organisation or
	// another folder.
	Folders []Folder `yaml:"folders"`
	// Projects are the projects of the hierarchy with their state and
	// place. An ACTIVE project that is not an estate project has no
	// buckets to list: its bucket list answers not found. Absent: every
	// estate project, ACTIVE, right under the organisation.
	Projects []OrgProject `yaml:"projects"`
	// Deny lists the permissions the auditing identity lacks on the whole
	// hierarchy: resourcemanager.projects.get (SearchProjects then finds
	// nothing, as it does for a caller who may see no project) and
	// resourcemanager.folders.list (ListFolders answers permission denied).
	Deny []string `yaml:"deny"`
}

// Folder is a folder of the hierarchy.
type Folder struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`   // display name; default the id
	Parent string `yaml:"parent"` // a folder id; default the organisation
}

// OrgProject is a project's place and state in the hierarchy.
type OrgProject struct {
	ID     string `yaml:"id"`
	Status string `yaml:"status"` // ACTIVE (default) | DELETE_REQUESTED
	Parent string `yaml:"parent"` // a folder id; default the organisation
}

const defaultOrgID = "100000000001"

var (
	orgIDRe         = regexp.MustCompile(`^[0-9]{1,20}$`)
	projectStates   = []string{"ACTIVE", "DELETE_REQUESTED"}
	hierarchyDenies = []string{"resourcemanager.projects.get", "resourcemanager.folders.list"}
)

func (o *Organization) id() string { return orDefault(o.ID, defaultOrgID) }

// name is the organisation's resource name.
func (o *Organization) name() string { return "organizations/" + o.id() }

func (o *Organization) denies(perm string) bool { return slices.Contains(o.Deny, perm) }

// parentName is the resource name of a parent given by folder id.
func (o *Organization) parentName(folder string) string {
	if folder == "" {
		return o.name()
	}
	return "folders/" + folder
}

// knows reports whether name is the organisation or one of its folders.
func (o *Organization) knows(name string) bool {
	return name == o.name() || slices.ContainsFunc(o.Folders, func(f Folder) bool { return "folders/"+f.ID == name })
}

func (o *Organization) validate(c *yamlfile.Check, p string) {
	if o.ID != "" && !orgIDRe.MatchString(o.ID) {
		c.Errorf(p+".id", "%q is not an organization number such as 123456789012", o.ID)
	}
	folders := map[string]string{} // id → parent
	for i, f := range o.Folders {
		fp := fmt.Sprintf("%s.folders[%d]", p, i)
		c.Required(fp+".id", f.ID)
		if f.ID != "" && !orgIDRe.MatchString(f.ID) {
			c.Errorf(fp+".id", "%q is not a folder number such as 345678901234", f.ID)
		}
		if _, dup := folders[f.ID]; dup {
			c.Errorf(fp+".id", "folder %s is given twice", f.ID)
		}
		folders[f.ID] = f.Parent
	}
	for i, f := range o.Folders {
		fp := fmt.Sprintf("%s.folders[%d].parent", p, i)
		if _, ok := folders[f.Parent]; f.Parent != "" && !ok {
			c.Errorf(fp, "%q is not a folder of the organization", f.Parent)
			continue
		}
		// A cycle would make the hierarchy endless.
		seen := map[string]bool{f.ID: true}
		for at := f.Parent; at != ""; at = folders[at] {
			if seen[at] {
				c.Errorf(fp, "folder %s is its own ancestor", f.ID)
				break
			}
			seen[at] = true
		}
	}
	projects := map[string]bool{}
	for i, pr := range o.Projects {
		pp := fmt.Sprintf("%s.projects[%d]", p, i)
		c.Required(pp+".id", pr.ID)
		if pr.ID != "" && !projectIDRe.MatchString(pr.ID) {
			c.Errorf(pp+".id", "%q is not a GCP project id (6-30 lower-case letters, digits and hyphens)", pr.ID)
		}
		if projects[pr.ID] {
			c.Errorf(pp+".id", "project %q is given twice", pr.ID)
		}
		projects[pr.ID] = true
		c.OneOf(pp+".status", pr.Status, projectStates...)
		if _, ok := folders[pr.Parent]; pr.Parent != "" && !ok {
			c.Errorf(pp+".parent", "%q is not a folder of the organization", pr.Parent)
		}
	}
	for i, d := range o.Deny {
		c.OneOf(fmt.Sprintf("%s.deny[%d]", p, i), d, hierarchyDenies...)
	}
}

// organizationOf returns the section's hierarchy with its defaults filled
// in: every estate project ACTIVE under the organisation when none is
// placed. Nil without one.
func organizationOf(sec *Section) *Organization {
	if sec.Organization == nil {
		return nil
	}
	o := *sec.Organization
	if len(o.Projects) == 0 {
		for _, p := range sec.Projects {
			o.Projects = append(o.Projects, OrgProject{ID: p.ID})
		}
	}
	return &o
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
