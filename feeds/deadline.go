package feeds

import (
	"net/http"
	"time"
)

// minClientRate is the slowest transfer, in bytes per second, at which a
// reader may fetch a document before the server drops the connection.
// 64 KiB/s is about half a megabit per second, below a poor mobile link,
// so the deadline stays bounded for a client that stops reading while
// any working client finishes even the largest channel document.
const minClientRate = 64 << 10

// documentWriteGrace is the time every document gets on top of its size,
// for TCP slow start and a reader that pauses between reads.
const documentWriteGrace = 30 * time.Second

// documentWriteTime returns how long sending a body of size bytes may take.
func documentWriteTime(size int) time.Duration {
	return documentWriteGrace + time.Duration(size)*time.Second/minClientRate
}

// setDocumentDeadline replaces the server's WriteTimeout with the time a
// body of size bytes may take from now. Large feed documents then finish on
// slow links, and clients that stop reading are still dropped. A writer
// that cannot set deadlines, such as httptest.ResponseRecorder, keeps the
// server's timeout.
func setDocumentDeadline(w http.ResponseWriter, size int) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(documentWriteTime(size)))
}
