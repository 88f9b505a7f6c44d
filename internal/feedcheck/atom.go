package feedcheck

import (
	"encoding/xml"
	"testing"
)

type atomFeed struct {
	XMLName xml.Name     `xml:"http://www.w3.org/2005/Atom feed"`
	Authors []atomPerson `xml:"http://www.w3.org/2005/Atom author"`
	Entries []atomEntry  `xml:"http://www.w3.org/2005/Atom entry"`
}

type atomPerson struct {
	Name string `xml:"http://www.w3.org/2005/Atom name"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
}

type atomEntry struct {
	ID      string       `xml:"http://www.w3.org/2005/Atom id"`
	Authors []atomPerson `xml:"http://www.w3.org/2005/Atom author"`
	Links   []atomLink   `xml:"http://www.w3.org/2005/Atom link"`
	Content *struct{}    `xml:"http://www.w3.org/2005/Atom content"`
	Source  *struct {
		Authors []atomPerson `xml:"http://www.w3.org/2005/Atom author"`
	} `xml:"http://www.w3.org/2005/Atom source"`
}

// alternate returns the href of the entry's alternate link ("alternate" is
// also the meaning of a link without rel), or "".
func (e atomEntry) alternate() string {
	for _, l := range e.Links {
		if l.Rel == "" || l.Rel == "alternate" {
			return l.Href
		}
	}
	return ""
}

// checkAtomEntryRules checks the two Schematron rules of the RFC 4287
// schema that jing does not evaluate: an entry has an alternate link or
// content, and an entry has an author unless its feed or source has one.
func checkAtomEntryRules(t testing.TB, index int, e atomEntry, feedHasAuthor bool) {
	t.Helper()
	if e.alternate() == "" && e.Content == nil {
		t.Errorf("atom entry %d (%q) has neither an alternate link nor content", index, e.ID)
	}
	hasAuthor := len(e.Authors) > 0 || feedHasAuthor || (e.Source != nil && len(e.Source.Authors) > 0)
	if !hasAuthor {
		t.Errorf("atom entry %d (%q) has no author and its feed has none", index, e.ID)
	}
	for _, a := range e.Authors {
		if a.Name == "" {
			t.Errorf("atom entry %d (%q) has an author without a name", index, e.ID)
		}
	}
}
