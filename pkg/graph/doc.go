// Package graph is bulkreset's small Microsoft Graph client: national
// clouds and endpoint checks, credentials built with azidentity, the JSON
// batching wire format, Graph's error envelope and Retry-After.
//
// It is written on net/http and encoding/json rather than msgraph-sdk-go
// (the README's "Why Graph is called with net/http, not msgraph-sdk-go"
// gives the measurements behind that choice). Nothing in this
// package reads the environment, the command line or the wall clock on its
// own: callers pass the values they read and a Now function.
//
// Secrets never leave this package in text: Request and PasswordProfile
// redact themselves in fmt, slog and JSON output, and no error message
// contains a request body or an access token.
package graph
