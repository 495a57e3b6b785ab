package report

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// posixACLValue encodes a POSIX access ACL as Linux stores it in
// system.posix_acl_access: the owner rw-, user uid r--, the group r--,
// the mask r--, others ---.
func posixACLValue(uid uint32) []byte {
	var b bytes.Buffer
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	put(uint32(2)) // version
	entry := func(tag, perm uint16, id uint32) { put(tag); put(perm); put(id) }
	const undefined = ^uint32(0)
	entry(0x01, 6, undefined) // ACL_USER_OBJ
	entry(0x02, 4, uid)       // ACL_USER
	entry(0x04, 4, undefined) // ACL_GROUP_OBJ
	entry(0x10, 4, undefined) // ACL_MASK
	entry(0x20, 0, undefined) // ACL_OTHER
	return b.Bytes()
}

// TestOrderResultsKeepsOwnerAndACL: the rewritten file keeps the group and
// the POSIX ACL of the original (a results file shared with a colleague
// through setfacl, or chgrp'ed to a team).
func TestOrderResultsKeepsOwnerAndACL(t *testing.T) {
	dir := t.TempDir()
	path := writeShuffledResults(t, dir, 500, Columns{}, rand.New(rand.NewPCG(5, 6)))
	gid := os.Getgid()
	if os.Geteuid() == 0 {
		gid = 4242
	} else if groups, _ := os.Getgroups(); len(groups) > 0 {
		gid = groups[len(groups)-1]
	}
	if err := os.Chown(path, os.Geteuid(), gid); err != nil {
		t.Fatal(err)
	}
	acl := posixACLValue(4243)
	if err := unix.Setxattr(path, posixACL, acl, 0); err != nil {
		t.Fatalf("set a POSIX ACL on the results file: %v", err)
	}
	rewritten, err := orderResults(t.Context(), path, orderConfig{chunkBytes: 4 << 10})
	if err != nil || !rewritten {
		t.Fatalf("orderResults: rewritten %v, error %v", rewritten, err)
	}
	checkInLineOrder(t, path, 500)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Gid) != gid || int(st.Uid) != os.Geteuid() {
		t.Errorf("owner %d group %d, want %d and %d", st.Uid, st.Gid, os.Geteuid(), gid)
	}
	buf := make([]byte, 256)
	if n, err := unix.Getxattr(path, posixACL, buf); err != nil || !bytes.Equal(buf[:n], acl) {
		t.Errorf("the rewritten file's ACL: %v %x, want the original's %x", err, buf[:max(n, 0)], acl)
	}
	if fi.Mode().Perm() != 0o640 { // the ACL's mask is the group's bits
		t.Errorf("mode %v, want 0640 (the ACL's)", fi.Mode().Perm())
	}
}
