package digests

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// csvHeader is the column list of subscriber exports and imports. List
// cells separate values with spaces.
//
// NOTE: a category that contains a space is split into two by an import.
var csvHeader = []string{"digest", "email", "locale", "time_zone", "languages", "partners", "categories", "status", "created_at", "confirmed_at"}

// formulaStart lists the first characters that make Excel and LibreOffice
// Calc read a cell as a formula (CSV injection): a sign-up may send a
// category such as =HYPERLINK(...), and an address may start with "-".
const formulaStart = "=+-@\t\r"

// escapeCell returns v with an apostrophe in front when a spreadsheet
// would read it as a formula. Spreadsheets show such a cell as text. A
// value that starts with apostrophes before a formula character gets one
// more, so unescapeCell restores every value.
func escapeCell(v string) string {
	if startsFormula(v) {
		return "'" + v
	}
	return v
}

// unescapeCell removes the apostrophe that escapeCell added.
func unescapeCell(cell string) string {
	if rest, ok := strings.CutPrefix(cell, "'"); ok && startsFormula(rest) {
		return rest
	}
	return cell
}

func startsFormula(v string) bool {
	rest := strings.TrimLeft(v, "'")
	return rest != "" && strings.ContainsRune(formulaStart, rune(rest[0]))
}

// Export writes the subscribers of digest as CSV with csvHeader. Cells
// that a spreadsheet would run as a formula start with an apostrophe,
// which Import removes.
func (st *Store) Export(ctx context.Context, digest string, w io.Writer) error {
	subs, err := st.List(ctx, digest)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	for _, s := range subs {
		confirmed := ""
		if s.ConfirmedAt != nil {
			confirmed = s.ConfirmedAt.UTC().Format(time.RFC3339)
		}
		row := []string{s.Digest, s.Email, s.Locale, s.TimeZone, strings.Join(s.Languages, " "),
			strings.Join(s.Partners, " "), strings.Join(s.Categories, " "), s.Status,
			s.CreatedAt.UTC().Format(time.RFC3339), confirmed}
		for i := range row {
			row[i] = escapeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// ImportReport counts the rows of an import.
type ImportReport struct {
	Added, Updated, Suppressed int
}

// Import reads subscribers of digest from CSV with csvHeader (the digest
// column may be empty). Every row needs confirmed_at, the time the person
// gave consent, because imported subscribers receive digests without a
// confirmation mail. Suppressed addresses are skipped. The apostrophe
// that Export puts before formula cells is removed. It stops at the first
// bad row with an error naming its line, keeping the rows before.
func (st *Store) Import(ctx context.Context, digest string, r io.Reader) (ImportReport, error) {
	var rep ImportReport
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return rep, fmt.Errorf("reading CSV header: %w", err)
	}
	if !slices.Equal(header, csvHeader) {
		return rep, fmt.Errorf("%w: CSV header must be %s", ErrInvalidSubscriber, strings.Join(csvHeader, ","))
	}
	for line := 2; ; line++ {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rep, nil
		}
		if err != nil {
			return rep, fmt.Errorf("reading CSV line %d: %w", line, err)
		}
		for i := range row {
			row[i] = unescapeCell(row[i])
		}
		if err := st.importRow(ctx, digest, row, &rep); err != nil {
			return rep, fmt.Errorf("importing CSV line %d: %w", line, err)
		}
	}
}

func (st *Store) importRow(ctx context.Context, digest string, row []string, rep *ImportReport) error {
	if row[0] != "" && row[0] != digest {
		return fmt.Errorf("%w: digest %q, expected %q", ErrInvalidSubscriber, row[0], digest)
	}
	confirmed, err := time.Parse(time.RFC3339, row[9])
	if err != nil {
		return fmt.Errorf("%w: confirmed_at: use the RFC 3339 time of consent, such as 2026-01-31T09:00:00Z", ErrInvalidSubscriber)
	}
	s := &Subscriber{
		Digest: digest, Email: row[1], Locale: row[2], TimeZone: row[3],
		Languages: strings.Fields(row[4]), Partners: strings.Fields(row[5]), Categories: strings.Fields(row[6]),
		Status: StatusConfirmed, CreatedAt: confirmed.UTC(), ConfirmedAt: &confirmed, CoveredUntil: time.Now().UTC(),
	}
	if created, err := time.Parse(time.RFC3339, row[8]); err == nil {
		s.CreatedAt = created.UTC()
	}
	if err := s.Normalize(); err != nil {
		return err
	}
	if suppressed, err := st.Suppressed(ctx, digest, s.Email); err != nil || suppressed {
		rep.Suppressed++
		return err
	}
	old, rev, err := st.Find(ctx, digest, s.Email)
	switch {
	case errors.Is(err, ErrNotFound):
		_, err = st.Put(ctx, s, 0)
		rep.Added++
	case err == nil:
		s.CoveredUntil, s.Undeliverable = old.CoveredUntil, old.Undeliverable
		_, err = st.Put(ctx, s, rev)
		rep.Updated++
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("subscriber changed during the import, run it again: %w", err)
	}
	return err
}
