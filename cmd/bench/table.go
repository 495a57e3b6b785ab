package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one measured run.
type row struct {
	figure  string
	client  string
	users   int
	wall    time.Duration
	reset   int           // users whose password was set
	writes  int           // write attempts Graph evaluated
	limited int           // of which answered 429
	rssKB   int64         // peak RSS of the bulkreset process; 0 when not measured
	cpu     time.Duration // CPU time of the bulkreset process; 0 when not measured
	compare string        // against the minimum or a baseline
	accept  string        // the acceptance criterion and whether it is met
	rate    float64       // users per second; computed when 0
}

// table collects rows and prints them.
type table struct{ rows []row }

func (t *table) add(r row) { t.rows = append(t.rows, r) }

func (t *table) print(w io.Writer, legend []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tclient\tusers\ttime\tusers/s\t429s\treset\tpeak RSS\tCPU\tcompared\tacceptance")
	for _, r := range t.rows {
		rate, reset := r.rate, count(r.reset)
		if r.reset < 0 {
			rate, reset = float64(r.users)/r.wall.Seconds(), "-"
		} else if rate == 0 && r.wall > 0 {
			rate = float64(r.reset) / r.wall.Seconds()
		}
		share := "-"
		if r.writes > 0 {
			share = fmt.Sprintf("%.2f%%", 100*float64(r.limited)/float64(r.writes))
		}
		rss := "-"
		if r.rssKB > 0 {
			rss = fmt.Sprintf("%d MB", r.rssKB/1024)
		}
		cpu := "-"
		if r.cpu > 0 {
			cpu = seconds(r.cpu)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.figure, r.client, count(r.users),
			seconds(r.wall), count(int(rate)), share, reset, rss, cpu, dash(r.compare), dash(r.accept))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range legend {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// count writes n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// met renders an acceptance check.
func met(ok bool, criterion string) string {
	if ok {
		return criterion + ": met"
	}
	return criterion + ": NOT MET"
}
