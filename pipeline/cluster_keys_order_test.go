package pipeline

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// linkRecord returns a record filed under one link key only.
func linkRecord(id string) memberRecord {
	return memberRecord{ID: id, URL: "https://chamber.example/news/fair"}
}

func TestKeyIndexOrdersByStoredTime(t *testing.T) {
	total := maxCandidatesPerKey + 1
	var ascending, descending []int
	for n := 1; n <= total; n++ {
		ascending = append(ascending, n)
		descending = append(descending, total+1-n)
	}
	cases := []struct {
		name string
		adds []int
	}{
		{"own record read back after eviction", append(slices.Clone(ascending), 1)},
		{"older record read last", descending},
	}
	// The list keeps the newest ids, 2 to total, oldest first.
	var want []string
	for n := 2; n <= total; n++ {
		want = append(want, fmt.Sprint("id", n))
	}
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	key := linkKeys(linkRecord(""))[0]
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := newKeyIndex()
			for _, n := range tc.adds {
				x.add(linkRecord(fmt.Sprint("id", n)), base.Add(time.Duration(n)*time.Second))
			}
			if got := x.ids([]string{key})[key]; !slices.Equal(got, want) {
				t.Errorf("list = %v, want %v", got, want)
			}
		})
	}
}
