package report

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// readCSV parses data as plain CSV, without the package's reader.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("the output is not valid CSV: %v\n%s", err, data)
	}
	return recs
}
