package graph_test

import (
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
)

func ExampleUserPath() {
	fmt.Println(graph.UserPath("87d349ed-44d7-43e1-9a83-5f2406dee5bd"))
	fmt.Println(graph.UserPath("alex_fabrikam.com#EXT#@contoso.onmicrosoft.com"))
	fmt.Println(graph.UserPath("$svc@contoso.com"))
	fmt.Println(graph.UserPath("conor.o'brien@contoso.com"))
	// Output:
	// /users/87d349ed-44d7-43e1-9a83-5f2406dee5bd
	// /users/alex_fabrikam.com%23EXT%23@contoso.onmicrosoft.com
	// /users('$svc@contoso.com')
	// /users/conor.o'brien@contoso.com
}

func ExampleParseRetryAfter() {
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, v := range []string{"0.249", "10", "Fri, 14 Mar 2025 15:09:56 GMT", "-1"} {
		d, ok := graph.ParseRetryAfter(v, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 249ms true
	// 10s true
	// 30s true
	// 0s false
}

func ExamplePasswordRequest() {
	req := graph.PasswordRequest("1", "adele@contoso.com", graph.PasswordProfile{
		Password:                      secret.New("generated elsewhere"),
		ForceChangePasswordNextSignIn: true,
	})
	fmt.Println(req)
	// Output:
	// {id:1 PATCH /users/adele@contoso.com body:[REDACTED]}
}
