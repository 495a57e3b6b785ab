package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/bulkreset/bulkreset/internal/plural"
)

// Exit codes decided by the rows of a run (docs/exit-codes.md). The
// command owns the others: 1 fatal, 2 usage.
const (
	ExitOK          = 0   // every row succeeded, was skipped by a chosen rule, or was a duplicate
	ExitRowsFailed  = 3   // the run finished, and some rows failed or were invalid, or a requested action failed
	ExitInterrupted = 130 // the run was interrupted
)

// Summary counts the results of a run for the end-of-run report on
// standard error. The zero value is ready to use. It is not safe for
// concurrent use: the reporter goroutine that writes the results owns it.
type Summary struct {
	Started, Finished time.Time
	Writes            int // write attempts sent to Graph (retries included)
	Throttled         int // 429 responses seen, batch and sub-requests alike
	ResultsPath       string
	SecretsPath       string
	Interrupted       bool
	// Unfinished counts rows read from the input that have no result,
	// because the run stopped (interrupted, or a fatal error) before their
	// outcome was known.
	Unfinished int
	// ResumeCommand is the command that finishes the run, shown when it
	// was interrupted or stopped.
	ResumeCommand string
	// InputRows is the number of rows of the input, when it was counted
	// (0 when not): a run that stopped says how many remain.
	InputRows int
	// Now gives the end of the run while Finished is zero; nil means time.Now.
	Now func() time.Time

	rows    int
	counts  map[Outcome]int
	reasons map[reasonKey]int
	actions ActionCounts
}

// ActionCounts counts, per action, the rows for which it was done and
// those for which it failed (the revoked and blocked columns, true and
// false; an empty cell counts in neither).
type ActionCounts struct {
	Revoked    int `json:"revoked"`
	NotRevoked int `json:"not_revoked"`
	Blocked    int `json:"blocked"`
	NotBlocked int `json:"not_blocked"`
}

// count adds the action cell b to done or failed.
func count(b *bool, done, failed *int) {
	switch {
	case b == nil:
	case *b:
		*done++
	default:
		*failed++
	}
}

type reasonKey struct {
	outcome Outcome
	reason  Reason
}

// ReasonCount is the number of rows with one outcome and reason.
type ReasonCount struct {
	Outcome Outcome `json:"outcome"`
	Reason  Reason  `json:"reason"`
	Count   int     `json:"count"`
}

// Add counts one result.
func (s *Summary) Add(r Result) {
	if s.counts == nil {
		s.counts = make(map[Outcome]int)
		s.reasons = make(map[reasonKey]int)
	}
	s.rows++
	s.counts[r.Outcome]++
	count(r.Revoked, &s.actions.Revoked, &s.actions.NotRevoked)
	count(r.Blocked, &s.actions.Blocked, &s.actions.NotBlocked)
	if r.Reason != "" {
		s.reasons[reasonKey{r.Outcome, r.Reason}]++
	}
}

// Rows returns the number of results added.
func (s *Summary) Rows() int { return s.rows }

// Count returns the number of results with outcome o.
func (s *Summary) Count(o Outcome) int { return s.counts[o] }

// Actions returns the counts per action.
func (s *Summary) Actions() ActionCounts { return s.actions }

// Reasons returns the counts per outcome and reason, in the order of the
// outcomes, then by decreasing count, then by reason. Results without a
// reason are left out.
func (s *Summary) Reasons() []ReasonCount {
	order := func(o Outcome) int {
		if i := slices.Index(outcomes, o); i >= 0 {
			return i
		}
		return len(outcomes)
	}
	out := make([]ReasonCount, 0, len(s.reasons))
	for k, n := range s.reasons {
		out = append(out, ReasonCount{Outcome: k.outcome, Reason: k.reason, Count: n})
	}
	slices.SortFunc(out, func(a, b ReasonCount) int {
		return cmp.Or(
			cmp.Compare(order(a.Outcome), order(b.Outcome)),
			cmp.Compare(a.Outcome, b.Outcome),
			cmp.Compare(b.Count, a.Count),
			cmp.Compare(a.Reason, b.Reason),
		)
	})
	return out
}

// Elapsed returns the duration of the run: Finished minus Started, or up to
// now while Finished is zero; zero before Started is set.
func (s *Summary) Elapsed() time.Duration {
	if s.Started.IsZero() {
		return 0
	}
	end := s.Finished
	if end.IsZero() {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		end = now()
	}
	return max(end.Sub(s.Started), 0)
}

// WritesPerSecond returns Writes divided by the elapsed time, 0 when no
// time has elapsed.
func (s *Summary) WritesPerSecond() float64 {
	sec := s.Elapsed().Seconds()
	if sec <= 0 {
		return 0
	}
	return float64(s.Writes) / sec
}

// Remaining returns the rows of the input without a result yet: InputRows
// less the rows with a result (an earlier run's included), 0 when the input
// was not counted.
func (s *Summary) Remaining() int { return max(s.InputRows-s.rows, 0) }

// ExitCode returns the exit code the rows call for: ExitInterrupted when
// the run was interrupted, ExitRowsFailed when any row failed or was
// invalid or any requested action failed (revoked=false or blocked=false
// on any row, a skipped one included), else ExitOK (succeeded, skipped and
// duplicate rows are fine).
func (s *Summary) ExitCode() int {
	switch {
	case s.Interrupted:
		return ExitInterrupted
	case s.counts[Failed] > 0 || s.counts[Invalid] > 0:
		return ExitRowsFailed
	case s.actions.NotRevoked > 0 || s.actions.NotBlocked > 0:
		return ExitRowsFailed
	}
	return ExitOK
}

