package csvin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// This file holds the CSV record parser. It follows encoding/csv's rules
// with LazyQuotes off (RFC 4180 quoting, "\r\n" read as "\n", blank lines
// skipped, a record's fields counted freely) and gives the same records and
// start lines; FuzzParse checks that against encoding/csv. It is our own
// rather than a csv.Reader for one reason, recovery from broken quoting:
//
//   - A quote that is opened and never closed makes csv.Reader read the rest
//     of the file into one field: every later user vanishes into
//     one malformed record, and the whole file is held in memory.
//   - A record that fails to parse after spanning several lines (an opened
//     quote closed wrongly further down) swallows the lines in between.
//
// Here a record that fails to parse is reported as malformed on its first
// line, and when it spanned several lines, reading resumes on its second
// line, so no line disappears into a broken quote. A record is also limited
// to maxRecordBytes, which bounds memory whatever the input.

// maxRecordBytes is the default limit on the size of one record.
const maxRecordBytes = 1 << 20

// physLine is one physical line of the input, without its line ending.
type physLine struct {
	num     int    // 1-based line number
	text    []byte // without "\n" or "\r\n"
	tooLong bool   // longer than the limit; text is empty
}

// lineReader hands out physical lines, first from pending (lines given back
// to be read again), then from br.
type lineReader struct {
	br      *bufio.Reader
	pending []physLine // owned copies
	n       int        // lines read from br so far
	max     int
	long    []byte
	eof     bool
}

// next returns the next line. The text is valid until the next call. It
// returns io.EOF after the last line, or another error from the input.
func (lr *lineReader) next() (physLine, error) {
	if len(lr.pending) > 0 {
		l := lr.pending[0]
		lr.pending = lr.pending[1:]
		return l, nil
	}
	if lr.eof {
		return physLine{}, io.EOF
	}
	line, err := lr.br.ReadSlice('\n')
	tooLong := false
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.long = append(lr.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = lr.br.ReadSlice('\n')
			if !tooLong && len(lr.long)+len(line) > lr.max+2 {
				tooLong = true
			}
			if !tooLong {
				lr.long = append(lr.long, line...)
			}
		}
		line = lr.long
	}
	if err != nil {
		if err != io.EOF {
			return physLine{}, err
		}
		lr.eof = true
		if len(line) == 0 && !tooLong {
			return physLine{}, io.EOF
		}
	}
	lr.n++
	if tooLong {
		return physLine{num: lr.n, tooLong: true}, nil
	}
	// Like encoding/csv: "\r\n" ends a line like "\n", and a "\r" just
	// before the end of the file is dropped.
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > lr.max {
		return physLine{num: lr.n, tooLong: true}, nil
	}
	return physLine{num: lr.n, text: line}, nil
}

// unread gives lines back, to be returned next, in order. It copies them.
func (lr *lineReader) unread(lines ...physLine) {
	back := make([]physLine, 0, len(lines)+len(lr.pending))
	for _, l := range lines {
		l.text = bytes.Clone(l.text)
		back = append(back, l)
	}
	lr.pending = append(back, lr.pending...)
}

// rawRecord is one record as the parser found it.
type rawRecord struct {
	line    int      // line where the record starts
	last    int      // line where it ends
	fields  []string // for a malformed record: the fields before the error
	problem string   // why the record is malformed; "" when it parsed
}

// parser splits lines into records.
type parser struct {
	lines lineReader
	comma byte

	// The current record: its lines' text, one after another, and where
	// each line starts in raw, for giving them back after an error.
	raw      []byte
	rawLines []rawLine
	fieldBuf []byte
	ends     []int
}

type rawLine struct {
	num        int
	start, end int
}

func newParser(br *bufio.Reader, comma byte) *parser {
	return &parser{lines: lineReader{br: br, max: maxRecordBytes}, comma: comma}
}

// parseLine splits one line of text with the given delimiter, ignoring
// delimiters inside quotes. It is for looking at a line before the
// delimiter is known.
func parseLine(text []byte, comma byte) rawRecord {
	p := parser{comma: comma, lines: lineReader{br: bufio.NewReader(bytes.NewReader(text)), max: maxRecordBytes}}
	rec, err := p.next()
	if err != nil {
		return rawRecord{problem: "empty line"}
	}
	return rec
}

