package report

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// OrderResults rewrites the results file of a completed run in input line
// order (see OrderResultsFile). Call it after Close and before Release: the
// locks keep a --resume started meanwhile from appending to the file being
// rewritten. It does nothing when the results go to standard output, which
// cannot be rewritten: there the rows stay in the order they finished.
func (out *Outputs) OrderResults(ctx context.Context) (rewritten bool, err error) {
	if out.opts.Results == "" || out.opts.Results == "-" || out.resultsFile == nil {
		return false, nil
	}
	return OrderResultsFile(ctx, out.opts.Results)
}

// OrderResultsFile rewrites the results (or plan) file at path with its rows
// in input line order, line ascending, so that the file lines up with the
// input in a spreadsheet. During a run rows are appended as they finish
// (what --resume relies on); once the run is complete their order no
// longer matters to anyone but the reader.
//
// Only the order changes: the header line and every row are copied byte
// for byte (rows with the same line keep their order; a row whose line
// cell is not a number, which bulkreset never writes, goes last). A file
// already in order is left alone (not rewritten), which a single pass that
// stops at the first row out of order tells. Memory is bounded whatever
// the size of the file: rows are sorted in chunks, written to temporary
// files beside it (mode 0600, removed afterwards, also on error) and
// merged. The new file is written beside the old one with the old one's
// permissions (mode, owner and group, and the POSIX ACL on Linux; the DACL
// on Windows), synced, then renamed over it and the directory synced: a
// crash or an error (a full disk, ctx done) leaves the old file as it was,
// every row in it, only not in input order.
func OrderResultsFile(ctx context.Context, path string) (rewritten bool, err error) {
	return orderResults(ctx, path, orderConfig{})
}

// orderConfig tunes orderResults; the zero value is the default.
type orderConfig struct {
	// chunkBytes is how many bytes of rows are sorted in memory at once.
	chunkBytes int
	// fanIn is how many sorted runs are merged at once (each holds an open
	// file and a read buffer).
	fanIn int
	// wrap, when set, wraps the writer of the new file: a seam for tests
	// (a full disk).
	wrap func(io.Writer) io.Writer
}

// The defaults: 16 MiB of rows (about 100,000 rows) in memory, 64 runs
// merged at once (a million rows make about 11).
const (
	defaultChunkBytes = 16 << 20
	defaultFanIn      = 64
	orderBufSize      = 64 << 10
)

// noLine is the sort key of a row whose line cell is not a number.
const noLine = math.MaxInt

// orderResults is OrderResultsFile with the settings c.
func orderResults(ctx context.Context, path string, c orderConfig) (rewritten bool, err error) {
	if c.chunkBytes <= 0 {
		c.chunkBytes = defaultChunkBytes
	}
	if c.fanIn < 2 {
		c.fanIn = defaultFanIn
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("put the results file in input order: %w", err)
		}
	}()
	in, fi, err := openRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return false, err
	}
	defer in.Close() // closed before the rename on success; again is harmless
	sorted, err := rowsInOrder(in)
	if err != nil || sorted {
		return false, err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	s := &sorter{ctx: ctx, path: path, c: c, size: fi.Size()}
	defer s.removeTemps()
	rd := bufio.NewReaderSize(in, orderBufSize)
	header, err := readRecord(rd, nil)
	if err != nil {
		return false, err
	}
	runs, last, err := s.sortChunks(rd)
	if err != nil {
		return false, err
	}
	tmp := path + ".order.tmp"
	os.Remove(tmp) // a leftover of a crash during an earlier rewrite
	f, err := createPrivate(tmp)
	if err != nil {
		return false, err
	}
	s.temps = append(s.temps, tmp)
	defer f.Close() // closed (and checked) below on success; again is harmless
	if err := copyAccess(f, tmp, in, fi); err != nil {
		return false, fmt.Errorf("give the new file the permissions of %s: %w", path, err)
	}
	var w io.Writer = f
	if c.wrap != nil {
		w = c.wrap(w)
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, orderBufSize)
	if _, err := bw.Write(header); err != nil {
		return false, err
	}
	if len(runs) == 0 {
		err = last.writeTo(bw) // the whole file fitted in one chunk
	} else {
		err = s.mergeAll(runs, bw)
	}
	if err != nil {
		return false, err
	}
	if err := bw.Flush(); err != nil {
		return false, err
	}
	// Every byte is accounted for: the same rows, only in another order.
	if cw.n != fi.Size() {
		return false, fmt.Errorf("internal error: the rows in order make %d bytes, the file has %d", cw.n, fi.Size())
	}
	if err := f.Sync(); err != nil {
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	// Windows cannot replace a file open without FILE_SHARE_DELETE, as
	// os.Open opens it.
	if err := in.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, err
	}
	s.temps = slices.DeleteFunc(s.temps, func(p string) bool { return p == tmp })
	if err := syncDir(filepath.Dir(path)); err != nil {
		return true, fmt.Errorf("sync its directory: %w", err)
	}
	return true, nil
}

