package main

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// handOver are the flags that shape the secrets file for handing the
// passwords over: age encryption and the input columns it copies.
type handOver struct {
	recipients     []string // --secrets-recipient
	recipientsFile string   // --secrets-recipients-file
	identity       string   // --secrets-identity
	columns        []string // --secrets-columns
	// keys are the parsed keys; nil for a plain secrets file.
	keys *report.SecretsKeys
}

// recipientList is every recipient of the run as written (the flags', then
// the recipients file's lines), sorted: the run setting a resume compares.
// A recipients file that cannot be read adds nothing here: validateHandOver
// reports it.
func (h *handOver) recipientList() []string {
	out := trimAll(h.recipients)
	if h.recipientsFile != "" {
		if lines, err := report.SecretsRecipientLines(h.recipientsFile); err == nil {
			for _, l := range lines {
				out = append(out, l.Text)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkRecipients parses the given recipients, as validateHandOver does,
// without repeating a value that is not a public key: a resume compares
// them with the recorded ones, and the list of differences shows them.
func (h *handOver) checkRecipients() error {
	for _, s := range h.recipients {
		if _, err := report.ParseSecretsRecipient(s); err != nil {
			return usagef("--secrets-recipient: %w", err)
		}
	}
	if h.recipientsFile != "" {
		if _, err := report.ReadSecretsRecipients(h.recipientsFile); err != nil {
			return usagef("--secrets-recipients-file: %w", err)
		}
	}
	return nil
}

// trimAll returns the values trimmed of surrounding spaces; nil for none.
func trimAll(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

// addHandOverFlags defines the hand-over flags on f.
func (h *handOver) addHandOverFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&h.recipients, "secrets-recipient", nil, "encrypt the secrets file with age to this public key (age1... or an SSH public key, as age -r); repeatable. No password is ever plain text on disk")
	f.StringVar(&h.recipientsFile, "secrets-recipients-file", "", "encrypt the secrets file to the public keys in this file, one a line (as age -R)")
	f.StringVar(&h.identity, "secrets-identity", "", "with --resume of an encrypted run: the private key file (as age -i) that reads the passwords the interrupted run recorded")
	f.StringSliceVar(&h.columns, "secrets-columns", nil, "copy these input columns (e.g. DisplayName,Manager) into the secrets file after its own columns, for a mail merge")
}

// validateHandOver checks the hand-over flags and reads the key files.
func (o *resetOptions) validateHandOver() error {
	h := &o.handOver
	encrypted := len(h.recipients) > 0 || h.recipientsFile != ""
	switch {
	case o.secrets == "" && (encrypted || h.identity != "" || len(h.columns) > 0):
		return usagef("--secrets-recipient, --secrets-recipients-file, --secrets-identity and --secrets-columns shape the secrets file: they need --secrets FILE")
	case h.identity != "" && !encrypted:
		return usagef("--secrets-identity reads an encrypted secrets journal: give the --secrets-recipient keys of the run too")
	case strings.HasPrefix(strings.TrimSpace(h.identity), "AGE-SECRET-KEY-"):
		return usagef("--secrets-identity takes the path of a key file, never the key itself (a flag value is seen in the process list and the shell history)")
	case h.identity != "" && !o.resume:
		return usagef("--secrets-identity is read by --resume only: a new run needs no private key (keep it away from the server that runs bulkreset)")
	}
	for _, c := range h.columns {
		if strings.TrimSpace(c) == "" {
			return usagef("--secrets-columns: an empty column name")
		}
		if report.ReservedColumn(c) {
			return usagef("--secrets-columns: %q is a column the secrets or results file has already", c)
		}
	}
	if !encrypted {
		return nil
	}
	keys := &report.SecretsKeys{IdentityFile: h.identity}
	for _, s := range h.recipients {
		r, err := report.ParseSecretsRecipient(s)
		if err != nil {
			return usagef("--secrets-recipient: %w", err)
		}
		keys.Recipients = append(keys.Recipients, r)
	}
	if h.recipientsFile != "" {
		rs, err := report.ReadSecretsRecipients(h.recipientsFile)
		if err != nil {
			return usagef("--secrets-recipients-file: %w", err)
		}
		keys.Recipients = append(keys.Recipients, rs...)
	}
	if h.identity != "" {
		ids, err := report.ReadSecretsIdentities(h.identity)
		if err != nil {
			return usagef("--secrets-identity: %w", err)
		}
		keys.Identities = ids
	}
	h.keys = keys
	return nil
}

// copyColumns makes the input's rows carry the columns --secrets-columns
// names, and records them as the secrets file's extra columns.
func (o *resetOptions) copyColumns(src inputSource) error {
	if len(o.handOver.columns) == 0 || o.secrets == "" {
		return nil
	}
	in, ok := src.(*csvin.Reader)
	if !ok {
		return usagef("--secrets-columns copies columns of an input file, and --user has none")
	}
	names := make([]string, len(o.handOver.columns))
	for i, c := range o.handOver.columns {
		names[i] = strings.TrimSpace(c)
	}
	if err := in.CopyColumns(names); err != nil {
		return usagef("--secrets-columns: %w", err)
	}
	o.columns.SecretsExtra = report.NewExtraColumns(names...)
	return nil
}

// warnEncryptedResume says, when an encrypted run is to be resumed, that
// the resume needs the private key: the passwords it recorded are in its
// encrypted journal, and bulkreset was given only the public keys.
func (o *resetOptions) warnEncryptedResume(logger *slog.Logger, summary *report.Summary) {
	if summary.ResumeCommand == "" || o.handOver.keys == nil || o.handOver.identity != "" {
		return
	}
	logger.Warn("the passwords recorded so far are encrypted in " + report.JournalPath(o.secrets) +
		": add --secrets-identity with the private key file of one of the --secrets-recipient keys to the resume command")
}
