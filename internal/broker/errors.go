package broker

import "errors"

// ErrLocked is returned by LockDataDir when another process holds the lock
// on the data directory, which means another `syndic run` uses it.
var ErrLocked = errors.New("data directory is locked by another process")

// ErrServerTooOld is returned by Connect when the NATS server is older than
// minServerVersion and so lacks per-key TTLs in JetStream KV.
var ErrServerTooOld = errors.New("nats-server is too old")
