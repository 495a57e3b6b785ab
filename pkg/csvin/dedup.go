package csvin

import (
	"hash/maphash"
	"math/bits"
)

// Dedup remembers the duplicate keys (Row.Key) seen so far. It stores a
// 128-bit hash of each key, not the key, in an open-addressing table kept
// between 53% and 80% full: 20 to 30 bytes a key whatever the key's length
// (BenchmarkDedup measures it; a Go map of the same hashes takes about
// 56). Two different keys among a million collide with a probability below
// 1e-26. The hashes are seeded at random per Dedup. It is not safe for
// concurrent use.
type Dedup struct {
	seeds [2]maphash.Seed
	slots [][2]uint64 // linear probing; the zero value marks an empty slot
	n     int
}

const (
	dedupMinSlots = 1024
	// The table grows by half when 80% full.
	dedupLoadNum, dedupLoadDen = 4, 5
)

// NewDedup returns an empty Dedup.
func NewDedup() *Dedup {
	return &Dedup{
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		slots: make([][2]uint64, dedupMinSlots),
	}
}

// Seen reports whether key was given before, and remembers it.
func (d *Dedup) Seen(key string) bool {
	h := [2]uint64{maphash.String(d.seeds[0], key), maphash.String(d.seeds[1], key)}
	if h == [2]uint64{} {
		h[1] = 1 // the zero value marks an empty slot
	}
	if d.n >= len(d.slots)*dedupLoadNum/dedupLoadDen {
		d.grow()
	}
	if d.insert(h) {
		d.n++
		return false
	}
	return true
}

// insert adds h and reports whether it was absent.
func (d *Dedup) insert(h [2]uint64) bool {
	// The first half of the hash, scaled to the table, picks the slot.
	i, _ := bits.Mul64(h[0], uint64(len(d.slots)))
	for j := int(i); ; {
		switch d.slots[j] {
		case [2]uint64{}:
			d.slots[j] = h
			return true
		case h:
			return false
		}
		if j++; j == len(d.slots) {
			j = 0
		}
	}
}

func (d *Dedup) grow() {
	old := d.slots
	d.slots = make([][2]uint64, len(old)+len(old)/2)
	for _, h := range old {
		if h != [2]uint64{} {
			d.insert(h)
		}
	}
}

// Len returns the number of distinct keys seen.
func (d *Dedup) Len() int { return d.n }
