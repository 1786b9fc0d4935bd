package outputs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/internal/atomicfile"
	"github.com/reachaudit/reachaudit/internal/redact"
	"github.com/reachaudit/reachaudit/reports"
	"github.com/reachaudit/reachaudit/reports/spool"
)

// Options configure a Set.
type Options struct {
	// SpoolDir holds the spools of outputs that name no spool.dir, one
	// sub-directory per output. Empty: the user cache directory.
	SpoolDir string
	// Stdout is where stdout outputs write; nil means os.Stdout.
	Stdout io.Writer
	// Encode is passed to the encoders (version, colour, time).
	Encode reports.Options
	Logger *slog.Logger
}

// Set is the configured outputs of a process, opened once and fed every run.
type Set struct {
	outs []*output
	log  *slog.Logger
}

// sink delivers batches of per-finding messages.
type sink interface {
	// frame wraps one finding's encoded message into what the spool keeps
	// and send takes (a syslog line, a HEC envelope, a webhook item).
	frame(dst []byte, f *risk.Finding, body []byte, r *agent.Result) []byte
	// send delivers batch in order and returns how many messages were
	// delivered before an error.
	send(ctx context.Context, batch [][]byte) (int, error)
	close() error
}

type output struct {
	cfg   Output
	name  string
	opts  *Options
	log   *slog.Logger
	mu    sync.Mutex // one delivery or flush at a time, to keep order
	sink  sink       // per-finding outputs
	spool *spool.Spool
}

// Open prepares every output: reads secrets, loads TLS material and opens
// (and resumes) spools. Nothing is sent yet.
func Open(outs []Output, opts Options) (*Set, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	s := &Set{log: opts.Logger}
	spoolOf := map[string]int{}
	for i := range outs {
		o := &output{cfg: outs[i], name: outs[i].Name(), opts: &opts}
		o.log = opts.Logger.With("output", o.name)
		err := o.open(func(dir string) error {
			if j, dup := spoolOf[dir]; dup {
				return fmt.Errorf("outputs[%d] and outputs[%d] would share the spool %s; give one a spool.dir", j, i, dir)
			}
			spoolOf[dir] = i
			return nil
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("outputs[%d] (%s): %w", i, o.name, err)
		}
		s.outs = append(s.outs, o)
	}
	return s, nil
}

// open prepares the output; claim is told its spool directory first, so
// two outputs never share one.
func (o *output) open(claim func(dir string) error) error {
	if o.cfg.Type == TypeFile {
		return probeWritable(filepath.Dir(o.cfg.Path))
	}
	if !o.cfg.perFinding() {
		return nil
	}
	var err error
	switch o.cfg.Type {
	case TypeSyslog:
		o.sink, err = newSyslogSink(&o.cfg)
	case TypeSplunkHEC:
		o.sink, err = newHECSink(&o.cfg, o.log)
	case TypeWebhook:
		o.sink, err = newWebhookSink(&o.cfg, o.log)
	default:
		err = fmt.Errorf("unknown output type %q", o.cfg.Type)
	}
	if err != nil {
		return err
	}
	dir := o.cfg.Spool.Dir
	if dir == "" {
		root := o.opts.SpoolDir
		if root == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				return fmt.Errorf("no spool.dir given and no cache directory: %w", err)
			}
			root = filepath.Join(cache, "reachaudit", "spool")
		}
		// A stable directory per destination, so a restart finds its spool.
		sum := sha256.Sum256([]byte(o.cfg.Type + "\x00" + o.cfg.Address + o.cfg.URL + "\x00" + o.cfg.format()))
		dir = filepath.Join(root, o.cfg.Type+"-"+hex.EncodeToString(sum[:6]))
	}
	if err := claim(filepath.Clean(dir)); err != nil {
		return err
	}
	max := o.cfg.Spool.MaxBytes
	if max == 0 {
		max = DefaultSpoolMaxBytes
	}
	o.spool, err = spool.Open(dir, max, o.log)
	if err != nil {
		return err
	}
	if n := o.spool.Len(); n > 0 {
		o.log.Info("resuming spool", "messages", n, "dir", dir)
	}
	return nil
}

// Deliver sends r's findings to every output, concurrently, and returns one
// Delivery per output in config order. Per-finding outputs first deliver
// their spool, so findings arrive in the order they were produced.
func (s *Set) Deliver(ctx context.Context, r *agent.Result) []agent.Delivery {
	return s.each(func(o *output) agent.Delivery { return o.deliver(ctx, r) })
}

// Flush tries to deliver what the spools hold, without new findings, and
// returns the outputs' errors joined (nil when every backlog went out).
func (s *Set) Flush(ctx context.Context) error {
	var errs []error
	for _, d := range s.FlushDeliveries(ctx) {
		if d.Error != "" {
			errs = append(errs, fmt.Errorf("%s: %s (%d still spooled)", d.Output, d.Error, d.Spooled))
		}
	}
	return errors.Join(errs...)
}

