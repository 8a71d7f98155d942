package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// command returns the command tree. Cobra parses the flags, answers --help
// and -h on every command, prints usage, and generates shell completion;
// each command's run is a method of Main.
func (m *Main) command() *cobra.Command {
	b := readBuild()
	root := &cobra.Command{
		Use:   "remedy",
		Short: "Remedy: a confidential case tracker for the remediation of child labour",
		Long: `Remedy tracks the remediation of child labour found in supplier factories,
from the auditor's report to the case's closure.

Configuration comes from REMEDY_* environment variables (see the README);
flags override some of them.`,
		Version: b.String(),
		// Cobra would print errors and usage itself; Run does, once.
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("no command given")
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetVersionTemplate("{{.Version}}")
	// Cobra's usage, less the line "remedy keys [flags]" of a command that
	// only holds others: it runs only to say that a command is missing.
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "Usage:{{if .Runnable}}",
		"Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))

	var demo bool
	var addr string
	serve := &cobra.Command{
		Use:   "serve [--addr ADDR] [--demo]",
		Short: "Migrate the database and serve the API",
		Long: `serve applies pending migrations, starts the monthly report schedule and
the retention purge, and serves the API until interrupted. On the
embedded database it creates the missing key files first.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error { return m.serve(cmd.Context(), addr, demo) }),
	}
	serve.Flags().StringVar(&addr, "addr", "", "listen address (default: REMEDY_ADDR, 127.0.0.1:8080)")
	serve.Flags().BoolVar(&demo, "demo", false, "on an empty database, first seed demo brands, factories, users and cases")

	var uo userOptions
	usersAdd := &cobra.Command{
		Use:   "add --email E --name N --role R [--client ID] [--password-stdin]",
		Short: "Create a user and print its password once",
		Long: `add creates a user. Its password is random and printed once, unless
--password-stdin reads it from the first line of standard input; it is
stored only as an argon2id hash.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error { return m.usersAdd(cmd.Context(), uo) }),
	}
	usersAdd.Flags().StringVar(&uo.email, "email", "", "the user's email, used to sign in")
	usersAdd.Flags().StringVar(&uo.name, "name", "", "the user's name")
	usersAdd.Flags().StringVar(&uo.role, "role", "", "auditor, caseworker, supervisor, client or admin")
	usersAdd.Flags().StringVar(&uo.client, "client", "", "the client (brand) id of a client user")
	usersAdd.Flags().BoolVar(&uo.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	required(usersAdd, "email", "name", "role")
	_ = usersAdd.RegisterFlagCompletionFunc("role", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var roles []string
		for _, r := range cases.Roles {
			roles = append(roles, string(r))
		}
		return roles, cobra.ShellCompDirectiveNoFileComp
	})

	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Long: `migrate applies the pending migrations of the database and prints the
schema version. It reads no key file.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error { return m.migrate(cmd.Context()) }),
	}

	var backupOut string
	backup := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Copy the embedded database and the sealed documents consistently",
		Long: `backup writes a consistent copy of the embedded SQLite database while the
server runs, then copies the sealed documents to FILE.blobs/. On
PostgreSQL, use pg_dump, and copy the blob store apart (see the README).
Keep the key files apart from the copy.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error { return m.backup(cmd.Context(), backupOut) }),
	}
	backup.Flags().StringVar(&backupOut, "out", "", "the file to write; it must not exist")
	required(backup, "out")

	var healthURL string
	health := &cobra.Command{
		Use:   "health [--url URL]",
		Short: "Exit 0 if the server is ready; for container health checks",
		Args:  noArgs,
		RunE:  m.run(func(cmd *cobra.Command, _ []string) error { return m.health(cmd.Context(), healthURL) }),
	}
	health.Flags().StringVar(&healthURL, "url", "", "the readiness URL (default: /readyz at REMEDY_ADDR)")

	keysInit := &cobra.Command{
		Use:   "init",
		Short: "Create the missing key files (never overwrites one)",
		Args:  noArgs,
		RunE:  m.run(func(*cobra.Command, []string) error { return m.keysInit() }),
	}
	var add, remove recipientList
	var batch int
	keysRotate := &cobra.Command{
		Use:   "rotate [--add R]... [--remove R]... [--batch N]",
		Short: "Change the age recipients and re-wrap every case key to them",
		Long: `rotate writes the new recipients, then re-wraps every case key to them in
batches. Run it again to resume after an interruption.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error { return m.keysRotate(cmd.Context(), add, remove, batch) }),
	}
	keysRotate.Flags().Var(&add, "add", "an age X25519 recipient (age1…) to add; repeatable")
	keysRotate.Flags().Var(&remove, "remove", "an age X25519 recipient to remove; repeatable")
	keysRotate.Flags().IntVar(&batch, "batch", 500, "case keys re-wrapped per transaction")

	keysRotateReport := &cobra.Command{
		Use:   "rotate-report-key",
		Short: "Make a new report-signing key current; the former ones stay to verify",
		Long: `rotate-report-key puts a new Ed25519 key first in the report-signing key
file (REMEDY_REPORT_KEY_FILE); the former keys stay after it, so that every
report they signed still verifies and /.well-known/remedy-report-keys keeps
publishing them. Restart every server to sign with the new key.`,
		Args: noArgs,
		RunE: m.run(func(*cobra.Command, []string) error { return m.keysRotateReport() }),
	}

	casesErase := &cobra.Command{
		Use:   "erase CODE",
		Short: "Crypto-shred a case's identity and notes",
		Args:  exactArgs(1, "a case code such as CL-2026-0042"),
		RunE:  m.run(func(cmd *cobra.Command, args []string) error { return m.casesErase(cmd.Context(), args[0]) }),
	}

	var checkpointFiles []string
	var auditKeys string
	auditVerify := &cobra.Command{
		Use:   "verify [--checkpoint FILE]... [--keys FILE]",
		Short: "Check the audit trail's hash chain and name the first broken entry",
		Long: `verify walks the audit trail's hash chain and names the first broken entry,
then proves that the trail extends every stored checkpoint (so that
consecutive checkpoints are consistent) and every checkpoint given with
--checkpoint: a signed checkpoint kept outside the database, such as the one
a monthly report carries or one that audit checkpoint wrote. A trail that
was cut and its head rewritten fails, naming the checkpoint. Signatures are
checked with the keys of --keys (saved from /.well-known/remedy-report-keys)
or this installation's.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error {
			return m.auditVerify(cmd.Context(), checkpointFiles, auditKeys)
		}),
	}
	auditVerify.Flags().StringArrayVar(&checkpointFiles, "checkpoint", nil, "a signed checkpoint file the trail must extend; repeatable")
	auditVerify.Flags().StringVar(&auditKeys, "keys", "", "the published keys, one a line (default: this installation's)")
	var checkpointOut string
	auditCheckpoint := &cobra.Command{
		Use:   "checkpoint [--out FILE]",
		Short: "Sign a checkpoint of the audit trail's head and export it",
		Long: `checkpoint seals what is pending, signs a checkpoint of the audit trail's
head (its size and the hash of its last entry, in the C2SP checkpoint
format) unless nothing but checkpoints was recorded since the last, stores
it, and writes it to --out (or prints it). Keep the file apart from the
database: audit verify --checkpoint FILE proves the trail still extends it.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error { return m.auditCheckpoint(cmd.Context(), checkpointOut) }),
	}
	auditCheckpoint.Flags().StringVar(&checkpointOut, "out", "", "the file to write the checkpoint to (default: standard output)")

	workflowDiagram := &cobra.Command{
		Use:   "diagram",
		Short: "Print the case workflow as a Mermaid diagram",
		Args:  noArgs,
		RunE: m.run(func(*cobra.Command, []string) error {
			_, err := io.WriteString(m.Stdout, workflow.Diagram())
			return err
		}),
	}

	var client, month, reportOut string
	reportsGenerate := &cobra.Command{
		Use:   "generate --client ID|NAME --month YYYY-MM --out FILE",
		Short: "Render a client's monthly report to a PDF file",
		Long: `generate renders a client's report of a month that is over to a PDF file.
It is neither stored nor emailed.`,
		Args: noArgs,
		RunE: m.run(func(cmd *cobra.Command, _ []string) error {
			return m.reportsGenerate(cmd.Context(), client, month, reportOut)
		}),
	}
	reportsGenerate.Flags().StringVar(&client, "client", "", "the client's id or exact name")
	reportsGenerate.Flags().StringVar(&month, "month", "", "the month, such as 2026-10")
	reportsGenerate.Flags().StringVar(&reportOut, "out", "", "the PDF file to write")
	required(reportsGenerate, "client", "month", "out")

	var verifyKeys string
	reportsVerify := &cobra.Command{
		Use:   "verify [--keys FILE] REPORT.pdf",
		Short: "Check a monthly report's signature offline and say what it is",
		Long: `verify checks the signature a monthly report carries against the published
keys: a file saved from /.well-known/remedy-report-keys (--keys), or else the
public halves of this installation's REMEDY_REPORT_KEY_FILE. It says which
client, month and version the report is, and fails if one byte changed.
It needs no database and no network.`,
		Args: exactArgs(1, "a report's PDF file"),
		RunE: m.run(func(_ *cobra.Command, args []string) error { return m.reportsVerify(verifyKeys, args[0]) }),
	}
	reportsVerify.Flags().StringVar(&verifyKeys, "keys", "", "the published keys, one a line (default: this installation's)")

	version := &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and build time",
		Args:  noArgs,
		RunE: m.run(func(*cobra.Command, []string) error {
			_, err := io.WriteString(m.Stdout, b.String())
			return err
		}),
	}

	root.AddCommand(serve, group("users", "Manage users", usersAdd), migrate, backup, health,
		group("keys", "Manage the key files", keysInit, keysRotate, keysRotateReport),
		group("cases", "Operate on cases", casesErase),
		group("audit", "Check the audit trail", auditVerify, auditCheckpoint),
		group("workflow", "Describe the case workflow", workflowDiagram),
		group("reports", "Monthly reports", reportsGenerate, reportsVerify),
		version)
	walk(root, func(c *cobra.Command) { c.DisableFlagsInUseLine = true }) // each Use names its flags
	return root
}

// walk calls fn on cmd and every command under it.
func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}

// run wraps a command's run so that Run tells its errors (failures, exit
// status 1, unless they are usage errors) from cobra's own (usage errors).
func (m *Main) run(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		if _, ok := err.(*usageError); ok {
			return err
		}
		return &failure{err: err}
	}
}

// group is a command that only holds subcommands: alone, or with an
// unknown subcommand, it is a usage error.
func group(name, short string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  cobra.NoArgs, // says: unknown command "x" for "remedy <group>"
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("%s needs a command", cmd.CommandPath())
		},
	}
	g.AddCommand(subs...)
	return g
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, not %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// exactArgs wants n positional arguments, described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// required marks flags that must be given.
func required(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err) // a flag name that does not exist: a programming error
		}
	}
}
