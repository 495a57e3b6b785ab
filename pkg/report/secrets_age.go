package report

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// An encrypted secrets file (--secrets-recipient) is never plain text on
// disk. docs/files.md, "The encrypted secrets file", is the design; in
// short:
//
//   - While the run goes, passwords go to the journal, FILE.journal: a
//     magic line, then frames, each a 4-byte big-endian length and one age
//     message. The first frame, encrypted to the recipients, holds a key
//     made for this journal (journalKey) and the CSV header; every later
//     frame holds the rows of one group commit, an age message whose file
//     key that key wraps, written and synced before the requests that set
//     those passwords are sent. No public-key operation per frame,
//     whatever the number of recipients.
//   - The journal's key lives in memory. When the run completes, the
//     journal is read back frame by frame and FILE is written as one age
//     message of the secrets CSV, to the recipients, without the refused
//     passwords (atomically: FILE.compact, synced, renamed), and the
//     journal is removed. `age -d -i key.txt FILE` gives the usual CSV.
//   - After a crash the key is gone from memory: --resume reads the first
//     frame with the recipients' private key (--secrets-identity), then
//     the rows with the journal's key, cuts a torn last frame (never
//     synced, so never sent), and appends to the same journal.

// JournalSuffix ends the name of the journal of an encrypted secrets file.
const JournalSuffix = ".journal"

// JournalPath returns the journal of the encrypted secrets file path.
func JournalPath(path string) string { return path + JournalSuffix }

// journalMagic begins every journal: what it is, for a person who opens it.
const journalMagic = "bulkreset encrypted secrets journal v1; finish the run with --resume, or see docs/files.md\n"

// maxFrame bounds a frame's length: a length above it is corruption, not
// a frame (a group commit holds a few thousand rows at most).
const maxFrame = 64 << 20

// ErrIdentityNeeded reports a --resume of an encrypted run whose journal
// holds passwords, without --secrets-identity to read them.
var ErrIdentityNeeded = errors.New("the interrupted run recorded passwords in its encrypted journal; --resume needs the private key to read them: give --secrets-identity FILE (the key file of one of the --secrets-recipient keys)")

// journalKey is the key of one journal: 32 random bytes. Each frame
// after the first is an age message whose file key is wrapped with it
// (XChaCha20-Poly1305, a random nonce per frame) in a stanza of its own,
// the way age's plugins add recipient types: age's format, header MAC and
// payload encryption, without the two X25519 operations an X25519
// recipient costs per message (measured: 0.3 ms to seal and 0.2 ms to
// open a frame on a loaded machine, 17 s of CPU over a million users).
// It is a secret: in memory, and on disk only inside the first frame.
type journalKey struct {
	aead cipher.AEAD
	raw  []byte
}

// journalStanza is the type of the stanza that wraps a frame's file key.
const journalStanza = "bulkreset-journal"

// journalKeyPrefix begins the journal key's line in the first frame.
const journalKeyPrefix = "BULKRESET-JOURNAL-KEY "

// newJournalKey makes a new key.
func newJournalKey() (*journalKey, error) {
	raw := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("secrets journal: make its key: %w", err)
	}
	return journalKeyOf(raw)
}

// journalKeyOf returns the key whose bytes are raw.
func journalKeyOf(raw []byte) (*journalKey, error) {
	aead, err := chacha20poly1305.NewX(raw)
	if err != nil {
		return nil, err
	}
	return &journalKey{aead: aead, raw: raw}, nil
}

// String is the key's line in the first frame.
func (k *journalKey) String() string {
	return journalKeyPrefix + base64.RawStdEncoding.EncodeToString(k.raw)
}

// Wrap makes k an age.Recipient: it wraps the file key of a frame.
func (k *journalKey) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return []*age.Stanza{{
		Type: journalStanza,
		Args: []string{base64.RawStdEncoding.EncodeToString(nonce)},
		Body: k.aead.Seal(nil, nonce, fileKey, nil),
	}}, nil
}

// Unwrap makes k an age.Identity: it unwraps the file key of a frame.
func (k *journalKey) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		if s.Type != journalStanza || len(s.Args) != 1 {
			continue
		}
		nonce, err := base64.RawStdEncoding.DecodeString(s.Args[0])
		if err != nil || len(nonce) != k.aead.NonceSize() {
			return nil, errors.New("a journal stanza with a malformed nonce")
		}
		fileKey, err := k.aead.Open(nil, nonce, s.Body, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: the journal key does not open this frame", age.ErrIncorrectIdentity)
		}
		return fileKey, nil
	}
	return nil, age.ErrIncorrectIdentity
}

