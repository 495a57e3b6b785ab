//go:build unix

package report

import "syscall"

// noFollow are the open flags that make opening safe on a path another
// local user could have prepared: a symbolic link is not followed
// (O_NOFOLLOW), and opening a pipe does not wait for a writer (O_NONBLOCK;
// it has no effect on a regular file).
const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
