package app

import (
	"context"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/pipeline"
)

// ingestKeys are the keys the embedded server's owner keeps for every
// process that ingests through it.
var ingestKeys = store.LocalOptions{
	ReservePrefix: pipeline.ReserveKeyPrefix,
	SeenPrefix:    pipeline.SeenKeyPrefix,
}

// openIngestCache chooses the ingester's cache. With the embedded server
// and no Redis, the process that started the server holds reservations in
// memory, keeps a memo of seen keys (store.Local) and serves both on NATS
// to the other processes (store.Remote). A new item then sends 4 NATS
// messages instead of 7, and a known one none. A process with nats.url set uses Remote too when an owner replies
// on the subject, because nats.url may name an embedded server (through
// nats.url_file, say). Otherwise, with Redis or an external NATS server,
// every process uses the shared cache as before, since several ingest
// processes may share it.
func (a *App) openIngestCache(ctx context.Context) error {
	a.IngestCache = a.Cache
	if a.Config.Redis.URL != "" {
		return nil
	}
	subject := store.LocalSubject(a.Config.NATS.KVPrefix)
	if a.embedded != nil {
		local := store.NewLocal(a.Cache, ingestKeys)
		if _, err := store.ServeLocal(a.Conn, subject, local, a.Log); err != nil {
			return err
		}
		a.IngestCache = local
		return nil
	}
	if a.Config.NATS.URL != "" {
		served, err := store.OwnerServes(ctx, a.Conn, subject)
		if err != nil || !served {
			return err
		}
	}
	a.IngestCache = store.NewRemote(a.Conn, subject, a.Cache, ingestKeys)
	return nil
}
