package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bulkreset/bulkreset/pkg/worker"
)

// The permissions and roles each kind of write needs, least privileged
// first, as Microsoft documents them:
//   - reset (passwordProfile): the permission User-PasswordProfile.ReadWrite.All
//     ("Permissions for specific scenarios" of
//     https://learn.microsoft.com/graph/api/user-list and
//     https://learn.microsoft.com/graph/api/user-update), and, app-only, an
//     Entra role on the app's service principal: User Administrator for
//     users without an admin role, Privileged Authentication Administrator
//     for every user (https://learn.microsoft.com/entra/identity/role-based-access-control/privileged-roles-permissions#who-can-reset-passwords);
//   - resetPassword: delegated only, UserAuthenticationMethod.ReadWrite.All
//     with the signed-in administrator an Authentication Administrator or
//     Privileged Authentication Administrator
//     (https://learn.microsoft.com/graph/api/authenticationmethod-resetpassword);
//   - revoke: User.RevokeSessions.All
//     (https://learn.microsoft.com/graph/api/user-revokesigninsessions);
//   - block (accountEnabled): User.EnableDisableAccount.All with
//     User.Read.All (the same "Permissions for specific scenarios"), and for
//     administrators a role that may perform sensitive actions on them
//     (https://learn.microsoft.com/entra/identity/role-based-access-control/privileged-roles-permissions#who-can-perform-sensitive-actions).

// appNeeds says, per kind of write, what an application signing in as
// itself must be granted.
var appNeeds = map[worker.WriteKind]string{
	worker.WriteReset: "the application permission User-PasswordProfile.ReadWrite.All (with admin consent), " +
		"and an Entra role on the app's service principal (Roles and administrators): User Administrator, " +
		"or Privileged Authentication Administrator to reset administrators too",
	worker.WriteResetPassword: "the resetPassword action needs an administrator signed in (--auth device-code, browser or azure-cli) " +
		"with the Authentication Administrator or Privileged Authentication Administrator role, " +
		"and an app with the delegated permission UserAuthenticationMethod.ReadWrite.All",
	worker.WriteRevoke: "the application permission User.RevokeSessions.All (with admin consent)",
	worker.WriteBlock: "the application permissions User.EnableDisableAccount.All and User.Read.All (with admin consent), " +
		"and, to block administrators, the Privileged Authentication Administrator role on the app's service principal",
}

// delegatedNeeds says, per kind of write, what a signed-in administrator
// (and the app they sign in through) must have.
var delegatedNeeds = map[worker.WriteKind]string{
	worker.WriteReset: "the signed-in administrator needs the User Administrator role " +
		"(Privileged Authentication Administrator to reset administrators too), " +
		"and the app the delegated permission User-PasswordProfile.ReadWrite.All",
	worker.WriteResetPassword: "the signed-in administrator needs the Authentication Administrator or Privileged Authentication Administrator role, " +
		"and the app (--client-id) the delegated permission UserAuthenticationMethod.ReadWrite.All",
	worker.WriteRevoke: "the signed-in administrator needs a role that may revoke sessions (User Administrator; " +
		"Privileged Authentication Administrator for administrators), and the app the delegated permission User.RevokeSessions.All",
	worker.WriteBlock: "the signed-in administrator needs a role that may block sign-in (User Administrator; " +
		"Privileged Authentication Administrator for administrators), and the app the delegated permissions User.EnableDisableAccount.All and User.Read.All",
}

// writeNames are the kinds of writes as a person names them.
var writeNames = map[worker.WriteKind]string{
	worker.WriteReset:         "password reset",
	worker.WriteResetPassword: "password reset (resetPassword action)",
	worker.WriteRevoke:        "session revocation",
	worker.WriteBlock:         "sign-in block",
}

// delegatedAuth reports whether --auth signs in an administrator rather
// than an application.
func delegatedAuth(auth string) bool {
	switch strings.ToLower(auth) {
	case "device-code", "browser", "azure-cli":
		return true
	}
	return false
}

// permissionStop is a run stopped by a *worker.PermissionError, said for
// a person: what Graph refused, what to grant, and that the resume
// command (printed with the summary) finishes the run once it is granted.
type permissionStop struct {
	msg string
	err *worker.PermissionError
}

func (e permissionStop) Error() string { return e.msg }
func (e permissionStop) Unwrap() error { return e.err }

// explainPermission returns err, when it is a *worker.PermissionError,
// as a permissionStop that names what is missing for the run's sign-in;
// any other err unchanged.
func explainPermission(err error, o *resetOptions) error {
	var pe *worker.PermissionError
	if !errors.As(err, &pe) {
		return err
	}
	needs, who := appNeeds[pe.Kind], "the app"
	switch {
	case delegatedAuth(o.auth):
		needs, who = delegatedNeeds[pe.Kind], "the signed-in administrator"
	case strings.EqualFold(o.auth, "auto") && needs != "":
		// azidentity's default chain may have signed in a person (the
		// Azure CLI) rather than an application.
		who = "the app (or the signed-in administrator)"
		needs += "; or, when --auth auto signed in an administrator (the Azure CLI): " + delegatedNeeds[pe.Kind]
	}
	if needs == "" {
		needs = "the permission and role this write needs"
	}
	where := ""
	if pe.Tenant != "" {
		where = " in tenant " + pe.Tenant
	}
	name := writeNames[pe.Kind]
	if name == "" {
		name = string(pe.Kind)
	}
	msg := fmt.Sprintf("stopped early: Graph refused every %s it answered%s (%d refused with 403 Authorization_RequestDenied, none accepted), "+
		"so %s lacks the permission or role for it. Grant %s. "+
		"No new batch was sent; the refused rows and the rows not yet sent have no result, "+
		"and the resume command finishes them once it is granted (a new role can take a few minutes to reach new tokens)",
		name, where, pe.Refused, who, needs)
	return permissionStop{msg: msg, err: pe}
}