// rowsInOrder reads the file r from its start and reports whether its rows
// are in line order already. It stops at the first row out of order.
func rowsInOrder(r io.Reader) (bool, error) {
	rd := bufio.NewReaderSize(r, orderBufSize)
	rec, err := readRecord(rd, nil) // the header
	if err != nil {
		return false, err
	}
	prev := -1
	for {
		rec, err = readRecord(rd, rec[:0])
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		k := lineKey(rec)
		if k < prev {
			return false, nil
		}
		prev = k
	}
}

// readRecord appends the next CSV record of rd, raw and with its newline,
// to dst. A record ends at a newline outside quotes (a quoted cell may hold
// one; encoding/csv doubles a quote inside a quoted cell, so counting
// quotes tells). It returns io.EOF at the end of the file, and an error
// wrapping ErrTruncated for data after the last newline.
func readRecord(rd *bufio.Reader, dst []byte) ([]byte, error) {
	start := len(dst)
	quoted := false
	for {
		chunk, err := rd.ReadSlice('\n')
		dst = append(dst, chunk...)
		if bytes.Count(chunk, []byte{'"'})%2 == 1 {
			quoted = !quoted
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(dst) == start:
			return dst, io.EOF
		case err == io.EOF:
			return dst, ErrTruncated
		case err != nil:
			return dst, err
		case !quoted:
			return dst, nil
		}
	}
}

// lineKey is the sort key of a raw row: its line, the number before the
// first comma, or noLine.
func lineKey(rec []byte) int {
	i := bytes.IndexByte(rec, ',')
	if i <= 0 || i > 18 {
		return noLine
	}
	for _, b := range rec[:i] {
		if b < '0' || b > '9' {
			return noLine
		}
	}
	n, err := strconv.Atoi(string(rec[:i]))
	if err != nil {
		return noLine
	}
	return n
}

// chunk is rows read into memory, to be sorted.
type chunk struct {
	buf  []byte
	rows []chunkRow
}

// chunkRow is one row of a chunk: its key and where its bytes are.
type chunkRow struct {
	key        int
	start, end int
}

// sort sorts the rows by line, keeping the order of rows with the same line.
func (ch *chunk) sort() {
	slices.SortStableFunc(ch.rows, func(a, b chunkRow) int { return cmp.Compare(a.key, b.key) })
}

// writeTo writes the rows in their order.
func (ch *chunk) writeTo(w io.Writer) error {
	for _, r := range ch.rows {
		if _, err := w.Write(ch.buf[r.start:r.end]); err != nil {
			return err
		}
	}
	return nil
}

// sorter is one external sort of a results file: the temporary files it
// made, removed at the end whatever happens.
type sorter struct {
	ctx   context.Context
	path  string
	c     orderConfig
	size  int64    // the file's size
	n     int      // temporary files made so far, for their names
	temps []string // temporary files still to remove
}

