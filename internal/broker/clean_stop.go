package broker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names under the data directory. cleanStopFileName marks a data
// directory whose embedded server stopped cleanly, with its whole store
// synced to disk after the stop. repairFileName holds the time from which
// an index check after an unclean stop read events. That check's writes
// are not synced at once, so a later check must start no later than it.
const (
	cleanStopFileName = "nats.clean"
	repairFileName    = "nats.repair"
)

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
	// The synced store holds every write of an earlier index check, and
	// writeSynced below syncs the directory.
	if err := removeRepairStart(dataDir); err != nil {
		return err
	}
	path := filepath.Join(dataDir, cleanStopFileName)
	if err := writeSynced(dataDir, path, "the embedded nats-server stopped cleanly\n"); err != nil {
		return fmt.Errorf("writing clean-stop mark %s: %w", path, err)
	}
	return nil
}

// RepairStart returns the start time of the index checks run since the
// last clean stop, or false when none ran.
func RepairStart(dataDir string) (time.Time, bool, error) {
	path := filepath.Join(dataDir, repairFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading index check start: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(data)))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading index check start %s: %w", path, err)
	}
	return t, true, nil
}

// SetRepairStart records t, synced to disk, as the start of the index
// check about to run. MarkCleanStop removes it.
func SetRepairStart(dataDir string, t time.Time) error {
	path := filepath.Join(dataDir, repairFileName)
	if err := writeSynced(dataDir, path, t.UTC().Format(time.RFC3339Nano)+"\n"); err != nil {
		return fmt.Errorf("recording index check start %s: %w", path, err)
	}
	return nil
}

// ClearRepairStart removes the record that SetRepairStart wrote, once the
// entries its check wrote are on disk.
func ClearRepairStart(dataDir string) error {
	if err := removeRepairStart(dataDir); err != nil {
		return err
	}
	return syncPath(dataDir)
}

// removeRepairStart removes the record of SetRepairStart, if there is one,
// without syncing the directory.
func removeRepairStart(dataDir string) error {
	if err := os.Remove(filepath.Join(dataDir, repairFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing index check start: %w", err)
	}
	return nil
}

// writeSynced writes text to path in dir and syncs the file and dir.
func writeSynced(dir, path, text string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(text)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return err
	}
	return syncPath(dir)
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
