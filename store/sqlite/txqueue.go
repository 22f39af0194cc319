package sqlite

import (
	"errors"
	"sync/atomic"
)

// txQueue runs a transaction's writes on a goroutine of its own, in the
// order they were queued, so that the clusterer goes on with the next
// story while SQLite writes what the last one changed: on a cold import
// those writes (memberships, topic states and their JSON) were a quarter
// of the clustering goroutine's time, which is the critical path of a
// poll. The writes keep their order, and a read of the transaction
// (sync first) sees every write queued before it.
//
// After the first failed write the rest are skipped; sync and close
// report that error, and the caller rolls the transaction back. A queue
// belongs to one goroutine, the one that queues; after close, do and sync
// write nothing and report errQueueClosed (or the first error).
type txQueue struct {
	ops    chan queuedOp
	done   chan struct{}
	err    atomic.Pointer[error] // the first error, set by run
	closed bool
}

// queuedOp is a write, or (mark non-nil) a point that sync waits for.
type queuedOp struct {
	write func() error
	mark  chan struct{}
}

// queueDepth bounds the writes waiting: enough to smooth out a slow write
// (a topic state of a large storyline), few enough that what they hold
// stays small.
const queueDepth = 256

func newTxQueue() *txQueue {
	q := &txQueue{ops: make(chan queuedOp, queueDepth), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *txQueue) run() {
	defer close(q.done)
	for op := range q.ops {
		switch {
		case op.mark != nil:
			close(op.mark)
		case q.err.Load() == nil:
			if err := op.write(); err != nil {
				q.err.Store(&err)
			}
		}
	}
}

// do queues a write. A nil queue writes at once and returns the write's
// error; a queue returns nil, or once a write has failed, its error, so
// that the caller stops early.
func (q *txQueue) do(write func() error) error {
	if q == nil {
		return write()
	}
	if q.closed {
		return q.closedErr()
	}
	if err := q.failure(); err != nil {
		return err
	}
	q.ops <- queuedOp{write: write}
	return nil
}

// sync waits until every write queued so far has run, and returns the
// first error. The transaction is then idle, for the caller to read or
// write directly. A nil queue has nothing to wait for.
func (q *txQueue) sync() error {
	if q == nil {
		return nil
	}
	if q.closed {
		return q.closedErr()
	}
	mark := make(chan struct{})
	q.ops <- queuedOp{mark: mark}
	<-mark
	return q.failure()
}

// failure is the first error of the writes run so far, or nil.
func (q *txQueue) failure() error {
	if p := q.err.Load(); p != nil {
		return *p
	}
	return nil
}

var errQueueClosed = errors.New("store: write queued after the transaction's writer closed")

func (q *txQueue) closedErr() error {
	if err := q.failure(); err != nil {
		return err
	}
	return errQueueClosed
}

// close runs what is queued, stops the goroutine and returns the first
// error. It may be called more than once.
func (q *txQueue) close() error {
	if q == nil {
		return nil
	}
	if !q.closed {
		q.closed = true
		close(q.ops)
		<-q.done
	}
	return q.failure()
}
