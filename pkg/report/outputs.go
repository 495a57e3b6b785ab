package report

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrConflict marks an output error the person running bulkreset can fix
// with other arguments: a results or secrets file that exists already, or
// files to resume that do not belong to the input. Its errors keep their
// own message; test for it with errors.Is.
var ErrConflict = errors.New("the outputs conflict with existing files")

// conflictError is an error that Is ErrConflict.
type conflictError struct{ err error }

func (e conflictError) Error() string        { return e.err.Error() }
func (e conflictError) Unwrap() error        { return e.err }
func (e conflictError) Is(target error) bool { return target == ErrConflict }

// conflict marks err as an ErrConflict.
func conflict(err error) error { return conflictError{err} }

// OutputOptions name the files a run writes.
type OutputOptions struct {
	// Results is the results (or plan) file; "-" is Stdout.
	Results string
	// Secrets is the secrets file; "" for none.
	Secrets string
	// Stdout takes the results when Results is "-".
	Stdout io.Writer
	// Resume continues an interrupted run: its files are read and opened
	// for appending.
	Resume bool
	// Columns are the optional columns of both files.
	Columns Columns
	// Settings, when not nil, are recorded in RunSettingsPath(Results) by a
	// new run, before the other files are created (never with Resume, nor
	// for results on Stdout).
	Settings *RunSettings
	// Keys, when set, encrypt the secrets file with age: the passwords go
	// to its journal while the run goes, and to Secrets, encrypted, when
	// it completes (see secrets_age.go).
	Keys *SecretsKeys
}

// Outputs are the files a run writes, locked against other runs.
type Outputs struct {
	// Secrets is nil without a secrets file.
	Secrets *Secrets
	Results *Results
	// Prior is what the interrupted run finished, with Resume.
	Prior *Prior

	opts        OutputOptions
	key         *journalKey // the secrets journal's, with Keys
	resultsFile *os.File    // nil when the results go to Stdout
	unlock      []func()
	closed      bool
}

// CheckNew refuses output paths that exist, with an ErrConflict: bulkreset
// never overwrites a results or secrets file.
func CheckNew(paths ...string) error {
	for _, p := range paths {
		if p == "" || p == "-" {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return conflict(fmt.Errorf("%s already exists; bulkreset never overwrites its outputs (choose another name)", p))
		}
	}
	return nil
}

// OpenOutputs locks the results and secrets paths, then creates them (or,
// with Resume, reads what the interrupted run finished, adds it to summary
// and opens both files for appending), before anything is sent. Neither
// file is ever overwritten. An error the arguments can fix Is ErrConflict.
func OpenOutputs(o OutputOptions, summary *Summary) (_ *Outputs, err error) {
	out := &Outputs{opts: o}
	defer func() {
		if err != nil {
			out.Release()
		}
	}()
	for _, p := range []string{o.Results, o.Secrets} {
		if p == "" || p == "-" {
			continue
		}
		unlock, err := Lock(p)
		if errors.Is(err, ErrLocked) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		out.unlock = append(out.unlock, unlock)
	}
	if o.Resume {
		return out, out.openForResume(summary)
	}
	settings := ""
	if o.Settings != nil && o.Results != "-" {
		settings = RunSettingsPath(o.Results)
	}
	if err := CheckNew(o.Secrets, o.Results, settings); err != nil {
		return nil, err
	}
	if err := CheckNoJournal(o.Secrets); err != nil {
		return nil, err
	}
	if settings != "" {
		// Recorded first: a run killed before its other files exist is
		// resumed with its settings.
		if err := WriteRunSettings(settings, *o.Settings); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				os.Remove(settings) // nothing was done under these settings
			}
		}()
	}
	return out, out.create()
}

// create creates the files of a new run.
func (out *Outputs) create() error {
	o := out.opts
	if o.Secrets != "" {
		s, err := out.createSecrets()
		if errors.Is(err, os.ErrExist) {
			return conflict(err)
		}
		if err != nil {
			return fmt.Errorf("secrets file: %w", err)
		}
		out.Secrets = s
	}
	w := o.Stdout
	if o.Results != "-" {
		f, err := CreateResultsFile(o.Results)
		if err != nil {
			if out.Secrets != nil {
				out.Secrets.Close()
				out.Secrets = nil
				os.Remove(out.secretsWriting()) // it holds no password yet
			}
			if errors.Is(err, os.ErrExist) {
				return conflict(fmt.Errorf("results file: %w", err))
			}
			return fmt.Errorf("results file: %w", err)
		}
		out.resultsFile, w = f, f
	}
	results, err := NewResultsColumns(w, o.Columns)
	if err != nil {
		return fmt.Errorf("results file: %w", err)
	}
	out.Results = results
	return nil
}

