package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// verifyUsers is the size of the verify figure (issue 15's acceptance 4).
const verifyUsers = 100_000

// verifyFigure measures `bulkreset verify` of a 100,000-row results file
// against the emulator, without throttling or latency: users per second
// and the peak memory of the process. The reset that makes the results
// file is not measured; verify reads every user back and pages the 100,000
// audit records of the resets (200 a page), and must confirm every row.
func (b *bench) verifyFigure(t *table) error {
	n := verifyUsers
	figure := fmt.Sprintf("verify, %s rows, no throttling, no latency", count(n))
	b.logf("%s: resetting them first", figure)
	tn, err := startTenant(graphsim.Options{}, n)
	if err != nil {
		return err
	}
	defer tn.close()
	res, err := b.runBulkreset(tn, "verify-reset")
	if err != nil {
		return fmt.Errorf("%s: %w", figure, err)
	}
	if res.exit != 0 {
		return fmt.Errorf("%s: the reset exited %d: %s", figure, res.exit, tail(res.stderr, 20))
	}
	b.logf("%s: bulkreset verify", figure)
	out := filepath.Join(tn.dir, "verify.csv")
	var stdout, stderr bytes.Buffer
	m, err := runMeasured(&stdout, &stderr, []string{"AZURE_CLIENT_SECRET=" + benchSecret, "SSL_CERT_FILE=" + tn.ca}, b.bin,
		"verify", "-i", res.results, "-o", out, "--quiet", "--tenant", benchTenant,
		"--auth", "client-secret", "--client-id", benchClient, "--graph-url", tn.srv.URL, "--authority-host", tn.srv.URL)
	if err != nil {
		return fmt.Errorf("%s: %w", figure, err)
	}
	if m.exit != 0 && m.exit != 3 {
		return fmt.Errorf("%s: verify exited %d: %s", figure, m.exit, tail(stderr.String(), 20))
	}
	confirmed, err := countConfirmed(out)
	if err != nil {
		return fmt.Errorf("%s: %w", figure, err)
	}
	if m.exit != 0 || confirmed != n {
		return fmt.Errorf("%s: verify exited %d with %d of %d rows confirmed: %s", figure, m.exit, confirmed, n, tail(stderr.String(), 20))
	}
	t.add(row{figure: figure, client: "bulkreset verify", users: n, wall: m.wall, reset: -1,
		rssKB: m.maxRSS / 1024, cpu: m.cpu, compare: fmt.Sprintf("%s confirmed", count(confirmed))})
	return nil
}

// countConfirmed counts the confirmed rows of a verify file.
func countConfirmed(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := report.ReadVerify(f)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		if r.Status == report.Confirmed {
			n++
		}
	}
	return n, nil
}
