package pipeline

import "time"

// note files a record this process appended to the log under its keys,
// as the others file it when they read it.
func (c *Clusterer) note(rec memberRecord) {
	c.own.put(rec.seq, struct{}{})
	c.keys.add(rec, time.Now())
	c.records.put(rec)
}

// keySet returns the keys an item with fingerprint fprint would be filed
// under, nil when it would be filed under none.
func keySet(it *Item, fprint fingerprint) map[string]bool {
	keys := recordKeys(memberFor(it, fprint))
	if len(keys) == 0 {
		return nil
	}
	set := make(map[string]bool, len(keys))
	for _, key := range keys {
		set[key] = true
	}
	return set
}
