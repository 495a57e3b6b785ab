package plural

import "testing"

func TestPlural(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{N(0, "user"), "0 users"},
		{N(1, "user"), "1 user"},
		{N(2, "user"), "2 users"},
		{N(int64(1), "row"), "1 row"},
		{N(int64(-1), "row"), "-1 rows"},
		{Of(1, "entry", "entries"), "1 entry"},
		{Of(uint(7), "entry", "entries"), "7 entries"},
		{Word(1, "was", "were"), "was"},
		{Word(0, "was", "were"), "were"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
