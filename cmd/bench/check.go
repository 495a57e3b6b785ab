package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xuri/excelize/v2"
)

// benchCheck prints how fast `bulkreset check` reads large inputs, and the
// peak memory of the process: a 1,000,000-row CSV (acceptance 2 of issue
// 3: under 10 s and 150 MB on the 2-core build machine) and a 200,000-row
// workbook. It exits the bench on failure.
func benchCheck(bin string) {
	if err := runCheckBench(bin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench: check: %v\n", err)
		os.Exit(1)
	}
}

// checkInput is one generated input for check.
type checkInput struct {
	name  string
	rows  int
	write func(path string, rows int) (invalid, duplicate int, err error)
	file  string
}

func runCheckBench(bin string, w io.Writer) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%w (run `make build` first)", err)
	}
	dir, err := os.MkdirTemp("", "bulkreset-bench-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	inputs := []checkInput{
		{name: "check, 1,000,000-row CSV", rows: 1_000_000, write: writeCheckCSV, file: "users.csv"},
		{name: "check, 200,000-row .xlsx", rows: 200_000, write: writeCheckXLSX, file: "users.xlsx"},
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tinput size\twall time\trows/s\tpeak RSS\texit")
	for _, in := range inputs {
		path := filepath.Join(dir, in.file)
		invalid, dup, err := in.write(path, in.rows)
		if err != nil {
			return fmt.Errorf("%s: generating the input: %w", in.name, err)
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		m, err := measureCheck(bin, path, in.rows, invalid, dup)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		fmt.Fprintf(tw, "%s\t%.1f MB\t%v\t%.0f\t%s\t%d\n", in.name, float64(st.Size())/1e6, m.wall.Round(time.Millisecond),
			float64(in.rows)/m.wall.Seconds(), mb(m.maxRSS), m.exit)
		os.Remove(path)
	}
	return tw.Flush()
}

type checkMeasurement struct {
	wall   time.Duration
	maxRSS int64 // bytes; 0 when the platform does not say
	exit   int
}

var rowsLine = regexp.MustCompile(`(?m)^Rows: (\d+)$|^  (invalid|duplicate) +(\d+)$`)

// measureCheck runs the binary's check on path and verifies its counts:
// a run that read the wrong rows has no speed worth printing.
func measureCheck(bin, path string, rows, invalid, dup int) (checkMeasurement, error) {
	var stdout, stderr bytes.Buffer
	m, err := runMeasured(&stdout, &stderr, bin, "check", "-i", path)
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

// The peak memory of a child is read from the rusage of its exit
// (ru_maxrss). On Linux that figure also counts the memory of the process
// that started it: Go starts children with vfork, and at exec the kernel
// folds the parent's high-water mark into the child's maxrss. The bench,
// having run a Graph emulator with 10,000 users, is far larger than the
// check it measures, so it does not start the check itself: it starts a
// fresh copy of itself (measureRunnerEnv set), small, which runs the check
// and reports the check's rusage on its standard output.
const measureRunnerEnv = "BULKRESET_BENCH_MEASURE"

func init() {
	if os.Getenv(measureRunnerEnv) == "" {
		return
	}
	// The runner: run the command given after "--", then print its exit
	// code, wall time and peak RSS on a last line of standard output.
	args := os.Args[1:]
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "bench runner: no command")
		os.Exit(2)
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "bench runner: %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("\n%s %d %d %d\n", measureRunnerEnv, cmd.ProcessState.ExitCode(), wall.Nanoseconds(), maxRSS(cmd.ProcessState))
	os.Exit(0)
}

// runMeasured runs a command through the runner and returns its standard
// output (without the runner's line), exit code, wall time and peak RSS.
func runMeasured(stdout, stderr *bytes.Buffer, name string, args ...string) (checkMeasurement, error) {
	self, err := os.Executable()
	if err != nil {
		return checkMeasurement{}, err
	}
	cmd := exec.Command(self, append([]string{"--", name}, args...)...)
	cmd.Env = append(os.Environ(), measureRunnerEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return checkMeasurement{}, fmt.Errorf("bench runner: %w: %s", err, stderr.String())
	}
	text := out.String()
	i := strings.LastIndex(text, "\n"+measureRunnerEnv+" ")
	if i < 0 {
		return checkMeasurement{}, fmt.Errorf("bench runner: no measurement in its output")
	}
	var m checkMeasurement
	var ns int64
	if _, err := fmt.Sscanf(text[i+1:], measureRunnerEnv+" %d %d %d", &m.exit, &ns, &m.maxRSS); err != nil {
		return checkMeasurement{}, fmt.Errorf("bench runner: %w", err)
	}
	m.wall = time.Duration(ns)
	stdout.WriteString(text[:i])
	return m, nil
}

func mb(b int64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
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
