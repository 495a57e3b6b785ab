package pipeline

import (
	"testing"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"github.com/bulkreset/bulkreset/pkg/secret/secrettest"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// TestNoTypeShowsItsPassword logs every type that carries a password on its
// way through the pipeline (the input cell, the item, the request and its
// profile, the secrets row) through every fmt verb, slog's text and JSON
// handlers and encoding/json, and finds the password in none.
func TestNoTypeShowsItsPassword(t *testing.T) {
	const pw = "Zq7!pipeline-Secret-42"
	v := secret.New(pw)
	profile := graph.PasswordProfile{Password: v, ForceChangePasswordNextSignIn: true}
	values := map[string]any{
		"secret.Value":                  v,
		"csvin.Row":                     csvin.Row{Line: 2, UPN: "adele@contoso.com", Password: v},
		"worker.Item":                   worker.Item{Line: 2, User: "adele@contoso.com", Target: "adele@contoso.com", Password: v},
		"graph.PasswordProfile":         profile,
		"graph.Request (PATCH)":         graph.PasswordRequest("1", "adele@contoso.com", profile),
		"graph.Request (resetPassword)": graph.ResetPasswordRequest("1", "adele@contoso.com", v),
		"report.SecretRow":              report.SecretRow{Line: 2, User: "adele@contoso.com", Password: v},
	}
	for name, x := range values {
		t.Run(name, func(t *testing.T) { secrettest.Hidden(t, x, pw) })
	}
}
