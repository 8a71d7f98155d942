package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/reports/schedule"
	"github.com/remedy-cases/remedy/storage"
)

// Config is every REMEDY_* setting. The README's configuration reference
// lists them; an invalid one stops the start with a message naming it.
type Config struct {
	// DatabaseURL is a postgres:// URL; empty selects the embedded SQLite.
	DatabaseURL string `env:"REMEDY_DATABASE_URL"`
	// DataDir holds the SQLite database and, by default, the keys.
	DataDir string `env:"REMEDY_DATA_DIR" envDefault:"./remedy-data"`
	// The key files; each defaults to a file in DataDir.
	AgeIdentityFile   string `env:"REMEDY_AGE_IDENTITY_FILE"`
	AgeRecipientsFile string `env:"REMEDY_AGE_RECIPIENTS_FILE"`
	BlindIndexKeyFile string `env:"REMEDY_BLIND_INDEX_KEY_FILE"`
	SigningKeyFile    string `env:"REMEDY_SIGNING_KEY_FILE"`
	ReportKeyFile     string `env:"REMEDY_REPORT_KEY_FILE"`
	// WebhookAllowPrivate lets webhook endpoints resolve to loopback,
	// private and link-local addresses (the organisation's own network).
	WebhookAllowPrivate bool `env:"REMEDY_WEBHOOK_ALLOW_PRIVATE" envDefault:"false"`
	// RetentionDays erases a closed case's identity and notes this many
	// days after closure; 0 keeps them.
	RetentionDays int `env:"REMEDY_RETENTION_DAYS" envDefault:"0"`
	// Addr is where serve listens.
	Addr string `env:"REMEDY_ADDR" envDefault:"127.0.0.1:8080"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"REMEDY_LOG_LEVEL" envDefault:"info"`
	// TokenIssuer and TokenAudience go into every access token and are
	// required back; TokenTTL is how long a token lives.
	TokenIssuer   string        `env:"REMEDY_TOKEN_ISSUER" envDefault:"remedy"`
	TokenAudience string        `env:"REMEDY_TOKEN_AUDIENCE" envDefault:"remedy-api"`
	TokenTTL      time.Duration `env:"REMEDY_TOKEN_TTL" envDefault:"15m"`
	// CORSOrigins lists browser origins allowed to call the API; empty
	// turns CORS off.
	CORSOrigins []string `env:"REMEDY_CORS_ORIGINS" envSeparator:","`
	// TrustedProxies lists the CIDR ranges whose X-Forwarded-For is believed.
	TrustedProxies []string `env:"REMEDY_TRUSTED_PROXIES" envSeparator:","`
	// RateLimitAddress and RateLimitUser are the API's rate limits per
	// client address and per signed-in user, as REQUESTS/WINDOW (such as
	// 600/1m) or 0 for none; each serve process keeps its own.
	RateLimitAddress string `env:"REMEDY_RATE_LIMIT_ADDRESS" envDefault:"1200/1m"`
	RateLimitUser    string `env:"REMEDY_RATE_LIMIT_USER" envDefault:"600/1m"`
	// DemoPassword, when set, is every demo user's password instead of a
	// random one.
	DemoPassword string `env:"REMEDY_DEMO_PASSWORD"`
	// ReportTime is when, on the 1st of each month in ReportZone, the
	// previous month's reports are generated.
	ReportTime string `env:"REMEDY_REPORT_TIME" envDefault:"06:00"`
	ReportZone string `env:"REMEDY_REPORT_ZONE" envDefault:"Asia/Shanghai"`
	// ArrearsDays is how long a month's stipend may stay unpaid after it
	// falls due before its case is in arrears.
	ArrearsDays int `env:"REMEDY_ARREARS_DAYS" envDefault:"10"`
	// ReportFont is a TrueType file to set reports in instead of the
	// embedded GB 2312 font.
	ReportFont string `env:"REMEDY_REPORT_FONT"`
	// SMTPURL, when set, has each new report emailed from SMTPFrom to the
	// client's report contacts.
	SMTPURL  string `env:"REMEDY_SMTP_URL"`
	SMTPFrom string `env:"REMEDY_SMTP_FROM"`
	// BlobURL says where the sealed documents live: empty for the embedded
	// store in DataDir/blobs, file:///DIR for another directory, or
	// s3://[KEY:SECRET@]HOST/BUCKET[/PREFIX] (s3+http:// without TLS) for
	// S3-compatible object storage shared by several replicas.
	BlobURL string `env:"REMEDY_BLOB_URL"`
	// DocumentMaxBytes is the size limit of one document.
	DocumentMaxBytes int64 `env:"REMEDY_DOCUMENT_MAX_BYTES" envDefault:"20971520"`
}

