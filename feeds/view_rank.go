package feeds

import "container/heap"

// ranking is a heap of partner windows whose root is the partner that
// loses an entry next when the window is full: the one with the most
// entries, the smallest id among equals. victim reads its root instead of
// every partner window, which it did for each event of a full window.
type ranking []*partnerWindow

func (r ranking) Len() int { return len(r) }

func (r ranking) Less(i, j int) bool {
	a, b := r[i], r[j]
	if len(a.oldest) != len(b.oldest) {
		return len(a.oldest) > len(b.oldest)
	}
	return a.id < b.id
}

func (r ranking) Swap(i, j int) {
	r[i], r[j] = r[j], r[i]
	r[i].rank = i
	r[j].rank = j
}

func (r *ranking) Push(x any) {
	pw := x.(*partnerWindow)
	pw.rank = len(*r)
	*r = append(*r, pw)
}

func (r *ranking) Pop() any {
	old := *r
	pw := old[len(old)-1]
	old[len(old)-1] = nil
	*r = old[:len(old)-1]
	return pw
}

// reranked restores the ranking after the entry count of pw changed.
func (v *View) reranked(pw *partnerWindow) {
	heap.Fix(&v.ranking, pw.rank)
}

// victim returns the partner whose oldest entry leaves a full window next:
// the one with the most entries, the smallest id among equals. The
// partner extra is counted with add more entries, for an event not yet
// inserted.
func (v *View) victim(extra string, add int) string {
	if len(v.ranking) == 0 {
		if add > 0 {
			return extra
		}
		return ""
	}
	top := v.ranking[0]
	if add == 0 || extra == top.id {
		return top.id
	}
	n := add
	if pw := v.partners[extra]; pw != nil {
		n += len(pw.oldest)
	}
	if n > len(top.oldest) || n == len(top.oldest) && extra < top.id {
		return extra
	}
	return top.id
}
