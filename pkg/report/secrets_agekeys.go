package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// SecretsKeys are the age keys of an encrypted secrets file
// (--secrets-recipient): the passwords are never plain text on disk, not
// in the final file, not in the journal written while the run goes
// (secrets_age.go).
type SecretsKeys struct {
	// Recipients are the public keys the secrets are encrypted to: age
	// X25519 keys (age1...), post-quantum hybrid keys (age1pq1...) or SSH
	// public keys (ssh-ed25519, ssh-rsa), as the age CLI accepts them.
	Recipients []age.Recipient
	// Identities are private keys (--secrets-identity) that read the
	// journal of an interrupted run on --resume; none in a new run.
	Identities []age.Identity
	// IdentityFile names the file Identities came from, for messages.
	IdentityFile string
}

// ParseSecretsRecipient parses one recipient as the age CLI's -r does: an
// age public key or an SSH public key (authorized_keys format). Its error
// does not quote s, which could be a private key pasted by mistake.
func ParseSecretsRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "AGE-SECRET-KEY-"):
		return nil, errors.New("this is an age private key; give its public key (age-keygen -y key.txt), and keep the private key away from the server that runs bulkreset")
	case strings.HasPrefix(s, "age1pq1"):
		return age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, errors.New("not a valid age public key (age1...)")
		}
		return r, nil
	case strings.HasPrefix(s, "ssh-"):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("not an SSH public key age accepts (ssh-ed25519 or ssh-rsa): %w", err)
		}
		return r, nil
	}
	return nil, errors.New("not an age public key (age1...) nor an SSH public key (ssh-ed25519 ..., ssh-rsa ...)")
}

// ReadSecretsRecipients reads a recipients file as the age CLI's -R does:
// one recipient a line, blank lines and lines beginning with # ignored.
func ReadSecretsRecipients(path string) ([]age.Recipient, error) {
	lines, err := SecretsRecipientLines(path)
	if err != nil {
		return nil, err
	}
	rs := make([]age.Recipient, 0, len(lines))
	for _, l := range lines {
		r, err := ParseSecretsRecipient(l.Text)
		if err != nil {
			return nil, fmt.Errorf("recipients file %s, line %d: %w", path, l.N, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// RecipientLine is one recipient of a recipients file, as written, with
// its line number.
type RecipientLine struct {
	N    int
	Text string
}

// SecretsRecipientLines returns the recipients of a recipients file as
// written (public keys: no secret), skipping blank lines and # comments;
// a file with none is an error.
func SecretsRecipientLines(path string) ([]RecipientLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("recipients file: %w", err)
	}
	var out []RecipientLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, RecipientLine{N: n, Text: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("recipients file %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("recipients file %s holds no recipient", path)
	}
	return out, nil
}

// ReadSecretsIdentities reads an identity file as the age CLI's -i does:
// age private keys (the file age-keygen writes), or an unencrypted SSH
// private key. Its errors never quote the file.
func ReadSecretsIdentities(path string) ([]age.Identity, error) {
	f, _, err := openRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<24))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	defer clear(data)
	if bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		id, err := agessh.ParseIdentity(data)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("identity file %s: a passphrase-protected SSH key cannot be used here; decrypt with age -d -i %s instead, or use an age key (age-keygen)", path, path)
		}
		if err != nil {
			return nil, fmt.Errorf("identity file %s: not an SSH private key age accepts", path)
		}
		return []age.Identity{id}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w (expected the file age-keygen writes, or an SSH private key)", path, err)
	}
	return ids, nil
}