// openForResume reads the interrupted run's files and opens them for
// appending. A file the interrupted run never got to create (it was killed
// at start-up) is created now.
func (out *Outputs) openForResume(summary *Summary) error {
	o := out.opts
	resultsPath, secretsPath := existing(o.Results), existing(o.Secrets)
	if o.Keys != nil {
		secretsPath = "" // the journal: read by resumeJournal
	} else if err := checkNoJournal(o.Secrets); err != nil {
		return err
	}
	prior, err := LoadPrior(resultsPath, secretsPath, summary)
	if err != nil {
		return conflict(err)
	}
	out.Prior = prior
	if resultsPath == "" {
		f, err := CreateResultsFile(o.Results)
		if err != nil {
			return err
		}
		out.resultsFile = f
		if out.Results, err = NewResultsColumns(f, o.Columns); err != nil {
			return err
		}
	} else {
		// A file written before the client_request_id column existed
		// goes on without it: one header per file.
		cols := o.Columns
		cols.ClientRequestID = cols.ClientRequestID && hasClientRequestID(o.Results)
		f, err := OpenResultsAppendColumns(o.Results, cols)
		if err != nil {
			return err
		}
		out.resultsFile = f
		out.Results = AppendResultsColumns(f, cols)
	}
	switch {
	case o.Secrets == "":
	case o.Keys != nil:
		out.Secrets, err = out.resumeJournal()
	case secretsPath == "":
		out.Secrets, err = CreateSecretsColumns(o.Secrets, o.Columns)
	default:
		out.Secrets, err = OpenSecretsAppendColumns(o.Secrets, o.Columns)
	}
	return err
}

// existing returns path when a file is there, else "".
func existing(path string) string {
	if path == "" {
		return ""
	}
	if _, err := os.Lstat(path); err != nil {
		return ""
	}
	return path
}

// Close flushes and syncs the results file and closes both files; the
// locks stay held until Release. It may be called more than once.
func (out *Outputs) Close() error {
	if out.closed {
		return nil
	}
	out.closed = true
	var errs []error
	if out.Results != nil {
		errs = append(errs, out.Results.Flush())
	}
	if out.resultsFile != nil {
		errs = append(errs, out.resultsFile.Sync(), out.resultsFile.Close())
	}
	if out.Secrets != nil {
		errs = append(errs, out.Secrets.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing the outputs: %w", err)
	}
	return nil
}

// Release closes the outputs, if not closed yet, and releases the locks.
// It may be called more than once.
func (out *Outputs) Release() {
	out.Close()
	for _, u := range out.unlock {
		u()
	}
	out.unlock = nil
}

// DropRefused compacts the secrets file of a finished run, once every
// outcome is known: the passwords of the lines in refused were never set,
// and are dropped, so that the file lists exactly the passwords in force
// (see CompactSecrets). Call it after Close and before Release: the locks
// keep a --resume started meanwhile from appending to the file being
// rewritten, or the rename would drop its rows. It does nothing without a
// secrets file or a refused line.
//
// An encrypted secrets file is written here from its journal, refused or
// not: call it once every outcome is known whenever there is a secrets
// file.
func (out *Outputs) DropRefused(refused map[int]bool) error {
	if out.opts.Secrets == "" || out.Secrets == nil {
		return nil
	}
	if out.opts.Keys != nil {
		var keep func(SecretRow) bool // nil: every row
		if len(refused) > 0 {
			keep = func(r SecretRow) bool { return !refused[r.Line] }
		}
		return finishJournal(out.opts.Secrets, out.opts.Columns, out.key, out.opts.Keys.Recipients, keep)
	}
	if len(refused) == 0 {
		return nil
	}
	_, err := CompactSecrets(out.opts.Secrets, func(r SecretRow) bool { return !refused[r.Line] })
	return err
}

// hasClientRequestID reports whether the results file at path has the
// client_request_id column; a file that cannot be read has not (opening
// it for appending then says why).
func hasClientRequestID(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	cols, err := NewResultsReader(f).Columns()
	return err == nil && cols.ClientRequestID
}
