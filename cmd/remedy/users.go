package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// userOptions are the flags of users add.
type userOptions struct {
	email, name, role, client string
	passwordStdin             bool
}

// usersAdd creates a user with a password: read from standard input with
// --password-stdin, or random and printed once.
func (m *Main) usersAdd(ctx context.Context, o userOptions) error {
	n := cases.NewUser{Email: o.email, Name: o.name, Role: cases.Role(o.role)}
	if o.client != "" {
		id, err := uuid.Parse(o.client)
		if err != nil {
			return usagef("--client must be a client id (a UUID)")
		}
		n.ClientID = uuid.NullUUID{UUID: id, Valid: true}
	}
	if err := n.Validate(); err != nil {
		return &usageError{err: describe(err)}
	}
	password := api.NewPassword()
	if o.passwordStdin {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("--password-stdin: no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	hash, err := api.HashPassword(password)
	if err != nil {
		return describe(err)
	}
	n.PasswordHash = hash
	db, err := m.openForCommand(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := storage.NewUserService(db).CreateUser(ctx, cases.SystemActor, n)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(m.Stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	if !o.passwordStdin {
		fmt.Fprintf(m.Stdout, "password: %s\n(shown once; it is stored only as an argon2id hash)\n", password)
	}
	return nil
}

// describe turns a domain error into a message for the terminal, naming
// every failed field.
func describe(err error) error {
	msg := cases.ErrorMessage(err)
	for _, f := range cases.ErrorFailures(err) {
		msg += "\n  " + f.Name + ": " + f.Message
	}
	return errors.New(msg)
}
