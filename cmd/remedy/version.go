package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/remedy-cases/remedy/api"
)

// build is what the Go toolchain stamped into the binary: the module's
// version (a tag, or a pseudo-version made from the commit), and, when it
// was built from a VCS checkout, the revision, its time and whether the
// work tree had changes.
type build struct {
	Version   string
	Revision  string
	Time      string
	Modified  bool
	GoVersion string
}

// readBuild returns the binary's build information. A field the toolchain
// did not stamp (go run, go test, -buildvcs=false) is "unknown".
func readBuild() build {
	b := build{Version: "unknown", Revision: "unknown", Time: "unknown", GoVersion: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if info.Main.Version != "" {
		b.Version = info.Main.Version
	}
	if info.GoVersion != "" {
		b.GoVersion = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is what `remedy version` and `remedy --version` print.
func (b build) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "remedy %s\n", b.Version)
	fmt.Fprintf(&s, "revision: %s", b.Revision)
	if b.Modified {
		s.WriteString(" (modified)")
	}
	fmt.Fprintf(&s, "\ntime: %s\ngo: %s\n", b.Time, b.GoVersion)
	return s.String()
}

// api returns the build as the server's remedy_build_info metric labels it.
func (b build) api() api.BuildInfo {
	rev := b.Revision
	if b.Modified {
		rev += "-modified"
	}
	return api.BuildInfo{Version: b.Version, Revision: rev, GoVersion: b.GoVersion}
}
