//go:build unix

package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// ageKey writes a new age key file in a directory of its own (not the
// run's) and returns its identity and path.
func ageKey(t *testing.T) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(path, []byte("# created: by the test\n# public key: "+id.Recipient().String()+"\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return id, path
}

// decryptTo decrypts the age file src with ids, as `age -d` does, into a
// plain file in a directory of its own, and returns its path.
func decryptTo(t *testing.T, src string, ids ...age.Identity) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plain, err := age.Decrypt(f, ids...)
	if err != nil {
		t.Fatalf("age -d %s: %v", filepath.Base(src), err)
	}
	b, err := io.ReadAll(plain)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "secrets.csv")
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// journalPasswords reads the passwords an interrupted encrypted run
// recorded in its journal, by line.
func journalPasswords(t *testing.T, secrets string, id age.Identity) map[int]report.SecretRow {
	t.Helper()
	out := map[int]report.SecretRow{}
	rd, c, err := report.OpenSecretsJournal(report.JournalPath(secrets), []age.Identity{id})
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, io.EOF) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		r, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("journal: %v", err)
		}
		out[r.Line] = r
	}
}

// noPlainPasswords fails when any file in dir holds a password in plain
// text: every password the tenant was given so far, and every one in
// known. It returns how many passwords it looked for.
func noPlainPasswords(t *testing.T, tn *tenant, dir, when string, known map[int]report.SecretRow) int {
	t.Helper()
	pws := map[string]bool{}
	for _, c := range tn.sim.Changes() {
		if c.Password != "" {
			pws[c.Password] = true
		}
	}
	for _, r := range known {
		pws[r.Password.Reveal()] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed since the listing (the compaction's file)
		}
		if err != nil {
			t.Fatal(err)
		}
		for pw := range pws {
			if strings.Contains(string(data), pw) {
				t.Fatalf("%s: %s holds a password in plain text", when, e.Name())
			}
		}
	}
	return len(pws)
}

// TestEncryptedKillAndResume is acceptance 3: an encrypted run is killed
// (SIGKILL) part way, its journal left with a torn frame, and resumed with
// the identity; every user has exactly one password, the one `age -d` of
// the secrets file shows, and no file of the run's directory holds a
// password in plain text during the run, after the kill, or after the
// resume. A resume without the identity, or with another key, is a usage
// error that sends nothing.
func TestEncryptedKillAndResume(t *testing.T) {
	users, csv, rows := planRows(t, 2000)
	tn := startTenant(t, graphsim.Options{Latency: 40 * time.Millisecond}, users)
	dir := t.TempDir()
	in := writeFile(t, t.TempDir(), "users.csv", csv)
	id, keyFile := ageKey(t)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv.age")
	base := []string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--secrets-recipient", id.Recipient().String(), "--yes", "--quiet"}

	cmd, stderr := tn.command(t, dir, base...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	for _, n := range []int{50, 300, 700} {
		if !waitApplied(t, tn, n, exited) {
			t.Fatalf("the run ended before %d writes:\n%s", n, stderr.String())
		}
		noPlainPasswords(t, tn, dir, "during the run", nil)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() {
		t.Fatalf("the run was not killed: %v\n%s", cmd.ProcessState, stderr.String())
	}
	if _, err := os.Stat(secrets); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a killed run left the final secrets file: %v", err)
	}
	recorded := journalPasswords(t, secrets, id)
	if n := noPlainPasswords(t, tn, dir, "after the kill", recorded); n < 700 {
		t.Fatalf("only %d passwords to look for", n)
	}
	// Every user changed so far has its password in the journal.
	byUser := map[string]string{}
	for _, r := range recorded {
		byUser[strings.ToLower(r.User)] = r.Password.Reveal()
	}
	for _, u := range tn.sim.Users() {
		if u.PasswordSets != 0 && byUser[strings.ToLower(u.UPN)] != u.Password {
			t.Fatalf("%s has a password that is not the one in the journal", u.UPN)
		}
	}
	// A crash in the middle of the next frame: a length, then half of it.
	f, err := os.OpenFile(report.JournalPath(secrets), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 4, 0, 'a', 'g', 'e', '-', 'e', 'n'})
	f.Close()

	applied := tn.sim.Stats().WritesApplied
	for _, bad := range []struct {
		name string
		args []string
		want string
	}{
		{"no identity", nil, "--secrets-identity"},
		{"another key", []string{"--secrets-identity", func() string { _, p := ageKey(t); return p }()}, "is not one the journal was encrypted to"},
	} {
		again, stderr := tn.command(t, dir, append(append(base, "--resume"), bad.args...)...)
		if code := exitCode(t, again.Run()); code != exitUsage || !strings.Contains(stderr.String(), bad.want) {
			t.Errorf("resume with %s: exit %d, want %d saying %q:\n%s", bad.name, code, exitUsage, bad.want, stderr.String())
		}
		if got := tn.sim.Stats().WritesApplied; got != applied {
			t.Errorf("resume with %s sent %d writes", bad.name, got-applied)
		}
	}

	// Another recipient than the run's is a difference in the recorded
	// settings: exit 2, nothing sent.
	other, _ := ageKey(t)
	wrong, stderr := tn.command(t, dir, "reset", "--resume", "-o", results, "--secrets-recipient", other.Recipient().String(),
		"--secrets-identity", keyFile, "--yes", "--quiet")
	if code := exitCode(t, wrong.Run()); code != exitUsage || !strings.Contains(stderr.String(), "--secrets-recipient: this run used") {
		t.Errorf("resume with another recipient: exit %d, want %d naming --secrets-recipient:\n%s", code, exitUsage, stderr.String())
	}
	if got := tn.sim.Stats().WritesApplied; got != applied {
		t.Errorf("resume with another recipient sent %d writes", got-applied)
	}

	// The short form: the input, the secrets file and its recipient come
	// from the settings the run recorded; only the private key is new.
	again, stderr2 := tn.command(t, dir, "reset", "--resume", "-o", results, "--secrets-identity", keyFile, "--yes", "--quiet")
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan struct{})
	var waitErr error
	go func() { waitErr = again.Wait(); close(exited) }()
	if waitApplied(t, tn, applied+300, exited) {
		noPlainPasswords(t, tn, dir, "during the resumed run", recorded)
	}
	<-exited
	if code := exitCode(t, waitErr); code != exitRowsFailed {
		t.Fatalf("resume: exit %d, want %d:\n%s", code, exitRowsFailed, stderr2.String())
	}
	if _, err := os.Stat(report.JournalPath(secrets)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is left after the run completed: %v", err)
	}
	if fi, err := os.Stat(secrets); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v %v", fi, err)
	}
	plain := decryptTo(t, secrets, id)
	checkRun(t, tn, rows, results, plain)
	noPlainPasswords(t, tn, dir, "after the resume", recorded)
}

