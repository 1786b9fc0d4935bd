package reports

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/providers"
)

// DORATaxonomy names the EBA taxonomy whose templates and column codes the
// dora-roi format follows.
const DORATaxonomy = "EBA reporting framework 4.0, DORA register of information (Commission Implementing Regulation (EU) 2024/2956, Annex I)"

// RoIColumn is one column of a register template: its code in the EBA
// taxonomy, its label, and how the scan fills it (nil: fill by hand).
type RoIColumn struct {
	Code  string
	Label string
	fill  func(row *roiRow) string
}

// ByHand reports whether the scan leaves the column empty.
func (c RoIColumn) ByHand() bool { return c.fill == nil }

// RoITemplate is one register template as the dora-roi format writes it.
type RoITemplate struct {
	Code  string // B_02.02
	Title string
	File  string // b_02.02.csv
	// Columns are the template's own, in the taxonomy's order; Extra are
	// reachaudit's, after them, to tell the person filling in the
	// register which provider and entity a row is about (drop them before
	// filing).
	Columns []RoIColumn
	Extra   []RoIColumn
}

// roiRow is what one register row is built from.
type roiRow struct {
	provider  string
	contract  *providers.Contract
	country   string
	accounts  []string
	buckets   int
	sensitive bool
}

// Values the taxonomy defines for the columns the scan fills.
const (
	roiCloudIaaS   = "S17" // Annex III ICT service type "Cloud services: IaaS": object storage
	roiHigh        = "High"
	roiLegalPerson = "Legal person, excluding individual acting in a business capacity"
)

func contractField(f func(c *providers.Contract) string) func(*roiRow) string {
	return func(r *roiRow) string {
		if r.contract == nil {
			return ""
		}
		return f(r.contract)
	}
}

func parentField(f func(p providers.Party) string) func(*roiRow) string {
	return contractField(func(c *providers.Contract) string {
		if c.Parent == nil {
			return ""
		}
		return f(*c.Parent)
	})
}

// RoITemplates are the templates the dora-roi format writes.
var RoITemplates = []RoITemplate{
	{
		Code: "B_02.02", Title: "Contractual arrangements – Specific information", File: "b_02.02.csv",
		Columns: []RoIColumn{
			{"c0010", "Contractual arrangement reference number", contractField(func(c *providers.Contract) string { return c.Reference })},
			{"c0020", "LEI of the entity making use of the ICT service(s)", nil},
			{"c0030", "Identification code of the ICT third-party service provider", nil},
			{"c0040", "Type of code to identify the ICT third-party service provider", nil},
			{"c0050", "Function identifier", nil},
			{"c0060", "Type of ICT services", func(*roiRow) string { return roiCloudIaaS }},
			{"c0070", "Start date of the contractual arrangement", contractField(func(c *providers.Contract) string { return c.Start })},
			{"c0080", "End date of the contractual arrangement", contractField(func(c *providers.Contract) string { return c.End })},
			{"c0090", "Reason of the termination or ending of the contractual arrangement", nil},
			{"c0100", "Notice period for the financial entity making use of the ICT service(s)", contractField(func(c *providers.Contract) string {
				if c.NoticeDays == nil {
					return ""
				}
				return strconv.Itoa(*c.NoticeDays)
			})},
			{"c0110", "Notice period for the ICT third-party service provider", nil},
			{"c0120", "Country of the governing law of the contractual arrangement", contractField(func(c *providers.Contract) string { return c.GoverningLaw })},
			{"c0130", "Country of provision of the ICT services", func(r *roiRow) string { return r.country }},
			{"c0140", "Storage of data", func(*roiRow) string { return "true" }},
			{"c0150", "Location of the data at rest (storage)", func(r *roiRow) string { return r.country }},
			{"c0160", "Location of management of the data (processing)", func(r *roiRow) string { return r.country }},
			{"c0170", "Sensitiveness of the data stored by the ICT third-party service provider", func(r *roiRow) string {
				if r.sensitive {
					return roiHigh
				}
				return ""
			}},
			{"c0180", "Level of reliance on the ICT service supporting the critical or important function", nil},
		},
		Extra: []RoIColumn{
			{"reachaudit_provider", "Provider plugin", func(r *roiRow) string { return r.provider }},
			{"reachaudit_contracting_entity", "Contracting entity (legal name, as in B_05.01 c0050)", contractField(func(c *providers.Contract) string { return c.Entity })},
			{"reachaudit_accounts", "Accounts covered", func(r *roiRow) string { return strings.Join(r.accounts, " ") }},
			{"reachaudit_buckets", "Buckets in this country", func(r *roiRow) string { return strconv.Itoa(r.buckets) }},
		},
	},
	{
		Code: "B_05.01", Title: "ICT third-party service providers", File: "b_05.01.csv",
		Columns: []RoIColumn{
			{"c0010", "Identification code of the ICT third-party service provider", nil},
			{"c0020", "Type of code to identify the ICT third-party service provider", nil},
			{"c0030", "Additional identification code of the ICT third-party service provider", nil},
			{"c0040", "Type of additional identification code", nil},
			{"c0050", "Legal name of the ICT third-party service provider", contractField(func(c *providers.Contract) string { return c.Entity })},
			{"c0060", "Name of the ICT third-party service provider in Latin alphabet", contractField(func(c *providers.Contract) string { return c.Entity })},
			{"c0070", "Type of person of the ICT third-party service provider", contractField(func(*providers.Contract) string { return roiLegalPerson })},
			{"c0080", "Country of the ICT third-party service provider's headquarters", contractField(func(c *providers.Contract) string { return c.Jurisdiction })},
			{"c0090", "Currency of the amount reported in c0100", nil},
			{"c0100", "Total annual expense or estimated cost of the ICT third-party service provider", nil},
			{"c0110", "Identification code of the ICT third-party service provider's ultimate parent undertaking", nil},
			{"c0120", "Type of code to identify the ICT third-party service provider's ultimate parent undertaking", nil},
		},
		Extra: []RoIColumn{
			{"reachaudit_provider", "Provider plugin", func(r *roiRow) string { return r.provider }},
			{"reachaudit_ultimate_parent", "Ultimate parent undertaking (legal name)", parentField(func(p providers.Party) string { return p.Entity })},
			{"reachaudit_ultimate_parent_country", "Country of the ultimate parent undertaking", parentField(func(p providers.Party) string { return p.Jurisdiction })},
		},
	},
}

