package pipeline

import "strings"

// undetermined is the BCP 47 tag for a language that is not known.
const undetermined = "und"

// primaryLanguage returns the lower-case primary subtag of a BCP 47 tag,
// or "" for an empty or undetermined tag.
func primaryLanguage(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	if primary == undetermined {
		return ""
	}
	return primary
}
