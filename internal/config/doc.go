// Package config loads and validates the configuration of Syndic: one YAML
// file plus SYNDIC_* environment variables.
//
// The Keys table is the single description of every key, with its default,
// environment variable, secrecy and validator. Load applies the defaults,
// then the file, then the environment, and reports every problem at once as
// *FieldError values that wrap ErrInvalidConfig. Masked prints the result
// with secrets hidden, and Markdown renders the table as
// docs/configuration.md.
package config
