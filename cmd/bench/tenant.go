package main

import (
	"bufio"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// The identity the bench signs in with: azidentity's client-secret flow
// against graphsim's token endpoint. Dummy values that only the emulator
// accepts.
const (
	benchTenant = "0c7d9a4e-2f1b-4c8d-9e3a-5b6f7a8c9d0e"
	benchClient = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	benchSecret = "bench-secret-not-a-credential"
	benchDomain = "loadtest.example"
)

// tenant is an emulated tenant served on loopback, with its users listed in
// an input file.
type tenant struct {
	sim   *graphsim.Sim
	srv   *graphsim.Server
	dir   string // temporary: input, outputs, CA certificate
	input string
	ca    string
	users []graphsim.User
}

// startTenant serves a tenant of n users with opts (identity added).
func startTenant(opts graphsim.Options, n int) (*tenant, error) {
	opts.TenantID, opts.ClientID, opts.ClientSecret = benchTenant, benchClient, benchSecret
	sim := graphsim.New(opts)
	users := benchUsers(n)
	if err := sim.AddUsers(users); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bulkreset-bench-")
	if err != nil {
		return nil, err
	}
	t := &tenant{sim: sim, dir: dir, users: users, input: filepath.Join(dir, "users.csv"), ca: filepath.Join(dir, "ca.pem")}
	if err := t.writeInput(); err != nil {
		t.close()
		return nil, err
	}
	if t.srv, err = serve(sim.Start, t.ca); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// serve starts an emulator and writes its certificate to ca, for the
// child's SSL_CERT_FILE.
func serve(start func() (*graphsim.Server, error), ca string) (*graphsim.Server, error) {
	srv, err := start()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate.Raw}), 0o644); err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}

// benchUsers are n members p0000001@loadtest.example, ...: names that random
// passwords almost never contain, so that Entra's banned-password check
// (the UPN's parts, the tenant's name) refuses none of them.
func benchUsers(n int) []graphsim.User {
	users := make([]graphsim.User, n)
	for i := range users {
		users[i] = graphsim.User{UPN: fmt.Sprintf("p%07d@%s", i+1, benchDomain), Kind: graphsim.KindMember}
	}
	return users
}

func (t *tenant) writeInput() error {
	f, err := os.Create(t.input)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("UserPrincipalName\n")
	for _, u := range t.users {
		w.WriteString(u.UPN)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// reset counts the users whose password was set at least once.
func (t *tenant) reset() int {
	n := 0
	for _, u := range t.sim.Users() {
		if u.PasswordSets > 0 {
			n++
		}
	}
	return n
}

func (t *tenant) close() {
	if t.srv != nil {
		t.srv.Close()
	}
	os.RemoveAll(t.dir)
}
