// Package guid recognises GUIDs (object ids, tenant ids) in the one form
// Microsoft Graph writes them: 8-4-4-4-12 hexadecimal digits. It is shared
// by the input reader, the Graph client and the emulator, so that the three
// agree on what an id is.
package guid

import "strings"

// Valid reports whether s is a GUID in its 8-4-4-4-12 hexadecimal form, in
// either letter case, without braces.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Parse returns s in the canonical lower-case form
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, accepting upper case and braces
// ({…}, as PowerShell and the registry write GUIDs), and whether s is a
// GUID at all.
func Parse(s string) (string, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if !Valid(s) {
		return "", false
	}
	return strings.ToLower(s), true
}
