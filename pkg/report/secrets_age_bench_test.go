package report

import (
	"bytes"
	"testing"
)

// frameRows are the rows of one batch of 20, as one frame holds them.
var frameRows = bytes.Repeat([]byte("12,user1234@contoso.onmicrosoft.com,abcdefghijklmnop\n"), 20)

// BenchmarkSealFrame is the cost of encrypting one journal frame, paid
// once per group commit during the run.
func BenchmarkSealFrame(b *testing.B) {
	k, _ := newJournalKey()
	plain := frameRows
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.seal(plain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenFrame is the cost of decrypting one journal frame, paid
// once per frame when the run completes (and on --resume).
func BenchmarkOpenFrame(b *testing.B) {
	k, _ := newJournalKey()
	plain := frameRows
	f, _ := k.seal(plain)
	jr := &journalReader{key: k}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jr.open(f[4:]); err != nil {
			b.Fatal(err)
		}
	}
}
