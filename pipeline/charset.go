package pipeline

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// Recovery notes for the encoding step, reported in ParseResult.Recoveries.
const (
	recoveryBOM             = "byte-order mark"
	recoveryUTF16NoBOM      = "utf-16 without byte-order mark"
	recoveryCharsetMismatch = "declared charset contradicts bytes"
	recoveryInvalidUTF8     = "invalid utf-8 replaced"
)

// RecoveryDefaultCharset is the recovery recorded, next to the one that
// explains it, when a body is not UTF-8 and the partner sets no usable
// partners[].charset, so the body was read as windows-1252. That is a
// guess: a windows-1250 body read this way shows "Za¿ó³æ" for "Zażółć".
const RecoveryDefaultCharset = "not utf-8, read as windows-1252 by default"

// xmlDeclEncoding finds the encoding pseudo-attribute of an XML
// declaration, in single or double quotes, after optional leading blanks.
var xmlDeclEncoding = regexp.MustCompile(
	`^\s*<\?xml[^>]*?\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')`)

// decodedBody is a feed body transcoded to UTF-8.
type decodedBody struct {
	text       []byte
	charset    string // the charset the bytes were read as
	recoveries []string
}

// decodeToUTF8 transcodes body to UTF-8. The order is: byte-order mark,
// UTF-16 or UTF-32 shape without a mark, the charset parameter of
// contentType, the XML declaration, valid UTF-8, and the partner's fallback
// (windows-1252 when it has none) as the last resort. An ISO-8859-1 label
// is read as windows-1252, as browsers do.
// The XML declaration of the result names UTF-8 so a later parser does not
// decode the text a second time.
func decodeToUTF8(body []byte, contentType, fallback string) (decodedBody, error) {
	enc, name, rest, notes := sniffUnicode(body)
	if enc == nil {
		enc, name, notes = chooseDeclared(rest, contentType, fallback)
	}
	text, err := transcode(rest, enc)
	if err != nil {
		return decodedBody{}, fmt.Errorf("decoding body as %s: %w", name, err)
	}
	if !utf8.Valid(text) {
		text = bytes.ToValidUTF8(text, []byte("\uFFFD"))
		notes = append(notes, recoveryInvalidUTF8)
	}
	text = rewriteDeclEncoding(text)
	return decodedBody{text: text, charset: name, recoveries: notes}, nil
}

