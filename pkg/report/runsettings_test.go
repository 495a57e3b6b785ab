package report

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
)

func TestRunSettingsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("UserPrincipalName\na@contoso.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := IdentifyInput(in, "")
	if err != nil {
		t.Fatal(err)
	}
	if id.Path != in || id.Size != 36 || len(id.SHA256) != 64 {
		t.Errorf("IdentifyInput = %+v", id)
	}
	s := RunSettings{Version: "v1", Started: time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC), PasswordMode: "random",
		PasswordLength: 16, ForceChange: true, RevokeSessions: true, Synced: "skip", Preflight: true, Tenant: "contoso.example",
		Cloud: "global", Secrets: filepath.Join(dir, "s.csv"), Input: id,
		SecretsRecipients: []string{"age1example", "ssh-ed25519 AAAAC3Nz example, with a comma"}, SecretsColumns: []string{"DisplayName", "Manager"}}
	path := RunSettingsPath(filepath.Join(dir, "results.csv"))
	if err := WriteRunSettings(path, s); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("settings file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	got, err := ReadRunSettings(path)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("ReadRunSettings = %+v, %v; want %+v", got, err, s)
	}
	if err := WriteRunSettings(path, s); !errors.Is(err, ErrConflict) {
		t.Errorf("second WriteRunSettings: %v, want ErrConflict (never overwritten)", err)
	}
	if _, err := ReadRunSettings(filepath.Join(dir, "none.run.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadRunSettings of no file: %v, want ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.run.json")
	os.WriteFile(bad, []byte(`{"password_mode":"random","input":{"path":"-"},"surprise":1}`), 0o600)
	if _, err := ReadRunSettings(bad); err == nil {
		t.Error("ReadRunSettings accepted an unknown setting")
	}

	// Diff lists the given settings that differ, and only those.
	resume := s
	resume.PasswordMode, resume.RevokeSessions, resume.Tenant = "none", false, "fabrikam.example"
	given := map[string]bool{"password-mode": true, "revoke-sessions": true}
	diffs := s.Diff(resume, func(f string) bool { return given[f] })
	want := []SettingDiff{{"password-mode", "random", "none"}, {"revoke-sessions", "true", "false"}}
	if len(diffs) != len(want) || diffs[0] != want[0] || diffs[1] != want[1] {
		t.Errorf("Diff = %+v, want %+v", diffs, want)
	}
	if d := s.Diff(s, func(string) bool { return true }); len(d) != 0 {
		t.Errorf("Diff of equal settings = %+v", d)
	}

	// The content is what identifies the input: the same size, other bytes.
	os.WriteFile(in, []byte("UserPrincipalName\nb@contoso.example\n"), 0o600)
	now, _ := IdentifyInput(in, "")
	if id.SameContent(now) || !(InputIdentity{Path: "-"}).SameContent(now) {
		t.Errorf("SameContent: a changed file is the same, or standard input is not")
	}
}
