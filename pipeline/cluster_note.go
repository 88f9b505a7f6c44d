package pipeline

import "time"

// note files a recorded item under its keys in this process, as its
// stored record will be filed in the others.
func (c *Clusterer) note(it *Item, a assignment) memberRecord {
	rec := memberFor(it, a.print)
	rec.Cluster, rec.DuplicateOf = it.ClusterID, it.DuplicateOf
	c.own.put(it.ID, struct{}{})
	c.keys.add(rec, time.Now())
	c.records.put(rec)
	return rec
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
