package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// process is a real remedy serve in its own OS process.
type process struct {
	cmd  *exec.Cmd
	addr string
}

func startProcess(t *testing.T, bin string, vars map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "CI=")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return &process{cmd: cmd, addr: a}
	case <-time.After(5 * time.Minute): // only bounds a hang: a loaded machine starts slowly
		t.Fatal("serve did not start")
		return nil
	}
}

// TestTwoServersOneCrash runs two serve processes on one PostgreSQL: cases
// filed through one are read through the other; one is killed with SIGKILL
// while transitions run through it; the survivor finds every case, each
// either before or after its transition with its record and audit entry,
// never half-way, and carries on.
func TestTwoServersOneCrash(t *testing.T) {
	cfg := storagetest.Config(t, "postgres")
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir, "REMEDY_DATABASE_URL": cfg.DatabaseURL}
	bin := mustBinary(t)
	ctx := context.Background()
	const pw = "cluster password 1"
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	must(m.Run(ctx, []string{"keys", "init"}))
	for _, role := range []string{"auditor", "caseworker", "supervisor"} {
		m.Stdin = strings.NewReader(pw + "\n")
		must(m.Run(ctx, []string{"users", "add", "--email", role + "@example.org", "--name", role, "--role", role, "--password-stdin"}))
	}
	db, err := m.openForCommand(ctx)
	must(err)
	defer db.Close()
	brand, err := storage.NewClientService(db).CreateClient(ctx, cases.SystemActor, cases.NewClient{Name: "华彩童装集团"})
	must(err)
	factory, err := storage.NewFactoryService(db).CreateFactory(ctx, cases.SystemActor, cases.NewFactory{Name: "无锡恒通玩具厂", Province: "江苏", City: "无锡"})
	must(err)
	worker, err := storage.NewUserService(db).FindUserByEmail(ctx, "caseworker@example.org")
	must(err)

	// A's connections carry a name of their own, to wait for them to end.
	varsA := maps.Clone(vars)
	sep := "?"
	if strings.Contains(cfg.DatabaseURL, "?") {
		sep = "&"
	}
	varsA["REMEDY_DATABASE_URL"] = cfg.DatabaseURL + sep + "application_name=remedy-killed"
	a, b := startProcess(t, bin, varsA), startProcess(t, bin, vars)
	viaA, viaB := client{t: t, base: "http://" + a.addr}, client{t: t, base: "http://" + b.addr}
	auditor, supervisor := viaA.signIn("auditor@example.org", pw), viaB.signIn("supervisor@example.org", pw)
	workerA, workerB := viaA.signIn("caseworker@example.org", pw), viaB.signIn("caseworker@example.org", pw)

	const n = 40
	var filed []caseView
	for i := range n {
		var c caseView
		viaA.call("POST", "/v1/cases", auditor, map[string]any{
			"client_id": brand.ID, "factory_id": factory.ID, "found_on": "2026-10-01", "gender": "male",
			"presence": "employed", "recruitment": "unknown", "removed_from_work": true, "child_safe": true,
			"identity": map[string]any{"full_name": fmt.Sprintf("Child %d", i), "apparent_age": 14},
		}, &c, http.StatusCreated)
		viaB.call("PUT", "/v1/cases/"+c.ID+"/assignee", supervisor, map[string]any{"caseworker_id": worker.ID, "version": c.Version}, &c, http.StatusOK)
		filed = append(filed, c)
	}
	var listed struct{ Items []caseView }
	viaB.call("GET", "/v1/cases?limit=200", supervisor, nil, &listed, http.StatusOK)
	if len(listed.Items) != n {
		t.Fatalf("server B lists %d of the %d cases filed through A", len(listed.Items), n)
	}

	// Transitions through A, all at once; A dies as soon as the first lands.
	var wg sync.WaitGroup
	first := make(chan struct{})
	var once sync.Once
	results := make([]int, n)
	httpc := &http.Client{Timeout: 10 * time.Second}
	for i, c := range filed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"event":"begin_verification","version":%d}`, c.Version)
			req, _ := http.NewRequest("POST", viaA.base+"/v1/cases/"+c.ID+"/transitions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+workerA)
			res, err := httpc.Do(req)
			if err != nil {
				return
			}
			res.Body.Close()
			results[i] = res.StatusCode
			once.Do(func() { close(first) })
		}()
	}
	<-first
	must(a.cmd.Process.Signal(syscall.SIGKILL))
	wg.Wait()
	a.cmd.Wait()
	// PostgreSQL still runs what A sent before it died (a COMMIT already in
	// its socket commits): the checks below read the case and its records
	// in two statements, so they wait until A's last backend is gone.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var left int64
		must(db.Gorm().Raw("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'remedy-killed'").Scan(&left).Error)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the killed server's connections still open after 10 s", left)
		}
	}
	answered := 0
	for _, s := range results {
		if s == http.StatusOK {
			answered++
		}
	}
	t.Logf("%d of %d transitions answered before the kill", answered, n)
	if answered == n {
		t.Fatal("every transition finished before the kill; the test proved nothing")
	}

	// The survivor sees every case whole: in verification with its record,
	// or still in intake with none.
	svc := storage.NewCaseService(db)
	moved := 0
	for i, c := range filed {
		var now caseView
		viaB.call("GET", "/v1/cases/"+c.ID, supervisor, nil, &now, http.StatusOK)
		records, err := svc.Transitions(ctx, mustUUID(t, c.ID))
		must(err)
		switch {
		case now.State == "verification" && now.Version == c.Version+1 && len(records) == 1:
			moved++
		case now.State == "intake" && now.Version == c.Version && len(records) == 0:
			if results[i] == http.StatusOK {
				t.Errorf("case %s: answered 200 but not in verification", c.Code)
			}
			// Finish it through the survivor: nothing is left locked.
			viaB.call("POST", "/v1/cases/"+c.ID+"/transitions", workerB, map[string]any{"event": "begin_verification", "version": c.Version}, nil, http.StatusOK)
		default:
			t.Errorf("case %s is half-done: state %s, version %d (was %d), %d transition records", c.Code, now.State, now.Version, c.Version, len(records))
		}
	}
	if moved < answered {
		t.Errorf("%d cases moved, but %d transitions were answered", moved, answered)
	}
	out.Reset()
	must(m.Run(ctx, []string{"audit", "verify"}))
	viaB.call("GET", "/v1/cases?state=verification&limit=200", supervisor, nil, &listed, http.StatusOK)
	if len(listed.Items) != n {
		t.Fatalf("%d of %d cases in verification at the end", len(listed.Items), n)
	}
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
