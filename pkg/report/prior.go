package report

import (
	"errors"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"hash/fnv"
	"io"
	"iter"
	"maps"
	"os"
	"strings"
)

// Prior is what an interrupted run left in its results and secrets files,
// as --resume needs it: which input lines are finished (they are not sent
// again and get no second result row), and the passwords recorded for
// lines whose outcome is unknown (they are sent again with that same
// password, so that each user has exactly one password, the one in force).
// Memory is a few bytes per finished line.
type Prior struct {
	done     map[int]uint32 // line -> hash of the user, finished lines
	refused  map[int]bool   // lines whose reset Graph refused for good
	recorded map[int]SecretRow
	finished int
}

// LoadPrior reads the results file at resultsPath and the secrets file at
// secretsPath (either may be empty: a file the interrupted run never
// created), and adds every finished row to summary. A torn last row (the
// run was killed while writing it) is not finished.
func LoadPrior(resultsPath, secretsPath string, summary *Summary) (*Prior, error) {
	p := &Prior{done: map[int]uint32{}, refused: map[int]bool{}, recorded: map[int]SecretRow{}}
	if err := p.loadResults(resultsPath, summary); err != nil {
		return nil, err
	}
	if secretsPath == "" {
		return p, nil
	}
	return p, p.loadSecrets(secretsPath)
}

// loadResults reads the finished rows; an empty path reads nothing.
func (p *Prior) loadResults(resultsPath string, summary *Summary) error {
	if resultsPath == "" {
		return nil
	}
	return eachRow(resultsPath, "results file", NewResultsReader, func(r Result) error {
		if _, dup := p.done[r.Line]; dup {
			return resumeErrorf("results file %s has line %d twice; it was not written by one run of this input", resultsPath, r.Line)
		}
		p.done[r.Line] = userHash(r.User)
		if RefusedForGood(r) {
			p.refused[r.Line] = true
		}
		if summary != nil {
			summary.Add(r)
		}
		p.finished++
		return nil
	})
}

// loadSecrets reads the passwords recorded for rows without a result.
func (p *Prior) loadSecrets(secretsPath string) error {
	return eachRow(secretsPath, "secrets file", NewSecretsReader, p.addSecret(secretsPath))
}

// addSecret returns the function that keeps a row of the secrets file at
// secretsPath, when its line has no result.
func (p *Prior) addSecret(secretsPath string) func(SecretRow) error {
	return func(s SecretRow) error {
		if _, ok := p.done[s.Line]; ok {
			return nil
		}
		if old, dup := p.recorded[s.Line]; dup && !old.Password.Equal(s.Password) {
			return resumeErrorf("secrets file %s records two passwords for line %d", secretsPath, s.Line)
		}
		p.recorded[s.Line] = s
		return nil
	}
}

// eachRow calls fn with every row of the file at path, read by a reader
// from newReader, up to its end or up to a torn last row (see
// ErrTruncated), which the run that wrote it never finished: the resumed
// run does that row again. A row that does not parse is an error naming
// the file, what, at path.
func eachRow[T any](path, what string, newReader func(io.Reader) *RowReader[T], fn func(T) error) error {
	f, _, err := openRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return resumeErrorf("%w", err)
	}
	defer f.Close()
	return eachRowOf(newReader(f), path, what, fn)
}

// eachRowOf is eachRow for the rows of rd, read from the file at path.
func eachRowOf[T any](rd *RowReader[T], path, what string, fn func(T) error) error {
	for {
		v, err := rd.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, ErrTruncated) {
			return nil
		}
		if err != nil {
			return resumeErrorf("%s %s: %w", what, path, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}

// Finished returns the number of rows the earlier runs finished.
func (p *Prior) Finished() int { return p.finished }

// Done reports whether line was finished by an earlier run. It is an error
// when that run wrote the line for another user: the input changed.
func (p *Prior) Done(line int, user string) (bool, error) {
	h, ok := p.done[line]
	if !ok {
		return false, nil
	}
	if h != userHash(user) {
		return false, resumeErrorf("line %d of the input is not the user the earlier run wrote for it: the input file changed; resume with the same file", line)
	}
	return true, nil
}

// Password returns the password recorded for line by an earlier run whose
// outcome is unknown, if any. It is an error when it was recorded for
// another user.
func (p *Prior) Password(line int, user string) (secret.Value, bool, error) {
	s, ok := p.recorded[line]
	if !ok {
		return secret.Value{}, false, nil
	}
	if !strings.EqualFold(Visible(s.User), Visible(user)) {
		return secret.Value{}, false, resumeErrorf("line %d of the input is not the user the secrets file records for it: the input file changed; resume with the same file", line)
	}
	return s.Password, true, nil
}

// MaybeSetNote begins the error message of a failed row whose password an
// earlier attempt may have set: that attempt's answer was lost (a dropped
// connection, a 5xx, a batch answer without the row, an interrupted run),
// so the secrets file keeps the password.
const MaybeSetNote = "the password may have been set by an earlier attempt whose outcome is unknown; it is in the secrets file. "

// RefusedForGood reports whether r is a reset Graph refused for good: it
// was answered with a 4xx other than 429, and no attempt of it had an
// unknown outcome (r.MaybeSet is false), so the password recorded for the
// row was never set and the secrets file need not keep it. A 429 is never
// applied, so attempts it answered do not make the outcome unknown; a lost
// answer does.
func RefusedForGood(r Result) bool {
	return r.Outcome == Failed && r.HTTPStatus >= 400 && r.HTTPStatus < 500 && r.HTTPStatus != 429 && !r.MaybeSet
}

// userHash is the hash of a user as the results file records it: made
// visible (see Visible), so that a user read from the file matches the
// input's, whichever of the two forms it is given in.
func userHash(user string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(Visible(user))))
	return h.Sum32()
}

// RefusedLines yields the lines whose result an earlier run wrote as a
// refusal (see RefusedForGood).
func (p *Prior) RefusedLines() iter.Seq[int] {
	return maps.Keys(p.refused)
}