// TestEncryptedSSHRecipient: an SSH ed25519 public key is a recipient, and
// its private key decrypts the secrets file, as with age -d -i id_ed25519.
func TestEncryptedSSHRecipient(t *testing.T) {
	users, csv, rows := planRows(t, 60)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, t.TempDir(), "users.csv", csv)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " admin@example"
	recipientsFile := writeFile(t, t.TempDir(), "recipients.txt", "# the hand-over key\n"+authorized+"\n")
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv.age")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--secrets-recipients-file", recipientsFile, "--yes", "--quiet"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d, want %d:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshID, err := agessh.ParseIdentity(pem.EncodeToMemory(block))
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, tn, rows, results, decryptTo(t, secrets, sshID))
	noPlainPasswords(t, tn, dir, "after the run", nil)
}

// TestSecretsColumns: --secrets-columns copies input columns after the
// fixed ones, escaped against formulas, in a plain and an encrypted
// secrets file; a column the input lacks is a usage error listing those
// it has, and a column the secrets file has already is refused.
func TestSecretsColumns(t *testing.T) {
	users, _, _ := planRows(t, 10)
	tn := startTenant(t, graphsim.Options{}, users)
	var b strings.Builder
	b.WriteString("UserPrincipalName,Display Name,Manager\n")
	for i, u := range users[:5] {
		mgr := "boss@contoso.com"
		if i == 2 {
			mgr = `"=HYPERLINK(""http://x"")"`
		}
		b.WriteString(u.UPN + ",Name " + string(rune('A'+i)) + "," + mgr + "\n")
	}
	in := writeFile(t, t.TempDir(), "users.csv", b.String())
	id, _ := ageKey(t)
	for _, encrypted := range []bool{false, true} {
		dir := t.TempDir()
		results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
		args := []string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--secrets-columns", "displayname, Manager", "--yes", "--quiet"}
		if encrypted {
			args = append(args, "--secrets-recipient", id.Recipient().String())
		}
		res := runCLI(t, t.Context(), tn.getenv(nil), append(args, tn.authArgs()...)...)
		if res.code != exitOK {
			t.Fatalf("encrypted=%v: exit %d:\n%s", encrypted, res.code, res.stderr)
		}
		plain := secrets
		if encrypted {
			plain = decryptTo(t, secrets, id)
		}
		got := readFile(t, plain)
		lines := strings.Split(strings.TrimSpace(got), "\n")
		if lines[0] != "line,user,password,displayname,Manager" || len(lines) != 6 {
			t.Fatalf("encrypted=%v: secrets file header %q, %d lines", encrypted, lines[0], len(lines))
		}
		for i, l := range lines[1:] {
			wantMgr := ",boss@contoso.com"
			if i == 2 {
				wantMgr = `,"'=HYPERLINK(""http://x"")"`
			}
			if !strings.HasSuffix(l, ",Name "+string(rune('A'+i))+wantMgr) {
				t.Errorf("encrypted=%v: row %d does not end with its name and manager: %q", encrypted, i+2, l[strings.LastIndex(l, ",Name"):])
			}
		}
		f, err := os.Open(plain)
		if err != nil {
			t.Fatal(err)
		}
		srows, err := report.ReadSecrets(f)
		f.Close()
		if err != nil || len(srows) != 5 || srows[2].Extra[1] != `=HYPERLINK("http://x")` {
			t.Errorf("encrypted=%v: read back %d rows, %v", encrypted, len(srows), err)
		}
	}
	dir := t.TempDir()
	for _, bad := range []struct{ columns, want string }{
		{"Manager,Phone", `no column "Phone" in the input; its columns are "UserPrincipalName", "Display Name", "Manager"`},
		{"Password", "a column the secrets or results file has already"},
	} {
		res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r.csv"), "--secrets", filepath.Join(dir, "s.csv"),
			"--secrets-columns", bad.columns, "--yes"}, tn.authArgs()...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, bad.want) {
			t.Errorf("--secrets-columns %s: exit %d, want %d saying %q:\n%s", bad.columns, res.code, exitUsage, bad.want, res.stderr)
		}
	}
	if n := tn.sim.Stats().WritesApplied; n != 10 {
		t.Errorf("%d writes applied, want 10 (the two good runs)", n)
	}
}

