using System.CommandLine;
using System.Globalization;
using Junction.Dispatch;
using Junction.Identity;
using Junction.Observability;
using Junction.Project;
using Junction.Storage;

namespace Junction.Cli;

/// <summary><c>junction trace</c>, <c>junction rebuild</c> and <c>junction forget</c>.</summary>
public static class PeopleCommands
{
    public static Command Trace(Func<Option<string>> configOption)
    {
        var config = configOption();
        var who = new Argument<string>("who") { Description = "An email, an order id (optionally SOURCE:ORDER), another identifier as TYPE:VALUE, or a person id (p_…)." };
        var command = new Command("trace", "Print a person's timeline: every raw event, canonical event, merge, state change, timer and override, with trace ids.") { config, who };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            var store = (RelationalStore)cli.Store;
            var query = parse.GetValue(who)!.Trim();
            var matches = await ResolveAsync(store, query, ct);
            if (matches.Count == 0)
            {
                await Console.Error.WriteLineAsync($"trace: no person matches '{query}'");
                return 1;
            }
            if (matches.Count > 1) await Console.Error.WriteLineAsync($"trace: {matches.Count} people match '{query}'; showing each");
            foreach (var id in matches) await PrintAsync(store, id, ct);
            return 0;
        }, ct));
        return command;
    }

    internal static async Task<IReadOnlyList<string>> ResolveAsync(RelationalStore store, string query, CancellationToken cancellationToken)
    {
        if (query.StartsWith("p_", StringComparison.Ordinal))
        {
            return await store.GetPersonAsync(query, cancellationToken) is { } p ? [p.PersonId] : [];
        }
        if (query.Contains('@', StringComparison.Ordinal) && !query.Contains(':', StringComparison.Ordinal))
        {
            return Canonical.Identifiers.NormalizeEmail(query) is { } email ? await store.FindPeopleAsync(IdentifierKey.Email(email), cancellationToken) : [];
        }
        var keys = new List<IdentifierKey>();
        if (PeopleApi.TryParseIdentifier(query, out var parsed)) keys.AddRange(parsed);
        // A bare value: an order id first (the usual thing to trace), then the other id types.
        keys.Add(new IdentifierKey(IdentifierType.OrderId, query));
        if (query.Contains(':', StringComparison.Ordinal))
        {
            var colon = query.IndexOf(':', StringComparison.Ordinal);
            keys.Add(IdentifierKey.Order(query[..colon], query[(colon + 1)..]));
        }
        keys.Add(new IdentifierKey(IdentifierType.CustomerId, query));
        keys.Add(IdentifierKey.Token(query));
        keys.Add(IdentifierKey.Anonymous(query));
        foreach (var key in keys)
        {
            var found = await store.FindPeopleAsync(key, cancellationToken);
            if (found.Count > 0)
            {
                var survivors = new List<string>();
                foreach (var id in found)
                {
                    if (await store.GetPersonAsync(id, cancellationToken) is { } p && !survivors.Contains(p.PersonId)) survivors.Add(p.PersonId);
                }
                return survivors;
            }
        }
        return [];
    }

    private static async Task PrintAsync(RelationalStore store, string personId, CancellationToken cancellationToken)
    {
        var view = await PersonView.LoadAsync(store, personId, cancellationToken);
        if (view is null) return;
        var o = Console.Out;
        await o.WriteLineAsync($"person {personId}");
        await o.WriteLineAsync($"  emails:       {string.Join(", ", view["emails"]!.AsArray().Select(e => e!.GetValue<string>()))}");
        await o.WriteLineAsync($"  tags:         {string.Join(", ", view["tags"]?.AsArray().Select(e => e!.GetValue<string>()) ?? [])}");
        var entitlements = view["entitlements"]?.AsArray().Select(e => $"{e!["product"]} {e["state"]}") ?? [];
        await o.WriteLineAsync($"  entitlements: {string.Join(", ", entitlements)}");
        var merged = view["merged_ids"]!.AsArray();
        if (merged.Count > 0) await o.WriteLineAsync($"  merged:       {string.Join(", ", merged.Select(m => m!.GetValue<string>()))}");
        await o.WriteLineAsync();
        foreach (var row in await store.TimelineAsync(personId, cancellationToken))
        {
            var line = $"{Iso.Utc(row.At)}  {row.Kind,-15}  {row.Summary}";
            if (row.Detail is { Length: > 0 } detail) line += $"  ({detail})";
            if (row.TraceId is { } trace) line += $"  trace={trace}";
            if (row.Id is { } id) line += $"  id={id}";
            await o.WriteLineAsync(line);
        }
        await o.WriteLineAsync();
    }

    public static Command Forget(Func<Option<string>> configOption)
    {
        var config = configOption();
        var who = new Argument<string>("who") { Description = "The person's email address or person id (p_…)." };
        var command = new Command("forget",
            "Forget a person (R8.4): delete their personal data from this store, keep their money records anonymized, and queue a deletion at every "
            + "state destination (tracked like any delivery). Exits 0 once the data is gone locally. See docs/data-rights.md.") { config, who };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            var outcome = await cli.Get<Erasure.ForgetService>().ForgetAsync(parse.GetValue(who)!, Config.ConfigLoader.CliActor,
                Admin.AdminRoles.Name(Admin.AdminRole.Admin), ct);
            switch (outcome.Status)
            {
                case Erasure.ForgetStatus.NotFound:
                    // The address is not echoed: the terminal may be recorded.
                    await Console.Error.WriteLineAsync("forget: no person matches that email or id");
                    return 1;
                case Erasure.ForgetStatus.AlreadyErased:
                    await Console.Out.WriteLineAsync($"already forgotten (erasure {outcome.ErasureId}); nobody holds that address now");
                    return 0;
            }
            var r = outcome.Result!;
            await Console.Out.WriteLineAsync($"forgot person {r.PersonId} (erasure {r.ErasureId}): {r.People} person records, {r.Events} canonical events "
                + $"and {r.RawEvents} raw bodies redacted; {r.Deliveries} destination deletions queued"
                + (outcome.Destinations.Count > 0 ? $" ({string.Join(", ", outcome.Destinations)}); `junction serve` sends them" : ""));
            if (outcome.Manual.Count > 0)
            {
                await Console.Out.WriteLineAsync($"delete the contact by hand in: {string.Join(", ", outcome.Manual)} (Junction does not erase through their APIs yet)");
            }
            return 0;
        }, ct));
        return command;
    }

    public static Command Rebuild(Func<Option<string>> configOption)
    {
        var config = configOption();
        var command = new Command("rebuild",
            "Recompute every person's state from the log, with a progress bar; prints the state digest before (the incrementally maintained state) and after. "
            + "Stop `junction serve` on the same store first.") { config };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            await using var lead = await cli.Store.TryLeadAsync("project", ct);
            if (lead is null)
            {
                await Console.Error.WriteLineAsync("rebuild: another process is projecting this store (is `junction serve` running on it?); stop it first");
                return 2;
            }
            var asOf = cli.Time.GetUtcNow();
            var fixedTime = new FixedTime(asOf);
            var out_ = Console.Out;

            // Bring the incremental state up to the end of the log (and fire timers due by now), so "before" is comparable.
            // With nothing projected yet there is nothing to compare: the rebuild projects everything itself.
            var store = (RelationalStore)cli.Store;
            var bar = new ConsoleProgressBar();
            var total = await store.MaxCanonicalSeqAsync(ct);
            var projectedBefore = await store.GetCursorAsync(RelationalStore.ProjectCursor, ct);
            var compare = projectedBefore > 0;
            if (compare)
            {
                var projector = new Projector(cli.Store, cli.Config, fixedTime, new ProjectSignal(), cli.Get<IDeliveryPlanner>(),
                    cli.Get<ILoggerFactory>().CreateLogger<Projector>());
                var catchUpClock = System.Diagnostics.Stopwatch.StartNew();
                var caughtUp = await projector.CatchUpAsync(new Progress<long>(n => bar.Report("catching up", projectedBefore + n, total)), ct, lead);
                bar.Done();
                if (caughtUp > 0)
                {
                    await out_.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"caught up: projected {caughtUp} new events incrementally in {catchUpClock.Elapsed.TotalSeconds:F1} s ({caughtUp / Math.Max(catchUpClock.Elapsed.TotalSeconds, 0.001):F0} events/s)"));
                }
            }

            var rebuild = new PeopleRebuild(cli.Store, cli.Config, lead);
            await out_.WriteLineAsync(compare
                ? $"state digest before: {await rebuild.CurrentDigestAsync(ct)}"
                : "state digest before: none (nothing projected yet; the rebuild projects the whole log)");
            var report = await rebuild.RunAsync(asOf, bar, ct);
            bar.Done();
            await out_.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"rebuilt {report.Events} events into {report.People} people ({report.Merges} merges) in {report.Elapsed.TotalSeconds:F1} s: {report.EventsPerSecond:F0} events/s"));
            await out_.WriteLineAsync("phases: " + string.Join(", ", report.Phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Phase} {p.Seconds:F1} s"))));
            await out_.WriteLineAsync($"state digest after:  {report.After}");
            if (!compare) return 0;
            await out_.WriteLineAsync(report.Identical
                ? "identical: yes"
                : $"identical: NO — {report.Changed} people differed from the incremental state (now replaced; see their timelines)");
            return report.Identical ? 0 : 1;
        }, ct));
        return command;
    }
}
