package config

import (
	"errors"
	"strings"
)

// ErrInvalidConfig is returned by Load and Config.Validate when the file, the
// environment or a value is invalid. Load joins one *FieldError per problem,
// and each of them wraps ErrInvalidConfig, so errors.Is works on the joined
// error and errors.As finds the first problem.
var ErrInvalidConfig = errors.New("invalid configuration")

// FieldError is one configuration problem: a key with a bad value, an
// unknown key or a failed cross-check.
type FieldError struct {
	// Source is where the value came from: "syndic.yaml:12" for a line of
	// the file, "env SYNDIC_LOG_LEVEL" for a variable, empty for a default
	// or a value set in Go.
	Source string
	// Key is the key path with list elements named by id or position, such
	// as "partners[wipk].feeds[0].url".
	Key string
	// Message describes the problem and how to fix it. Secret values
	// appear in it masked.
	Message string
	// Err is the underlying error, such as the error of reading a secret
	// file, or nil.
	Err error
}

// Error returns "source: key: message", without the source when it is empty.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns ErrInvalidConfig and Err, when set.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidConfig}
	}
	return []error{ErrInvalidConfig, e.Err}
}
