// Package plural writes counts for people: "1 user", "2 users", "0 users".
package plural

import "strconv"

// Integer is a count.
type Integer interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64
}

// N returns n and the noun one, with an s unless n is 1: N(1, "user") is
// "1 user", N(3, "user") "3 users".
func N[T Integer](n T, one string) string { return Of(n, one, one+"s") }

// Of returns n and the noun one when n is 1, else many: Of(2, "entry",
// "entries") is "2 entries".
func Of[T Integer](n T, one, many string) string {
	return strconv.FormatInt(int64(n), 10) + " " + Word(n, one, many)
}

// Word returns one when n is 1, else many, for a sentence that puts the
// number elsewhere: "3 of 4 " + Word(4, "row", "rows").
func Word[T Integer](n T, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
