package testenv

import (
	"crypto/rand"
	"strings"
	"testing"
)

// maxNameLen caps the readable part of a generated name. Stream and bucket
// names also end up in file paths of the JetStream store, so they stay short.
const maxNameLen = 40

// Name returns a name unique to this test run and safe as a NATS stream or
// KV bucket name: upper-case letters, digits and underscores, built from the
// test name plus a random suffix.
func Name(t testing.TB) string {
	t.Helper()
	return strings.ToUpper(sanitize(t.Name())) + "_" + randomSuffix()
}

// sanitize maps every character outside [A-Za-z0-9] to an underscore and
// cuts the result to maxNameLen, so it is safe in subjects, stream names and
// Redis SCAN patterns.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() == maxNameLen {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// randomSuffix returns 8 random characters from the base32 alphabet
// (A-Z, 2-7). Its 40 bits make a clash between parallel runs that share
// one Redis very unlikely.
func randomSuffix() string {
	return rand.Text()[:8]
}
