package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/bulkreset/bulkreset/pkg/secret"
)

// ageRun is an encrypted run's outputs in a directory of their own.
type ageRun struct {
	dir, results, secrets string
	id                    *age.X25519Identity
	cols                  Columns
}

func newAgeRun(t *testing.T) *ageRun {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return &ageRun{dir: dir, results: filepath.Join(dir, "results.csv"), secrets: filepath.Join(dir, "secrets.csv.age"), id: id,
		cols: Columns{Tenant: true, SecretsExtra: NewExtraColumns("DisplayName", "Manager")}}
}

// open opens the outputs, resuming with the identities ids when resume.
func (r *ageRun) open(resume bool, ids ...age.Identity) (*Outputs, error) {
	keys := &SecretsKeys{Recipients: []age.Recipient{r.id.Recipient()}, Identities: ids, IdentityFile: "key.txt"}
	return OpenOutputs(OutputOptions{Results: r.results, Secrets: r.secrets, Resume: resume, Columns: r.cols, Keys: keys}, nil)
}

// row is the secrets row of line: its password is unique to the line.
func ageRow(line int) SecretRow {
	return SecretRow{Line: line, User: fmt.Sprintf("u%d@contoso.com", line), Password: secret.New(fmt.Sprintf("Pw-%d-xq7Lz9", line)),
		Tenant: "contoso.com", Extra: []string{fmt.Sprintf("User %d", line), "=HYPERLINK(\"x\")"}}
}

// scanPlain fails when any file in dir holds one of the passwords of
// lines in plain text.
func scanPlain(t *testing.T, dir string, lines ...int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if strings.Contains(string(data), ageRow(l).Password.Reveal()) {
				t.Errorf("%s holds the password of line %d in plain text", e.Name(), l)
			}
		}
	}
}

// decryptSecrets reads the final secrets file as age -d would.
func (r *ageRun) decrypt(t *testing.T) []SecretRow {
	t.Helper()
	rd := NewSecretsReader(strings.NewReader(decryptRaw(t, r)))
	if cols, err := rd.Columns(); err != nil || cols != r.cols {
		t.Fatalf("columns %+v, %v; want %+v", cols, err, r.cols)
	}
	rows, err := rd.readAll()
	if err != nil {
		t.Fatalf("the decrypted secrets file: %v", err)
	}
	return rows
}

func lines(rows []SecretRow) []int {
	var out []int
	for _, r := range rows {
		out = append(out, r.Line)
	}
	return out
}

