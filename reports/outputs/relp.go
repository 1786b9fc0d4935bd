package outputs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// RELP (the Reliable Event Logging Protocol of rsyslog's librelp) frames
// every message as "TXNR SP COMMAND SP DATALEN [SP DATA] LF" and the
// receiver answers each transaction with "TXNR rsp LEN 200 OK" once it has
// taken the message. A message counts as delivered only on that answer,
// so a receiver that dies mid-batch costs at most resending what it had
// not acknowledged (at least once, never lost).

// relpWindow is how many transactions may wait for their answer at once;
// librelp's default window is 128.
const relpWindow = 100

// relpMaxFrame bounds a frame read from the receiver, so a broken peer
// cannot make the client allocate without limit.
const relpMaxFrame = 128 << 10

// relpOffer is what the client offers when it opens a session.
const relpOffer = "relp_version=0\nrelp_software=reachaudit\ncommands=syslog"

type relpClient struct {
	conn net.Conn
	br   *bufio.Reader
	txnr int
	buf  []byte
}

// openRELP opens a RELP session over conn.
func openRELP(ctx context.Context, conn net.Conn) (*relpClient, error) {
	c := &relpClient{conn: conn, br: bufio.NewReader(conn)}
	c.deadline(ctx)
	txnr := c.next()
	if _, err := conn.Write(appendRELPFrame(nil, txnr, "open", []byte(relpOffer))); err != nil {
		return nil, fmt.Errorf("relp open: %w", err)
	}
	f, err := c.read()
	if err != nil {
		return nil, fmt.Errorf("relp open: %w", err)
	}
	if f.txnr != txnr || f.cmd != "rsp" {
		return nil, fmt.Errorf("relp open: unexpected answer %d %s", f.txnr, f.cmd)
	}
	if err := f.ok(); err != nil {
		return nil, fmt.Errorf("relp open refused: %w", err)
	}
	if !bytes.Contains(f.data, []byte("commands=syslog")) && !bytes.Contains(f.data, []byte("commands=")) {
		return nil, errors.New("relp open: the receiver offers no commands")
	}
	return c, nil
}

func (c *relpClient) deadline(ctx context.Context) {
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
	} else {
		c.conn.SetDeadline(time.Time{})
	}
}

// next is the next transaction number: 1 … 999999999, then 1 again.
func (c *relpClient) next() int {
	c.txnr++
	if c.txnr > 999999999 {
		c.txnr = 1
	}
	return c.txnr
}

// send delivers msgs in order, a window at a time, and returns how many
// from the start of msgs the receiver acknowledged.
func (c *relpClient) send(ctx context.Context, msgs [][]byte) (int, error) {
	c.deadline(ctx)
	done := 0
	for done < len(msgs) {
		win := msgs[done:min(len(msgs), done+relpWindow)]
		c.buf = c.buf[:0]
		txnrs := make([]int, len(win))
		for i, m := range win {
			txnrs[i] = c.next()
			c.buf = appendRELPFrame(c.buf, txnrs[i], "syslog", m)
		}
		if _, err := c.conn.Write(c.buf); err != nil {
			return done, err
		}
		acked := make(map[int]bool, len(win))
		for range win {
			f, err := c.read()
			if err != nil {
				return done + prefix(txnrs, acked), err
			}
			if f.cmd == "serverclose" {
				return done + prefix(txnrs, acked), errors.New("the receiver closed the session")
			}
			if f.cmd != "rsp" {
				return done + prefix(txnrs, acked), fmt.Errorf("unexpected %q from the receiver", f.cmd)
			}
			if err := f.ok(); err != nil {
				return done + prefix(txnrs, acked), fmt.Errorf("message refused: %w", err)
			}
			acked[f.txnr] = true
		}
		n := prefix(txnrs, acked)
		done += n
		if n < len(win) {
			return done, errors.New("the receiver answered transactions that were not sent")
		}
	}
	return done, nil
}

// prefix is how many of txnrs, from the first, are acknowledged.
func prefix(txnrs []int, acked map[int]bool) int {
	for i, t := range txnrs {
		if !acked[t] {
			return i
		}
	}
	return len(txnrs)
}

// close ends the session politely; the answer is not waited for long.
func (c *relpClient) close() error {
	c.conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.conn.Write(appendRELPFrame(nil, c.next(), "close", nil)); err == nil {
		c.read()
	}
	return c.conn.Close()
}

func appendRELPFrame(dst []byte, txnr int, cmd string, data []byte) []byte {
	dst = strconv.AppendInt(dst, int64(txnr), 10)
	dst = append(dst, ' ')
	dst = append(dst, cmd...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(len(data)), 10)
	if len(data) > 0 {
		dst = append(dst, ' ')
		dst = append(dst, data...)
	}
	return append(dst, '\n')
}

type relpFrame struct {
	txnr int
	cmd  string
	data []byte
}

// ok reads a rsp frame's status: "200 OK" and anything else.
func (f relpFrame) ok() error {
	if len(f.data) >= 3 && string(f.data[:3]) == "200" {
		return nil
	}
	line, _, _ := bytes.Cut(f.data, []byte{'\n'})
	return fmt.Errorf("receiver answered %q", line)
}

func (c *relpClient) read() (relpFrame, error) {
	var f relpFrame
	field := func(max int) (string, error) {
		var b []byte
		for {
			ch, err := c.br.ReadByte()
			if err != nil {
				return "", err
			}
			if ch == ' ' || ch == '\n' {
				if ch == '\n' {
					c.br.UnreadByte()
				}
				return string(b), nil
			}
			if len(b) >= max {
				return "", errors.New("relp: malformed frame header")
			}
			b = append(b, ch)
		}
	}
	s, err := field(9)
	if err != nil {
		return f, err
	}
	if f.txnr, err = strconv.Atoi(s); err != nil {
		return f, fmt.Errorf("relp: bad transaction number %q", s)
	}
	if f.cmd, err = field(32); err != nil {
		return f, err
	}
	if s, err = field(9); err != nil {
		return f, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > relpMaxFrame {
		return f, fmt.Errorf("relp: bad data length %q", s)
	}
	if n > 0 {
		f.data = make([]byte, n)
		if _, err := io.ReadFull(c.br, f.data); err != nil {
			return f, err
		}
	}
	if ch, err := c.br.ReadByte(); err != nil {
		return f, err
	} else if ch != '\n' {
		return f, errors.New("relp: frame without its trailer")
	}
	return f, nil
}
