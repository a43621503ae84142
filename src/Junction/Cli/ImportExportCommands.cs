using System.CommandLine;
using System.Globalization;
using System.Text;
using Junction.Export;
using Junction.Import;
using Junction.Storage;
using nietras.SeparatedValues;

namespace Junction.Cli;

/// <summary><c>junction import</c> and <c>junction export</c> (docs/import-export.md).</summary>
public static class ImportExportCommands
{
    /// <summary>Refused rows shown on stderr; the rest are counted (and all are in <c>--report</c>).</summary>
    private const int ShownRefusals = 100;

    private static IReadOnlyList<SubscriberExport> Layouts => [SubscriberExport.Generic, .. Integrations.IntegrationRegistry.SubscriberExports];

    public static Command Import(Func<Option<string>> configOption)
    {
        var config = configOption();
        var from = new Option<string>("--from")
        {
            Description = $"What the file is: {string.Join(", ", Layouts.Select(l => l.Name))}.",
            Required = true,
        };
        var file = new Argument<string>("file") { Description = "The CSV file (with a header row)." };
        var map = new Option<string[]>("--map")
        {
            Description = $"COLUMN=FIELD: read a column as one of {string.Join(", ", ImportFields.All)}, or field:NAME (a custom field). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var source = new Option<string?>("--source") { Description = $"The import source to store rows under (default: the configured one, else '{ImportProvider.BuiltInSourceId}')." };
        var report = new Option<string?>("--report") { Description = "Write every refused row (row number and reason) to this CSV file." };
        var skipUnknownTags = new Option<bool>("--skip-unknown-tags") { Description = "Drop tags that are not in the vocabulary instead of refusing their rows." };
        var command = new Command("import",
            $"Import a creator's existing subscribers from an export ({string.Join(", ", Layouts.Select(l => l.Name))}) as historical events: "
            + "streamed, deduplicated (a second run imports nothing), refused rows reported by row number.")
        { config, from, file, map, source, report, skipUnknownTags };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            var name = parse.GetValue(from)!;
            if (Layouts.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase)) is not { } layout)
            {
                await Console.Error.WriteLineAsync($"--from: expected one of {string.Join(", ", Layouts.Select(l => l.Name))}; got '{name}'");
                return 2;
            }
            if (ResolveSource(cli.Config, parse.GetValue(source), out var problem) is not { } sourceId)
            {
                await Console.Error.WriteLineAsync(problem);
                return 2;
            }
            var mapping = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var m in parse.GetValue(map) ?? [])
            {
                var eq = m.LastIndexOf('=');
                if (eq <= 0 || eq == m.Length - 1)
                {
                    await Console.Error.WriteLineAsync($"--map: expected COLUMN=FIELD; got '{m}'");
                    return 2;
                }
                mapping[m[..eq].Trim()] = m[(eq + 1)..].Trim();
            }
            var path = parse.GetValue(file)!;

            await using var reportWriter = parse.GetValue(report) is { } reportPath ? new StreamWriter(reportPath, append: false, new UTF8Encoding(false)) : null;
            using var reportCsv = reportWriter is null ? null : Sep.New(',').Writer(o => o with { Escape = true }).To(reportWriter, leaveOpen: true);
            if (reportCsv is not null)
            {
                reportCsv.Header.Add(["row", "reason"]);
                reportCsv.Header.Write();
            }
            long shown = 0;
            void Refused(ImportRefusal r)
            {
                if (shown++ < ShownRefusals) Console.Error.WriteLine($"row {r.Row}: {r.Reason}");
                if (reportCsv is null) return;
                using var row = reportCsv.NewRow();
                row["row"].Set(r.Row.ToString(CultureInfo.InvariantCulture));
                row["reason"].Set(r.Reason);
            }

            var progress = new RateProgress("import: read");
            ImportReport result;
            try
            {
                result = await new Importer(cli.Store, cli.Config, cli.Time).RunAsync(path, layout, sourceId, mapping, parse.GetValue(skipUnknownTags), Refused, progress, ct);
            }
            catch (ImportSetupException ex)
            {
                await Console.Error.WriteLineAsync($"import: {path}: {ex.Message}");
                return 2;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"import: cannot read {path}: {ex.Message}");
                return 2;
            }
            progress.Done(result.Rows);
            if (shown > ShownRefusals) await Console.Error.WriteLineAsync($"… and {shown - ShownRefusals} more refused rows{(reportCsv is null ? " (--report FILE lists them all)" : "")}");
            if (result.UnusedColumns.Count > 0)
            {
                await Console.Error.WriteLineAsync($"import: columns not used: {string.Join(", ", result.UnusedColumns.Select(c => $"'{c}'"))} "
                    + "(read one with --map COLUMN=FIELD, or silence it with --map COLUMN=ignore)");
            }

            // Normalize and project here, as `junction backfill` does; a running `junction serve` holding those roles does it instead.
            var normalizing = new ConsoleProgress("normalized");
            var drained = await cli.Normalizer.TryDrainAsync(normalizing, ct);
            if (drained is { } n) normalizing.Done(n);
            var projected = drained is null ? null : await ProjectAsync(cli, ct);
            if (drained is null || projected is null)
            {
                await Console.Error.WriteLineAsync("import: a running `junction serve` holds the normalize/project role and takes the rows from the log");
            }
            await cli.Get<Admin.OperationsLog>().RecordCliAsync("import", sourceId, new System.Text.Json.Nodes.JsonObject
            {
                ["from"] = layout.Name, ["rows"] = result.Rows, ["imported"] = result.Imported, ["unchanged"] = result.Unchanged, ["refused"] = result.Refused,
            }, ct);
            Console.Out.WriteLine($"imported {result.Imported}, unchanged {result.Unchanged}, refused {result.Refused}");
            return 0;
        }, ct));
        return command;
    }

    private static async Task<long?> ProjectAsync(CliServices cli, CancellationToken ct)
    {
        await using var lead = await cli.Store.TryLeadAsync("project", ct);
        if (lead is null) return null;
        var progress = new RateProgress("projected", "events");
        var n = await cli.Projector.CatchUpAsync(new Progress<long>(progress.Report), ct, lead);
        progress.Done(n);
        return n;
    }

    /// <summary>The import source: --source, else the one configured <c>import</c> source, else the built-in id.</summary>
    internal static string? ResolveSource(Config.JunctionConfig config, string? given, out string problem)
    {
        problem = "";
        var configured = config.Sources.Values.Where(s => s.Provider == ImportProvider.ProviderName).Select(s => s.Id).ToList();
        if (given is not null)
        {
            if (configured.Contains(given, StringComparer.Ordinal) || ImportProvider.TryBuiltIn(config.Sources, given, out _)) return given;
            problem = $"--source: '{given}' is not an import source in {config.Path}; expected "
                + (configured.Count > 0 ? $"one of {string.Join(", ", configured)}" : $"'{ImportProvider.BuiltInSourceId}' or a source with provider: import");
            return null;
        }
        if (configured.Count == 1) return configured[0];
        if (configured.Count > 1)
        {
            problem = $"--source: {config.Path} has several import sources ({string.Join(", ", configured)}); name one";
            return null;
        }
        if (ImportProvider.TryBuiltIn(config.Sources, ImportProvider.BuiltInSourceId, out _)) return ImportProvider.BuiltInSourceId;
        problem = $"import: source '{ImportProvider.BuiltInSourceId}' in {config.Path} has provider {config.Sources[ImportProvider.BuiltInSourceId].Provider}; "
            + "add a source with provider: import and name it with --source";
        return null;
    }

    public static Command Export(Func<Option<string>> configOption)
    {
        var config = configOption();
        var what = new Argument<string>("what") { Description = "people, orders or ledger (the canonical event log)." };
        what.AcceptOnlyFromAmong("people", "orders", "ledger");
        var format = new Option<string>("--format") { Description = "csv (default) or jsonl.", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "jsonl");
        var since = new Option<string?>("--since") { Description = "Only what changed (people), was paid or refunded (orders) or happened (ledger) since: 7d, 12h, 30m or an ISO-8601 time." };
        var output = new Option<string?>("--out") { Description = "Write to this file instead of stdout." };
        var command = new Command("export", "Stream people, orders or the event ledger as CSV or JSON lines, with progress on stderr.") { config, what, format, since, output };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } text)
            {
                if (!NormalizeCommands.TryParseSince(text, cli.Time.GetUtcNow(), out var parsed))
                {
                    await Console.Error.WriteLineAsync($"--since: expected 7d, 12h, 30m or an ISO-8601 time; got '{text}'");
                    return 2;
                }
                from = parsed;
            }
            var kind = parse.GetValue(what)!;
            var fmt = parse.GetValue(format) == "jsonl" ? ExportFormat.Jsonl : ExportFormat.Csv;
            var outPath = parse.GetValue(output);
            Stream stream;
            try
            {
                stream = outPath is null ? Console.OpenStandardOutput() : new FileStream(outPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"--out: cannot write {outPath}: {ex.Message}");
                return 2;
            }
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16);
            var exporter = new Exporter((RelationalStore)cli.Store);
            var progress = new RateProgress($"export {kind}: wrote");
            var n = kind switch
            {
                "people" => await exporter.PeopleAsync(writer, fmt, from, progress, ct),
                "orders" => await exporter.OrdersAsync(writer, fmt, from, progress, ct),
                _ => await exporter.LedgerAsync(writer, fmt, from, progress, ct),
            };
            progress.Done(n);
            return 0;
        }, ct));
        return command;
    }
}

/// <summary>Rows done and rows per second on stderr: rewritten in place on a terminal, a line every two seconds otherwise.</summary>
public sealed class RateProgress(string label, string unit = "rows") : IProgress<long>
{
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly long _start = Environment.TickCount64;
    // From the start, so a short run prints its one closing line only.
    private long _lastLine = Environment.TickCount64;

    public void Report(long value)
    {
        var now = Environment.TickCount64;
        if (now - _lastLine < (_terminal ? 250 : 2000)) return;
        _lastLine = now;
        if (_terminal) Console.Error.Write("\r" + Line(value) + "   ");
        else Console.Error.WriteLine(Line(value));
    }

    public void Done(long value) => Console.Error.WriteLine((_terminal ? "\r" : "") + Line(value));

    private string Line(long value)
    {
        var seconds = Math.Max((Environment.TickCount64 - _start) / 1000.0, 0.001);
        return string.Create(CultureInfo.InvariantCulture, $"{label} {value} {unit}, {value / seconds:F0} {unit}/s");
    }
}
