package follow

import (
	"cmp"
	"container/heap"
	"slices"
)

// queue is a min-heap of entries by due time (then by order of adding), for container/heap.
type queue []*entry

func (q queue) Len() int { return len(q) }

func (q queue) Less(i, j int) bool {
	if c := q[i].due.Compare(q[j].due); c != 0 {
		return c < 0
	}
	return q[i].seq < q[j].seq
}

func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// peek is the entry due first.
func (q queue) peek() *entry { return q[0] }

// inOrder sorts entries in the order they were added.
func inOrder(es []*entry) []*entry {
	slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	return es
}

func heapPush(q *queue, e *entry) { heap.Push(q, e) }
func heapPop(q *queue) *entry     { return heap.Pop(q).(*entry) }
