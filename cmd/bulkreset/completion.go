package main

import (
	"github.com/spf13/cobra"
)

// registerResetCompletions teaches shell completion the values of reset's
// flags, so that tab offers random/column/none rather than every file.
func registerResetCompletions(cmd *cobra.Command) {
	words := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	files := func(exts ...string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return exts, cobra.ShellCompDirectiveFilterFileExt
		}
	}
	for name, fn := range map[string]cobra.CompletionFunc{
		"input":         files("csv", "txt", "tsv", "xlsx"),
		"output":        files("csv"),
		"secrets":       files("csv", "age"),
		"certificate":   files("pem", "pfx", "p12"),
		"sandbox":       files("json"),
		"password-mode": words("random", "column", "none"),
		"synced":        words("skip", "attempt", "resetpassword"),
		"auth":          words("auto", "client-secret", "certificate", "managed-identity", "workload-identity", "azure-cli", "device-code", "browser"),
		"cloud":         words("global", "usgov", "usgov-dod", "china"),
		"log-format":    words("text", "json"),
		"force-change":  words("true", "false"),
	} {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		// Only fails for an unknown flag or a second registration.
		_ = cmd.RegisterFlagCompletionFunc(name, fn)
	}
	if cmd.Flags().Lookup("sandbox-tenant") != nil {
		_ = cmd.RegisterFlagCompletionFunc("sandbox-tenant", files("json"))
	}
}
