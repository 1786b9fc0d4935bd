package renewal

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/agent/scenario"
	"github.com/reachaudit/reachaudit/providers"
)

// Laws the questions cite besides the rule catalogue's.
const (
	dataAct28a = "EU Data Act (Regulation (EU) 2023/2854) art. 28(1)(a)"
	dataAct28b = "EU Data Act (Regulation (EU) 2023/2854) art. 28(1)(b)"
	dataAct25  = "EU Data Act (Regulation (EU) 2023/2854) arts. 25 and 29"
	doraArt30b = "DORA (Regulation (EU) 2022/2554) art. 30(2)(b)"
	doraArt30h = "DORA (Regulation (EU) 2022/2554) art. 30(2)(h)"
)

// ask writes the questions for the provider from what the scan found. Each
// question exists because of a fact in the pack; none is boilerplate.
func (p *Pack) ask(pl providers.Plugin, buckets []*providers.Bucket, findings []*risk.Finding, exit scenario.Exit) {
	if len(buckets) == 0 {
		return
	}
	add := func(topic, basis, evidence, format string, args ...any) {
		p.Questions = append(p.Questions, Question{Topic: topic, Basis: basis, Text: fmt.Sprintf(format, args...), Evidence: evidence})
	}
	s := p.Summary
	var ops []string
	for _, o := range s.Operators {
		ops = append(ops, fmt.Sprintf("%s (%s)", o.Entity, o.Jurisdiction))
	}
	var where []string
	for _, c := range s.Countries {
		where = append(where, c.Value)
	}
	add("Jurisdiction of the infrastructure", dataAct28a,
		fmt.Sprintf("%d buckets in %s; regions run by %s; ultimate parent %s (%s).", s.Buckets, strings.Join(where, ", "), strings.Join(ops, "; "), s.Controller.Entity, s.Controller.Jurisdiction),
		"To which jurisdiction is the ICT infrastructure that holds our data in %s subject, for each region we use, and which legal entity operates it?", strings.Join(where, ", "))

	var laws []string
	for _, b := range p.LegalBases {
		laws = append(laws, b.Law)
	}
	if s.ProviderCanDecrypt > 0 {
		ev := fmt.Sprintf("%d of %d buckets are under a custody that lets %s decrypt (provider-managed or provider KMS keys).", s.ProviderCanDecrypt, s.Buckets, pl.Name)
		if len(laws) > 0 {
			ev += " The findings cite " + strings.Join(laws, "; ") + "."
		}
		access := ev
		if c := p.scenarioOf("compel"); c != nil && c.Totals.ExposedBuckets > 0 {
			access += " " + c.Headline + "."
		}
		add("Measures against government access", dataAct28b, access,
			"What technical, organisational and contractual measures prevent access by %s authorities, or transfer, of our data where that would conflict with EU or national law? Will you notify us of any order, and challenge it?", s.Controller.Jurisdiction)
		add("Keys outside the provider", "", ev,
			"Can the %d buckets move to keys you cannot use without us (an external key store, or client-side encryption), and which of your regions and services support that?", s.ProviderCanDecrypt)
	}

	for _, t := range p.Contracts {
		if t.Jurisdiction != s.Controller.Jurisdiction && !slices.ContainsFunc(s.Operators, func(o providers.Party) bool { return o.Jurisdiction == t.Jurisdiction }) {
			add("Who holds the data under the contract", risk.LawCLOUDAct,
				fmt.Sprintf("Contract %s is with %s (%s); the regions are run by %s; the parent is %s (%s).", ref(t), t.Entity, t.Jurisdiction, strings.Join(ops, "; "), s.Controller.Entity, s.Controller.Jurisdiction),
				"Does %s have possession, custody or control of our data in every region, or only the operating companies? Which entity would receive a disclosure order from %s, and which from %s?", t.Entity, t.Jurisdiction, s.Controller.Jurisdiction)
		}
		switch t.Status {
		case NoticeOK, NoticeDue, NoticePassed:
			add("Notice period", doraArt30h,
				fmt.Sprintf("Contract %s ends %s with %d days' notice: notice by %s, %d days after the scan (%s).", ref(t), t.End, *t.NoticeDays, t.NoticeBy, *t.DaysLeft, t.Status),
				"Confirm that %s ends on %s, that %d days' notice before then is enough to end or renegotiate it, and whether it renews by itself if no notice is given.", ref(t), t.End, *t.NoticeDays)
		default:
			add("Notice period", doraArt30h, fmt.Sprintf("Contract %s declares no end date or notice_days.", ref(t)),
				"What are the end date and the notice period of %s, for us and for you?", ref(t))
		}
	}
	if len(p.Contracts) == 0 {
		add("Contracting entity", doraArt30h, "No contracts: entry covers these accounts.",
			"Which of your legal entities is our contracting party for accounts %s, under which governing law, and with what notice period?", strings.Join(p.Evidence.Accounts, ", "))
	}

	p.askExit(pl, exit, add)

	rules := map[string][]string{}
	for _, f := range findings {
		rules[f.Rule] = append(rules[f.Rule], f.Bucket)
	}
	if bs := rules["BLK-003"]; len(bs) > 0 {
		add("Disabled keys", "", "BLK-003 on "+strings.Join(unique(bs), ", ")+".",
			"Our keys for %s are disabled, pending deletion or unavailable: what recovery path do you offer, and how long is material kept after deletion is scheduled?", strings.Join(unique(bs), ", "))
	}
	if bs := rules["BLK-004"]; len(bs) > 0 {
		add("Imported key material", "", "BLK-004 on "+strings.Join(unique(bs), ", ")+".",
			"Imported key material for %s expires within 30 days: can re-import keep the same key, and what happens to reads in between?", strings.Join(unique(bs), ", "))
	}
	if bs := rules["RES-001"]; len(bs) > 0 {
		add("Residency", doraArt30b, "RES-001 on "+strings.Join(unique(bs), ", ")+".",
			"Can the data of %s be kept only in the countries our policy allows, and can you commit to notify us before any change of location?", strings.Join(unique(bs), ", "))
	}
}

