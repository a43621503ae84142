using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Audit;
using Junction.Storage;

namespace Junction.Cli;

/// <summary>
/// <c>junction audit</c>: reads back what every tool holds, reports the five points, heals (unless
/// <c>--no-heal</c>). Exit 0 when no point is over its threshold, 1 when one is, 2 on a config error.
/// Heal deliveries go to the store's outbox, so a running <c>serve</c> sends them.
/// </summary>
public static class AuditCommands
{
    public static Command Audit(Func<Option<string>> configOption)
    {
        var config = configOption();
        var points = new Option<int[]>("--point") { Description = "Report only these points (1-5); repeat for several.", AllowMultipleArgumentsPerToken = true };
        var since = new Option<string?>("--since") { Description = "The window: 7d, 12h, 30m (default audits.window, 7d)." };
        var noHeal = new Option<bool>("--no-heal") { Description = "Report, and print what a heal would do, without doing it." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (the GET /v1/audits/{id} shape)." };
        var command = new Command("audit", "Reconcile the ledger with what each tool really holds, and heal the drift.") { config, points, since, noHeal, json };
        command.SetAction(async (parse, ct) =>
        {
            TimeSpan? window = null;
            if (parse.GetValue(since) is { } text)
            {
                if (!State.Durations.TryParse(text, out var w))
                {
                    await Console.Error.WriteLineAsync($"--since: expected a duration such as 7d, 12h or 30m; got '{text}'");
                    return 2;
                }
                window = w;
            }
            var only = parse.GetValue(points) ?? [];
            if (only.FirstOrDefault(p => p is < 1 or > 5) is var bad and not 0)
            {
                await Console.Error.WriteLineAsync($"--point: expected 1 to 5; got {bad}");
                return 2;
            }
            return await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
            {
                var heal = !parse.GetValue(noHeal) && cli.Config.Audits.Heal;
                var progress = new Progress<string>(line => Console.Error.WriteLine(line));
                var outcome = await cli.Get<AuditRunner>().RunAsync(new AuditRequest { Trigger = "cli", Window = window, Heal = heal, Progress = progress }, ct);
                // Only a healing audit changes state (it queues re-syncs and backfills), so only that one is an operation.
                if (heal)
                {
                    await cli.Get<Admin.OperationsLog>().RecordCliAsync("audits.run", outcome.Id, new JsonObject
                    {
                        ["since"] = window is { } w ? State.Durations.Format(w) : null, ["heal"] = true, ["status"] = outcome.Status,
                    }, ct);
                }
                if (outcome.Result is not { } result)
                {
                    await Console.Error.WriteLineAsync($"audit {outcome.Id} failed: {string.Join("; ", outcome.ReadErrors)}");
                    return 1;
                }
                var shown = result.Points.Where(p => only.Length == 0 || only.Contains(p.Point.Number)).ToList();
                var store = (RelationalStore)cli.Store;
                if (parse.GetValue(json))
                {
                    var report = AuditApi.Report((await store.GetAuditAsync(outcome.Id, ct))!, await store.FindingsAsync(outcome.Id, null, ct));
                    Console.Out.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                }
                else
                {
                    Print(outcome, shown, heal);
                }
                return shown.Any(p => p.OverThreshold) ? 1 : 0;
            }, ct);
        });
        return command;
    }

    private static void Print(AuditOutcome outcome, IReadOnlyList<PointReport> points, bool heal)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.Out.WriteLine($"audit {outcome.Id}: {outcome.ApiCalls} API calls{(heal ? "" : ", no heal (--no-heal or audits.heal: false)")}");
        foreach (var e in outcome.ReadErrors) Console.Out.WriteLine($"  not read back: {e}");
        foreach (var p in points)
        {
            Console.Out.WriteLine(string.Create(inv,
                $"{p.Point.Number} {p.Point.Name}: checked {p.Checked}, mismatches {p.Mismatches} ({p.Rate * 100:0.##}%), threshold {p.Threshold * 100:0.##}%, severity {p.Point.Severity}")
                + (p.OverThreshold ? "  OVER THRESHOLD" : ""));
            if (p.RevenueAtRisk.Count > 0)
            {
                Console.Out.WriteLine("  revenue at risk: " + string.Join(", ", p.RevenueAtRisk.OrderBy(r => r.Key, StringComparer.Ordinal)
                    .Select(r => $"{Canonical.Money.FormatMajor(r.Value, r.Key)} {r.Key}")));
            }
            foreach (var f in p.Findings)
            {
                var what = heal || f.HealAction is not (HealActions.Resync or HealActions.Backfill) ? f.HealAction : $"would {f.HealAction}";
                Console.Out.WriteLine($"  {f.PersonId ?? "(unknown person)"}  {f.OrderId ?? "-"}  {f.Destination ?? f.Source ?? "junction"}  {f.Kind}: "
                    + $"expected {f.Expected}, observed {f.Observed}  [{what}]");
            }
        }
    }
}
