package outputs

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// parsed5424 is an RFC 5424 message read back by a strict parser written
// from the RFC's ABNF, independent of AppendMessage.
type parsed5424 struct {
	Pri                                  int
	Time                                 time.Time
	Hostname, AppName, ProcID, MsgID, SD string
	Msg                                  string
}

func parse5424(s string) (*parsed5424, error) {
	if !strings.HasPrefix(s, "<") {
		return nil, errors.New("no PRI")
	}
	end := strings.IndexByte(s, '>')
	if end < 2 || end > 4 {
		return nil, errors.New("bad PRI")
	}
	pri, err := strconv.Atoi(s[1:end])
	if err != nil || pri > 191 || (len(s[1:end]) > 1 && s[1] == '0') {
		return nil, errors.New("bad PRI value")
	}
	rest := s[end+1:]
	if !strings.HasPrefix(rest, "1 ") {
		return nil, errors.New("version is not 1")
	}
	rest = rest[2:]
	fields := make([]string, 5)
	for i := range fields {
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 {
			return nil, errors.New("short header")
		}
		fields[i], rest = rest[:sp], rest[sp+1:]
		for j := 0; j < len(fields[i]); j++ {
			if c := fields[i][j]; c < 33 || c > 126 {
				return nil, errors.New("header field with a non-printable byte")
			}
		}
	}
	limits := []int{0, 255, 48, 128, 32}
	for i := 1; i < 5; i++ {
		if len(fields[i]) > limits[i] {
			return nil, errors.New("header field too long")
		}
	}
	p := &parsed5424{Pri: pri, Hostname: fields[1], AppName: fields[2], ProcID: fields[3], MsgID: fields[4]}
	if fields[0] != "-" {
		if p.Time, err = time.Parse(time.RFC3339Nano, fields[0]); err != nil {
			return nil, err
		}
	}
	if !strings.HasPrefix(rest, "-") {
		return nil, errors.New("want NILVALUE structured data")
	}
	p.SD = "-"
	rest = rest[1:]
	if rest != "" {
		if rest[0] != ' ' {
			return nil, errors.New("no space before MSG")
		}
		p.Msg = rest[1:]
	}
	return p, nil
}
