package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Config is every REMEDY_* setting. The README's configuration reference
// lists them; an invalid one stops the start with a message naming it.
type Config struct {
	// DatabaseURL is a postgres:// URL; empty selects the embedded SQLite.
	DatabaseURL string `env:"REMEDY_DATABASE_URL"`
	// DataDir holds the SQLite database and, by default, the keys.
	DataDir string `env:"REMEDY_DATA_DIR" envDefault:"./remedy-data"`
	// AgeIdentityFile is the server's age identity; default DataDir/age-identity.txt.
	AgeIdentityFile string `env:"REMEDY_AGE_IDENTITY_FILE"`
	// Addr is where serve listens.
	Addr string `env:"REMEDY_ADDR" envDefault:"127.0.0.1:8080"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"REMEDY_LOG_LEVEL" envDefault:"info"`
}

// loadConfig reads the environment through getenv.
func loadConfig(getenv func(string) string) (Config, error) {
	var cfg Config
	vars := map[string]string{}
	for _, name := range []string{"REMEDY_DATABASE_URL", "REMEDY_DATA_DIR", "REMEDY_AGE_IDENTITY_FILE", "REMEDY_ADDR", "REMEDY_LOG_LEVEL"} {
		if v := getenv(name); v != "" {
			vars[name] = v
		}
	}
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: vars}); err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	if cfg.DatabaseURL != "" && !strings.HasPrefix(cfg.DatabaseURL, "postgres://") && !strings.HasPrefix(cfg.DatabaseURL, "postgresql://") {
		// Never echo the URL: it may carry a password.
		return cfg, errors.New("configuration: REMEDY_DATABASE_URL must be a postgres:// URL, or empty for the embedded SQLite")
	}
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return cfg, fmt.Errorf("configuration: REMEDY_LOG_LEVEL must be debug, info, warn or error, not %q", cfg.LogLevel)
	}
	if cfg.AgeIdentityFile == "" {
		cfg.AgeIdentityFile = filepath.Join(cfg.DataDir, "age-identity.txt")
	}
	return cfg, nil
}

// embedded reports whether the configuration uses the embedded SQLite.
func (c Config) embedded() bool { return c.DatabaseURL == "" }