// TestHandOverUsageErrors: the hand-over flags' mistakes are usage errors
// before anything is read or sent, and a private key given where a public
// key or a key file belongs is never repeated back.
func TestHandOverUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\na@contoso.com\n")
	id, keyFile := ageKey(t)
	pub := id.Recipient().String()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--secrets-recipient", pub, "--discard-passwords"}, "need --secrets FILE"},
		{[]string{"--secrets", "s.age", "--secrets-recipient", id.String()}, "this is an age private key"},
		{[]string{"--secrets", "s.age", "--secrets-recipient", "age1notakey"}, "not a valid age public key"},
		{[]string{"--secrets", "s.age", "--secrets-recipient", pub, "--secrets-identity", keyFile}, "--resume only"},
		{[]string{"--secrets", "s.age", "--secrets-identity", keyFile, "--resume", "-o", "r.csv"}, "give the --secrets-recipient keys"},
		{[]string{"--secrets", "s.age", "--secrets-recipient", pub, "--secrets-identity", id.String(), "--resume", "-o", "r.csv"}, "never the key itself"},
		{[]string{"--secrets", "s.csv", "--secrets-columns", "tenant"}, "has already"},
	} {
		args := append([]string{"reset", "-i", in, "--yes", "--sandbox"}, tt.args...)
		res := runCLI(t, t.Context(), func(string) string { return "" }, args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%q: exit %d, want %d saying %q:\n%s", tt.args, res.code, exitUsage, tt.want, res.stderr)
		}
		if strings.Contains(res.stderr+res.stdout, id.String()) {
			t.Errorf("%q: the private key is repeated in the output", tt.args)
		}
	}
}

// TestEncryptedInterruptSaysIdentity: an interrupted encrypted run says,
// with its resume command, that the resume needs the private key; the
// printed command with --secrets-identity finishes the run.
func TestEncryptedInterruptSaysIdentity(t *testing.T) {
	users, csv, rows := planRows(t, 2000)
	tn := startTenant(t, graphsim.Options{Latency: 30 * time.Millisecond}, users)
	dir := t.TempDir()
	in := writeFile(t, t.TempDir(), "users.csv", csv)
	id, keyFile := ageKey(t)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv.age")
	stderr := interruptMidRun(t, tn, dir, 1, "reset", "-i", in, "-o", results, "--secrets", secrets,
		"--secrets-recipient", id.Recipient().String(), "--yes")
	if !strings.Contains(stderr, "add --secrets-identity") {
		t.Fatalf("the interrupted encrypted run does not say its resume needs --secrets-identity:\n%s", stderr)
	}
	var resume string
	for _, line := range strings.Split(stderr, "\n") {
		if after, ok := strings.CutPrefix(line, "To finish the run: "); ok {
			resume = after
		}
	}
	words := splitCommand(t, resume)
	if len(words) < 2 {
		t.Fatalf("no resume command printed:\n%s", stderr)
	}
	again, stderr2 := tn.command(t, dir, append(words[1:], "--secrets-identity", keyFile)...)
	if code := exitCode(t, again.Run()); code != exitRowsFailed {
		t.Fatalf("the resume command exited %d, want %d:\n%s", code, exitRowsFailed, stderr2.String())
	}
	checkRun(t, tn, rows, results, decryptTo(t, secrets, id))
	noPlainPasswords(t, tn, dir, "after the resume", nil)
}
