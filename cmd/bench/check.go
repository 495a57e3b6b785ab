package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// checkInput is one generated input for check.
type checkInput struct {
	name  string
	rows  int
	write func(path string, rows int) (invalid, duplicate int, err error)
	file  string
}

// checkFigure measures how fast `bulkreset check` reads large inputs, and
// the peak memory of the process: a 1,000,000-row CSV (acceptance 2 of
// issue 3: under 10 s and 150 MB on the 2-core build machine) and a
// 200,000-row workbook.
func (b *bench) checkFigure(t *table) error {
	dir, err := os.MkdirTemp("", "bulkreset-bench-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	inputs := []checkInput{
		{name: "check, 1,000,000-row CSV", rows: 1_000_000, write: writeCheckCSV, file: "users.csv"},
		{name: "check, 200,000-row .xlsx", rows: 200_000, write: writeCheckXLSX, file: "users.xlsx"},
	}
	for _, in := range inputs {
		b.logf("%s", in.name)
		path := filepath.Join(dir, in.file)
		invalid, dup, err := in.write(path, in.rows)
		if err != nil {
			return fmt.Errorf("%s: generating the input: %w", in.name, err)
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		m, err := measureCheck(b.bin, path, in.rows, invalid, dup)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		r := row{figure: in.name, client: "bulkreset check", users: in.rows, wall: m.wall, reset: -1,
			rssKB: m.maxRSS / 1024, cpu: m.cpu, compare: fmt.Sprintf("input %.1f MB", float64(st.Size())/1e6)}
		if in.rows == 1_000_000 {
			r.accept = met(m.wall < 10*time.Second && m.maxRSS > 0 && m.maxRSS < 150<<20, "< 10 s, < 150 MB")
		}
		t.add(r)
		os.Remove(path)
	}
	return nil
}

var rowsLine = regexp.MustCompile(`(?m)^Rows: (\d+)$|^  (invalid|duplicate) +(\d+)$`)

// measureCheck runs the binary's check on path and verifies its counts:
// a run that read the wrong rows has no speed worth printing.
func measureCheck(bin, path string, rows, invalid, dup int) (measurement, error) {
	var stdout, stderr bytes.Buffer
	m, err := runMeasured(&stdout, &stderr, nil, bin, "check", "-i", path)
	if err != nil {
		return m, err
	}
	wantExit := 0
	if invalid > 0 {
		wantExit = 3
	}
	if m.exit != wantExit {
		return m, fmt.Errorf("exit code %d, want %d:\n%s%s", m.exit, wantExit, stdout.String(), stderr.String())
	}
	got := map[string]int{}
	for _, sm := range rowsLine.FindAllStringSubmatch(stdout.String(), -1) {
		if sm[1] != "" {
			got["rows"], _ = strconv.Atoi(sm[1])
		} else {
			got[sm[2]], _ = strconv.Atoi(sm[3])
		}
	}
	if got["rows"] != rows || got["invalid"] != invalid || got["duplicate"] != dup {
		return m, fmt.Errorf("check counted %d rows, %d invalid, %d duplicates; want %d, %d, %d:\n%s",
			got["rows"], got["invalid"], got["duplicate"], rows, invalid, dup, stdout.String())
	}
	return m, nil
}

// checkRow returns the cells of row i of a generated input, shaped like
// an admin-center export: one row in 10,000 has an invalid UPN, and one in
// 1,000 repeats the user before it in capitals.
func checkRow(i int) (upn, name, dept string, invalid, dup bool) {
	switch {
	case i%10_000 == 9_999:
		return fmt.Sprintf("first.last%d", i), "No domain", "Sales", true, false
	case i%1_000 == 500:
		return fmt.Sprintf("FIRST.LAST%d@CONTOSO.ONMICROSOFT.COM", i-1), "Again", "Sales", false, true
	}
	return fmt.Sprintf("first.last%d@contoso.onmicrosoft.com", i), fmt.Sprintf("Last, First %d", i), "Sales", false, false
}

func writeCheckCSV(path string, rows int) (invalid, dup int, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("\uFEFFUserPrincipalName,Display name,Department,ForceChangePasswordNextSignIn\r\n")
	for i := range rows {
		upn, name, dept, bad, again := checkRow(i)
		fmt.Fprintf(bw, "%s,\"%s\",%s,true\r\n", upn, name, dept)
		if bad {
			invalid++
		}
		if again {
			dup++
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, 0, err
	}
	return invalid, dup, f.Close()
}

func writeCheckXLSX(path string, rows int) (invalid, dup int, err error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return 0, 0, err
	}
	if err := sw.SetRow("A1", []any{"UserPrincipalName", "Display name", "Department", "ForceChangePasswordNextSignIn"}); err != nil {
		return 0, 0, err
	}
	for i := range rows {
		upn, name, dept, bad, again := checkRow(i)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{upn, name, dept, true}); err != nil {
			return 0, 0, err
		}
		if bad {
			invalid++
		}
		if again {
			dup++
		}
	}
	if err := sw.Flush(); err != nil {
		return 0, 0, err
	}
	return invalid, dup, f.SaveAs(path)
}
