package worker

import (
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/password"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// Mode is the --password-mode: where each user's new password comes from.
type Mode string

// The password modes.
const (
	// ModeRandom gives every user a unique generated password.
	ModeRandom Mode = "random"
	// ModeColumn takes each user's password from the input's Password column.
	ModeColumn Mode = "column"
	// ModeNone sets no password, only the force-change flags.
	ModeNone Mode = "none"
	// ModeKeep changes no password at all: the run only blocks sign-in
	// and/or revokes sessions (a lockdown, Options.KeepPasswords).
	ModeKeep Mode = "keep"
)

// PrepareOptions configure a Preparer.
type PrepareOptions struct {
	Mode Mode
	// Length of random passwords.
	Length int
	// ForceChange and RequireMFA are the flags' defaults; a row's own
	// ForceChangePasswordNextSignIn(WithMfa) cells win over them.
	ForceChange, RequireMFA bool
	// Plan makes items without passwords (bulkreset plan sends none): a
	// random password is not generated, a column password is still
	// checked against the policy.
	Plan bool
	// Generate makes a random password; password.Generate when nil.
	Generate func(length int) (string, error)
}

// Preparer turns input rows into items to send, or into final results for
// rows that must not be sent (invalid, duplicate, a password that breaks
// the policy). It is not safe for concurrent use: one reader goroutine owns it.
type Preparer struct {
	opts PrepareOptions
	seen *csvin.Dedup
}

// NewPreparer returns a Preparer.
func NewPreparer(opts PrepareOptions) *Preparer {
	if opts.Generate == nil {
		opts.Generate = password.Generate
	}
	if opts.Length == 0 {
		opts.Length = password.DefaultLength
	}
	return &Preparer{opts: opts, seen: csvin.NewDedup()}
}

// Prepare returns either an item to send or, when the row is not to be
// sent, its final result. An error (the random source failed) is fatal.
// A row refused for its password alone (report.ReasonPasswordFormula) comes with
// its item too, without a password: a password recorded for it by an
// earlier run, which the secrets file already holds, may still be sent.
func (p *Preparer) Prepare(row csvin.Row) (Item, *report.Result, error) {
	final := func(o report.Outcome, reason report.Reason, msg string) (Item, *report.Result, error) {
		return Item{}, &report.Result{Line: row.Line, User: row.Display(), ObjectID: row.ID, Outcome: o, Reason: reason, ErrorMessage: msg, Tenant: row.Tenant}, nil
	}
	if row.Example {
		// Microsoft's own instructions keep the template's example row
		// ("you must preserve row 3"): never sent, and not an error.
		return final(report.Skipped, row.Reason, row.Problem)
	}
	if row.Reason != "" {
		return final(report.Invalid, row.Reason, row.Problem)
	}
	if p.seen.Seen(row.Key()) {
		msg := "this user appears on an earlier line; it is reset once"
		if row.Tenant != "" {
			msg = "this user appears on an earlier line for the same tenant; it is reset once"
		}
		return final(report.Duplicate, "", msg)
	}
	it := Item{
		Line:           row.Line,
		User:           row.Display(),
		Target:         row.Target(),
		ObjectID:       row.ID,
		ForceChange:    p.opts.ForceChange,
		ForceChangeMFA: p.opts.RequireMFA,
		Tenant:         row.Tenant,
		Extra:          row.Extra,
	}
	if row.ForceChange != nil {
		it.ForceChange = *row.ForceChange
	}
	if row.ForceChangeMFA != nil {
		it.ForceChangeMFA = *row.ForceChangeMFA
	}
	switch p.opts.Mode {
	case ModeColumn:
		if row.Password.Empty() {
			return final(report.Invalid, report.ReasonMissingPassword, "the Password cell is empty (--password-mode column)")
		}
		if err := password.Check(row.Password.Reveal()); err != nil {
			var pe *password.PolicyError
			if errors.As(err, &pe) {
				return final(report.Invalid, report.ReasonPasswordPolicy, pe.Error())
			}
			return final(report.Invalid, report.ReasonPasswordPolicy, "the password breaks Entra's password policy")
		}
		if report.NeedsEscape(row.Password.Reveal()) {
			// The secrets file holds passwords exactly as set, so it could
			// only hold this one raw, for a spreadsheet to run as a formula.
			// The item is returned too, without a password: --resume sends
			// it with the password an earlier run recorded (see Prepare).
			_, r, err := final(report.Invalid, report.ReasonPasswordFormula, "the password begins with = + - or @ (after any quotes), which a spreadsheet runs as a formula "+
				"when the secrets file is opened; choose a password that begins otherwise (bulkreset's own passwords begin with a letter or digit)")
			return it, r, err
		}
		it.Password = row.Password
	case ModeNone, ModeKeep:
	default:
		if p.opts.Plan {
			break
		}
		pw, err := p.opts.Generate(p.opts.Length)
		if err != nil {
			return Item{}, nil, fmt.Errorf("generating a password: %w", err)
		}
		// Checked like any password, so that a generator bug can never send
		// a password Entra would refuse.
		if err := password.Check(pw); err != nil {
			return Item{}, nil, fmt.Errorf("generated password breaks the policy: %w", err)
		}
		it.Password = secret.New(pw)
	}
	return it, nil, nil
}
