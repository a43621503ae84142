using System.CommandLine;
using System.Globalization;
using Junction.Config;
using Junction.Normalize;
using Junction.Providers;
using Junction.Storage;

namespace Junction.Cli;

/// <summary><c>junction quarantine list|retry</c> and <c>junction backfill</c>.</summary>
public static class NormalizeCommands
{
    public static Command Quarantine(Func<Option<string>> configOption)
    {
        var listConfig = configOption();
        var listSource = new Option<string?>("--source") { Description = "Only this source." };
        var limit = new Option<int>("--limit") { Description = "At most this many (default 100).", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "Raw events that failed to normalize, with the reason.") { listConfig, listSource, limit };
        list.SetAction(async (parse, ct) => await WithConfig(parse.GetValue(listConfig)!, async cli =>
        {
            var (items, _) = await cli.Store.ListQuarantineAsync(parse.GetValue(listSource), 0, Math.Clamp(parse.GetValue(limit), 1, 1000), ct);
            if (items.Count == 0) Console.Out.WriteLine("quarantine is empty");
            foreach (var q in items.Select(NormalizeApi.ToView))
            {
                Console.Out.WriteLine($"{q.RawId}  {q.Source}  {q.ProviderType ?? "-"}  {q.ReceivedAt}  {q.Reason}");
            }
            return 0;
        }, ct));

        var retryConfig = configOption();
        var retrySource = new Option<string?>("--source") { Description = "Retry this source's quarantined events." };
        var all = new Option<bool>("--all") { Description = "Retry every quarantined event." };
        var ids = new Argument<string[]>("raw-id") { Description = "Raw event ids to retry.", Arity = ArgumentArity.ZeroOrMore };
        var retry = new Command("retry", "Normalize quarantined events again (after a config or code fix).") { retryConfig, retrySource, all, ids };
        retry.SetAction(async (parse, ct) => await WithConfig(parse.GetValue(retryConfig)!, async cli =>
        {
            var given = parse.GetValue(ids) ?? [];
            var source = parse.GetValue(retrySource);
            if (given.Length == 0 && source is null && !parse.GetValue(all))
            {
                Console.Error.WriteLine("quarantine retry: name raw ids, or --source ID, or --all");
                return 2;
            }
            var now = cli.Time.GetUtcNow().ToUnixTimeMilliseconds();
            var requeued = await cli.Store.RequeueQuarantinedAsync(given.Length > 0 ? given : null, source, now, ct);
            Console.Error.WriteLine($"requeued {requeued} quarantined event{(requeued == 1 ? "" : "s")}");
            var detail = new System.Text.Json.Nodes.JsonObject { ["requeued"] = requeued };
            if (given.Length > 0) detail["raw_ids"] = new System.Text.Json.Nodes.JsonArray([.. given.Take(50).Select(g => (System.Text.Json.Nodes.JsonNode)g)]);
            await cli.Get<Admin.OperationsLog>().RecordCliAsync("quarantine.retry", given.Length == 1 ? given[0] : source ?? (given.Length > 0 ? "raw-ids" : "all"), detail, ct);
            // Normalizing takes the normalize role, so it never runs beside a serving normalizer;
            // when one is running, it takes the requeued events from its pending loop.
            var progress = new ConsoleProgress("normalized");
            if (await cli.Normalizer.TryDrainAsync(progress, ct) is not { } drained)
            {
                Console.Out.WriteLine($"retried {requeued}; a running `junction serve` normalizes them (it holds the normalize role)");
                return 0;
            }
            progress.Done(drained);
            var (left, _) = await cli.Store.ListQuarantineAsync(source, 0, 1000, ct);
            Console.Out.WriteLine($"retried {requeued}; {left.Count} still in quarantine{(source is null ? "" : $" for {source}")}");
            return 0;
        }, ct));

        return new Command("quarantine", "List and retry raw events that failed to normalize.") { list, retry };
    }

