package config

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// maxKeywordBytes bounds one channel keyword. Keywords are words or short
// phrases, and every render tests each of them against every item.
const maxKeywordBytes = 200

// keyword accepts a word or phrase of visible text for channel keyword
// filters.
func keyword(v any) error {
	s := v.(string)
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("remove the empty keyword")
	case len(s) > maxKeywordBytes || !utf8.ValidString(s):
		return errors.New("use a word or phrase of at most 200 bytes of UTF-8 text")
	case strings.IndexFunc(s, isControl) >= 0:
		return errors.New("remove the control characters from the keyword")
	}
	return nil
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f
}