// loadConfig reads the environment through getenv.
func loadConfig(getenv func(string) string) (Config, error) {
	var cfg Config
	vars := map[string]string{}
	for _, name := range settings {
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
	if cfg.ArrearsDays < 1 || cfg.ArrearsDays > 90 {
		return cfg, fmt.Errorf("configuration: REMEDY_ARREARS_DAYS must be a number of days from 1 to 90, not %d", cfg.ArrearsDays)
	}
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return cfg, fmt.Errorf("configuration: REMEDY_LOG_LEVEL must be debug, info, warn or error, not %q", cfg.LogLevel)
	}
	if cfg.TokenTTL < time.Minute || cfg.TokenTTL > 24*time.Hour {
		return cfg, errors.New("configuration: REMEDY_TOKEN_TTL must be a duration between 1m and 24h, such as 15m")
	}
	if cfg.TokenIssuer == "" || cfg.TokenAudience == "" {
		return cfg, errors.New("configuration: REMEDY_TOKEN_ISSUER and REMEDY_TOKEN_AUDIENCE must not be empty")
	}
	for _, p := range cfg.TrustedProxies {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(p)); err != nil {
			return cfg, fmt.Errorf("configuration: REMEDY_TRUSTED_PROXIES must be CIDR ranges such as 10.0.0.0/8, not %q", p)
		}
	}
	for _, o := range cfg.CORSOrigins {
		if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			return cfg, fmt.Errorf("configuration: REMEDY_CORS_ORIGINS must be origins such as https://app.example.org, not %q", o)
		}
	}
	for name, v := range map[string]string{"REMEDY_RATE_LIMIT_ADDRESS": cfg.RateLimitAddress, "REMEDY_RATE_LIMIT_USER": cfg.RateLimitUser} {
		if _, err := parseRateLimit(v); err != nil {
			return cfg, fmt.Errorf("configuration: %s must be REQUESTS/WINDOW such as 600/1m, or 0 for no limit: %w", name, err)
		}
	}
	if cfg.DemoPassword != "" && len(cfg.DemoPassword) < api.MinPasswordLength {
		return cfg, fmt.Errorf("configuration: REMEDY_DEMO_PASSWORD needs at least %d characters", api.MinPasswordLength)
	}
	if cfg.RetentionDays < 0 {
		return cfg, errors.New("configuration: REMEDY_RETENTION_DAYS must be 0 (keep) or a number of days")
	}
	if _, _, err := cfg.reportTime(); err != nil {
		return cfg, err
	}
	if _, err := time.LoadLocation(cfg.ReportZone); err != nil {
		return cfg, fmt.Errorf("configuration: REMEDY_REPORT_ZONE must be a time zone such as Asia/Shanghai, not %q", cfg.ReportZone)
	}
	if cfg.SMTPURL != "" {
		if _, err := schedule.NewMailer(cfg.SMTPURL, cfg.SMTPFrom); err != nil {
			return cfg, fmt.Errorf("configuration: %w", err) // never echo the URL: it may carry a password
		}
	}
	if cfg.DocumentMaxBytes < 1<<10 || cfg.DocumentMaxBytes > 1<<30 {
		return cfg, fmt.Errorf("configuration: REMEDY_DOCUMENT_MAX_BYTES must be a number of bytes from 1024 to 1073741824 (1 GiB), not %d", cfg.DocumentMaxBytes)
	}
	if _, err := cfg.blobLocation(); err != nil {
		return cfg, fmt.Errorf("configuration: REMEDY_BLOB_URL: %w", err) // never echo the URL: it may carry a secret key
	}
	def := storage.DefaultKeyFiles(cfg.DataDir)
	for _, f := range []struct {
		value *string
		def   string
	}{
		{&cfg.AgeIdentityFile, def.Identity}, {&cfg.AgeRecipientsFile, def.Recipients},
		{&cfg.BlindIndexKeyFile, def.BlindIndex}, {&cfg.SigningKeyFile, def.Signing},
		{&cfg.ReportKeyFile, def.Report},
	} {
		if *f.value == "" {
			*f.value = f.def
		}
	}
	return cfg, nil
}