    public static Command Backfill(Func<Option<string>> configOption)
    {
        var config = configOption();
        var source = new Option<string>("--source") { Description = "The source to backfill.", Required = true };
        var since = new Option<string>("--since") { Description = "How far back: 7d, 12h, 30m, or an ISO date. Default 7d.", DefaultValueFactory = _ => "7d" };
        var command = new Command("backfill",
            "Pull the provider's event or order list and feed it through the same dedupe and normalization as webhooks.") { config, source, since };
        command.SetAction(async (parse, ct) => await WithConfig(parse.GetValue(config)!, async cli =>
        {
            var id = parse.GetValue(source)!;
            if (!cli.Config.Sources.TryGetValue(id, out var src))
            {
                Console.Error.WriteLine($"--source: no source '{id}' in {cli.Config.Path}; expected one of {string.Join(", ", cli.Config.Sources.Keys)}");
                return 2;
            }
            if (!TryParseSince(parse.GetValue(since)!, cli.Time.GetUtcNow(), out var from))
            {
                Console.Error.WriteLine($"--since: expected 7d, 12h, 30m or an ISO-8601 date; got '{parse.GetValue(since)}'");
                return 2;
            }
            var provider = ProviderRegistry.Get(src.Provider);
            if (provider.Api?.Backfill is not { } backfill)
            {
                Console.Error.WriteLine($"backfill: provider {provider.Name} offers no listing to backfill from");
                return 2;
            }
            if (src.Option("api_key") is null && src.Option("client_id") is null)
            {
                Console.Error.WriteLine($"backfill: sources.{id}.api_key is needed to read the provider's API");
                return 2;
            }
            var api = new ProviderApiClient(cli.Http.CreateClient(Normalizer.HttpClientName), src, provider.Api, cli.Time);
            var (fetched, fresh) = (0, 0);
            var progress = new ConsoleProgress($"backfill {id}: fetched");
            var batch = new List<RawEventDraft>();
            async Task FlushAsync()
            {
                if (batch.Count == 0) return;
                fresh += (await cli.Store.AppendRawAsync(batch, ct)).Count(o => !o.Duplicate);
                batch.Clear();
            }
            try
            {
                await foreach (var item in backfill.PullAsync(api, from, ct))
                {
                    batch.Add(item.ToDraft(cli.Time, id));
                    fetched++;
                    if (batch.Count == 100) await FlushAsync();
                    progress.Report(fetched);
                }
                await FlushAsync();
            }
            catch (ProviderApiException ex)
            {
                await FlushAsync();
                progress.Done(fetched);
                Console.Error.WriteLine($"backfill stopped: {ex.Message}{(ex.RetryAfter is { } ra ? $" (retry after {ra.TotalSeconds:0} s)" : "")}; "
                    + "what was fetched is kept, run it again to continue");
                return 1;
            }
            progress.Done(fetched);
            var normalizing = new ConsoleProgress("normalized");
            var drained = await cli.Normalizer.TryDrainAsync(normalizing, ct);
            if (drained is { } n) normalizing.Done(n);
            Console.Out.WriteLine($"backfill {id} since {Observability.Iso.Utc(from)}: {fetched} fetched, {fresh} new, {fetched - fresh} already seen"
                + (drained is null ? "; a running `junction serve` normalizes them (it holds the normalize role)" : ""));
            return 0;
        }, ct));
        return command;
    }


    internal static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        since = default;
        if (text.Length >= 2 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            TimeSpan? span = text[^1] switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), 'm' => TimeSpan.FromMinutes(n), _ => null };
            if (span is { } s) { since = now - s; return true; }
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out since);
    }

    internal static async Task<int> WithConfig(string path, Func<CliServices, Task<int>> run, CancellationToken cancellationToken)
    {
        JunctionConfig config;
        try
        {
            config = File.Exists(path) ? ConfigLoader.LoadFile(path) : throw new ConfigException([new ConfigError("config", $"file {path} not found")]);
        }
        catch (ConfigException ex)
        {
            foreach (var e in ex.Errors) await Console.Error.WriteLineAsync(e.ToString());
            return 2;
        }
        await using var cli = await CliServices.CreateAsync(config, cancellationToken);
        return await run(cli);
    }
}
