package pipeline

import (
	"slices"
	"time"
)

// note files a grouped item under its keys in this process before its
// event is published, so the next item of the same document can join its
// cluster while the publish is under way. Record writes the same record
// to the store afterwards.
func (c *Clusterer) note(it *Item, a assignment) memberRecord {
	rec := memberFor(it, a.print)
	rec.Cluster, rec.DuplicateOf = it.ClusterID, it.DuplicateOf
	c.own.put(it.ID, struct{}{})
	c.keys.add(rec, time.Now())
	c.records.put(rec)
	return rec
}

// forget takes a noted item out of this process's lists and records,
// after its publish failed.
func (c *Clusterer) forget(it *Item, a assignment) {
	rec := memberFor(it, a.print)
	c.keys.remove(rec)
	c.records.remove(it.ID)
	// Another process may store the item later, and its record must then
	// be filed here.
	c.own.remove(it.ID)
}

// remove takes rec's id out of the lists under its keys.
func (x *keyIndex) remove(rec memberRecord) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, key := range recordKeys(rec) {
		h := x.hash(key)
		p := slices.DeleteFunc(x.lists[h], func(e listed) bool { return e.id == rec.ID })
		if len(p) == 0 {
			delete(x.lists, h)
			continue
		}
		x.lists[h] = p
	}
}

// remove drops the copy of item id's record.
func (c *recordCache) remove(id string) {
	if c != nil {
		c.records.remove(id)
	}
}
