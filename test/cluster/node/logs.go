package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node/api"
)

// containerLog is one container instance's log, kept the way a container runtime keeps it:
// stdout and stderr interleaved in one file, each line prefixed with the RFC3339Nano time it was
// read. Readers tail the file and are woken on every write, so follow streams without delay.
type containerLog struct {
	path string

	mu       sync.Mutex
	f        *os.File
	changed  chan struct{}
	finished bool
}

func newContainerLog(path string) (*containerLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &containerLog{path: path, f: f, changed: make(chan struct{})}, nil
}

func (l *containerLog) writeLine(line []byte) {
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	buf := make([]byte, 0, len(ts)+1+len(line)+1)
	buf = append(append(append(buf, ts...), ' '), line...)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		buf = append(buf, '\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return
	}
	_, _ = l.f.Write(buf)
	close(l.changed)
	l.changed = make(chan struct{})
}

// pump copies one output pipe into the log line by line until the writers are gone.
func (l *containerLog) pump(r io.ReadCloser, wg *sync.WaitGroup) {
	defer wg.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			l.writeLine(line)
		}
		if err != nil {
			return
		}
	}
}

// finish marks the instance terminated: followers drain what is left and end.
func (l *containerLog) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return
	}
	l.finished = true
	_ = l.f.Close()
	close(l.changed)
}

func (l *containerLog) state() (<-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed, l.finished
}

// open returns a reader over the log that applies the kubelet's log options.
func (l *containerLog) open(ctx context.Context, opts api.ContainerLogOpts) (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer f.Close()
		defer cancel()
		pw.CloseWithError(l.stream(ctx, f, pw, opts))
	}()
	return &cancelReader{PipeReader: pr, cancel: cancel}, nil
}

type cancelReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (c *cancelReader) Close() error {
	c.cancel()
	return c.PipeReader.Close()
}

var errLimitReached = errors.New("limit reached")

func (l *containerLog) stream(ctx context.Context, f *os.File, w io.Writer, opts api.ContainerLogOpts) error {
	since := opts.SinceTime
	if opts.SinceSeconds > 0 {
		since = time.Now().Add(-time.Duration(opts.SinceSeconds) * time.Second)
	}
	remaining := opts.LimitBytes
	emit := func(line []byte) error {
		ts, content, ok := bytes.Cut(line, []byte{' '})
		if !ok {
			return nil
		}
		if !since.IsZero() {
			if t, err := time.Parse(time.RFC3339Nano, string(ts)); err == nil && t.Before(since) {
				return nil
			}
		}
		out := content
		if opts.Timestamps {
			out = line
		}
		if opts.LimitBytes > 0 {
			if len(out) >= remaining {
				_, err := w.Write(out[:remaining])
				if err == nil {
					err = errLimitReached
				}
				return err
			}
			remaining -= len(out)
		}
		_, err := w.Write(out)
		return err
	}

	br := bufio.NewReader(f)
	var pending []byte
	// readLine returns the next complete line, or nil at the current end of the file.
	readLine := func() ([]byte, error) {
		chunk, err := br.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		line := pending
		pending = nil
		return line, nil
	}

	// What is already there: all of it, or the last Tail lines.
	var tail [][]byte
	for {
		line, err := readLine()
		if err != nil {
			return err
		}
		if line == nil {
			break
		}
		if opts.Tail <= 0 {
			if err := emit(line); err != nil {
				return ignoreLimit(err)
			}
			continue
		}
		tail = append(tail, line)
		if len(tail) > opts.Tail {
			tail = tail[1:]
		}
	}
	for _, line := range tail {
		if err := emit(line); err != nil {
			return ignoreLimit(err)
		}
	}
	if !opts.Follow {
		return nil
	}
	for {
		changed, finished := l.state()
		line, err := readLine()
		if err != nil {
			return err
		}
		if line != nil {
			if err := emit(line); err != nil {
				return ignoreLimit(err)
			}
			continue
		}
		if finished {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

func ignoreLimit(err error) error {
	if errors.Is(err, errLimitReached) {
		return nil
	}
	return err
}
