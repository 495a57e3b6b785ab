package report

import (
	"bytes"
	"encoding/csv"
	"errors"
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

// checkParseError fails t unless err is a *ParseError with a line: the
// only error a reader of the package's files returns for bad input.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line < 1 {
		t.Fatalf("got error %v (%T), want a *ParseError with a line", err, err)
	}
}