// seal returns plain encrypted to the journal's key, as a frame.
func (k *journalKey) seal(plain []byte) ([]byte, error) {
	return sealFrame(plain, k)
}

// sealFrame returns plain as a frame: its length, then one age message to
// recipients.
func sealFrame(plain []byte, recipients ...age.Recipient) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(plain) + 256)
	b.Write([]byte{0, 0, 0, 0})
	w, err := age.Encrypt(&b, recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	out := b.Bytes()
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out, nil
}

// createJournal creates the journal at path for a secrets file with the
// columns c, encrypted to recipients: its magic and first frame are on
// disk before it returns.
func createJournal(path string, c Columns, recipients []age.Recipient) (*Secrets, *journalKey, error) {
	k, err := newJournalKey()
	if err != nil {
		return nil, nil, err
	}
	first, err := sealFrame(keyFrame(k, c), recipients...)
	if err != nil {
		return nil, nil, fmt.Errorf("secrets journal: %w", err)
	}
	f, err := createSecretsFile(path, append([]byte(journalMagic), first...))
	if err != nil {
		return nil, nil, err
	}
	s := NewSecretsColumns(f, c)
	s.seal = k.seal
	return s, k, nil
}

// keyFrame is the plain text of a journal's first frame: its key, then
// the CSV header of the secrets file.
func keyFrame(k *journalKey, c Columns) []byte {
	return append([]byte(k.String()+"\n"), headerLine(c.secretsHeader())...)
}

// errTorn is a frame cut short: the file ends before the frame does.
var errTorn = errors.New("torn frame")

// frameReader reads the frames of a journal after its magic line.
type frameReader struct {
	r    *bufio.Reader
	off  int64 // offset of the end of the last whole frame
	size int64 // the file's size
}

// next returns the next frame, io.EOF at the end, or errTorn for a frame
// the file ends inside of (the frame's offset is fr.off).
func (fr *frameReader) next() ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(fr.r, n[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return nil, errTorn
		}
		return nil, err
	}
	size := int64(binary.BigEndian.Uint32(n[:]))
	switch {
	case size > maxFrame && fr.off+4+size > fr.size:
		return nil, errTorn // garbage a crash left at the end
	case size == 0:
		rest, err := io.ReadAll(io.LimitReader(fr.r, maxFrame))
		if err == nil && !bytes.ContainsFunc(rest, func(r rune) bool { return r != 0 }) {
			return nil, errTorn // zeros a crash left at the end
		}
		fallthrough
	case size > maxFrame:
		return nil, fmt.Errorf("the frame at byte %d has an impossible length: the journal is damaged", fr.off)
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(fr.r, frame); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errTorn
		}
		return nil, err
	}
	fr.off += 4 + size
	return frame, nil
}

// last reports whether the frame just read ends the file.
func (fr *frameReader) last() bool { return fr.off == fr.size }

// openJournalFile opens the journal at path, checks its magic and returns
// a reader of its frames.
func openJournalFile(path string, flag int) (*os.File, *frameReader, error) {
	f, fi, err := openRegular(path, flag, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := makePrivate(path, fi, 0o600); err != nil {
		f.Close()
		return nil, nil, err
	}
	fr := &frameReader{r: bufio.NewReaderSize(f, 1<<16), size: fi.Size()}
	magic := make([]byte, len(journalMagic))
	n, err := io.ReadFull(fr.r, magic)
	switch {
	case err == nil && string(magic) == journalMagic:
	case (err == io.EOF || err == io.ErrUnexpectedEOF) && strings.HasPrefix(journalMagic, string(magic[:n])):
		// Cut short while it was created: nothing else can be in it.
		fr.size = int64(n)
		fr.off = int64(n)
		return f, fr, errTorn
	default:
		f.Close()
		if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, fmt.Errorf("%s is not a bulkreset secrets journal", path)
		}
		return nil, nil, err
	}
	fr.off = int64(len(journalMagic))
	return f, fr, nil
}

