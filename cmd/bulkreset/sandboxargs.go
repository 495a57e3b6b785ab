package main

import (
	"os"
	"strings"
)

// sandboxFileArgs rewrites "--sandbox FILE" into "--sandbox=FILE" when FILE
// is an existing .json file, before cobra parses the command line: a bare
// --sandbox means the built-in tenant (pflag's NoOptDefVal), so pflag
// would take FILE for a positional argument. Any other next argument (a
// flag, a file that is not JSON, none) leaves --sandbox bare. Nothing after
// "--" is touched.
func sandboxFileArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--sandbox" && i+1 < len(args) && isJSONFile(args[i+1]) {
			out = append(out, "--sandbox="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// isJSONFile reports whether path names an existing regular file ending in
// .json (in any case).
func isJSONFile(path string) bool {
	if !strings.HasSuffix(strings.ToLower(path), ".json") {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// useSandboxTenant makes --sandbox-tenant FILE the same as --sandbox=FILE;
// with --sandbox naming another file, the two disagree.
func (o *resetOptions) useSandboxTenant() error {
	switch {
	case o.sandboxTenant == "":
		return nil
	case o.sandbox != "" && o.sandbox != sandboxBuiltin && o.sandbox != o.sandboxTenant:
		return usagef("--sandbox %s and --sandbox-tenant %s name two tenant files: give one", o.sandbox, o.sandboxTenant)
	}
	o.sandbox = o.sandboxTenant
	return nil
}