func recordAge(t *testing.T, out *Outputs, ls ...int) {
	t.Helper()
	var rows []SecretRow
	for _, l := range ls {
		rows = append(rows, ageRow(l))
	}
	if err := out.Secrets.Record(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

// TestEncryptedSecretsFile: a run's passwords are never plain text in its
// directory, and the completed run leaves one age message of the secrets
// CSV, without the refused passwords, with the extra columns escaped, and
// no journal.
func TestEncryptedSecretsFile(t *testing.T) {
	r := newAgeRun(t)
	out, err := r.open(false)
	if err != nil {
		t.Fatal(err)
	}
	recordAge(t, out, 2, 3)
	recordAge(t, out, 4)
	scanPlain(t, r.dir, 2, 3, 4)
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.DropRefused(map[int]bool{3: true}); err != nil {
		t.Fatal(err)
	}
	out.Release()
	scanPlain(t, r.dir, 2, 3, 4)
	if _, err := os.Stat(JournalPath(r.secrets)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there after the run completed: %v", err)
	}
	if fi, err := os.Stat(r.secrets); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v, %v", fi, err)
	}
	rows := r.decrypt(t)
	if got := lines(rows); !slices.Equal(got, []int{2, 4}) {
		t.Fatalf("decrypted lines %v, want [2 4] (3 was refused)", got)
	}
	for _, got := range rows {
		want := ageRow(got.Line)
		if !got.Password.Equal(want.Password) || got.User != want.User || got.Tenant != want.Tenant || !slices.Equal(got.Extra, want.Extra) {
			t.Errorf("line %d: %v %q %q, want %v %q %q", got.Line, got, got.Tenant, got.Extra, want, want.Tenant, want.Extra)
		}
	}
	plain := decryptRaw(t, r)
	if !strings.HasPrefix(plain, "line,user,password,tenant,DisplayName,Manager\n") || !strings.Contains(plain, `'=HYPERLINK(""x"")`) {
		t.Errorf("decrypted CSV header or escaping wrong:\n%s", strings.SplitN(plain, "\n", 2)[0])
	}
}

func decryptRaw(t *testing.T, r *ageRun) string {
	t.Helper()
	f, err := os.Open(r.secrets)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plain, err := age.Decrypt(f, r.id)
	if err != nil {
		t.Fatalf("age -d of the secrets file: %v", err)
	}
	b, err := io.ReadAll(plain)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// interrupted leaves the journal of a run killed after recording lines.
func (r *ageRun) interrupted(t *testing.T, ls ...[]int) {
	t.Helper()
	out, err := r.open(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		recordAge(t, out, l...)
	}
	out.Release() // no DropRefused: the run did not complete
	if _, err := os.Stat(r.secrets); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an interrupted run left %s: %v", r.secrets, err)
	}
}

// TestEncryptedResume: --resume reads the recorded passwords with the
// identity, cuts a torn last frame, appends, and completes into one age
// message; without the identity, or with another, it is a usage error.
func TestEncryptedResume(t *testing.T) {
	r := newAgeRun(t)
	r.interrupted(t, []int{2, 3}, []int{4})
	journal := JournalPath(r.secrets)
	whole := fileSize(t, journal)
	// A crash in the middle of the next frame's write.
	appendBytes(t, journal, []byte{0, 0, 1, 0, 'a', 'g', 'e'})

	if _, err := r.open(true); !errors.Is(err, ErrIdentityNeeded) || !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "--secrets-identity") {
		t.Fatalf("resume without an identity: %v, want ErrIdentityNeeded, a conflict", err)
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := r.open(true, other); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "not one the journal was encrypted to") {
		t.Fatalf("resume with another key: %v", err)
	}
	out, err := r.open(true, r.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []int{2, 3, 4} {
		pw, ok, err := out.Prior.Password(l, ageRow(l).User)
		if err != nil || !ok || !pw.Equal(ageRow(l).Password) {
			t.Errorf("line %d: the recorded password is not read back (%v, %v)", l, ok, err)
		}
	}
	if got := fileSize(t, journal); got != whole {
		t.Errorf("journal is %d bytes after resume, want %d: the torn frame is not cut", got, whole)
	}
	recordAge(t, out, 5)
	scanPlain(t, r.dir, 2, 3, 4, 5)
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.DropRefused(nil); err != nil {
		t.Fatal(err)
	}
	out.Release()
	if got := lines(r.decrypt(t)); !slices.Equal(got, []int{2, 3, 4, 5}) {
		t.Fatalf("decrypted lines %v, want [2 3 4 5]", got)
	}
	scanPlain(t, r.dir, 2, 3, 4, 5)
	// The run is complete: a further --resume has nothing to do.
	if _, err := r.open(true, r.id); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "nothing to resume") {
		t.Errorf("resume of a completed run: %v", err)
	}
}

