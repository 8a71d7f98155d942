package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"

	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/storage"
)

// reportKeys loads the report-signing keys of cfg.
func reportKeys(cfg Config) ([]storage.ReportKey, error) {
	keys, err := storage.LoadReportKeys(cfg.ReportKeyFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (run `remedy keys init` to create the report-signing key)", err)
	}
	return keys, err
}

// reportVerifier returns the verifier of the public halves of keys.
func reportVerifier(keys []storage.ReportKey) (*reports.Verifier, error) {
	published := make([]string, len(keys))
	for i, k := range keys {
		published[i] = k.Verifier
	}
	return reports.NewVerifier(published)
}

func (m *Main) keysRotateReport() error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	k, err := storage.RotateReportKey(cfg.ReportKeyFile)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w (run `remedy keys init` first)", err)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "new report-signing key %s\npublic key: %s\nrestart every server to sign with it\n", k.ID(), k.Verifier)
	return nil
}

func (m *Main) reportsVerify(keysFile, file string) error {
	var v *reports.Verifier
	if keysFile != "" {
		data, err := os.ReadFile(keysFile)
		if err != nil {
			return err
		}
		_, published, err := reports.ParseKeys(data)
		if err != nil {
			return fmt.Errorf("%s: %w", keysFile, err)
		}
		if v, err = reports.NewVerifier(published); err != nil {
			return err
		}
	} else {
		cfg, err := loadConfig(m.Getenv)
		if err != nil {
			return err
		}
		keys, err := reportKeys(cfg)
		if err != nil {
			return err
		}
		if v, err = reportVerifier(keys); err != nil {
			return err
		}
	}
	signed, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	st, err := v.VerifyReport(signed)
	if err != nil {
		return fmt.Errorf("%s does not verify: %w", file, err)
	}
	fmt.Fprintf(m.Stdout, "%s: genuine, signed by %s\nclient:  %s (%s)\nmonth:   %s\nversion: %d\nsha256:  %s\n",
		file, st.KeyID, st.ClientName, st.ClientID, st.Month, st.Version, hex.EncodeToString(st.SHA256[:]))
	return nil
}

// publishedKeys returns the verifiers of a keys file (as served at
// /.well-known/remedy-report-keys) or, without one, of this
// installation's report-signing keys; nil if neither is at hand and
// optional.
func (m *Main) publishedKeys(keysFile string, optional bool) (note.Verifiers, error) {
	if keysFile != "" {
		data, err := os.ReadFile(keysFile)
		if err != nil {
			return nil, err
		}
		keys, _, err := reports.ParseKeys(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keysFile, err)
		}
		return keys, nil
	}
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return nil, err
	}
	own, err := storage.LoadReportKeys(cfg.ReportKeyFile)
	if errors.Is(err, os.ErrNotExist) && optional {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("%w (name the published keys with --keys)", err)
	}
	verifiers := make([]note.Verifier, len(own))
	for i, k := range own {
		if verifiers[i], err = note.NewVerifier(k.Verifier); err != nil {
			return nil, err
		}
	}
	return note.VerifierList(verifiers...), nil
}

func (m *Main) auditVerify(ctx context.Context, checkpointFiles []string, keysFile string) error {
	keys, err := m.publishedKeys(keysFile, len(checkpointFiles) == 0)
	if err != nil {
		return err
	}
	var external [][]byte
	for _, f := range checkpointFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		external = append(external, data)
	}
	db, err := m.openForCommand(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	audit := storage.NewAuditService(db)
	n, checked, err := audit.VerifyCheckpoints(ctx, keys, external)
	if err != nil {
		return err
	}
	stored, err := audit.Checkpoints(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "audit trail verified: %d entries; it extends %d stored checkpoints", n, len(stored))
	if checked > 0 {
		fmt.Fprintf(m.Stdout, " and the %d given", checked)
	}
	if keys == nil {
		fmt.Fprint(m.Stdout, " (their signatures unchecked: no keys)")
	}
	fmt.Fprintln(m.Stdout)
	return nil
}

func (m *Main) auditCheckpoint(ctx context.Context, out string) error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	keys, err := reportKeys(cfg)
	if err != nil {
		return err
	}
	db, err := m.openForCommand(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	cp, err := storage.NewAuditService(db).Checkpoint(ctx, keys[0].Signer())
	if err != nil {
		return err
	}
	if out == "" {
		_, err := m.Stdout.Write(cp.Note)
		return err
	}
	if err := os.WriteFile(out, cp.Note, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s: checkpoint of %d entries, signed by %s\n", out, cp.Size, cp.KeyID)
	return nil
}
