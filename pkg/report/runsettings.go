package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RunSettingsSuffix is appended to the results file's path to name the file
// a run's settings are recorded in: results.csv.run.json.
const RunSettingsSuffix = ".run.json"

// RunSettingsPath is the settings file of the run whose results are at
// results.
func RunSettingsPath(results string) string { return results + RunSettingsSuffix }

// RunSettings are what a run does to users and where: recorded by the first
// run before its first write, so that --resume continues that run and no
// other. They hold no secret. Flags that do not change what happens to
// users (concurrency, rate, logging, sign-in kind, client id) are not
// settings: a resume may change them.
type RunSettings struct {
	// Version and Started are for people reading the file: never compared.
	Version string    `json:"version"`
	Started time.Time `json:"started"`

	PasswordMode      string `json:"password_mode"`
	PasswordLength    int    `json:"password_length"`
	ForceChange       bool   `json:"force_change"`
	RequireMFA        bool   `json:"require_mfa"`
	RevokeSessions    bool   `json:"revoke_sessions"`
	RevokeOnlyIfReset bool   `json:"revoke_only_if_reset"`
	BlockSignIn       bool   `json:"block_sign_in"`
	Synced            string `json:"synced"`
	SkipDisabled      bool   `json:"skip_disabled"`
	SkipGuests        bool   `json:"skip_guests"`
	IncludeGuests     bool   `json:"include_guests"`
	Preflight         bool   `json:"preflight"`
	DiscardPasswords  bool   `json:"discard_passwords"`
	Tenant            string `json:"tenant"`
	Cloud             string `json:"cloud"`
	GraphURL          string `json:"graph_url,omitempty"`
	AuthorityHost     string `json:"authority_host,omitempty"`
	// Sandbox is "" for a real tenant, "builtin" for the built-in sandbox
	// tenant, else the absolute path of the sandbox tenant file.
	Sandbox string `json:"sandbox,omitempty"`
	// Secrets is the absolute path of the secrets file, "" for none.
	Secrets string        `json:"secrets,omitempty"`
	Input   InputIdentity `json:"input"`
	// UserColumn and IDColumn are the input's columns named by
	// --user-column and --id-column, as given; "" when the reader found
	// them. They decide which users the rows are.
	UserColumn string `json:"user_column,omitempty"`
	IDColumn   string `json:"id_column,omitempty"`
	// SecretsRecipients are the public keys the secrets file is encrypted
	// to (--secrets-recipient and the lines of --secrets-recipients-file),
	// sorted; SecretsColumns the input columns copied into it. Public keys
	// and column names: no secret.
	SecretsRecipients []string `json:"secrets_recipients,omitempty"`
	SecretsColumns    []string `json:"secrets_columns,omitempty"`
}

