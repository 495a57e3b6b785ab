package main

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// TestResetPriority checks that --priority reaches Graph as
// x-ms-throttle-priority on every write, Normal by default, and that a
// value Graph does not know is a usage error.
func TestResetPriority(t *testing.T) {
	tests := []struct {
		flag []string
		want string
	}{
		{nil, "Normal"},
		{[]string{"--priority", "low"}, "Low"},
		{[]string{"--priority", "HIGH"}, "High"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			users := graphsim.GenerateUsers(45, testDomain)
			tn := startTenant(t, graphsim.Options{}, users)
			var csv strings.Builder
			csv.WriteString("UserPrincipalName\n")
			for _, u := range users {
				csv.WriteString(u.UPN + "\n")
			}
			dir := t.TempDir()
			in := writeFile(t, dir, "users.csv", csv.String())
			args := append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r.csv"), "--secrets", filepath.Join(dir, "s.csv"), "--yes"}, tc.flag...)
			res := runCLI(t, t.Context(), tn.getenv(nil), append(args, tn.authArgs()...)...)
			if res.code != exitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			if got, want := tn.sim.Stats().WritesByPriority, map[string]int{tc.want: 45}; !maps.Equal(got, want) {
				t.Errorf("writes by x-ms-throttle-priority %v, want %v", got, want)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		tn := startTenant(t, graphsim.Options{}, nil)
		dir := t.TempDir()
		in := writeFile(t, dir, "users.csv", "UserPrincipalName\nadele@"+testDomain+"\n")
		res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "--secrets", filepath.Join(dir, "s.csv"), "--yes", "--priority", "urgent"}, tn.authArgs()...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, "--priority") {
			t.Errorf("--priority urgent: exit code %d, want %d with a message about --priority; stderr:\n%s", res.code, exitUsage, res.stderr)
		}
	})
}