// TestEncryptedResumeDamagedFrame: a last frame that does not decrypt
// (the garbage a crash left) is cut like a torn one; a damaged frame
// before the last is an error, never silently dropped.
func TestEncryptedResumeDamagedFrame(t *testing.T) {
	for _, last := range []bool{true, false} {
		t.Run(fmt.Sprintf("last=%v", last), func(t *testing.T) {
			r := newAgeRun(t)
			r.interrupted(t, []int{2}, []int{3}, []int{4})
			journal := JournalPath(r.secrets)
			data, err := os.ReadFile(journal)
			if err != nil {
				t.Fatal(err)
			}
			at := len(data) - 3 // inside the last frame's payload
			if !last {
				at = frameOffset(t, data, 2) + 40 // inside the second row frame
			}
			data[at] ^= 0xff
			if err := os.WriteFile(journal, data, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := r.open(true, r.id)
			if !last {
				if err == nil || !strings.Contains(err.Error(), "damaged") {
					t.Fatalf("a damaged frame before the last: %v, want an error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if _, ok, _ := out.Prior.Password(4, ageRow(4).User); ok {
				t.Error("the damaged last frame's row was read")
			}
			if _, ok, _ := out.Prior.Password(3, ageRow(3).User); !ok {
				t.Error("the row before the damaged last frame was lost")
			}
		})
	}
}

// frameOffset returns the offset of the n-th frame (0 is the key frame).
func frameOffset(t *testing.T, data []byte, n int) int {
	t.Helper()
	off := len(journalMagic)
	for range n {
		size := int(data[off])<<24 | int(data[off+1])<<16 | int(data[off+2])<<8 | int(data[off+3])
		off += 4 + size
	}
	if off >= len(data) {
		t.Fatalf("no frame %d", n)
	}
	return off
}

// TestEncryptedResumeWithoutPasswords: a run interrupted before its first
// password leaves a journal with its key frame only; --resume needs no
// private key for it.
func TestEncryptedResumeWithoutPasswords(t *testing.T) {
	r := newAgeRun(t)
	r.interrupted(t)
	out, err := r.open(true)
	if err != nil {
		t.Fatalf("resume of a journal without passwords, without an identity: %v", err)
	}
	recordAge(t, out, 2)
	out.Close()
	if err := out.DropRefused(nil); err != nil {
		t.Fatal(err)
	}
	out.Release()
	if got := lines(r.decrypt(t)); !slices.Equal(got, []int{2}) {
		t.Fatalf("decrypted lines %v, want [2]", got)
	}
}

// TestOpenSecretsJournal reads an interrupted run's passwords, as a
// person with the key may need to.
func TestOpenSecretsJournal(t *testing.T) {
	r := newAgeRun(t)
	r.interrupted(t, []int{2, 3})
	rd, c, err := OpenSecretsJournal(JournalPath(r.secrets), []age.Identity{r.id})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := rd.readAll()
	if err != nil || !slices.Equal(lines(rows), []int{2, 3}) {
		t.Fatalf("rows %v, %v", lines(rows), err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestResumeEncryptionMismatch: a plain --resume of an encrypted run, or
// an encrypted --resume of a plain run, is refused before anything is
// opened for writing: either would record passwords where the interrupted
// run's are not, and give a row whose outcome is unknown a second password.
func TestResumeEncryptionMismatch(t *testing.T) {
	r := newAgeRun(t)
	r.interrupted(t, []int{2})
	_, err := OpenOutputs(OutputOptions{Results: r.results, Secrets: r.secrets, Resume: true, Columns: r.cols}, nil)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "encrypted its secrets") {
		t.Errorf("plain resume of an encrypted run: %v", err)
	}
	if _, err := os.Stat(r.secrets); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a plain resume of an encrypted run created %s", r.secrets)
	}

	plain := newAgeRun(t)
	out, err := OpenOutputs(OutputOptions{Results: plain.results, Secrets: plain.secrets, Columns: plain.cols}, nil)
	if err != nil {
		t.Fatal(err)
	}
	recordAge(t, out, 2)
	out.Release()
	if _, err := plain.open(true, plain.id); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "plain secrets file") {
		t.Errorf("encrypted resume of a plain run: %v", err)
	}
}

// TestEncryptedResumeTornRows: a crash while the frame of line 4 was being
// written (never synced: its request was never sent) leaves part of it;
// --resume cuts it, line 4 has no recorded password and is done again, and
// the final file has the new one.
func TestEncryptedResumeTornRows(t *testing.T) {
	r := newAgeRun(t)
	r.interrupted(t, []int{2, 3})
	journal := JournalPath(r.secrets)
	whole := fileSize(t, journal)
	out, err := r.open(true, r.id)
	if err != nil {
		t.Fatal(err)
	}
	recordAge(t, out, 4)
	out.Release()
	if err := os.Truncate(journal, fileSize(t, journal)-10); err != nil {
		t.Fatal(err)
	}
	out, err = r.open(true, r.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := out.Prior.Password(4, ageRow(4).User); ok {
		t.Error("the torn frame's row was read")
	}
	if got := fileSize(t, journal); got != whole {
		t.Errorf("journal is %d bytes, want %d: the torn frame is not cut", got, whole)
	}
	redone := ageRow(4)
	redone.Password = secret.New("Another-Pw-4-kq2")
	if err := out.Secrets.Record(context.Background(), []SecretRow{redone}); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if err := out.DropRefused(nil); err != nil {
		t.Fatal(err)
	}
	out.Release()
	rows := r.decrypt(t)
	if got := lines(rows); !slices.Equal(got, []int{2, 3, 4}) || !rows[2].Password.Equal(redone.Password) {
		t.Fatalf("decrypted lines %v; line 4 must hold the password sent again", got)
	}
}
