package csvin

import (
	"io"

	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
)

// FormatUserList is Info.Format of a UserList: users named on the command
// line, not a file.
const FormatUserList = "users"

// UserList is the input of a run that names its users on the command line
// (bulkreset reset --user): one Row per user, in the order given, with Line
// the user's position (1 for the first). Each user is checked as a cell of
// a headerless file is: a GUID is an object id, anything else a UPN that
// must follow Microsoft's syntax; an empty one is a row without a user. A
// user that fails is a Row with a Reason, never an error, so that it gets
// its invalid row in the results like a bad cell of a file. It is a
// pipeline.Source.
type UserList struct {
	users    []string
	password secret.Value
	next     int
}

// NewUserList returns the rows of users. password, when not empty, is every
// row's Password (--password-stdin): the password mode is then "column".
func NewUserList(users []string, password secret.Value) *UserList {
	return &UserList{users: users, password: password}
}

// Read returns the next user's row, or io.EOF after the last one.
func (l *UserList) Read() (Row, error) {
	if l.next >= len(l.users) {
		return Row{}, io.EOF
	}
	l.next++
	return userRow(l.next, l.users[l.next-1], l.password), nil
}

// Info describes the list as a reader describes its file: a headerless
// list of users, with a Password "column" when a password was given.
func (l *UserList) Info() Info {
	info := Info{Format: FormatUserList, Headerless: true, Columns: map[string]string{ColumnUPN: ""}}
	info.HasPassword = !l.password.Empty()
	return info
}

// Close does nothing: the list has no file.
func (l *UserList) Close() error { return nil }

// userRow is the row of the user v at line.
func userRow(line int, v string, pw secret.Value) Row {
	row := Row{Line: line}
	v = trim(v)
	if g, ok := parseGUID(v); ok {
		row.ID = g
	} else {
		row.UPN = v
	}
	switch {
	case v == "":
		row.Reason, row.Problem = report.ReasonMissingUser, "--user is empty"
	case row.UPN != "":
		if msg := checkUPN(row.UPN); msg != "" {
			row.Reason, row.Problem = report.ReasonInvalidUPN, msg
		}
	}
	if row.Reason == "" {
		row.Password = pw
	}
	return row
}