// InputIdentity names the input of a run, and for a regular file what it
// held when the run began.
type InputIdentity struct {
	// Path is the absolute path of the input, or "-" for standard input.
	Path  string `json:"path"`
	Sheet string `json:"sheet,omitempty"`
	// Size and SHA256 are those of a regular file; SHA256 is "" for
	// standard input or a pipe, which cannot be read twice.
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Setting is one setting as its flag names it and as a command line would
// give it.
type Setting struct {
	Flag  string // without dashes: "password-mode"
	Value string // as the flag takes it: "random", "true", "/abs/users.csv"
}

// Settings returns every compared setting, in the order of the flags'
// documentation. A command line that sets each flag to its Value gives the
// same run.
func (r RunSettings) Settings() []Setting {
	b := strconv.FormatBool
	return []Setting{
		{"input", r.Input.Path},
		{"sheet", r.Input.Sheet},
		{"user-column", r.UserColumn},
		{"id-column", r.IDColumn},
		{"secrets", r.Secrets},
		{"secrets-recipient", strings.Join(r.SecretsRecipients, "\n")},
		{"secrets-columns", csvList(r.SecretsColumns)},
		{"discard-passwords", b(r.DiscardPasswords)},
		{"password-mode", r.PasswordMode},
		{"password-length", strconv.Itoa(r.PasswordLength)},
		{"force-change", b(r.ForceChange)},
		{"require-mfa", b(r.RequireMFA)},
		{"revoke-sessions", b(r.RevokeSessions)},
		{"revoke-only-if-reset", b(r.RevokeOnlyIfReset)},
		{"block-sign-in", b(r.BlockSignIn)},
		{"include-guests", b(r.IncludeGuests)},
		{"preflight", b(r.Preflight)},
		{"synced", r.Synced},
		{"skip-disabled", b(r.SkipDisabled)},
		{"skip-guests", b(r.SkipGuests)},
		{"tenant", r.Tenant},
		{"cloud", r.Cloud},
		{"graph-url", r.GraphURL},
		{"authority-host", r.AuthorityHost},
		{"sandbox", r.Sandbox},
	}
}

// csvList is the values as one CSV record, as a string-slice flag reads
// its value: a name holding a comma or a quote is quoted, so that setting
// the flag to it gives the same names, and two lists that differ never
// give the same text. "" for none.
func csvList(values []string) string {
	if len(values) == 0 {
		return ""
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(values) // a strings.Builder does not fail
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// SettingDiff is a setting a resume names with another value than the run
// it resumes.
type SettingDiff struct {
	Flag        string
	Run, Resume string // the values of the run and of the resume
}

// Diff compares the settings a resume gives (given reports which flags it
// gave, by name) with those of the run it resumes, r: it returns each given
// setting whose value differs. Any input may resume a run that read
// standard input.
func (r RunSettings) Diff(resume RunSettings, given func(flag string) bool) []SettingDiff {
	var out []SettingDiff
	theirs := resume.Settings()
	for i, s := range r.Settings() {
		// A run that read standard input recorded no file: the resume may
		// give the same rows again from a file, and the line-by-line check
		// of the resume is what tells another input.
		if s.Flag == "input" && s.Value == "-" {
			continue
		}
		if given(s.Flag) && theirs[i].Value != s.Value {
			out = append(out, SettingDiff{Flag: s.Flag, Run: s.Value, Resume: theirs[i].Value})
		}
	}
	return out
}

// IdentifyInput returns the identity of the input at path: its absolute
// path, and for a regular file its size and SHA-256. Standard input ("-")
// and anything that is not a regular file (a pipe, a device) have no hash.
func IdentifyInput(path, sheet string) (InputIdentity, error) {
	if path == "-" {
		return InputIdentity{Path: "-", Sheet: sheet}, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return InputIdentity{}, fmt.Errorf("input %s: %w", path, err)
	}
	id := InputIdentity{Path: abs, Sheet: sheet}
	fi, err := os.Stat(abs)
	if err != nil || !fi.Mode().IsRegular() {
		return id, nil // opening it says what is wrong; a pipe has no hash
	}
	f, err := os.Open(abs)
	if err != nil {
		return id, nil
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return InputIdentity{}, fmt.Errorf("input %s: %w", path, err)
	}
	id.Size, id.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return id, nil
}

// SameContent reports whether the input now at id.Path is the one recorded:
// true when the recorded identity has no hash (standard input, a pipe).
func (id InputIdentity) SameContent(now InputIdentity) bool {
	return id.SHA256 == "" || id.Size == now.Size && id.SHA256 == now.SHA256
}

// WriteRunSettings records s at path, which must not exist (an error that
// Is ErrConflict otherwise): it is written to a temporary file (mode 0600,
// owner-only on Windows), synced, renamed into place, and the directory is
// synced. A crash leaves either no file or the whole one. The caller holds
// the lock of the results file path belongs to (see OpenOutputs).
func WriteRunSettings(path string, s RunSettings) (err error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("run settings: %w", err)
	}
	b = append(b, '\n')
	tmp := path + ".tmp"
	os.Remove(tmp) // a leftover of a crash while writing it
	f, err := createPrivate(tmp)
	if err != nil {
		return fmt.Errorf("run settings: %w", err)
	}
	defer os.Remove(tmp)
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("run settings %s: %w", path, err)
	}
	// The caller holds the lock of the results file, which every run
	// writing this settings file takes first: nothing can create it
	// between this check and the rename.
	if err := CheckNew(path); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("run settings: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("run settings %s: sync its directory: %w", path, err)
	}
	return nil
}

// ReadRunSettings reads the settings recorded at path. It returns an error
// that Is os.ErrNotExist when there is none (a run of an older version).
func ReadRunSettings(path string) (RunSettings, error) {
	var s RunSettings
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s: not the settings of a bulkreset run: %w", path, err)
	}
	if s.PasswordMode == "" || s.Input.Path == "" {
		return s, fmt.Errorf("%s: not the settings of a bulkreset run: no password mode or input", path)
	}
	return s, nil
}
