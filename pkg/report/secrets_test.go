package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"github.com/bulkreset/bulkreset/pkg/secret/secrettest"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
)

const secretsHeaderLine = "line,user,password\n"

// fakeFile is a File in memory. It counts writes and syncs, can fail, and
// can hold every Sync until the test releases it.
type fakeFile struct {
	mu        sync.Mutex
	data      bytes.Buffer
	synced    int // length of data at the last successful Sync
	writes    int
	syncs     int
	closed    bool
	writeErr  error         // returned by every Write when set
	shortBy   int           // Write reports this many bytes fewer, without error
	syncErr   error         // returned by every Sync when set
	syncEnter chan struct{} // when not nil, Sync sends on it as it starts
	syncGate  chan struct{} // when not nil, Sync waits for a value on it
}

func (f *fakeFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.writeErr != nil {
		return 0, f.writeErr
	}
	n := max(len(p)-f.shortBy, 0)
	f.data.Write(p[:n])
	return n, nil
}

func (f *fakeFile) Sync() error {
	if f.syncEnter != nil {
		f.syncEnter <- struct{}{}
	}
	if f.syncGate != nil {
		<-f.syncGate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs++
	if f.syncErr != nil {
		return f.syncErr
	}
	f.synced = f.data.Len()
	return nil
}

func (f *fakeFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// durable reports whether s is in the part of the file already synced.
func (f *fakeFile) durable(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Contains(string(f.data.Bytes()[:f.synced]), s)
}

func (f *fakeFile) counts() (writes, syncs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes, f.syncs
}

func (f *fakeFile) content() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data.String()
}

func row(line int) SecretRow {
	return SecretRow{Line: line, User: fmt.Sprintf("user%d@contoso.com", line), Password: secret.New(fmt.Sprintf("Pw-%d!x", line))}
}

// rowText is how row(line) appears in the file.
func rowText(line int) string {
	r := row(line)
	return fmt.Sprintf("%d,%s,%s\n", r.Line, r.User, r.Password.Reveal())
}

// parseRows reads the rows of a secrets file body written without header.
func parseRows(t *testing.T, body string) []SecretRow {
	t.Helper()
	rows, err := ReadSecrets(strings.NewReader(secretsHeaderLine + body))
	if err != nil {
		t.Fatalf("ReadSecrets: %v", err)
	}
	return rows
}

func TestRecordConcurrentEveryRowOnceAndDurable(t *testing.T) {
	const goroutines, calls, perCall = 24, 20, 3
	ff := &fakeFile{}
	s := NewSecrets(ff)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*calls)
	for g := range goroutines {
		wg.Go(func() {
			for c := range calls {
				first := (g*calls+c)*perCall + 1
				rows := []SecretRow{row(first), row(first + 1), row(first + 2)}
				if err := s.Record(context.Background(), rows); err != nil {
					errs <- err
					return
				}
				for _, r := range rows {
					if !ff.durable(rowText(r.Line)) {
						errs <- fmt.Errorf("Record returned before line %d was synced", r.Line)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	seen := make(map[int]int)
	for _, r := range parseRows(t, ff.content()) {
		seen[r.Line]++
		if want := row(r.Line); !sameSecretRow(r, want) {
			t.Errorf("line %d: got user %q, want %q (or a different password)", r.Line, r.User, want.User)
		}
	}
	total := goroutines * calls * perCall
	if len(seen) != total {
		t.Errorf("got %d distinct rows, want %d", len(seen), total)
	}
	for line, n := range seen {
		if n != 1 {
			t.Errorf("line %d written %d times, want once", line, n)
		}
	}
	writes, syncs := ff.counts()
	if syncs > goroutines*calls || writes != syncs {
		t.Errorf("got %d writes and %d syncs for %d Record calls, want equal counts, at most one per call", writes, syncs, goroutines*calls)
	}
	if !ff.closed {
		t.Error("Close did not close the file")
	}
}

func TestRecordGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const waiting = 10
		ff := &fakeFile{syncGate: make(chan struct{})}
		s := NewSecrets(ff)
		done := make(chan error, waiting+1)
		go func() { done <- s.Record(context.Background(), []SecretRow{row(1)}) }()
		synctest.Wait() // the committer is in the first Sync
		for i := range waiting {
			go func() { done <- s.Record(context.Background(), []SecretRow{row(i + 2)}) }()
		}
		synctest.Wait() // every other caller waits for that Sync
		if len(done) != 0 {
			t.Fatalf("%d Record calls returned before their sync", len(done))
		}
		ff.syncGate <- struct{}{} // the first sync completes
		synctest.Wait()           // the committer is in the second Sync, with every waiting row
		if len(done) != 1 {
			t.Fatalf("got %d Record calls returned after the first sync, want 1", len(done))
		}
		if err := <-done; err != nil {
			t.Fatalf("first Record: %v", err)
		}
		if writes, _ := ff.counts(); writes != 2 {
			t.Errorf("got %d writes, want 2: the rows that waited during the first sync go in one", writes)
		}
		ff.syncGate <- struct{}{}
		for range waiting {
			if err := <-done; err != nil {
				t.Errorf("Record: %v", err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		writes, syncs := ff.counts()
		if writes != 2 || syncs != 2 {
			t.Errorf("got %d writes and %d syncs for %d Record calls, want 2 and 2", writes, syncs, waiting+1)
		}
		if got := len(parseRows(t, ff.content())); got != waiting+1 {
			t.Errorf("got %d rows in the file, want %d", got, waiting+1)
		}
	})
}

func TestRecordStickyError(t *testing.T) {
	tests := []struct {
		name  string
		file  *fakeFile
		want  error
		syncs int // syncs attempted by the first Record
	}{
		{name: "disk full on write", file: &fakeFile{writeErr: syscall.ENOSPC}, want: syscall.ENOSPC, syncs: 0},
		{name: "short write", file: &fakeFile{shortBy: 1}, want: io.ErrShortWrite, syncs: 0},
		{name: "sync fails", file: &fakeFile{syncErr: syscall.EIO}, want: syscall.EIO, syncs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSecrets(tt.file)
			if err := s.Record(context.Background(), []SecretRow{row(1)}); !errors.Is(err, tt.want) {
				t.Fatalf("first Record: got %v, want an error wrapping %v", err, tt.want)
			}
			if _, syncs := tt.file.counts(); syncs != tt.syncs {
				t.Errorf("got %d syncs, want %d", syncs, tt.syncs)
			}
			// The disk recovers, but nothing more may be sent: the error sticks.
			tt.file.mu.Lock()
			tt.file.writeErr, tt.file.shortBy, tt.file.syncErr = nil, 0, nil
			tt.file.mu.Unlock()
			for i := range 3 {
				if err := s.Record(context.Background(), []SecretRow{row(i + 2)}); !errors.Is(err, tt.want) {
					t.Errorf("Record after the failure: got %v, want an error wrapping %v", err, tt.want)
				}
			}
			if err := s.Record(context.Background(), nil); !errors.Is(err, tt.want) {
				t.Errorf("Record(no rows) after the failure: got %v, want an error wrapping %v", err, tt.want)
			}
			if writes, _ := tt.file.counts(); writes != 1 {
				t.Errorf("got %d writes, want 1: nothing is written after a failure", writes)
			}
			if err := s.Close(); !errors.Is(err, tt.want) {
				t.Errorf("Close: got %v, want an error wrapping %v", err, tt.want)
			}
			if !tt.file.closed {
				t.Error("Close did not close the file")
			}
		})
	}
}

func TestRecordContext(t *testing.T) {
	t.Run("done before", func(t *testing.T) {
		ff := &fakeFile{}
		s := NewSecrets(ff)
		defer s.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Record(ctx, []SecretRow{row(1)}); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want an error wrapping context.Canceled", err)
		}
		if writes, _ := ff.counts(); writes != 0 {
			t.Errorf("got %d writes, want 0", writes)
		}
	})
	t.Run("done while queued", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ff := &fakeFile{syncGate: make(chan struct{})}
			s := NewSecrets(ff)
			first := make(chan error, 1)
			go func() { first <- s.Record(context.Background(), []SecretRow{row(1)}) }()
			synctest.Wait() // the committer is busy syncing row 1
			ctx, cancel := context.WithCancel(context.Background())
			queued := make(chan error, 1)
			go func() { queued <- s.Record(ctx, []SecretRow{row(2)}) }()
			synctest.Wait()
			cancel()
			if err := <-queued; !errors.Is(err, context.Canceled) {
				t.Errorf("queued Record: got %v, want an error wrapping context.Canceled", err)
			}
			ff.syncGate <- struct{}{}
			if err := <-first; err != nil {
				t.Errorf("first Record: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(ff.content(), rowText(2)) {
				t.Errorf("the file holds the row whose caller gave up before it was taken: %q", ff.content())
			}
		})
	})
	t.Run("done while syncing", func(t *testing.T) {
		ff := &fakeFile{syncEnter: make(chan struct{}), syncGate: make(chan struct{})}
		s := NewSecrets(ff)
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan error, 1)
		go func() { got <- s.Record(ctx, []SecretRow{row(1)}) }()
		<-ff.syncEnter
		cancel()
		if err := <-got; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want an error wrapping context.Canceled", err)
		}
		close(ff.syncGate)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func TestRecordAfterClose(t *testing.T) {
	s := NewSecrets(&fakeFile{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(context.Background(), []SecretRow{row(1)}); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
}

func TestRecordWritesPasswordsLiterally(t *testing.T) {
	rows := []SecretRow{
		{Line: 2, User: "=evil@contoso.com", Password: secret.New("=1+1abcD")},
		{Line: 3, User: "-x@contoso.com", Password: secret.New("-Abc123!")},
		{Line: 4, User: "a@contoso.com", Password: secret.New("@Home2025")},
		{Line: 5, User: "b@contoso.com", Password: secret.New("+Plus9xy")},
		{Line: 6, User: "c@contoso.com", Password: secret.New(`a,"b" c'D1`)},
		{Line: 7, User: "d@contoso.com", Password: secret.New(" Lead1ng space")},
		{Line: 8, User: "e@contoso.com", Password: secret.New("'=Quoted1")},
	}
	ff := &fakeFile{}
	s := NewSecrets(ff)
	if err := s.Record(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, []byte(ff.content()))
	for i, r := range rows {
		if got := recs[i][2]; got != r.Password.Reveal() {
			t.Errorf("line %d: password cell differs from the password set (escaped or altered)", r.Line)
		}
		if got, want := recs[i][1], escapeCell(r.User); got != want {
			t.Errorf("line %d: user cell = %q, want %q", r.Line, got, want)
		}
	}
	got := parseRows(t, ff.content())
	if len(got) != len(rows) {
		t.Fatalf("ReadSecrets: got %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if !sameSecretRow(got[i], rows[i]) {
			t.Errorf("ReadSecrets row %d: got %v, want %v (passwords compared, not shown)", i, got[i], rows[i])
		}
	}
}

const testPassword = "Sup3r-S3cret!pw"

func TestNoPasswordInErrors(t *testing.T) {
	s := NewSecrets(&fakeFile{})
	defer s.Close()
	errs := map[string]error{}
	errs["Record empty password"] = s.Record(context.Background(), []SecretRow{{Line: 2, User: "a", Password: secret.New("")}})
	errs["Record line break"] = s.Record(context.Background(), []SecretRow{{Line: 2, User: "a", Password: secret.New(testPassword + "\r\n")}})
	for name, in := range map[string]string{
		"no header":        "2,a@b.c," + testPassword + "\n",
		"password as line": secretsHeaderLine + testPassword + ",a@b.c,x\n",
		"extra field":      secretsHeaderLine + "2,a@b.c," + testPassword + ",x\n",
		"bad quote":        secretsHeaderLine + "2,a@b.c,\"" + testPassword + "\"x\n",
		"torn":             secretsHeaderLine + "2,a@b.c," + testPassword,
		"empty password":   secretsHeaderLine + "2,a@b.c,\n",
	} {
		_, errs["ReadSecrets "+name] = ReadSecrets(strings.NewReader(in))
		path := filepath.Join(t.TempDir(), "s.csv")
		if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := OpenSecretsAppend(path); err == nil {
			s.Close()
		} else {
			errs["OpenSecretsAppend "+name] = err
		}
	}
	errs["Record when the disk is full"] = func() error {
		s := NewSecrets(&fakeFile{writeErr: syscall.ENOSPC})
		defer s.Close()
		return s.Record(context.Background(), []SecretRow{{Line: 2, User: "a", Password: secret.New(testPassword)}})
	}()
	for name, err := range errs {
		if err == nil {
			if !strings.HasPrefix(name, "OpenSecretsAppend") {
				t.Errorf("%s: got nil error, want one", name)
			}
			continue
		}
		if strings.Contains(err.Error(), "S3cret") {
			t.Errorf("%s: the error text contains the password", name)
		}
	}
}

func TestSecretRowNeverShowsPassword(t *testing.T) {
	r := SecretRow{Line: 4, User: "a@contoso.com", Password: secret.New(testPassword)}
	secrettest.Hidden(t, r, testPassword)
	if out := fmt.Sprintf("%v", r); !strings.Contains(out, "a@contoso.com") {
		t.Errorf("%%v = %q, want the user in it", out)
	}
}

func TestCreateSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.csv")
	s, err := CreateSecrets(path)
	if err != nil {
		t.Fatalf("CreateSecrets: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != secretsHeaderLine {
		t.Errorf("right after CreateSecrets the file holds %q, want the header %q", got, secretsHeaderLine)
	}
	if err := s.Record(context.Background(), []SecretRow{row(2), row(3)}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := secretsHeaderLine + rowText(2) + rowText(3)
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Error("the file does not hold the header and the two rows recorded")
	}

	if _, err := CreateSecrets(path); !errors.Is(err, os.ErrExist) {
		t.Errorf("CreateSecrets(existing file): got %v, want an error wrapping os.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Error("CreateSecrets changed an existing file")
	}
	for _, p := range []string{"", "-"} {
		if _, err := CreateSecrets(p); err == nil {
			t.Errorf("CreateSecrets(%q): got nil error, want a refusal", p)
		}
	}
	if _, err := CreateSecrets(filepath.Join(t.TempDir(), "missing-dir", "s.csv")); err == nil {
		t.Error("CreateSecrets in a missing directory: got nil error")
	}
}

func TestOpenSecretsAppend(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string // after recording row 9
		wantErr error
	}{
		{name: "complete file", content: secretsHeaderLine + rowText(2), want: secretsHeaderLine + rowText(2) + rowText(9)},
		{name: "torn last row is cut", content: secretsHeaderLine + rowText(2) + "3,user3@contoso.com,Pw-",
			want: secretsHeaderLine + rowText(2) + rowText(9)},
		{name: "torn row without a newline anywhere after the header", content: secretsHeaderLine + "3,us",
			want: secretsHeaderLine + rowText(9)},
		{name: "empty file gets a header", content: "", want: secretsHeaderLine + rowText(9)},
		{name: "torn header", content: "line,u", want: secretsHeaderLine + rowText(9)},
		{name: "not a secrets file", content: "UserPrincipalName,Password\n", wantErr: ErrHeader},
		{name: "a results file", content: resultsHeaderLine, wantErr: ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secrets.csv")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			before, err := ReadSecrets(strings.NewReader(tt.content))
			s, err2 := OpenSecretsAppend(path)
			if tt.wantErr != nil {
				if !errors.Is(err2, tt.wantErr) {
					t.Errorf("OpenSecretsAppend: got %v, want an error wrapping %v", err2, tt.wantErr)
				}
				if got, _ := os.ReadFile(path); string(got) != tt.content {
					t.Error("a refused file was changed")
				}
				return
			}
			if err2 != nil {
				t.Fatalf("OpenSecretsAppend: %v", err2)
			}
			if err := s.Record(context.Background(), []SecretRow{row(9)}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file holds %q, want %q", got, tt.want)
			}
			// What ReadSecrets accepted before (a torn row aside) is still there.
			after, err3 := ReadSecrets(bytes.NewReader(got))
			if err3 != nil {
				t.Fatalf("ReadSecrets after appending: %v", err3)
			}
			if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrHeader) {
				t.Fatalf("ReadSecrets before: %v", err)
			}
			if len(after) != len(before)+1 {
				t.Errorf("got %d rows after appending one to %d", len(after), len(before))
			}
		})
	}
}

func TestOpenSecretsAppendRefusals(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenSecretsAppend(dir); err == nil {
		t.Error("OpenSecretsAppend(a directory): got nil error, want a refusal")
	}
	if _, err := OpenSecretsAppend(filepath.Join(dir, "missing.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenSecretsAppend(missing file): got %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestReadSecrets(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []SecretRow
		wantLine int // 0: no error
		wantErr  error
	}{
		{name: "header only", in: secretsHeaderLine},
		{name: "rows", in: secretsHeaderLine + "2,'=a@b.c,=Pw1abcde\n3,b@b.c,\"x,y\"\"Z1\"\n",
			want: []SecretRow{{Line: 2, User: "=a@b.c", Password: secret.New("=Pw1abcde")}, {Line: 3, User: "b@b.c", Password: secret.New(`x,y"Z1`)}}},
		{name: "torn last row", in: secretsHeaderLine + "2,a,Pw1abcde\n3,b,Pw", want: []SecretRow{{Line: 2, User: "a", Password: secret.New("Pw1abcde")}},
			wantLine: 3, wantErr: ErrTruncated},
		{name: "no header", in: "2,a,Pw1abcde\n", wantLine: 1, wantErr: ErrHeader},
		{name: "empty password", in: secretsHeaderLine + "2,a,\n", wantLine: 2},
		{name: "bad line", in: secretsHeaderLine + "two,a,Pw1abcde\n", wantLine: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSecrets(strings.NewReader(tt.in))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rows, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !sameSecretRow(got[i], tt.want[i]) {
					t.Errorf("row %d: got %v, want %v (passwords compared, not shown)", i, got[i], tt.want[i])
				}
			}
			if tt.wantLine == 0 {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != tt.wantLine {
				t.Errorf("got error %v, want a *ParseError at line %d", err, tt.wantLine)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v, want one wrapping %v", err, tt.wantErr)
			}
		})
	}
}

func TestSecretsReaderStreams(t *testing.T) {
	r := NewSecretsReader(strings.NewReader(secretsHeaderLine + rowText(2) + rowText(3)))
	for _, line := range []int{2, 3} {
		got, err := r.Read()
		if err != nil || !sameSecretRow(got, row(line)) {
			t.Fatalf("Read: got %v, %v, want %v", got, err, row(line))
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Errorf("Read after the end: got %v, want io.EOF", err)
	}
}

func FuzzReadSecrets(f *testing.F) {
	f.Add([]byte(secretsHeaderLine))
	f.Add([]byte(secretsHeaderLine + "2,'=a@b.c,=Pw1abcde\n3,b@b.c,\"x,y\"\"Z1\"\n"))
	f.Add([]byte(secretsHeaderLine + "2,a,Pw"))
	f.Add([]byte(utf8BOM + secretsHeaderLine + "2,a,\" lead\"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadSecrets(bytes.NewReader(data))
		if err != nil {
			checkParseError(t, err)
			return
		}
		// What was read is recorded again identically.
		for _, r := range rows {
			if strings.ContainsAny(r.Password.Reveal(), "\r\n") {
				return // refused by Record, tested elsewhere
			}
		}
		ff := &fakeFile{}
		s := NewSecrets(ff)
		if err := s.Record(context.Background(), rows); err != nil {
			t.Fatalf("Record: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := ReadSecrets(strings.NewReader(secretsHeaderLine + ff.content()))
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if len(again) != len(rows) {
			t.Fatalf("reading back: got %d rows, want %d", len(again), len(rows))
		}
		for i := range rows {
			want := rows[i]
			want.User = normalize(Result{User: want.User}).User
			got := again[i]
			got.User = normalize(Result{User: got.User}).User
			if !sameSecretRow(got, want) {
				t.Errorf("row %d changed on the way back", i)
			}
		}
	})
}

// sameSecretRow reports whether a and b are the same row, password included.
func sameSecretRow(a, b SecretRow) bool {
	return a.Line == b.Line && a.User == b.User && a.Tenant == b.Tenant && a.Password.Equal(b.Password)
}
