package wirejson

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendString holds AppendString to json.Marshal, byte for byte.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\/", "\b\f\n\r\t\x00\x1f\x7f", "<&>", "ünï\u2028\u2029", "\xff\xfe", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendStringMap(t *testing.T) {
	for _, m := range []map[string]string{nil, {}, {"b": "2", "a": "1", "<": "&"}, {"9": "", "10": "x", "Z": "z", "a": "\xff"}} {
		want, _ := json.Marshal(m)
		if m == nil {
			want = []byte("{}")
		}
		if got := AppendStringMap(nil, m); string(got) != string(want) {
			t.Errorf("AppendStringMap(%q) = %s, want %s", m, got, want)
		}
	}
}

// FuzzScanner holds the Scanner to encoding/json: Skip accepts exactly
// the valid JSON values, and String reads a string as json.Unmarshal does.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`"a"`, `"\u00e9\n"`, "\"\xff\"", `{"a":[1,-0.5e+3,true,false,null,{}]}`, ` [ ] `, `01`, `1.`, `-`, `"\x"`, `{"a" 1}`, `[1,]`, `tru`, `1e5`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewScanner(data)
		_, ok := s.Skip()
		ok = ok && s.End()
		if want := json.Valid(data); ok && !want {
			t.Fatalf("Skip accepted %q, which is not valid JSON", data)
		} else if !ok && want && len(data) < 200 {
			// Only nesting deeper than maxDepth may be refused.
			t.Fatalf("Skip refused valid JSON %q", data)
		}
		if v, ok := NewScanner(data).String(); ok {
			var want string
			// data may go on after the string; compare its first value only.
			dec := json.NewDecoder(bytes.NewReader(data))
			if err := dec.Decode(&want); err != nil || v != want {
				t.Fatalf("String(%q) = %q; encoding/json: %q, %v", data, v, want, err)
			}
		}
	})
}