// sortChunks reads the rows of rd in chunks of c.chunkBytes, sorts each and
// writes it to a run file. When every row fits in one chunk no run file is
// written: it returns no run and that chunk, sorted.
func (s *sorter) sortChunks(rd *bufio.Reader) (runs []string, last *chunk, err error) {
	// Room for a chunk and the row that crosses its end (rows are short),
	// so that the buffer is not grown twice its size for one row.
	ch := &chunk{buf: make([]byte, 0, min(s.size, int64(s.c.chunkBytes))+64<<10)}
	for eof := false; !eof; {
		if err := s.ctx.Err(); err != nil {
			return nil, nil, err
		}
		ch.buf, ch.rows = ch.buf[:0], ch.rows[:0]
		for len(ch.buf) < s.c.chunkBytes {
			start := len(ch.buf)
			ch.buf, err = readRecord(rd, ch.buf)
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				return nil, nil, err
			}
			ch.rows = append(ch.rows, chunkRow{key: lineKey(ch.buf[start:]), start: start, end: len(ch.buf)})
		}
		if !eof {
			// Is this the last chunk? Then it need not go to a file.
			if _, err := rd.Peek(1); err == io.EOF {
				eof = true
			}
		}
		ch.sort()
		if eof && len(runs) == 0 {
			return nil, ch, nil
		}
		if len(ch.rows) == 0 {
			break
		}
		run, err := s.writeRun(ch.writeTo)
		if err != nil {
			return nil, nil, err
		}
		runs = append(runs, run)
	}
	return runs, nil, nil
}

// writeRun writes a temporary run file with write and returns its path.
func (s *sorter) writeRun(write func(io.Writer) error) (string, error) {
	name := fmt.Sprintf("%s.order%d.tmp", s.path, s.n)
	s.n++
	os.Remove(name) // a leftover of a crash during an earlier rewrite
	f, err := createPrivate(name)
	if err != nil {
		return "", err
	}
	s.temps = append(s.temps, name)
	bw := bufio.NewWriterSize(f, orderBufSize)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write a temporary file of the sort: %w", err)
	}
	return name, nil
}

// mergeAll merges the sorted runs into w: c.fanIn at a time, consecutive
// ones, into new runs until few enough remain for one last merge.
func (s *sorter) mergeAll(runs []string, w io.Writer) error {
	for len(runs) > s.c.fanIn {
		var next []string
		for i := 0; i < len(runs); i += s.c.fanIn {
			group := runs[i:min(i+s.c.fanIn, len(runs))]
			run, err := s.writeRun(func(w io.Writer) error { return s.merge(group, w) })
			if err != nil {
				return err
			}
			s.remove(group...)
			next = append(next, run)
		}
		runs = next
	}
	return s.merge(runs, w)
}

// merge merges the sorted run files runs into w, a k-way merge: rows with
// the same line come in the order of their runs, which keep the file's.
func (s *sorter) merge(runs []string, w io.Writer) error {
	h := make(mergeHeap, 0, len(runs))
	for i, name := range runs {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		src := &mergeSource{rd: bufio.NewReaderSize(f, orderBufSize), run: i}
		ok, err := src.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, src)
		}
	}
	heap.Init(&h)
	for n := 0; len(h) > 0; n++ {
		if n%4096 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		src := h[0]
		if _, err := w.Write(src.rec); err != nil {
			return err
		}
		ok, err := src.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// remove removes temporary files no longer needed.
func (s *sorter) remove(names ...string) {
	for _, name := range names {
		os.Remove(name)
	}
	s.temps = slices.DeleteFunc(s.temps, func(p string) bool { return slices.Contains(names, p) })
}

// removeTemps removes every temporary file left.
func (s *sorter) removeTemps() { s.remove(slices.Clone(s.temps)...) }

// mergeSource is one run being merged: its current row.
type mergeSource struct {
	rd  *bufio.Reader
	rec []byte
	key int
	run int // the run's place, which breaks ties
}

// next reads the next row of the run; false at its end.
func (m *mergeSource) next() (bool, error) {
	var err error
	m.rec, err = readRecord(m.rd, m.rec[:0])
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	m.key = lineKey(m.rec)
	return true, nil
}

// mergeHeap is a min-heap of runs by their current row's line, then by
// run (container/heap).
type mergeHeap []*mergeSource

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].run < h[j].run
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*mergeSource)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