// FlushDeliveries is Flush with the per-output counts.
func (s *Set) FlushDeliveries(ctx context.Context) []agent.Delivery {
	return s.each(func(o *output) agent.Delivery {
		d := agent.Delivery{Output: o.name}
		if o.spool == nil {
			return d
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		var err error
		d.Delivered, err = o.drain(ctx)
		if err != nil {
			d.Error = err.Error()
		}
		d.Dropped = o.takeCorrupt()
		d.Spooled = o.spool.Len()
		return d
	})
}

// Health is nil while every spool can be read; otherwise it names the
// spools that cannot (the agent's /readyz shows it).
func (s *Set) Health() error {
	var errs []error
	for _, o := range s.outs {
		if o.spool != nil {
			if err := o.spool.Err(); err != nil {
				errs = append(errs, fmt.Errorf("%s: spool unreadable: %w", o.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Backlog is the number of messages waiting in all spools.
func (s *Set) Backlog() int {
	n := 0
	for _, o := range s.outs {
		if o.spool != nil {
			n += o.spool.Len()
		}
	}
	return n
}

// Close closes connections and spools; spooled messages stay on disk.
func (s *Set) Close() error {
	var errs []error
	for _, o := range s.outs {
		o.mu.Lock()
		if o.sink != nil {
			errs = append(errs, o.sink.close())
		}
		if o.spool != nil {
			errs = append(errs, o.spool.Close())
		}
		o.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (s *Set) each(fn func(o *output) agent.Delivery) []agent.Delivery {
	out := make([]agent.Delivery, len(s.outs))
	var wg sync.WaitGroup
	for i, o := range s.outs {
		wg.Go(func() { out[i] = fn(o) })
	}
	wg.Wait()
	return out
}

func (o *output) deliver(ctx context.Context, r *agent.Result) agent.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	d := agent.Delivery{Output: o.name}
	if !o.cfg.perFinding() {
		if err := o.writeDocument(r); err != nil {
			d.Error = err.Error()
			d.Dropped = len(r.Findings)
			o.log.Error("output failed; its findings were not written", "findings", d.Dropped, "err", err)
		} else {
			d.Delivered = len(r.Findings)
		}
		return d
	}

	var lastErr error
	n, err := o.drain(ctx)
	d.Delivered += n
	if err != nil {
		lastErr = err
	}
	d.Dropped += o.takeCorrupt()
	// While a backlog remains the destination is down for us: new
	// findings queue behind it rather than overtake it.
	down := o.spool.Len() > 0

	enc, err := reports.NewFindingEncoder(o.cfg.format(), r, o.opts.Encode)
	if err != nil {
		d.Error = err.Error()
		d.Dropped = len(r.Findings)
		return d
	}
	bs := o.cfg.batchSize()
	batch := make([][]byte, 0, bs)
	var body []byte
	flush := func() {
		if len(batch) == 0 {
			return
		}
		sent := 0
		if !down {
			sent, err = o.sendRetry(ctx, batch)
			d.Delivered += sent
			if err != nil {
				lastErr, down = err, true
				o.log.Warn("destination failed; spooling", "err", err)
			}
		}
		if sent < len(batch) {
			// Whatever the spool cannot keep is lost: count it and say so.
			dropped, err := o.spool.Append(batch[sent:])
			d.Dropped += dropped
			switch {
			case err != nil:
				lastErr = err
				o.log.Error("spool write failed; findings lost", "dropped", dropped, "err", err)
			case dropped > 0:
				o.log.Error("spool full; findings dropped", "dropped", dropped, "max_bytes", o.spool.MaxBytes())
			}
		}
		batch = batch[:0]
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		body, err = enc.AppendFinding(body[:0], f)
		if err != nil {
			lastErr = err
			d.Dropped++
			continue
		}
		batch = append(batch, o.sink.frame(nil, f, body, r))
		if len(batch) == bs {
			flush()
		}
	}
	flush()
	d.Spooled = o.spool.Len()
	if lastErr != nil {
		d.Error = lastErr.Error()
	}
	return d
}

// takeCorrupt returns the spooled messages lost to corrupt records since
// the last call, and logs them.
func (o *output) takeCorrupt() int {
	n := o.spool.TakeDropped()
	if n > 0 {
		o.log.Error("spool records were corrupt and skipped; their findings are lost", "dropped", n)
	}
	return n
}

// drain delivers the spool, oldest first, until it is empty or the
// destination fails. It returns how many messages it delivered.
func (o *output) drain(ctx context.Context) (int, error) {
	total := 0
	for {
		batch, cur, err := o.spool.Peek(o.cfg.batchSize())
		if err != nil {
			return total, err
		}
		if len(batch) == 0 {
			return total, nil
		}
		sent, sendErr := o.sendRetry(ctx, batch)
		if sent > 0 {
			if sent < len(batch) {
				// Commit only what went: find the cursor after `sent` messages.
				if _, cur, err = o.spool.Peek(sent); err != nil {
					return total, err
				}
			}
			if err := o.spool.Commit(cur, sent); err != nil {
				return total, err
			}
			total += sent
		}
		if sendErr != nil {
			return total, sendErr
		}
	}
}

// sendRetry bounds one send by the output's timeout. Its error is
// redacted here, at the edge: a server may echo the token it was sent.
func (o *output) sendRetry(ctx context.Context, batch [][]byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.timeout())
	defer cancel()
	n, err := o.sink.send(ctx, batch)
	return n, redact.Default.Error(err)
}

// writeDocument renders the whole result for file and stdout outputs.
func (o *output) writeDocument(r *agent.Result) error {
	if o.cfg.Type == TypeStdout {
		return reports.Encode(o.opts.Stdout, o.cfg.format(), r, o.opts.Encode)
	}
	return atomicfile.Write(o.cfg.Path, func(w io.Writer) error {
		return reports.Encode(w, o.cfg.format(), r, o.opts.Encode)
	})
}

// probeWritable checks that a file can be created in dir, as the atomic
// write will need, before a scan is spent on a report that cannot land.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".reachaudit-probe-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
