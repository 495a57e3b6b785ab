package report

import "fmt"

// ResumeError refuses to resume an interrupted run from its results and
// secrets files: LoadPrior, Prior.Done, Prior.Password, OpenResultsAppend
// and OpenSecretsAppend return one. Its text begins "resume: "; a command
// line that names its own flag uses Err.
type ResumeError struct {
	Err error // what is wrong with the files, or with the input against them
}

// Error is "resume: " and the cause.
func (e *ResumeError) Error() string { return "resume: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ResumeError) Unwrap() error { return e.Err }

// resumeErrorf is a *ResumeError whose cause is fmt.Errorf(format, a...).
func resumeErrorf(format string, a ...any) error {
	return &ResumeError{Err: fmt.Errorf(format, a...)}
}