// RoIFile is one file of the register.
type RoIFile struct {
	Name string
	Data []byte
}

// DORARoI builds the register's templates from a run: B_02.02 with one row
// per contractual arrangement, ICT service and country where the data sits
// (the candidates of a multi-region count: the data may sit there), and
// B_05.01 with one row per contracting entity. Columns a scan cannot know
// are left empty for the register's keeper.
func DORARoI(r *agent.Result) ([]RoIFile, error) {
	b0202, b0501 := roiRows(r)
	var out []RoIFile
	for _, t := range RoITemplates {
		rows := b0202
		if t.Code == "B_05.01" {
			rows = b0501
		}
		data, err := t.encode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, RoIFile{Name: t.File, Data: data})
	}
	return out, nil
}

func (t RoITemplate) encode(rows []*roiRow) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cols := append(slices.Clone(t.Columns), t.Extra...)
	// The first row names the taxonomy and the template; the second holds
	// the column codes; data follows.
	head := make([]string, len(cols))
	head[0], head[1], head[2] = DORATaxonomy, t.Code, t.Title
	codes := make([]string, len(cols))
	for i, c := range cols {
		codes[i] = c.Code
	}
	if err := cw.WriteAll([][]string{head, codes}); err != nil {
		return nil, err
	}
	line := make([]string, len(cols))
	for _, row := range rows {
		for i, c := range cols {
			line[i] = ""
			if c.fill != nil {
				line[i] = csvSafe(c.fill(row))
			}
		}
		if err := cw.Write(line); err != nil {
			return nil, err
		}
	}
	cw.Flush()
	return buf.Bytes(), cw.Error()
}

// roiRows groups the buckets into B_02.02 rows (provider, contract,
// country) and B_05.01 rows (provider, contracting entity).
func roiRows(r *agent.Result) (b0202, b0501 []*roiRow) {
	type arrangement struct{ provider, entity, reference, country string }
	type party struct{ provider, entity string }
	arr := map[arrangement]*roiRow{}
	prov := map[party]*roiRow{}
	for i := range r.Buckets {
		b := &r.Buckets[i]
		var entity, ref string
		if b.Contract != nil {
			entity, ref = b.Contract.Entity, b.Contract.Reference
		}
		_, sensitive := r.Policy.SensitiveTag(b.Tags)
		for _, c := range b.Countries {
			k := arrangement{b.Provider, entity, ref, c}
			row := arr[k]
			if row == nil {
				row = &roiRow{provider: b.Provider, contract: b.Contract, country: c}
				arr[k] = row
			}
			row.buckets++
			row.sensitive = row.sensitive || sensitive
			if !slices.Contains(row.accounts, b.Account) {
				row.accounts = append(row.accounts, b.Account)
			}
		}
		k := party{b.Provider, entity}
		if prov[k] == nil {
			prov[k] = &roiRow{provider: b.Provider, contract: b.Contract}
		}
	}
	for _, row := range arr {
		slices.Sort(row.accounts)
		b0202 = append(b0202, row)
	}
	for _, row := range prov {
		b0501 = append(b0501, row)
	}
	byKey := func(a, b *roiRow) int {
		return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(entityOf(a), entityOf(b)),
			cmp.Compare(referenceOf(a), referenceOf(b)), cmp.Compare(a.country, b.country))
	}
	slices.SortFunc(b0202, byKey)
	slices.SortFunc(b0501, byKey)
	return b0202, b0501
}

func entityOf(r *roiRow) string {
	if r.contract == nil {
		return ""
	}
	return r.contract.Entity
}

func referenceOf(r *roiRow) string {
	if r.contract == nil {
		return ""
	}
	return r.contract.Reference
}

// encodeDORA writes the register as a zip of its CSV files, stored (they
// are small, and stored bytes do not change with the compressor). The
// entries' times are the run's end, so the same run gives the same bytes.
func encodeDORA(w io.Writer, r *agent.Result, _ Options) error {
	files, err := DORARoI(r)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	mod := r.FinishedAt
	if mod.IsZero() {
		mod = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store, Modified: mod.UTC()})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}
