package pipeline

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func TestEventMsgID(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef"
	const hash = "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
	base := Event{Kind: KindCreated, Item: Item{ID: id, ContentHash: hash}, Revision: 1}

	got := eventMsgID(&base)
	sum := sha256.Sum256([]byte(id + ".1." + hash))
	if want := base64.RawURLEncoding.EncodeToString(sum[:16]); got != want {
		t.Errorf("eventMsgID = %q, want %q, the documented form", got, want)
	}
	if len(got) != 22 {
		t.Errorf("eventMsgID = %q, %d characters, want 22", got, len(got))
	}
	retracted := base
	retracted.Kind, retracted.Revision = KindRetracted, 2
	sum = sha256.Sum256([]byte(id + ".retracted.2"))
	if got, want := eventMsgID(&retracted), base64.RawURLEncoding.EncodeToString(sum[:16]); got != want {
		t.Errorf("eventMsgID of a retraction = %q, want %q", got, want)
	}

	// Every part of the name changes the id; an updated event with the
	// same revision and text is the same message as a created one.
	seen := map[string]string{got: "created revision 1"}
	variants := map[string]Event{}
	v := base
	v.Revision = 2
	variants["revision 2"] = v
	v = base
	v.ContentHash = hash[:63] + "9"
	variants["other content hash"] = v
	v = base
	v.ID = "f" + id[1:]
	variants["other item"] = v
	variants["retraction of revision 2"] = retracted
	v = retracted
	v.Revision = 3
	variants["retraction of revision 3"] = v
	for name, ev := range variants {
		m := eventMsgID(&ev)
		if other, dup := seen[m]; dup {
			t.Errorf("%s has the message id of %s: %q", name, other, m)
		}
		seen[m] = name
	}
	updated := base
	updated.Kind = KindUpdated
	if eventMsgID(&updated) != eventMsgID(&base) {
		t.Error("the kind of a non-retraction changed the message id")
	}
}
