package broker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// cleanStopFileName marks a data directory whose embedded server stopped
// cleanly, with its whole store synced to disk after the stop.
const cleanStopFileName = "nats.clean"

// TakeCleanStop reports whether the last embedded server on dataDir
// stopped cleanly (MarkCleanStop), and removes the mark, so a crash of
// the server about to start leaves none. It returns false when the
// removal cannot be made durable: a mark that came back after a crash
// would hide it.
func TakeCleanStop(dataDir string) bool {
	if err := os.Remove(filepath.Join(dataDir, cleanStopFileName)); err != nil {
		return false
	}
	return syncPath(dataDir) == nil
}

// MarkCleanStop syncs every file of the stopped embedded server's store
// under dataDir to disk, then writes the clean-stop mark. Call it only
// after the server has shut down: async persist mode leaves writes that
// the shutdown wrote to the files but did not sync.
func MarkCleanStop(dataDir string) error {
	storeDir := filepath.Join(dataDir, storeDirName)
	err := filepath.WalkDir(storeDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Type().IsRegular() {
			return syncPath(path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("syncing nats store %s: %w", storeDir, err)
	}
	path := filepath.Join(dataDir, cleanStopFileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing clean-stop mark: %w", err)
	}
	_, werr := f.WriteString("the embedded nats-server stopped cleanly\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("writing clean-stop mark %s: %w", path, err)
	}
	if err := syncPath(dataDir); err != nil {
		return fmt.Errorf("writing clean-stop mark %s: %w", path, err)
	}
	return nil
}

// syncPath fsyncs the file or directory at path.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	serr := f.Sync()
	return errors.Join(serr, f.Close())
}
