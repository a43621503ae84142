using System.CommandLine;
using System.Text.Json;
using Junction.Alerts;
using Junction.Storage;

namespace Junction.Cli;

/// <summary>
/// <c>junction incidents list|show|ack|snooze|resolve|rollback</c>: the incident board from a shell.
/// Exit 0 when done, 1 when the incident is not there or not in a status the action needs, 2 on a
/// config or usage error. Acts on the store directly, like <c>pause</c>, so it works beside a running serve.
/// </summary>
public static class IncidentCommands
{
    private static string Actor => "cli:" + Environment.UserName;

    public static Command Incidents(Func<Option<string>> configOption)
    {
        var listConfig = configOption();
        var status = new Option<string?>("--status") { Description = "Only incidents in this status: open, acknowledged, snoozed or resolved." };
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first (default 50).", DefaultValueFactory = _ => 50 };
        var listJson = new Option<bool>("--json") { Description = "Print {\"items\":[…]} as GET /v1/incidents does." };
        var list = new Command("list", "Incidents, newest first.") { listConfig, status, limit, listJson };
        list.SetAction(async (parse, ct) =>
        {
            var wanted = parse.GetValue(status);
            if (wanted is not null and not (IncidentStatuses.Open or IncidentStatuses.Acknowledged or IncidentStatuses.Snoozed or IncidentStatuses.Resolved))
            {
                await Console.Error.WriteLineAsync($"--status: expected open, acknowledged, snoozed or resolved; got '{wanted}'");
                return 2;
            }
            return await NormalizeCommands.WithConfig(parse.GetValue(listConfig)!, async cli =>
            {
                var items = await ((RelationalStore)cli.Store).ListIncidentsAsync(wanted, Math.Clamp(parse.GetValue(limit), 1, 1000), ct);
                if (parse.GetValue(listJson))
                {
                    var array = new System.Text.Json.Nodes.JsonArray([.. items.Select(i => (System.Text.Json.Nodes.JsonNode)IncidentView.ToJson(i, null))]);
                    Console.Out.WriteLine(new System.Text.Json.Nodes.JsonObject { ["items"] = array }.ToJsonString(Indented));
                    return 0;
                }
                if (items.Count == 0) Console.Out.WriteLine("no incidents");
                foreach (var i in items)
                {
                    Console.Out.WriteLine($"{i.Id}  {i.Status,-12}  {i.Severity,-8}  {i.Rule} ({i.Subject})  opened {Observability.Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(i.OpenedAt))}  {i.Summary}");
                }
                return 0;
            }, ct);
        });

        var showConfig = configOption();
        var showId = IdArgument();
        var showJson = new Option<bool>("--json") { Description = "Print the GET /v1/incidents/{id} shape." };
        var show = new Command("show", "An incident with its revenue at risk, events affected, runbook and timeline.") { showConfig, showId, showJson };
        show.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(showConfig)!, async cli =>
        {
            var store = (RelationalStore)cli.Store;
            var id = parse.GetValue(showId)!;
            if (await store.GetIncidentAsync(id, ct) is not { } incident)
            {
                await Console.Error.WriteLineAsync($"no incident {id}");
                return 1;
            }
            var json = IncidentView.ToJson(incident, await store.IncidentTimelineAsync(id, ct));
            if (parse.GetValue(showJson))
            {
                Console.Out.WriteLine(json.ToJsonString(Indented));
                return 0;
            }
            Console.Out.WriteLine($"{incident.Id}  {incident.Status}  {incident.Severity}  {incident.Rule} ({incident.Subject})");
            Console.Out.WriteLine($"  {incident.Summary}");
            var revenue = IncidentView.Revenue(incident);
            if (revenue.Count > 0) Console.Out.WriteLine("  revenue at risk: " + string.Join(", ", revenue.Select(r => $"{Canonical.Money.FormatMajor(r.Value, r.Key)} {r.Key}")));
            if (json["events_affected"] is System.Text.Json.Nodes.JsonArray { Count: > 0 } affected) Console.Out.WriteLine("  events affected: " + string.Join(", ", affected.Select(a => a!.GetValue<string>())));
            if (json["runbook"]?["rollback"]?.GetValue<string>() is { } rollback) Console.Out.WriteLine($"  rollback: {rollback}  (junction incidents rollback {incident.Id})");
            if (json["runbook"]?["fallback"]?.GetValue<string>() is { } fallback) Console.Out.WriteLine($"  fallback: {fallback}");
            Console.Out.WriteLine("  timeline:");
            foreach (var t in await store.IncidentTimelineAsync(id, ct))
            {
                Console.Out.WriteLine($"    {Observability.Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(t.At))}  {t.Kind}{(t.Actor is null ? "" : " by " + t.Actor)}: {t.Detail}");
            }
            return 0;
        }, ct));

        var ackConfig = configOption();
        var ackId = IdArgument();
        var ackNote = new Option<string?>("--note") { Description = "What you are doing about it." };
        var ack = new Command("ack", "Acknowledge an incident: someone is on it.") { ackConfig, ackId, ackNote };
        ack.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(ackConfig)!, async cli =>
            await Report(await cli.Get<IncidentActions>().AckAsync(parse.GetValue(ackId)!, Actor, parse.GetValue(ackNote), ct)), ct));

        var snoozeConfig = configOption();
        var snoozeId = IdArgument();
        var snoozeFor = new Option<string?>("--for") { Description = "How long: 30m, 1h, 1d (up to 30d). Required." };
        var snooze = new Command("snooze", "Snooze an incident: if it still fires when the snooze ends, it notifies again.") { snoozeConfig, snoozeId, snoozeFor };
        snooze.SetAction(async (parse, ct) =>
        {
            var text = parse.GetValue(snoozeFor) ?? "";
            if (!State.Durations.TryParse(text, out var span) || span <= TimeSpan.Zero || span > TimeSpan.FromDays(30))
            {
                await Console.Error.WriteLineAsync($"--for: expected a duration up to 30d such as 30m, 1h or 1d; got '{text}'");
                return 2;
            }
            return await NormalizeCommands.WithConfig(parse.GetValue(snoozeConfig)!, async cli =>
                await Report(await cli.Get<IncidentActions>().SnoozeAsync(parse.GetValue(snoozeId)!, span, Actor, ct)), ct);
        });

        var resolveConfig = configOption();
        var resolveId = IdArgument();
        var resolveNote = new Option<string?>("--note") { Description = "What was done: it stays on the incident's record. Required." };
        var resolve = new Command("resolve", "Resolve an incident with a note.") { resolveConfig, resolveId, resolveNote };
        resolve.SetAction(async (parse, ct) =>
        {
            var note = parse.GetValue(resolveNote) ?? "";
            if (note.Trim().Length == 0)
            {
                await Console.Error.WriteLineAsync("--note: required; expected a non-empty note saying what was done");
                return 2;
            }
            return await NormalizeCommands.WithConfig(parse.GetValue(resolveConfig)!, async cli =>
                await Report(await cli.Get<IncidentActions>().ResolveAsync(parse.GetValue(resolveId)!, note, Actor, ct)), ct);
        });

        var rollbackConfig = configOption();
        var rollbackId = IdArgument();
        var rollback = new Command("rollback", "Run the incident's runbook rollback (pause: <destination> or resume: <destination>).") { rollbackConfig, rollbackId };
        rollback.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(rollbackConfig)!, async cli =>
            await Report(await cli.Get<IncidentActions>().RollbackAsync(parse.GetValue(rollbackId)!, Actor, ct)), ct));

        return new Command("incidents", "Incidents opened by the alert rules: list, show, acknowledge, snooze, resolve, roll back.")
        {
            list, show, ack, snooze, resolve, rollback,
        };
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The incident id (inc_…), from junction incidents list." };

    private static async Task<int> Report(IncidentActionResult result)
    {
        if (result.Outcome == IncidentOutcome.Done)
        {
            await Console.Out.WriteLineAsync(result.Detail);
            return 0;
        }
        await Console.Error.WriteLineAsync(result.Detail);
        return 1;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
