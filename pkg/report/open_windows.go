//go:build windows

package report

// noFollow is zero: Windows has no O_NOFOLLOW. openRegular checks the path
// with Lstat before and after opening it instead.
const noFollow = 0
