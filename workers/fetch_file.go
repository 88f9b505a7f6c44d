package workers

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"time"
)

// fetchFile reads a file:// feed with the same size cap as HTTP bodies. The
// file's modification time, in HTTP date format, is its Last-Modified
// validator, so an unchanged file is reported as not modified. The body is
// returned as stored, without content decoding.
func (f *Fetcher) fetchFile(u *url.URL, sent Validators) FetchResult {
	if !f.opts.AllowFileURLs {
		return permanent(fmt.Errorf("fetching feed %q: %w", u.Redacted(), ErrFileURLsDisabled))
	}
	res, err := f.readFile(u, sent)
	if err != nil {
		res.Outcome = fileErrorOutcome(err)
		res.Err = fmt.Errorf("fetching feed %q: %w", u.Redacted(), err)
	}
	return res
}

func (f *Fetcher) readFile(u *url.URL, sent Validators) (FetchResult, error) {
	res := FetchResult{FinalURL: u.String()}

	if u.Host != "" && u.Host != "localhost" {
		return res, fmt.Errorf("%w: file URL names host %q", ErrUnsupportedScheme, u.Host)
	}
	if u.Path == "" {
		return res, fmt.Errorf("%w: file URL has no absolute path", ErrUnsupportedScheme)
	}

	file, err := os.Open(u.Path)
	if err != nil {
		return res, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return res, err
	}
	// A named pipe or device could block or never end. Only regular files
	// have a size and a meaningful modification time.
	if !info.Mode().IsRegular() {
		return res, fmt.Errorf("reading %q: %w", u.Path, errNotRegularFile)
	}

	modTime := info.ModTime().UTC().Truncate(time.Second)
	res.Validators.LastModified = modTime.Format(http.TimeFormat)
	if sameModTime(sent.LastModified, modTime) {
		res.Outcome = OutcomeNotModified
		return res, nil
	}
	res.Body, err = readCapped(file, f.opts.MaxBody, -1)
	if err != nil {
		return res, err
	}
	res.Outcome = OutcomeNewContent
	return res, nil
}

var errNotRegularFile = errors.New("not a regular file")

// sameModTime reports whether the stored Last-Modified validator names the
// same second as modTime. An unparseable validator never matches, so the
// file is read again.
func sameModTime(validator string, modTime time.Time) bool {
	if validator == "" {
		return false
	}
	stored, err := http.ParseTime(validator)
	return err == nil && stored.Equal(modTime)
}

// fileErrorOutcome treats errors that a retry cannot fix as permanent.
// Anything else, such as an I/O error on a busy disk, is retried.
func fileErrorOutcome(err error) Outcome {
	switch {
	case errors.Is(err, fs.ErrNotExist),
		errors.Is(err, fs.ErrPermission),
		errors.Is(err, errNotRegularFile),
		errors.Is(err, ErrUnsupportedScheme),
		errors.Is(err, ErrFeedTooLarge):
		return OutcomePermanent
	}
	return OutcomeRetryLater
}
