package broker

import (
	"fmt"
	"strconv"
	"strings"
)

// minServerVersion is the oldest nats-server that Syndic accepts. Version
// 2.11 added per-message TTLs (the Nats-TTL header) and the KV limit marker
// that KeyTTL relies on; older servers reject or ignore them.
var minServerVersion = serverVersion{major: 2, minor: 11}

type serverVersion struct {
	major, minor, patch int
}

func (v serverVersion) String() string {
	return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch)
}

func (v serverVersion) less(o serverVersion) bool {
	if v.major != o.major {
		return v.major < o.major
	}
	if v.minor != o.minor {
		return v.minor < o.minor
	}
	return v.patch < o.patch
}

// parseServerVersion parses a version as nats-server reports it in INFO,
// such as "2.15.3" or "v2.11.0-RC.2". A pre-release suffix is ignored, so
// "2.11.0-RC.2" counts as 2.11.0: release candidates of a minor version
// already carry its features.
func parseServerVersion(s string) (serverVersion, error) {
	core := strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return serverVersion{}, fmt.Errorf("parsing server version %q: want major.minor.patch", s)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return serverVersion{}, fmt.Errorf("parsing server version %q: invalid number %q", s, p)
		}
		nums[i] = n
	}
	return serverVersion{major: nums[0], minor: nums[1], patch: nums[2]}, nil
}

// checkServerVersion returns a *tooOldError when version is below
// minServerVersion, and a parse error when it is not a version.
func checkServerVersion(version string) error {
	v, err := parseServerVersion(version)
	if err != nil {
		return err
	}
	if v.less(minServerVersion) {
		return &tooOldError{version: version}
	}
	return nil
}

// tooOldError names the version that was found and what to do. It wraps
// ErrServerTooOld so callers can branch with errors.Is.
type tooOldError struct {
	version string
}

func (e *tooOldError) Error() string {
	return fmt.Sprintf("nats-server %s is too old: Syndic needs %d.%d or newer "+
		"for per-key TTLs in KV; upgrade the server",
		e.version, minServerVersion.major, minServerVersion.minor)
}

func (e *tooOldError) Unwrap() error { return ErrServerTooOld }