// openJournal opens the journal of an interrupted run at path for
// --resume, for a secrets file with the columns c. A journal that holds no
// row (the run was interrupted before its first password) is made anew,
// which needs no private key; else keys.Identities must read its first
// frame (ErrIdentityNeeded when there are none; a key that does not match
// is an error too). It returns the journal to append to, its key, and a
// reader of its rows (nil when it holds none): read it to its end, then
// call done, which cuts a torn last frame off and positions the journal at
// its end.
func openJournal(path string, c Columns, keys *SecretsKeys) (s *Secrets, k *journalKey, rows io.Reader, done func() error, err error) {
	f, fr, err := openJournalFile(path, os.O_RDWR)
	var first []byte
	if err == nil {
		first, err = fr.next()
	}
	empty := errors.Is(err, errTorn) || errors.Is(err, io.EOF)
	if err == nil {
		empty, err = noRowFrame(fr)
	}
	if empty {
		f.Close()
		clear(first)
		// No password in it: replace it with a new journal, new key.
		if err := os.Remove(path); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("secrets journal: %w", err)
		}
		s, k, err := createJournal(path, c, keys.Recipients)
		return s, k, nil, func() error { return nil }, err
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, nil, nil, nil, resumeErrorf("secrets journal %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	var header []byte
	if len(keys.Identities) == 0 {
		return nil, nil, nil, nil, conflict(fmt.Errorf("%s: %w", path, ErrIdentityNeeded))
	}
	k, header, err = openKeyFrame(first, keys)
	if err != nil {
		return nil, nil, nil, nil, conflict(fmt.Errorf("secrets journal %s: %w", path, err))
	}
	if want := headerLine(c.secretsHeader()); !bytes.Equal(header, want) {
		return nil, nil, nil, nil, resumeErrorf("secrets journal %s: its columns are not those of this run (%w %q)", path, ErrHeader, bytes.TrimSuffix(want, []byte("\n")))
	}
	jr := &journalReader{fr: fr, key: k, buf: header}
	s = NewSecretsColumns(f, c)
	s.seal = k.seal
	done = func() error {
		if !jr.end {
			return fmt.Errorf("secrets journal %s: not read to its end", path)
		}
		if fr.off != fr.size {
			if err := f.Truncate(fr.off); err != nil {
				return fmt.Errorf("secrets journal %s: cut its torn last frame: %w", path, err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("secrets journal %s: %w", path, err)
			}
		}
		_, err := f.Seek(fr.off, io.SeekStart)
		return err
	}
	return s, k, jr, done, nil
}

// noRowFrame reports whether no whole frame follows the first, without
// reading it: the journal holds no password.
func noRowFrame(fr *frameReader) (bool, error) {
	n, err := fr.r.Peek(4)
	if err != nil {
		return true, nil // not even a whole length: torn, or nothing
	}
	size := int64(binary.BigEndian.Uint32(n))
	return size != 0 && fr.off+4+size > fr.size, nil
}

// openKeyFrame decrypts a journal's first frame with the identities and
// returns the journal's key and the CSV header it records.
func openKeyFrame(frame []byte, keys *SecretsKeys) (*journalKey, []byte, error) {
	r, err := age.Decrypt(bytes.NewReader(frame), keys.Identities...)
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return nil, nil, fmt.Errorf("the key in %s is not one the journal was encrypted to (give the private key of one of the run's --secrets-recipient keys)", keys.IdentityFile)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("its first frame does not decrypt (%w): the journal is damaged", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("its first frame does not decrypt (%w): the journal is damaged", err)
	}
	line, header, ok := bytes.Cut(plain, []byte("\n"))
	if !ok {
		return nil, nil, errors.New("its first frame holds no key: the journal is damaged")
	}
	enc, found := strings.CutPrefix(string(line), journalKeyPrefix)
	clear(line)
	raw, err := base64.RawStdEncoding.DecodeString(enc)
	var k *journalKey
	if err == nil && found {
		k, err = journalKeyOf(raw)
	}
	if err != nil || !found {
		return nil, nil, errors.New("its first frame holds no key: the journal is damaged")
	}
	return k, header, nil
}

// journalReader reads a journal's rows as the plain text of a secrets
// file: the header, then the rows of each frame, decrypted one frame at a
// time (bounded memory). A torn last frame, or a last frame that does not
// decrypt (the tail a crash left), ends the rows: it was never synced, so
// its passwords were never sent. Any other frame that does not decrypt is
// an error.
type journalReader struct {
	fr  *frameReader
	key *journalKey
	buf []byte // plain text not yet read
	end bool
	// plain is the buffer a frame is decrypted into, reused.
	plain bytes.Buffer
}

func (jr *journalReader) Read(p []byte) (int, error) {
	for len(jr.buf) == 0 {
		if jr.end {
			return 0, io.EOF
		}
		frame, err := jr.fr.next()
		if errors.Is(err, io.EOF) || errors.Is(err, errTorn) {
			jr.end = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("secrets journal: %w", err)
		}
		plain, err := jr.open(frame)
		if err != nil && jr.fr.last() {
			jr.fr.off -= int64(4 + len(frame)) // cut it
			jr.end = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("secrets journal: the frame ending at byte %d does not decrypt: the journal is damaged: %w", jr.fr.off, err)
		}
		jr.buf = plain
	}
	n := copy(p, jr.buf)
	clear(jr.buf[:n])
	jr.buf = jr.buf[n:]
	return n, nil
}

// open decrypts one frame.
func (jr *journalReader) open(frame []byte) ([]byte, error) {
	// DecryptReaderAt allocates a frame's size, where Decrypt allocates
	// a whole 64 KiB chunk twice: most of the cost of a frame of a batch.
	r, size, err := age.DecryptReaderAt(bytes.NewReader(frame), int64(len(frame)), jr.key)
	if err != nil {
		return nil, err
	}
	jr.plain.Reset()
	jr.plain.Grow(int(size))
	plain := jr.plain.AvailableBuffer()[:size]
	if _, err := r.ReadAt(plain, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return plain, nil
}

// finishJournal writes the encrypted secrets file at path from its
// journal, once the run is complete: one age message, to recipients, of
// the secrets CSV with the rows keep returns true for (every row when keep
// is nil), written to path.compact and synced, then renamed over path;
// then the journal is removed. k is the journal's key (the run's, in
// memory). Nothing of it is ever plain text on disk: the rows go from one
// frame in memory to the age writer's buffer.
func finishJournal(path string, c Columns, k *journalKey, recipients []age.Recipient, keep func(SecretRow) bool) (err error) {
	jpath := JournalPath(path)
	jf, fr, err := openJournalFile(jpath, os.O_RDONLY)
	if err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	defer jf.Close()
	if _, err := fr.next(); err != nil { // the first frame: the key is k
		return fmt.Errorf("finish secrets file: journal %s: %w", jpath, err)
	}
	jr := &journalReader{fr: fr, key: k, buf: headerLine(c.secretsHeader())}

	tmp := path + ".compact"
	os.Remove(tmp) // a leftover of a crash during an earlier compaction
	f, err := createSecretsFile(tmp, nil)
	if err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	w, err := age.Encrypt(bw, recipients...)
	if err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	if keep == nil {
		// Every row is kept: the journal's plain text is the CSV already.
		_, err = io.Copy(w, jr)
	} else if _, err = w.Write(headerLine(c.secretsHeader())); err == nil {
		_, err = copyRows(w, NewSecretsReader(jr), c, keep)
	}
	if err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("finish secrets file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("finish secrets file: sync its directory: %w", err)
	}
	// Every row is in path now: the journal is no longer needed.
	jf.Close()
	if err := os.Remove(jpath); err != nil {
		return fmt.Errorf("finish secrets file: remove the journal: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// copyRows writes the rows of rd that keep returns true for to w, in
// groups, up to the end or a torn last row, and returns how many.
func copyRows(w io.Writer, rd *SecretsReader, c Columns, keep func(SecretRow) bool) (kept int, err error) {
	var batch []SecretRow
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		b := mustEncode(batch, c)
		_, err := w.Write(b)
		clear(b)
		batch = batch[:0]
		return err
	}
	for {
		row, err := rd.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, ErrTruncated) {
			break // a torn last row: its request was never sent
		}
		if err != nil {
			return 0, err
		}
		if keep(row) {
			kept++
			batch = append(batch, row)
			if len(batch) == 512 {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	return kept, flush()
}

// createSecrets creates the secrets file of a new run: the journal when it
// is encrypted.
func (out *Outputs) createSecrets() (*Secrets, error) {
	o := out.opts
	if o.Keys == nil {
		return CreateSecretsColumns(o.Secrets, o.Columns)
	}
	if err := CheckNew(JournalPath(o.Secrets)); err != nil {
		return nil, err
	}
	s, k, err := createJournal(JournalPath(o.Secrets), o.Columns, o.Keys.Recipients)
	out.key = k
	return s, err
}

// secretsWriting returns the path of the file the run records passwords
// in: the secrets file, or its journal.
func (out *Outputs) secretsWriting() string {
	if out.opts.Keys != nil {
		return JournalPath(out.opts.Secrets)
	}
	return out.opts.Secrets
}

// resumeJournal opens the journal of the interrupted encrypted run for
// appending, after adding the passwords it recorded to out.Prior; or
// creates it when that run never did.
func (out *Outputs) resumeJournal() (*Secrets, error) {
	o := out.opts
	jpath := JournalPath(o.Secrets)
	if existing(o.Secrets) != "" {
		if !isAgeFile(o.Secrets) {
			return nil, conflict(fmt.Errorf("%s is a plain secrets file: the interrupted run did not encrypt it, so resume it without --secrets-recipient", o.Secrets))
		}
		if existing(jpath) != "" {
			// The run stopped after the secrets file was renamed into
			// place, complete, and before its journal was removed.
			os.Remove(jpath)
		}
		return nil, conflict(fmt.Errorf("%s is the encrypted secrets file of a run that completed: there is nothing to resume", o.Secrets))
	}
	if existing(jpath) == "" {
		s, k, err := createJournal(jpath, o.Columns, o.Keys.Recipients)
		out.key = k
		return s, err
	}
	s, k, rows, done, err := openJournal(jpath, o.Columns, o.Keys)
	if err != nil {
		return nil, err
	}
	out.key = k
	if rows != nil {
		err = eachRowOf(NewSecretsReader(rows), jpath, "secrets journal", out.Prior.addSecret(jpath))
		if err == nil {
			err = done()
		}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenSecretsJournal opens the journal of an encrypted secrets file at path
// to read the passwords it holds, with identities (a private key of one of
// its recipients), as a SecretsReader; a torn last frame ends the rows.
// Close the returned file when done. A journal without its first frame
// (cut short at creation) holds no password: the error wraps io.EOF.
func OpenSecretsJournal(path string, identities []age.Identity) (*SecretsReader, io.Closer, error) {
	f, fr, err := openJournalFile(path, os.O_RDONLY)
	if errors.Is(err, errTorn) {
		f.Close()
		return nil, nil, fmt.Errorf("secrets journal %s holds no frame: %w", path, io.EOF)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("secrets journal: %w", err)
	}
	first, err := fr.next()
	if errors.Is(err, errTorn) || errors.Is(err, io.EOF) {
		f.Close()
		return nil, nil, fmt.Errorf("secrets journal %s holds no frame: %w", path, io.EOF)
	}
	if err == nil {
		var k *journalKey
		var header []byte
		k, header, err = openKeyFrame(first, &SecretsKeys{Identities: identities, IdentityFile: "the identities given"})
		if err == nil {
			return NewSecretsReader(&journalReader{fr: fr, key: k, buf: header}), f, nil
		}
	}
	f.Close()
	return nil, nil, fmt.Errorf("secrets journal %s: %w", path, err)
}

// ageHeader begins every age file.
const ageHeader = "age-encryption.org/v1\n"

// isAgeFile reports whether the file at path begins as an age file does.
func isAgeFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(ageHeader))
	_, err = io.ReadFull(f, b)
	return err == nil && string(b) == ageHeader
}

// CheckNoJournal refuses a new run, plain or encrypted, whose secrets
// file has a journal: an interrupted encrypted run's passwords, which only
// that run's --resume reads, and which a plain FILE beside it would keep
// from being resumed.
func CheckNoJournal(secrets string) error {
	if secrets == "" || secrets == "-" || existing(JournalPath(secrets)) == "" {
		return nil
	}
	return conflict(fmt.Errorf("%s exists: it holds the passwords of an interrupted encrypted run; finish that run with --resume (and --secrets-identity), or choose another --secrets name", JournalPath(secrets)))
}

// checkNoJournal refuses a plain --resume of a run whose secrets went to
// an encrypted journal: a new plain file would not hold the passwords
// recorded there, and a row whose outcome is unknown would be given
// another.
func checkNoJournal(secrets string) error {
	if secrets == "" || existing(JournalPath(secrets)) == "" {
		return nil
	}
	return conflict(fmt.Errorf("%s exists: the interrupted run encrypted its secrets; resume it with the same --secrets-recipient and --secrets-identity", JournalPath(secrets)))
}
