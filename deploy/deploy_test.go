// Package deploy holds the container, compose, Kubernetes and systemd files;
// its tests check that they parse and keep the properties they promise.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func readYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return docs
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

// get walks a parsed YAML document along keys (strings) and indexes (ints).
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not a mapping", path)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: not a list long enough", path)
			}
			v = l[k]
		}
	}
	return v
}

func TestCompose(t *testing.T) {
	doc := readYAML(t, "compose.yaml")[0]
	services := get(t, doc, "services").(map[string]any)
	for _, name := range []string{"postgres", "migrate", "remedy-1", "remedy-2", "mailcatcher", "s3"} {
		if services[name] == nil {
			t.Errorf("no service %s", name)
		}
	}
	keyFile := regexp.MustCompile(`^/run/secrets/\w+$`)
	for _, name := range []string{"remedy-1", "remedy-2", "migrate"} {
		env := get(t, services[name], "environment").(map[string]any)
		if !strings.HasPrefix(env["REMEDY_DATABASE_URL"].(string), "postgres://") {
			t.Errorf("%s: not on the shared PostgreSQL", name)
		}
		for k, v := range env {
			if strings.HasSuffix(k, "_FILE") && !keyFile.MatchString(v.(string)) {
				t.Errorf("%s: %s=%v is not a mounted secret file", name, k, v)
			}
			if s, _ := v.(string); strings.Contains(s, "AGE-SECRET-KEY") || strings.Contains(s, "PRIVATE KEY") {
				t.Errorf("%s: a key in the environment", name)
			}
		}
		if len(get(t, services[name], "secrets").([]any)) != 5 {
			t.Errorf("%s: the five key files are not mounted", name)
		}
		// Replicas share their documents: never a container's own disk.
		if blobs, _ := env["REMEDY_BLOB_URL"].(string); !strings.HasPrefix(blobs, "s3+http://remedy:") || !strings.Contains(blobs, "@s3:7070/") {
			t.Errorf("%s: the documents are not in the shared S3 service: %q", name, blobs)
		}
	}
	s3 := services["s3"]
	if cmd := get(t, s3, "command").([]any); len(cmd) < 2 || cmd[len(cmd)-2] != "posix" {
		t.Errorf("the S3 service does not run the POSIX backend: %v", cmd)
	}
	if get(t, s3, "volumes", 0) != "documents:/data" {
		t.Error("the S3 service keeps its objects in no volume")
	}
	if _, ok := get(t, doc, "volumes").(map[string]any)["documents"]; !ok {
		t.Error("no documents volume")
	}
	for name, s := range get(t, doc, "secrets").(map[string]any) {
		if get(t, s, "file") == nil {
			t.Errorf("secret %s is not a file", name)
		}
	}
}

func TestKubernetes(t *testing.T) {
	kinds := map[string]map[string]any{}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		for _, d := range readYAML(t, f) {
			kinds[d["kind"].(string)] = d
		}
	}
	for _, k := range []string{"Deployment", "Service", "Secret", "Job"} {
		if kinds[k] == nil {
			t.Errorf("no %s", k)
		}
	}
	if kinds["CronJob"] != nil {
		t.Error("a CronJob: the schedule runs inside serve")
	}
	d := kinds["Deployment"]
	if get(t, d, "spec", "replicas") != 2 {
		t.Error("the Deployment does not run two replicas")
	}
	pod := get(t, d, "spec", "template", "spec")
	if get(t, pod, "securityContext", "runAsNonRoot") != true {
		t.Error("the pod may run as root")
	}
	c := get(t, pod, "containers", 0)
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		if get(t, c, probe, "httpGet", "path") == nil {
			t.Errorf("no %s", probe)
		}
	}
	if get(t, c, "resources", "limits", "memory") == nil || get(t, c, "resources", "limits", "cpu") == nil {
		t.Error("no resource limits")
	}
	// A garbage collector told to run less often is bounded by a memory
	// limit under the container's.
	env := map[string]string{}
	for _, e := range get(t, c, "env").([]any) {
		if v, ok := get(t, e, "value").(string); ok {
			env[get(t, e, "name").(string)] = v
		}
	}
	if env["GOGC"] != "" {
		soft, okSoft := strings.CutSuffix(env["GOMEMLIMIT"], "MiB")
		hard, okHard := strings.CutSuffix(fmt.Sprint(get(t, c, "resources", "limits", "memory")), "Mi")
		s, _ := strconv.Atoi(soft)
		h, _ := strconv.Atoi(hard)
		if !okSoft || !okHard || s <= 0 || s >= h {
			t.Errorf("GOGC=%s without a GOMEMLIMIT (%q) under the memory limit (%v)", env["GOGC"], env["GOMEMLIMIT"], get(t, c, "resources", "limits", "memory"))
		}
	}
	if get(t, c, "securityContext", "readOnlyRootFilesystem") != true || get(t, c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Error("the root file system is writable or privileges may escalate")
	}
	if get(t, kinds["Job"], "spec", "template", "spec", "containers", 0, "args", 0) != "migrate" {
		t.Error("the Job does not migrate")
	}
	// Both the replicas and the migration (which creates the bucket) keep
	// documents in the shared S3 store named by a Secret.
	for kind, c := range map[string]any{"Deployment": c, "Job": get(t, kinds["Job"], "spec", "template", "spec", "containers", 0)} {
		found := false
		for _, e := range get(t, c, "env").([]any) {
			if get(t, e, "name") == "REMEDY_BLOB_URL" {
				found = get(t, e, "valueFrom", "secretKeyRef", "name") == "remedy-blobs"
			}
		}
		if !found {
			t.Errorf("%s: REMEDY_BLOB_URL does not come from the remedy-blobs Secret", kind)
		}
	}
}

func TestSystemdUnitIsHardened(t *testing.T) {
	data, err := os.ReadFile("remedy.service")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=remedy", "ProtectSystem=strict", "ProtectHome=yes",
		"PrivateTmp=yes", "NoNewPrivileges=yes", "PrivateDevices=yes", "CapabilityBoundingSet=", "UMask=0077",
		"Environment=REMEDY_DATA_DIR=/var/lib/remedy", "ExecStart=/usr/local/bin/remedy serve"} {
		if !lines[want] {
			t.Errorf("the unit lacks %q", want)
		}
	}
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if strings.Count(s, "\nFROM ") < 1 || strings.Count(s, "FROM ") != 2 {
		t.Error("not a two-stage build")
	}
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532:65532", "HEALTHCHECK", `"health"`, "distroless/static"} {
		if !strings.Contains(s, want) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
}