// askExit asks how the data a ban would take can leave, in the numbers of
// the ban scenario: the bytes that must move, how long they take at the
// configured bandwidth and what the user's own egress price makes of them.
func (p *Pack) askExit(pl providers.Plugin, exit scenario.Exit, add func(topic, basis, evidence, format string, args ...any)) {
	s := p.Summary
	ev := fmt.Sprintf("%d of %d buckets have no copy at another provider: a ban or cut-off of %s takes them.", s.NoCopyElsewhere, s.Buckets, pl.Name)
	move := fmt.Sprintf("the data of these %d buckets", s.NoCopyElsewhere)
	if ban := p.scenarioOf("ban"); ban != nil && ban.Totals.ExitBytes > 0 {
		t := ban.Totals
		ev = ban.Headline + "."
		move = fmt.Sprintf("the %s held in %d buckets (about %s h at %s Gbit/s", humanize.Bytes(uint64(t.ExitBytes)), t.BucketsHit,
			strconv.FormatFloat(t.ExitHours, 'f', 1, 64), humanize.Ftoa(exit.Bandwidth()))
		if t.ExitCost != nil {
			move += fmt.Sprintf(", egress ≈ %s at our price", humanize.CommafWithDigits(*t.ExitCost, 2))
		}
		move += ")"
		if t.UnknownSizeBuckets > 0 {
			move += fmt.Sprintf(", plus %d bucket%s of unknown size", t.UnknownSizeBuckets, plural(t.UnknownSizeBuckets))
		}
	}
	add("Exit and egress", dataAct25, ev,
		"How would we move %s to another provider: what transfer rate can we count on, what does egress cost per GB (and is it waived, as art. 29 requires for switching from 12 January 2027), and does the switching notice stay within two months with a transition of at most 30 days (art. 25)?", move)
}

func ref(t Term) string {
	if t.Reference != "" {
		return t.Reference
	}
	return "the contract with " + t.Entity
}

func unique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
