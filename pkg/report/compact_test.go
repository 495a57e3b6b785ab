package report

import (
	"github.com/bulkreset/bulkreset/pkg/secret"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestCompactSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.csv")
	s, err := CreateSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := []SecretRow{
		{Line: 2, User: "a@contoso.com", Password: secret.New("Aa1!aaaaaaaa")},
		{Line: 3, User: "=b@contoso.com", Password: secret.New("=Bb2!bbbbbbb")},
		{Line: 4, User: "c@contoso.com", Password: secret.New("Cc3!cccccccc")},
	}
	if err := s.Record(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn last row, as a crash during a write leaves it: never sent.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("5,d@contoso.com,Dd4!dd")
	f.Close()
	// A leftover of a crash during an earlier compaction.
	os.WriteFile(path+".compact", []byte("junk"), 0o600)

	kept, err := CompactSecrets(path, func(r SecretRow) bool { return r.Line != 3 })
	if err != nil {
		t.Fatalf("CompactSecrets: %v", err)
	}
	if kept != 2 {
		t.Errorf("kept %d rows, want 2", kept)
	}
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadSecrets(f)
	f.Close()
	if err != nil {
		t.Fatalf("ReadSecrets after compaction: %v", err)
	}
	if len(got) != 2 || !sameSecretRow(got[0], rows[0]) || !sameSecretRow(got[1], rows[2]) {
		t.Errorf("after compaction: %v, want lines 2 and 4 with their passwords unchanged", got)
	}
	if fi, err := os.Stat(path); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o600) {
		t.Errorf("compacted file mode: %v %v, want 0600", fi.Mode().Perm(), err)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}