// sniffUnicode detects a byte-order mark, or the zero-byte pattern of
// UTF-16 and UTF-32 text that starts with "<" and has no mark. It returns
// a nil encoding when neither is present.
func sniffUnicode(body []byte) (encoding.Encoding, string, []byte, []string) {
	marked := []string{recoveryBOM}
	switch {
	case bytes.HasPrefix(body, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", body[4:], marked
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", body[4:], marked
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		return encoding.Nop, "utf-8", body[3:], marked
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", body[2:], marked
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", body[2:], marked
	}
	unmarked := []string{recoveryUTF16NoBOM}
	switch {
	case bytes.HasPrefix(body, []byte("<\x00\x00\x00")):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", body, unmarked
	case bytes.HasPrefix(body, []byte("\x00\x00\x00<")):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", body, unmarked
	case looksUTF16(body, 0):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", body, unmarked
	case looksUTF16(body, 1):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", body, unmarked
	}
	return nil, "", body, nil
}

// looksUTF16 reports whether body starts with "<" followed by an ASCII
// character in UTF-16, with the ASCII byte at offset lo of each code unit
// (0 for little endian, 1 for big endian).
func looksUTF16(body []byte, lo int) bool {
	if len(body) < 4 {
		return false
	}
	hi := 1 - lo
	return body[lo] == '<' && body[hi] == 0 &&
		body[2+lo] != 0 && body[2+lo] < 0x80 && body[2+hi] == 0
}

// chooseDeclared picks the encoding of a body without a byte-order mark:
// the HTTP charset, then the XML declaration, then valid UTF-8, then the
// fallback.
func chooseDeclared(body []byte, contentType, fallback string) (encoding.Encoding, string, []string) {
	for _, label := range []string{httpCharset(contentType), declaredCharset(body)} {
		enc, name := lookupCharset(label)
		if enc == nil {
			continue
		}
		return checkDeclared(body, enc, name, fallback)
	}
	if utf8.Valid(body) {
		return encoding.Nop, "utf-8", nil
	}
	enc, name, notes := fallbackCharset(fallback)
	return enc, name, append([]string{"no charset declared, decoded as " + name}, notes...)
}

// fallbackCharset returns the partner's fallback encoding, or windows-1252
// with RecoveryDefaultCharset when it names none or an unknown one.
func fallbackCharset(label string) (encoding.Encoding, string, []string) {
	if enc, name := lookupCharset(label); enc != nil && name != "utf-8" {
		return enc, name, nil
	}
	return charmap.Windows1252, "windows-1252", []string{RecoveryDefaultCharset}
}

// checkDeclared catches the two contradictions seen in real feeds: a body
// declared as UTF-8 that is mostly not UTF-8, and a body declared as
// windows-1252 or ISO-8859-1 that is valid UTF-8 with multi-byte
// sequences. Real Latin-1 text almost never forms valid UTF-8 sequences, so
// in the second case the bytes win over the label.
func checkDeclared(body []byte, enc encoding.Encoding, name, fallback string) (encoding.Encoding, string, []string) {
	switch name {
	case "utf-8":
		if !utf8.Valid(body) && !mostlyUTF8(body) {
			enc, name, notes := fallbackCharset(fallback)
			return enc, name, append([]string{recoveryCharsetMismatch}, notes...)
		}
	case "windows-1252":
		if utf8.Valid(body) && hasMultiByte(body) {
			return encoding.Nop, "utf-8", []string{recoveryCharsetMismatch}
		}
	}
	return enc, name, nil
}

// lookupCharset resolves a charset label through the WHATWG table. Labels
// of UTF-16 and UTF-32 are ignored here, because a body in those encodings
// was already recognised by sniffUnicode and any other body that claims
// them is mislabelled.
func lookupCharset(label string) (encoding.Encoding, string) {
	label = strings.ToLower(strings.TrimSpace(label))
	if label == "" || strings.HasPrefix(label, "utf-16") ||
		strings.HasPrefix(label, "utf-32") || strings.HasPrefix(label, "ucs") {
		return nil, ""
	}
	enc, name := charset.Lookup(label)
	if enc == nil {
		return nil, ""
	}
	if name == "utf-8" {
		return encoding.Nop, name
	}
	return enc, name
}

// httpCharset returns the charset parameter of a Content-Type value.
func httpCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return params["charset"]
}

// declaredCharset returns the encoding named by the XML declaration.
func declaredCharset(body []byte) string {
	head := body[:min(len(body), 1024)]
	m := xmlDeclEncoding.FindSubmatch(head)
	if m == nil {
		return ""
	}
	return string(m[1]) + string(m[2])
}

func transcode(body []byte, enc encoding.Encoding) ([]byte, error) {
	if enc == encoding.Nop {
		return body, nil
	}
	return enc.NewDecoder().Bytes(body)
}

// mostlyUTF8 reports whether valid multi-byte sequences outnumber invalid
// bytes, which means a few stray bytes spoil an otherwise UTF-8 body.
func mostlyUTF8(body []byte) bool {
	valid, invalid := 0, 0
	for len(body) > 0 {
		r, size := utf8.DecodeRune(body)
		switch {
		case r == utf8.RuneError && size == 1:
			invalid++
		case size > 1:
			valid++
		}
		body = body[size:]
	}
	return valid > invalid
}

func hasMultiByte(body []byte) bool {
	for _, b := range body {
		if b >= 0x80 {
			return true
		}
	}
	return false
}

// rewriteDeclEncoding makes the XML declaration name UTF-8, the encoding
// of text after transcoding.
func rewriteDeclEncoding(text []byte) []byte {
	loc := xmlDeclEncoding.FindSubmatchIndex(text[:min(len(text), 1024)])
	if loc == nil {
		return text
	}
	start, end := loc[2], loc[3]
	if start < 0 {
		start, end = loc[4], loc[5]
	}
	if strings.EqualFold(string(text[start:end]), "utf-8") {
		return text
	}
	out := make([]byte, 0, len(text)+8)
	out = append(out, text[:start]...)
	out = append(out, "UTF-8"...)
	return append(out, text[end:]...)
}