// WriteText writes the summary for a person: counts per outcome, each
// followed by its reasons; elapsed time; writes per second; 429s; the
// paths; and how to finish the run when it was interrupted.
func (s *Summary) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	w = ew
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Summary: %s\n", plural.N(s.rows, "row"))
	reasons := s.Reasons()
	for _, o := range outcomes {
		if s.counts[o] == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\n", o, s.counts[o])
		for _, r := range reasons {
			if r.Outcome == o {
				fmt.Fprintf(tw, "    %s\t%d\n", r.Reason, r.Count)
			}
		}
	}
	tw.Flush() // its error is ew's
	a := s.actions
	if a.Blocked+a.NotBlocked > 0 {
		fmt.Fprintf(w, "Sign-in blocked: %d, not blocked: %d\n", a.Blocked, a.NotBlocked)
	}
	if a.Revoked+a.NotRevoked > 0 {
		fmt.Fprintf(w, "Sessions revoked: %d, not revoked: %d\n", a.Revoked, a.NotRevoked)
	}
	fmt.Fprintf(w, "Elapsed: %v\n", roundElapsed(s.Elapsed()))
	fmt.Fprintf(w, "Writes: %d (%.1f/s), throttled (429): %d\n", s.Writes, s.WritesPerSecond(), s.Throttled)
	if s.ResultsPath != "" {
		fmt.Fprintf(w, "Results: %s\n", s.ResultsPath)
	}
	if s.SecretsPath != "" {
		fmt.Fprintf(w, "Secrets: %s\n", s.SecretsPath)
	}
	if s.Unfinished > 0 {
		fmt.Fprintf(w, "Unfinished: %s read %s no result yet (their outcome is unknown or they were not sent)\n",
			plural.N(s.Unfinished, "row"), plural.Word(s.Unfinished, "has", "have"))
	}
	if s.InputRows > 0 && (s.Interrupted || s.Unfinished > 0) {
		fmt.Fprintf(w, "The input has %s: %d remain to be done.\n", plural.N(s.InputRows, "row"), s.Remaining())
	}
	if s.Interrupted {
		fmt.Fprintln(w, "Interrupted: not every row was processed.")
	}
	if s.ResumeCommand != "" { // interrupted, or stopped (a missing permission, a fatal error)
		fmt.Fprintf(w, "To finish the run: %s\n", s.ResumeCommand)
	}
	if ew.err != nil {
		return fmt.Errorf("write summary: %w", ew.err)
	}
	return nil
}

// roundElapsed rounds d for a person: to the millisecond under a second
// (so that a short run does not read "0s"), else to a tenth of a second.
func roundElapsed(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// errWriter keeps the first error of w and writes nothing after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// summaryJSON is the JSON form of a Summary.
type summaryJSON struct {
	Rows            int             `json:"rows"`
	Outcomes        map[Outcome]int `json:"outcomes"`
	Reasons         []ReasonCount   `json:"reasons"`
	Actions         ActionCounts    `json:"actions"`
	Started         time.Time       `json:"started,omitzero"`
	Finished        time.Time       `json:"finished,omitzero"`
	ElapsedSeconds  float64         `json:"elapsed_seconds"`
	Writes          int             `json:"writes"`
	WritesPerSecond float64         `json:"writes_per_second"`
	Throttled       int             `json:"throttled"`
	ResultsPath     string          `json:"results_path,omitempty"`
	SecretsPath     string          `json:"secrets_path,omitempty"`
	Interrupted     bool            `json:"interrupted"`
	Unfinished      int             `json:"unfinished,omitempty"`
	ResumeCommand   string          `json:"resume_command,omitempty"`
	InputRows       int             `json:"input_rows,omitempty"`
	Remaining       *int            `json:"remaining,omitempty"`
	ExitCode        int             `json:"exit_code"`
}

// MarshalJSON returns the summary as one JSON object, with every outcome
// present in "outcomes" (zero included).
func (s *Summary) MarshalJSON() ([]byte, error) {
	j := summaryJSON{
		Rows:            s.rows,
		Outcomes:        make(map[Outcome]int, len(outcomes)),
		Reasons:         s.Reasons(),
		Actions:         s.actions,
		Started:         s.Started.UTC(),
		Finished:        s.Finished.UTC(),
		ElapsedSeconds:  math.Round(s.Elapsed().Seconds()*1000) / 1000,
		Writes:          s.Writes,
		WritesPerSecond: math.Round(s.WritesPerSecond()*10) / 10,
		Throttled:       s.Throttled,
		ResultsPath:     s.ResultsPath,
		SecretsPath:     s.SecretsPath,
		Interrupted:     s.Interrupted,
		Unfinished:      s.Unfinished,
		ResumeCommand:   s.ResumeCommand,
		InputRows:       s.InputRows,
		ExitCode:        s.ExitCode(),
	}
	if s.InputRows > 0 {
		n := s.Remaining()
		j.Remaining = &n
	}
	for _, o := range outcomes {
		j.Outcomes[o] = 0
	}
	maps.Copy(j.Outcomes, s.counts)
	return json.Marshal(j)
}

// JSON is MarshalJSON: the summary as one JSON object, for --log-format json.
func (s *Summary) JSON() ([]byte, error) { return s.MarshalJSON() }
