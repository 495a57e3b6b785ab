// Command bench prints how fast bulkreset runs against the Graph emulator:
// figures, not tests. It runs the real binary (built by `make bench`) as an
// administrator would, against pkg/graphsim on loopback with client-secret
// auth through azidentity.
package main

import (
	"bytes"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

const (
	benchTenant = "0c7d9a4e-2f1b-4c8d-9e3a-5b6f7a8c9d0e"
	benchClient = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	benchSecret = "bench-secret-not-a-credential"
	benchDomain = "bench.example"
)

// scenario is one measured run.
type scenario struct {
	name    string
	users   int
	latency time.Duration
	args    []string
}

func main() {
	bin := flag.String("bin", "bin/bulkreset", "the bulkreset binary to measure")
	flag.Parse()
	if err := runAll(*bin); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	benchCheck(*bin)
}

func runAll(bin string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%w (run `make build` first)", err)
	}
	scenarios := []scenario{
		{name: "1,000 users, 20 ms latency, no throttling", users: 1000, latency: 20 * time.Millisecond},
		{name: "1,000 users, 20 ms latency, --batch-size 1", users: 1000, latency: 20 * time.Millisecond, args: []string{"--batch-size", "1"}},
		{name: "10,000 users, no latency, no throttling", users: 10000},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\twall time\tusers/s\tbatches\twrites sent\texit")
	for _, sc := range scenarios {
		r, err := measure(bin, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		fmt.Fprintf(tw, "%s\t%v\t%.0f\t%d\t%d\t%d\n", sc.name, r.wall.Round(time.Millisecond),
			float64(sc.users)/r.wall.Seconds(), r.stats.Batches, r.stats.Writes, r.exit)
	}
	return tw.Flush()
}

type measurement struct {
	wall  time.Duration
	stats graphsim.Stats
	exit  int
}

func measure(bin string, sc scenario) (measurement, error) {
	sim := graphsim.New(graphsim.Options{
		TenantID: benchTenant, ClientID: benchClient, ClientSecret: benchSecret,
		Latency: sc.latency,
	})
	users := graphsim.GenerateUsers(sc.users, benchDomain)
	if err := sim.AddUsers(users); err != nil {
		return measurement{}, err
	}
	srv, err := sim.Start()
	if err != nil {
		return measurement{}, err
	}
	defer srv.Close()

	dir, err := os.MkdirTemp("", "bulkreset-bench-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate.Raw}), 0o644); err != nil {
		return measurement{}, err
	}
	var in strings.Builder
	in.WriteString("UserPrincipalName\n")
	for _, u := range users {
		in.WriteString(u.UPN + "\n")
	}
	input := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(input, []byte(in.String()), 0o644); err != nil {
		return measurement{}, err
	}

	args := append([]string{"reset", "-i", input, "-o", filepath.Join(dir, "results.csv"),
		"--secrets", filepath.Join(dir, "secrets.csv"), "--yes", "--quiet",
		"--auth", "client-secret", "--tenant", benchTenant, "--client-id", benchClient,
		"--graph-url", srv.URL, "--authority-host", srv.URL}, sc.args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AZURE_CLIENT_SECRET="+benchSecret, "SSL_CERT_FILE="+ca)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	exit := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		exit = ee.ExitCode()
	} else if err != nil {
		return measurement{}, err
	}
	if exit != 0 {
		return measurement{}, fmt.Errorf("bulkreset exited %d:\n%s", exit, stderr.String())
	}
	st := sim.Stats()
	if st.WritesApplied != sc.users {
		return measurement{}, fmt.Errorf("%d passwords set, want %d", st.WritesApplied, sc.users)
	}
	return measurement{wall: wall, stats: st, exit: exit}, nil
}
