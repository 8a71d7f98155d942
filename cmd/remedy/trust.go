package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"

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
