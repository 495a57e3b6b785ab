package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResumeErrorsNameNoFlag: every error refusing to resume an earlier
// run's files says what is wrong with them without naming a flag (the
// command line adds its own), and is a *ResumeError, so that the command
// line can tell it apart.
func TestResumeErrorsNameNoFlag(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	results := func(lines ...int) string {
		t.Helper()
		var b bytes.Buffer
		w, err := NewResults(&b)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range lines {
			if err := w.Write(Result{Line: line, User: "a@contoso.example", Outcome: Succeeded, HTTPStatus: 204, Attempts: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	twice := write("twice.csv", results(2, 2))
	one := write("one.csv", results(2))
	secrets := write("secrets.csv", strings.Join(SecretsHeader, ",")+"\n3,b@contoso.example,Pw-1\n3,b@contoso.example,Pw-2\n")
	okSecrets := write("ok-secrets.csv", strings.Join(SecretsHeader, ",")+"\n3,b@contoso.example,Pw-1\n")
	missing := filepath.Join(dir, "missing.csv")

	prior, err := LoadPrior(one, okSecrets, nil)
	if err != nil {
		t.Fatalf("LoadPrior: %v", err)
	}
	_, doneErr := prior.Done(2, "other@contoso.example")
	_, _, pwErr := prior.Password(3, "other@contoso.example")
	_, twiceErr := LoadPrior(twice, "", nil)
	_, secretsErr := LoadPrior(one, secrets, nil)
	_, missingErr := LoadPrior(missing, "", nil)
	_, appendErr := OpenResultsAppend(missing)
	_, secretsAppendErr := OpenSecretsAppend(missing)
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"another user done", doneErr, "resume: line 2 of the input is not the user the earlier run wrote for it"},
		{"another user recorded", pwErr, "resume: line 3 of the input is not the user the secrets file records for it"},
		{"a line twice", twiceErr, "resume: results file " + twice + " has line 2 twice"},
		{"two passwords", secretsErr, "resume: secrets file " + secrets + " records two passwords for line 3"},
		{"no results file", missingErr, "resume: "},
		{"append results", appendErr, "resume: open results file: "},
		{"append secrets", secretsAppendErr, "resume: open secrets file: "},
	} {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one beginning %q", tt.name, tt.err, tt.want)
			continue
		}
		if strings.Contains(tt.err.Error(), "--") {
			t.Errorf("%s: error %q names a flag", tt.name, tt.err)
		}
		checkResumeError(t, tt.name, tt.err)
	}
}

// checkResumeError checks that err is a *ResumeError whose cause has the
// rest of the message.
func checkResumeError(t *testing.T, name string, err error) {
	t.Helper()
	var re *ResumeError
	if !errors.As(err, &re) {
		t.Errorf("%s: error %v is not a *ResumeError", name, err)
		return
	}
	if "resume: "+re.Err.Error() != err.Error() {
		t.Errorf("%s: ResumeError.Err = %q, want the message after \"resume: \"", name, re.Err)
	}
}