// settings lists every variable Config reads.
var settings = []string{"REMEDY_DATABASE_URL", "REMEDY_DATA_DIR", "REMEDY_AGE_IDENTITY_FILE",
	"REMEDY_AGE_RECIPIENTS_FILE", "REMEDY_BLIND_INDEX_KEY_FILE", "REMEDY_SIGNING_KEY_FILE", "REMEDY_REPORT_KEY_FILE", "REMEDY_WEBHOOK_ALLOW_PRIVATE",
	"REMEDY_RETENTION_DAYS", "REMEDY_ADDR", "REMEDY_LOG_LEVEL", "REMEDY_TOKEN_ISSUER", "REMEDY_TOKEN_AUDIENCE",
	"REMEDY_TOKEN_TTL", "REMEDY_CORS_ORIGINS", "REMEDY_TRUSTED_PROXIES", "REMEDY_RATE_LIMIT_ADDRESS",
	"REMEDY_RATE_LIMIT_USER", "REMEDY_DEMO_PASSWORD",
	"REMEDY_REPORT_TIME", "REMEDY_REPORT_ZONE", "REMEDY_ARREARS_DAYS", "REMEDY_REPORT_FONT", "REMEDY_SMTP_URL", "REMEDY_SMTP_FROM",
	"REMEDY_BLOB_URL", "REMEDY_DOCUMENT_MAX_BYTES"}

// proxies parses TrustedProxies, which loadConfig has checked.
func (c Config) proxies() []*net.IPNet {
	var out []*net.IPNet
	for _, p := range c.TrustedProxies {
		if _, n, err := net.ParseCIDR(strings.TrimSpace(p)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// rateLimits returns the rate limits, which loadConfig has checked.
func (c Config) rateLimits() (address, user api.RateLimit) {
	address, _ = parseRateLimit(c.RateLimitAddress)
	user, _ = parseRateLimit(c.RateLimitUser)
	return address, user
}

// parseRateLimit reads REQUESTS/WINDOW, such as 600/1m, or 0 for no limit.
func parseRateLimit(s string) (api.RateLimit, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return api.RateLimit{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return api.RateLimit{}, errors.New("no /")
	}
	requests, err := strconv.Atoi(n)
	if err != nil || requests < 1 {
		return api.RateLimit{}, errors.New("the requests are not a positive number")
	}
	window, err := time.ParseDuration(w)
	if err != nil {
		return api.RateLimit{}, errors.New("the window is not a duration such as 1m or 30s")
	}
	l := api.RateLimit{Requests: requests, Window: window}
	return l, l.Validate()
}

// keyFiles returns the configured key files.
func (c Config) keyFiles() storage.KeyFiles {
	return storage.KeyFiles{Identity: c.AgeIdentityFile, Recipients: c.AgeRecipientsFile,
		BlindIndex: c.BlindIndexKeyFile, Signing: c.SigningKeyFile, Report: c.ReportKeyFile}
}

// embedded reports whether the configuration uses the embedded SQLite.
func (c Config) embedded() bool { return c.DatabaseURL == "" }

// reportTime parses ReportTime as hour and minute.
func (c Config) reportTime() (hour, minute int, err error) {
	t, err := time.Parse("15:04", c.ReportTime)
	if err != nil {
		return 0, 0, fmt.Errorf("configuration: REMEDY_REPORT_TIME must be a time of day such as 06:00, not %q", c.ReportTime)
	}
	return t.Hour(), t.Minute(), nil
}

// storage is the storage configuration of c.
func (c Config) storage(log *slog.Logger) storage.Config {
	return storage.Config{DatabaseURL: c.DatabaseURL, DataDir: c.DataDir, Logger: log, Zone: c.zone(), ArrearsDays: c.ArrearsDays,
		MaxDocumentBytes: c.DocumentMaxBytes}
}

// zone is the organisation's time zone (REMEDY_REPORT_ZONE), which
// loadConfig has checked: it decides calendar months and days.
func (c Config) zone() *time.Location {
	z, err := time.LoadLocation(c.ReportZone)
	if err != nil {
		return time.UTC
	}
	return z
}