// next returns the next record, skipping blank lines. It returns io.EOF at
// the end of the input and other errors as they come from it.
func (p *parser) next() (rawRecord, error) {
	first, err := p.firstLine()
	if err != nil {
		return rawRecord{}, err
	}
	if first.tooLong {
		return rawRecord{line: first.num, last: first.num, problem: fmt.Sprintf("line %d is longer than %d bytes", first.num, p.lines.max)}, nil
	}
	p.start(first)

	lineNum := first.num
	line := p.raw
	col := 1 // 1-based byte column in the current line, for messages
	var problem string
	endsOnFirst := -1 // fields complete when the record left its first line

parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			// An unquoted field runs to the next delimiter or the end of
			// the line, and may not hold a quote.
			field := line
			i := bytes.IndexByte(line, p.comma)
			if i >= 0 {
				field = line[:i]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				problem = fmt.Sprintf("line %d, column %d: a quote inside an unquoted field (quote the whole field and double the quote)", lineNum, col+j)
				break parseField
			}
			p.fieldBuf = append(p.fieldBuf, field...)
			p.ends = append(p.ends, len(p.fieldBuf))
			if i < 0 {
				break parseField
			}
			line = line[i+1:]
			col += i + 1
			continue
		}
		// A quoted field runs to the closing quote, across lines; "" is a
		// quote.
		line = line[1:]
		col++
		for {
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				p.fieldBuf = append(p.fieldBuf, line...)
				l, err := p.lines.next()
				if err == io.EOF {
					problem = fmt.Sprintf("line %d: a quoted field is never closed", p.rawLines[0].num)
					break parseField
				}
				if err != nil {
					return rawRecord{}, err
				}
				if l.tooLong || len(p.raw)+len(l.text) > p.lines.max {
					// Give the line back: it starts the next record
					// unless it belongs to one given back below.
					p.lines.unread(l)
					problem = fmt.Sprintf("line %d: a quoted field runs past %d bytes (a quote is probably never closed)", p.rawLines[0].num, p.lines.max)
					break parseField
				}
				if endsOnFirst < 0 {
					endsOnFirst = len(p.ends)
				}
				p.fieldBuf = append(p.fieldBuf, '\n')
				start := len(p.raw)
				p.raw = append(p.raw, l.text...)
				p.rawLines = append(p.rawLines, rawLine{num: l.num, start: start, end: len(p.raw)})
				line = p.raw[start:]
				lineNum = l.num
				col = 1
				continue
			}
			p.fieldBuf = append(p.fieldBuf, line[:i]...)
			line = line[i+1:]
			col += i + 1
			switch {
			case len(line) > 0 && line[0] == '"':
				p.fieldBuf = append(p.fieldBuf, '"')
				line = line[1:]
				col++
			case len(line) > 0 && line[0] == p.comma:
				p.ends = append(p.ends, len(p.fieldBuf))
				line = line[1:]
				col++
				continue parseField
			case len(line) == 0:
				p.ends = append(p.ends, len(p.fieldBuf))
				break parseField
			default:
				problem = fmt.Sprintf("line %d, column %d: a closing quote followed by more text (double a quote inside a quoted field)", lineNum, col-1)
				break parseField
			}
		}
	}

	return p.record(first.num, lineNum, problem, endsOnFirst), nil
}

// start makes first the only line p holds, with no field yet.
func (p *parser) start(first physLine) {
	p.raw = append(p.raw[:0], first.text...)
	p.rawLines = append(p.rawLines[:0], rawLine{num: first.num, start: 0, end: len(first.text)})
	p.fieldBuf = p.fieldBuf[:0]
	p.ends = p.ends[:0]
}

// firstLine skips blank lines and returns the first line of the next
// record, or one too long to be read.
func (p *parser) firstLine() (physLine, error) {
	for {
		l, err := p.lines.next()
		if err != nil || l.tooLong || len(l.text) > 0 {
			return l, err
		}
	}
}

// record makes the record parsed from the lines p holds, which started at
// line first and ended at line last. A record with a problem that spans
// lines gives back all but its first line, keeping the fields that ended
// there (endsOnFirst of them).
func (p *parser) record(first, last int, problem string, endsOnFirst int) rawRecord {
	rec := rawRecord{line: first, last: last, problem: problem}
	if problem != "" && len(p.rawLines) > 1 {
		// Read again from the record's second line, so that a broken quote
		// costs one row, not every row it swallowed.
		back := make([]physLine, 0, len(p.rawLines)-1)
		for _, rl := range p.rawLines[1:] {
			back = append(back, physLine{num: rl.num, text: p.raw[rl.start:rl.end]})
		}
		p.lines.unread(back...)
		rec.last = first
		// Keep only the fields that ended on the first line: the others
		// hold text of the lines given back.
		p.ends = p.ends[:endsOnFirst]
	}
	// One string for the whole record; the fields are slices of it.
	s := string(p.fieldBuf)
	rec.fields = make([]string, len(p.ends))
	prev := 0
	for i, end := range p.ends {
		rec.fields[i] = s[prev:end]
		prev = end
	}
	return rec
}

// lastLine returns the number of the last line read from the input.
func (p *parser) lastLine() int { return p.lines.n }
