package report

import (
	"fmt"
	"regexp"
)

// sidPattern is the string form of a security identifier (S-1-5-21-…).
var sidPattern = regexp.MustCompile(`^S-1(-[0-9]+){1,15}$`)

// ownerOnlySDDL returns the security descriptor, in SDDL, that the secrets
// file is created with on Windows: a protected DACL (P: nothing inherited
// from the directory) with one entry, allowing full file access (FA) to the
// user sid, the account running bulkreset. It is Windows' counterpart of
// mode 0600: no entry for SYSTEM, Administrators or anyone else. (SYSTEM
// services and administrators can read any file through their backup and
// ownership privileges, as root can on unix; an entry would only grant the
// same to every process of theirs, with no privilege needed.)
func ownerOnlySDDL(sid string) (string, error) {
	if !sidPattern.MatchString(sid) {
		return "", fmt.Errorf("%q is not a security identifier", sid)
	}
	return "D:P(A;;FA;;;" + sid + ")", nil
}
