using System.CommandLine;
using System.Text.Json.Nodes;
using Junction.Admin;
using Junction.Dispatch;
using Junction.Storage;

namespace Junction.Cli;

/// <summary><c>junction dlq list|replay</c>, <c>junction pause|resume &lt;destination&gt;</c>. They work on the store, so a running server picks the change up.</summary>
public static class DispatchCommands
{
    private const int ReplayChunk = 100;

    public static Command Dlq(Func<Option<string>> configOption)
    {
        var listConfig = configOption();
        var listDestination = new Option<string?>("--destination") { Description = "Only this destination." };
        var listPerson = new Option<string?>("--person") { Description = "Only this person." };
        var limit = new Option<int>("--limit") { Description = "At most this many (default 100).", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "Dead deliveries with their reason and attempts.") { listConfig, listDestination, listPerson, limit };
        list.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(listConfig)!, async cli =>
        {
            var page = await cli.Store.ListDeliveriesAsync(new DeliveryQuery(parse.GetValue(listDestination), DeliveryStates.Dead,
                parse.GetValue(listPerson), 0, Math.Clamp(parse.GetValue(limit), 1, 1000)), ct);
            if (page.Items.Count == 0) Console.Out.WriteLine("the dead-letter queue is empty");
            var attempts = await cli.Store.ListDeliveryAttemptsAsync(page.Items.Select(i => i.Id).ToList(), ct);
            foreach (var v in page.Items.Select(i => DispatchApi.ToView(i, attempts)))
            {
                Console.Out.WriteLine($"{v.Id}  {v.Destination}  {v.PersonId}  {v.Kind}{(v.EventId is null ? "" : " " + v.EventId)}  "
                    + $"dead {v.CompletedAt}  {v.AttemptLog!.Count} attempts  {v.DeadReason}");
            }
            return 0;
        }, ct));

        var replayConfig = configOption();
        var ids = new Option<long[]>("--ids") { Description = "Dead delivery ids to replay.", AllowMultipleArgumentsPerToken = true };
        var destination = new Option<string?>("--destination") { Description = "Replay this destination's dead deliveries." };
        var since = new Option<string?>("--since") { Description = "Only those that died since: 7d, 12h, 30m or an ISO date." };
        var person = new Option<string?>("--person") { Description = "Only this person's." };
        var replay = new Command("replay", "Put dead deliveries back in the queue (after a fix). Replaying twice does nothing more.")
        {
            replayConfig, ids, destination, since, person,
        };
        replay.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(replayConfig)!, async cli =>
        {
            var given = parse.GetValue(ids) ?? [];
            var dest = parse.GetValue(destination);
            var who = parse.GetValue(person);
            var sinceText = parse.GetValue(since);
            if (given.Length > 0 && (dest ?? who ?? sinceText) is not null)
            {
                Console.Error.WriteLine("dlq replay: give either --ids or a filter (--destination, --since, --person), not both");
                return 2;
            }
            if (given.Length == 0 && (dest ?? who ?? sinceText) is null)
            {
                Console.Error.WriteLine("dlq replay: name dead deliveries with --ids, or filter with --destination, --since, --person");
                return 2;
            }
            long? sinceMs = null;
            if (sinceText is not null)
            {
                if (!DispatchApi.TryParseSince(sinceText, cli.Time.GetUtcNow(), out var from))
                {
                    Console.Error.WriteLine($"--since: expected 7d, 12h, 30m or an ISO-8601 date; got '{sinceText}'");
                    return 2;
                }
                sinceMs = from.ToUnixTimeMilliseconds();
            }
            var targets = given.Length > 0 ? given.Distinct().ToList() : await MatchingDeadAsync(cli.Store, dest, who, sinceMs, ct);
            var progress = new ConsoleProgress($"replayed (of {targets.Count})");
            var replayed = 0;
            foreach (var chunk in targets.Chunk(ReplayChunk))
            {
                replayed += await cli.Store.ReplayDeadAsync(new ReplayFilter(chunk, null, null, null), ct);
                progress.Report(replayed);
            }
            progress.Done(replayed);
            await cli.Get<OperationsLog>().RecordCliAsync("dlq.replay", dest ?? "dlq",
                DispatchApi.ReplayDetail(new ReplayFilter(targets, dest, sinceMs, who), replayed), ct);
            Console.Out.WriteLine($"replayed {replayed} dead deliver{(replayed == 1 ? "y" : "ies")}"
                + (replayed < targets.Count ? $"; {targets.Count - replayed} were no longer dead or were superseded by a newer state" : ""));
            return 0;
        }, ct));

        return new Command("dlq", "The dead-letter queue: list and replay deliveries that failed for good.") { list, replay };
    }

    private static async Task<List<long>> MatchingDeadAsync(IJunctionStore store, string? destination, string? person, long? sinceMs, CancellationToken ct)
    {
        var result = new List<long>();
        long after = 0;
        while (true)
        {
            var page = await store.ListDeliveriesAsync(new DeliveryQuery(destination, DeliveryStates.Dead, person, after, 1000), ct);
            result.AddRange(page.Items.Where(i => sinceMs is null || i.CompletedAt >= sinceMs).Select(i => i.Id));
            if (page.Next is not { } next) return result;
            after = next;
        }
    }

    public static Command Pause(Func<Option<string>> configOption)
    {
        var config = configOption();
        var destination = new Argument<string>("destination") { Description = "The destination id (destinations: section)." };
        var reason = new Option<string?>("--reason") { Description = "Why, shown in the destination's status." };
        var command = new Command("pause", "Hold a destination's deliveries (visible as held, not failed) until resume.") { config, destination, reason };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            var id = parse.GetValue(destination)!;
            if (!cli.Config.Destinations.ContainsKey(id))
            {
                var known = cli.Config.Destinations.Count == 0 ? "none are configured" : "configured: " + string.Join(", ", cli.Config.Destinations.Keys.Order(StringComparer.Ordinal));
                await Console.Error.WriteLineAsync($"pause: destination: no destination '{id}' ({known})");
                return 2;
            }
            var changed = await cli.Store.PauseDestinationAsync(id, parse.GetValue(reason), ct);
            await cli.Get<OperationsLog>().RecordCliAsync("destinations.pause", id,
                new JsonObject { ["reason"] = OperationsLog.Text(parse.GetValue(reason)), ["changed"] = changed }, ct);
            Console.Out.WriteLine(changed ? $"paused {id}" : $"{id} was already paused");
            return 0;
        }, ct));
        return command;
    }

    public static Command Resume(Func<Option<string>> configOption)
    {
        var config = configOption();
        var destination = new Argument<string>("destination") { Description = "The destination id (destinations: section)." };
        var command = new Command("resume", "Release a paused destination's held deliveries, in per-person order.") { config, destination };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            var id = parse.GetValue(destination)!;
            if (!cli.Config.Destinations.ContainsKey(id))
            {
                var known = cli.Config.Destinations.Count == 0 ? "none are configured" : "configured: " + string.Join(", ", cli.Config.Destinations.Keys.Order(StringComparer.Ordinal));
                await Console.Error.WriteLineAsync($"resume: destination: no destination '{id}' ({known})");
                return 2;
            }
            var released = await cli.Store.ResumeDestinationAsync(id, ct);
            await cli.Get<OperationsLog>().RecordCliAsync("destinations.resume", id, new JsonObject { ["released"] = released }, ct);
            Console.Out.WriteLine($"resumed {id}: {released} held deliver{(released == 1 ? "y" : "ies")} released");
            return 0;
        }, ct));
        return command;
    }
}
