// Package reports renders a run Result in the formats people and SIEMs read
// (table, json, jsonl, csv, ocsf, cef, html). Per-finding formats stream:
// they write finding by finding and hold nothing but the Result they are
// given, so memory does not grow with the number of findings.
//
// It must not scan, judge or deliver: findings come from package agent,
// delivery lives in reports/outputs. Package agent must not import it.
package reports
